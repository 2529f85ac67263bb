/**
 * Micro-benchmark of the group kernel's hot loop: forward + backward time of one step for one group holding a
 * whole layer (H = 1024, I = 1024, batch 32, evnn EGRU by default), at several activity sparsities.
 *
 * Activity is controlled by feeding SYNTHETIC event lists of the wanted density: at every step each of the
 * I input units and each of the H recurrent units carries an event with probability 1 − sparsity (value
 * uniform in [0.3, 1)), and the gradient items arriving in the backward step cover the same density of own
 * units. The backward-active sets are the event sets (no near-threshold announcements), i.e. what a narrow
 * pseudo-derivative support gives; the dense elementwise work (gates, dv, dh) is done for every unit anyway.
 *
 * Usage (after `npx tsc -p tsconfig.build.json`): node dist/bench/kernels.js [--formulation evnn|paper]
 *   [--cell egru|gru] [--hidden 1024] [--batch 32] [--reps 5] [--json]
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import { GroupKernel } from '../model/group-kernel.js';
import { ItemList } from '../model/items.js';
import { initParams, sliceGroup, type GroupParams } from '../model/params.js';
import { uniformAt } from '../model/rng.js';

export interface Options {
  formulation: 'evnn' | 'paper';
  cell: 'egru' | 'gru';
  hidden: number;
  batch: number;
  reps: number;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { formulation: 'evnn', cell: 'egru', hidden: 1024, batch: 32, reps: 5, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--formulation') o.formulation = next() === 'paper' ? 'paper' : 'evnn';
    else if (a === '--cell') o.cell = next() === 'gru' ? 'gru' : 'egru';
    else if (a === '--hidden') o.hidden = Number(next());
    else if (a === '--batch') o.batch = Number(next());
    else if (a === '--reps') o.reps = Number(next());
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** Random event list of the given density over `size` addresses, per batch element. */
export function synthetic(list: ItemList, size: number, density: number, seed: number, step: number): void {
  const B = list.batch;
  list.clear();
  list.ensureCapacity(Math.ceil(B * size * Math.min(1, density * 1.2 + 0.01)));
  for (let b = 0; b < B; b++) {
    list.begin(b);
    for (let i = 0; i < size; i++)
      if (density >= 1 || uniformAt(seed, step, b, i, 1) < density) list.push(i, 0.3 + 0.7 * uniformAt(seed, step, b, i, 2));
  }
  list.end();
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Row {
  sparsity: number;
  eventsPerStep: number; // received events (inputs + recurrent) per step, all batch elements
  ms: number; // median forward + backward time per step
  forwardMs: number;
  backwardMs: number;
  macs: number; // MACs per step (forward + backward, counted by the kernel)
  samples: number[]; // one per timed sequence: its forward + backward time divided by its steps, ms
}

export function benchConfig(o: Options): ModelConfig {
  return defaultModelConfig({ cell: o.cell, formulation: o.formulation, inputSize: o.hidden, hidden: [o.hidden, o.hidden], classes: 10, seed: 3 });
}

/** Steps per timed sequence: a multiple of the kernels' gradient block (4), so every sample holds whole blocks. */
export const SEQUENCE_STEPS = 8;

/**
 * One group kernel fed synthetic lists of one density; `sequence()` runs forward and backward through a whole
 * sequence of SEQUENCE_STEPS steps (every step timed, so the per-block weight-gradient work is included in
 * proportion) and returns its time per step.
 */
export class KernelAtSparsity {
  readonly kernel: GroupKernel;
  private readonly inputs: ItemList[];
  private readonly recurrent: ItemList[];
  private readonly grads: ItemList[];
  private readonly out: ItemList;
  private readonly resets: ItemList;
  private readonly outRec: ItemList;
  private readonly outBelow: ItemList;
  private readonly pl: ItemList;
  readonly eventsPerStep: number;

  constructor(o: Options, cfg: ModelConfig, gp: GroupParams, readonly sparsity: number) {
    const H = o.hidden;
    const B = o.batch;
    const S = SEQUENCE_STEPS;
    this.kernel = new GroupKernel({ cfg, layer: 1, unitStart: 0, units: H, batch: B }, gp);
    const density = 1 - sparsity;
    const lists = (seed: number) =>
      Array.from({ length: S }, (_, t) => {
        const l = new ItemList(B);
        synthetic(l, H, density, seed, t);
        return l;
      });
    this.inputs = lists(1);
    this.recurrent = lists(2);
    this.grads = lists(3);
    this.out = new ItemList(B, B * H);
    this.resets = new ItemList(B, B * H);
    this.outRec = new ItemList(B, B * H);
    this.outBelow = new ItemList(B, B * H);
    this.pl = new ItemList(B, B * H);
    let received = 0;
    for (let t = 0; t < S; t++) received += this.inputs[t]!.size + (t > 0 ? this.recurrent[t]!.size : 0);
    this.eventsPerStep = received / S;
  }

  /** Forward and backward through one sequence: ms per step (forward, backward) and MACs per step. */
  sequence(): { forwardMs: number; backwardMs: number; macs: number } {
    const k = this.kernel;
    const S = SEQUENCE_STEPS;
    const empty: ItemList[] = [];
    k.beginSequence(S);
    k.resetCounters();
    k.zeroGrads();
    const t0 = performance.now();
    for (let t = 0; t < S; t++) {
      const rec = t > 0 ? [this.recurrent[t]!] : empty;
      if (k.forwardPhases === 2) {
        k.forward(0, t, [this.inputs[t]!], rec, this.resets);
        // reset messages of all units: synthetic, same addresses as the recurrent events
        k.forward(1, t, [this.inputs[t]!], rec, this.out);
      } else k.forward(0, t, [this.inputs[t]!], rec, this.out);
    }
    const t1 = performance.now();
    for (let t = 0; t < S; t++) {
      k.receiveActive('layer', t, empty);
      k.receiveActive('below', t, empty);
    }
    const t2 = performance.now();
    for (let t = S - 1; t >= 0; t--) {
      if (k.backwardPhases === 2) {
        k.backward(0, t, [this.grads[t]!], null, this.pl, this.outBelow);
        k.backward(1, t, [this.pl], null, this.outRec, this.outBelow);
      } else k.backward(0, t, [this.grads[t]!], null, this.outRec, this.outBelow);
    }
    const t3 = performance.now();
    return { forwardMs: (t1 - t0) / S, backwardMs: (t3 - t2) / S, macs: (k.counters.macsForward + k.counters.macsBackward) / S };
  }
}

/**
 * Time per step at each sparsity: after one warm-up sequence per kernel, `o.reps` rounds, each running one
 * sequence at every sparsity in turn (round-robin, so a slow spell of the machine touches every sparsity alike),
 * then `eachRound` if given.
 */
export function measureSweep(o: Options, cfg: ModelConfig, gp: GroupParams, sparsities: readonly number[], eachRound?: () => void): Row[] {
  const kernels = sparsities.map((sp) => new KernelAtSparsity(o, cfg, gp, sp));
  for (const k of kernels) k.sequence(); // JIT warm-up and first touch of every buffer, discarded
  const fwd = kernels.map(() => [] as number[]);
  const bwd = kernels.map(() => [] as number[]);
  const macs = kernels.map(() => 0);
  for (let r = 0; r < o.reps; r++) {
    kernels.forEach((k, i) => {
      const s = k.sequence();
      fwd[i]!.push(s.forwardMs);
      bwd[i]!.push(s.backwardMs);
      macs[i] = s.macs;
    });
    eachRound?.(); // another contestant measured in the same rounds (bench case 7's dense matvec)
  }
  return kernels.map((k, i) => {
    const per = fwd[i]!.map((f, r) => f + bwd[i]![r]!);
    return {
      sparsity: k.sparsity,
      eventsPerStep: k.eventsPerStep,
      ms: median(per),
      forwardMs: median(fwd[i]!),
      backwardMs: median(bwd[i]!),
      macs: macs[i]!,
      samples: per,
    };
  });
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const cpus = os.cpus();
  const machine = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.arch()}` };
  const sparsities = [0, 0.5, 0.8, 0.9, 0.95, 0.99];
  const cfg = benchConfig(o);
  // layer 1 of a two-layer model (I = H), initialised as the model does, one group holding the whole layer
  const gp = sliceGroup(initParams(cfg).layers[1]!, o.hidden, o.hidden, 0, o.hidden);
  measureSweep({ ...o, reps: 1 }, cfg, gp, [0.5]); // JIT warm-up over every code path, discarded
  const rows = measureSweep(o, cfg, gp, sparsities);
  const base = rows[0]!.ms;
  if (o.json) {
    process.stdout.write(JSON.stringify({ machine, options: o, rows: rows.map(({ samples: _samples, ...r }) => ({ ...r, speedup: base / r.ms })) }, null, 2) + '\n');
    return;
  }
  const lines: string[] = [];
  lines.push(`group kernel, one group = whole layer: ${o.cell}/${o.formulation}, H = I = ${o.hidden}, batch ${o.batch}, median of ${o.reps} sequences of ${SEQUENCE_STEPS} steps`);
  lines.push(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}`);
  lines.push('activity: synthetic event lists of density 1 − sparsity (inputs, recurrent events, incoming gradients); backward-active = events');
  lines.push('');
  lines.push('| sparsity | events in/step | fwd ms | bwd ms | fwd+bwd ms | speed-up vs 0 % | µs / event | GMAC/s |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const perEvent = r.eventsPerStep > 0 ? ((r.ms * 1000) / r.eventsPerStep).toFixed(3) : '–';
    lines.push(
      `| ${(r.sparsity * 100).toFixed(0)} % | ${r.eventsPerStep.toFixed(0)} | ${r.forwardMs.toFixed(2)} | ${r.backwardMs.toFixed(2)} | ${r.ms.toFixed(2)} | ${(base / r.ms).toFixed(2)}× | ${perEvent} | ${(r.macs / (r.ms * 1e6)).toFixed(2)} |`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
