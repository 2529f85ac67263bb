/**
 * `npm run bench`: the project against the dense alternatives a user would otherwise pick, side by side in one
 * run — TensorFlow.js (wasm backend, `tf.layers.gru`), the project's own dense GRU (`cell: 'gru'`) and the EGRU
 * with every unit firing — in seven cases (the issue's targets in brackets):
 *
 *   1. training step, row-MNIST shape (T 28, I 28), H 128, batch 32, EGRU at trained sparsity on 2 actors vs tfjs [≤ 0.33×]
 *   2. the same at pixel-MNIST shape (T 784, I 1)                                                          [≤ 0.2×]
 *   3. time per step against activity 0…99 %, H 1024 (group kernel): R² of time vs events, 0 %→90 % speed-up [≥ 0.95, ≥ 6×]
 *   4. synchronisation cost per tick, 2 actors, zero events                                               [≤ 10 µs]
 *   5. parallel speed-up, H 1024, 2 actors vs 1                                                            [≥ 1.6×]
 *   6. memory, pixel-MNIST shape, H 256, batch 32: BPTT history vs a dense history, peak RSS              [≤ 0.5× dense]
 *   7. effective MAC rate of the sparse kernels vs the dense float32 matvec rate of this machine          [≥ 50 %]
 *
 * Every figure is the median of ≥ 5 runs (quick mode: fewer where said) with the min–max spread; ratios come from
 * the same run. Writes bench/results/latest.json and docs/benchmarks.md (full run), bench/results/quick.json
 * (`--quick`). The tfjs peer lives in bench/peers/ and is installed there on first use (bench/peers.ts).
 *
 * Usage (after `npm run build`): node dist/bench/run.js [--quick] [--cases 1,3] [--reps N] [--no-peers] …  (--help)
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadTask } from '../cli/data/tasks.js';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import type { GroupKernel } from '../model/group-kernel.js';
import type { OptimizerConfig } from '../model/optim.js';
import { initParams, sliceGroup, type Params } from '../model/params.js';
import { SimdArena } from '../model/simd.js';
import { Trainer, type SequenceBatch } from '../runtime/coordinator.js';
import { benchConfig, measureSweep, SEQUENCE_STEPS, type Options as KernelOptions, type Row as KernelRow } from './kernels.js';
import { loadTfjsPeer, type PeerStatus } from './peers.js';
import { markdown, stat, textTable, type BenchResults, type CaseResult, type MachineInfo, type Row, type Stat } from './report.js';
import { calibrate, concurrencyCheck, machine, parallelSpeedup, randomInputs, syncOverhead } from './runtime.js';

const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/bench/') ? '../../' : '../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------------------------------------------------
// options and sizes

type Mode = 'full' | 'quick' | 'smoke';

interface Opts {
  mode: Mode;
  cases: number[];
  reps: number | null;
  peers: boolean;
  install: boolean;
  sparsity: number;
  checkpoint: string | null;
  out: string | null;
  write: boolean;
  render: boolean;
  json: boolean;
}

const HELP = `egru bench — the project against dense alternatives (TensorFlow.js wasm GRU, the project's dense GRU, EGRU with all units firing)

usage: npm run bench [-- OPTIONS]      (or: node dist/bench/run.js [OPTIONS], after npm run build)

  --quick            reduced set, under 3 minutes; writes bench/results/quick.json, leaves docs/ alone
  --cases 1,2,…      run only these cases (1 row-MNIST step, 2 pixel-MNIST step, 3 activity sweep, 4 sync,
                     5 parallel speed-up, 6 memory, 7 MAC efficiency)
  --reps N           runs per figure (default 5; quick 5, except where the quick set says fewer)
  --sparsity S       activity sparsity the EGRU thresholds are calibrated to in cases 1, 2, 6 (default 0.8)
  --checkpoint FILE  case 1: time this trained row-MNIST checkpoint (hidden 128) instead of calibrated thresholds
  --no-peers         skip TensorFlow.js (its rows read "–")
  --no-install       never run npm install for bench/peers (peer unavailable if it is missing)
  --out FILE         write the JSON results here instead of bench/results/latest.json (quick.json for --quick)
  --no-write         print only (no JSON, no docs)
  --render           regenerate docs/benchmarks.md from bench/results/latest.json and exit
  --json             print the JSON results on stdout instead of the tables
  --smoke            tiny sizes, seconds: checks the harness, not the numbers (writes nothing unless --out)

Run it on an idle machine: the 2-actor figures need both cores to themselves.
examples:
  npm run bench
  npm run bench -- --quick
  node dist/bench/run.js --cases 4,5 --reps 7 --no-write`;

function parseArgs(argv: string[]): Opts {
  const o: Opts = { mode: 'full', cases: [1, 2, 3, 4, 5, 6, 7], reps: null, peers: true, install: true, sparsity: 0.8, checkpoint: null, out: null, write: true, render: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.mode = 'quick';
    else if (a === '--smoke') o.mode = 'smoke';
    else if (a === '--cases') {
      o.cases = next()
        .split(',')
        .map((s) => Number(s.trim()));
      if (!o.cases.every((c) => Number.isInteger(c) && c >= 1 && c <= 7)) throw new UsageError('--cases takes numbers 1..7, e.g. --cases 1,3');
    } else if (a === '--reps') {
      o.reps = Number(next());
      if (!(Number.isInteger(o.reps) && o.reps >= 1)) throw new UsageError('--reps must be a positive integer');
    } else if (a === '--sparsity') {
      o.sparsity = Number(next());
      if (!(o.sparsity > 0 && o.sparsity < 1)) throw new UsageError('--sparsity must lie in (0, 1)');
    } else if (a === '--checkpoint') o.checkpoint = next();
    else if (a === '--no-peers') o.peers = false;
    else if (a === '--no-install') o.install = false;
    else if (a === '--out') o.out = next();
    else if (a === '--no-write') o.write = false;
    else if (a === '--render') o.render = true;
    else if (a === '--json') o.json = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(HELP + '\n');
      process.exit(0);
    } else throw new UsageError(`unknown option ${a} (see --help)`);
  }
  return o;
}

class UsageError extends Error {}

interface Sizes {
  reps: number;
  warm: number;
  row: { H: number; B: number; reps: number; tfjsWarm: number };
  /** only: the project contestants timed (egru2, egru1, on2, gru2, off2); the quick set leaves some out. */
  pixel: { H: number; B: number; T: number; reps: number; only?: string[] };
  sweep: { H: number; B: number; sparsities: number[]; steps: number };
  sync: { ticks: number; reps: number; diagnose: boolean };
  parallel: { H: number; reps: number; rounds: number };
  memory: { H: number; B: number; T: number; rssRuns: number; rssKinds: MemoryJob['kind'][] };
  matvecMs: number;
  /** Machine checks (bench/runtime.ts concurrencyCheck): rounds and busy-loop iterations per probe. */
  check: MachineCheck;
}

interface MachineCheck {
  rounds: number;
  iterations: number;
}
const FULL_CHECK: MachineCheck = { rounds: 3, iterations: 5e7 };

function sizes(o: Opts): Sizes {
  const r = o.reps;
  if (o.mode === 'smoke') {
    const reps = r ?? 2;
    return {
      reps,
      warm: 1,
      row: { H: 16, B: 4, reps, tfjsWarm: 1 },
      pixel: { H: 16, B: 4, T: 60, reps },
      sweep: { H: 64, B: 4, sparsities: [0, 0.5, 0.9, 0.99], steps: reps },
      sync: { ticks: 200, reps, diagnose: false },
      parallel: { H: 64, reps, rounds: 1 },
      memory: { H: 16, B: 4, T: 60, rssRuns: 1, rssKinds: ['baseline', 'egru', 'gru', 'tfjs'] },
      matvecMs: 20,
      check: { rounds: 1, iterations: 1e6 },
    };
  }
  if (o.mode === 'quick') {
    const reps = r ?? 5;
    return {
      reps,
      warm: 1,
      row: { H: 128, B: 32, reps, tfjsWarm: 10 },
      pixel: { H: 128, B: 32, T: 784, reps: r ?? 3, only: ['egru2', 'gru2', 'off2'] },
      sweep: { H: 512, B: 32, sparsities: [0, 0.5, 0.8, 0.9, 0.95, 0.99], steps: reps },
      sync: { ticks: 2000, reps, diagnose: false },
      parallel: { H: 512, reps: r ?? 3, rounds: 2 },
      memory: { H: 256, B: 32, T: 784, rssRuns: 1, rssKinds: ['egru'] },
      matvecMs: 100,
      check: FULL_CHECK,
    };
  }
  const reps = r ?? 5;
  return {
    reps,
    warm: 2,
    row: { H: 128, B: 32, reps: Math.max(reps, 9), tfjsWarm: 20 },
    pixel: { H: 128, B: 32, T: 784, reps },
    sweep: { H: 1024, B: 32, sparsities: [0, 0.5, 0.8, 0.9, 0.95, 0.99], steps: reps },
    sync: { ticks: 2000, reps: Math.max(reps, 7), diagnose: true },
    parallel: { H: 1024, reps: Math.max(3, Math.ceil(reps / 2)), rounds: 3 },
    memory: { H: 256, B: 32, T: 784, rssRuns: reps, rssKinds: ['baseline', 'egru', 'gru', 'tfjs'] },
    matvecMs: 200,
    check: FULL_CHECK,
  };
}

// ------------------------------------------------------------------------------------------------------------
// helpers

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const MB = 1024 * 1024;

function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    line: machine(),
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    memoryGiB: os.totalmem() / 1024 ** 3,
    loadAtStart: os.loadavg(),
  };
}

/** The first `batch` MNIST training examples in the shape of `task`, cut to `steps` steps; random inputs without MNIST. */
function mnistBatch(task: 'row-mnist' | 'pixel-mnist', batch: number, steps?: number): { data: SequenceBatch; source: string } {
  const I = task === 'row-mnist' ? 28 : 1;
  const full = task === 'row-mnist' ? 28 : 784;
  const T = steps ?? full;
  try {
    const d = loadTask(task, 'train', { limit: batch });
    let x = d.x;
    const from = Math.floor((full - T) / 2); // a window from the middle of the image: its edges are blank
    if (T !== full) {
      x = new Float32Array(batch * T * I);
      for (let b = 0; b < batch; b++) x.set(d.x.subarray((b * full + from) * I, (b * full + from + T) * I), b * T * I);
    }
    return { data: { x, targets: d.y, batch, steps: T }, source: `the first ${batch} MNIST training images${T !== full ? ` (steps ${from}–${from + T - 1} only)` : ''}` };
  } catch (e) {
    const cfg = defaultModelConfig({ inputSize: I, hidden: [1] });
    return { data: randomInputs(cfg, batch, T, 11), source: `random inputs (MNIST unavailable: ${(e as Error).message})` };
  }
}

/** Compute two busy threads get, relative to one (2.00 = two free cores): see concurrencyCheck in bench/runtime.ts. */
async function machineCheck(label: string, check: MachineCheck): Promise<number> {
  const c = await concurrencyCheck(check.rounds, check.iterations);
  log(`machine check (${label}): two busy threads get ${c.ratio.toFixed(2)}× the compute of one (2.00 = two free cores)`);
  return c.ratio;
}
/**
 * Case 5's machine check: the even-split ceiling (2 × the slower of two busy threads vs one alone), for compute
 * and for memory streaming (null if that probe could not run).
 */
async function machineCheckBoth(label: string, check: MachineCheck): Promise<{ ratio: number; evenSplit: number; memory: number | null }> {
  const c = await concurrencyCheck(check.rounds, check.iterations);
  let memory: number | null = null;
  try {
    memory = (await concurrencyCheck(check.rounds, check.iterations, 'memory')).evenSplit;
  } catch (e) {
    log(`machine check (${label}): the memory-streaming probe failed (${(e as Error).message}); left out`);
  }
  log(
    `machine check (${label}): two busy threads get ${c.ratio.toFixed(2)}× the compute of one (2.00 = two free cores), the slower of them ${(c.evenSplit / 2).toFixed(2)}×` +
      (memory === null ? '' : `; two threads streaming memory ${memory.toFixed(2)}× (even split)`),
  );
  return { ratio: c.ratio, evenSplit: c.evenSplit, memory };
}
const checkNote = (before: number, after: number) =>
  `Machine check (compute two busy threads get relative to one; 2.00 = two free cores): ${before.toFixed(2)}× before and ${after.toFixed(2)}× after this case.`;

const ADAM_0: OptimizerConfig = { kind: 'adam', lr: 0 };

/**
 * EGRU parameters with every unit firing at every step (on: ϑ = 0 and a g-gate bias of +8 keep v > 0) or none
 * (off: ϑ = 1 and a g-gate bias of −8 keep v near −1, so no unit fires and none is within 1/s of ϑ).
 */
function forced(cfg: ModelConfig, on: boolean): Params<Float32Array> {
  const p = initParams(cfg);
  const H = cfg.hidden[0]!;
  p.layers[0]!.thr.fill(on ? 0 : 1);
  p.layers[0]!.bias.fill(on ? 8 : -8, 2 * H, 3 * H);
  return p;
}

interface Contestant {
  name: string;
  /** Warm-up steps (default: the case's). */
  warm?: number;
  step: () => Promise<number>;
  samples: number[];
  after?: () => Promise<void>;
}

/** Warm every contestant up, then time them round-robin (run r of each, then run r + 1), so drifts hit all alike. */
async function roundRobin(cs: Contestant[], warm: number, reps: number, label: string): Promise<void> {
  for (const c of cs) {
    for (let w = 0; w < (c.warm ?? warm); w++) await c.step();
    await c.after?.();
  }
  for (let r = 0; r < reps; r++) {
    const t: string[] = [];
    for (const c of cs) {
      const ms = await c.step();
      c.samples.push(ms);
      t.push(`${c.name} ${ms.toFixed(1)}`);
    }
    log(`${label} run ${r + 1}/${reps}: ${t.join(', ')} ms`);
  }
}

function trainerStep(tr: Trainer, batch: SequenceBatch): () => Promise<number> {
  return async () => {
    const t0 = performance.now();
    await tr.train(batch);
    return performance.now() - t0;
  };
}

/** a / b from two spreads: the medians' ratio and the extreme pairings (worst–best when smaller is better for a). */
function ratioOf(a: Stat, b: Stat): { ratio: number; ratioRange: [number, number] } {
  return { ratio: a.median / b.median, ratioRange: [a.min / b.max, a.max / b.min] };
}
function ratioStat(a: Stat, b: Stat): Stat {
  return { median: a.median / b.median, min: a.min / b.max, max: a.max / b.min, runs: Math.min(a.runs, b.runs), samples: [] };
}

/** Sparsities and MACs (SPEC §4 counters) since the last counter reset; MACs per step when `steps` is given. */
function sparsityOf(tr: Trainer, steps = 1): { activity: number; backward: number; macs: number; denseMacs: number } {
  const c = tr.counters().totals;
  return {
    activity: 1 - c.events / c.unit_steps,
    backward: 1 - c.backward_active / c.unit_steps,
    macs: (c['macs.forward'] + c['macs.backward']) / steps,
    denseMacs: (c['macs.dense_forward'] + c['macs.dense_backward']) / steps,
  };
}

/** Group kernels of an inline trainer (the benchmark reads their history sizes; the runtime keeps them private). */
function inlineKernels(tr: Trainer): GroupKernel[] {
  const actors = (tr as unknown as { transport?: { actors?: { kernel?: GroupKernel }[] } }).transport?.actors;
  if (!Array.isArray(actors) || !actors.every((a) => a.kernel && typeof a.kernel.historyBytes === 'function'))
    throw new Error('cannot reach the actors of the inline transport (runtime internals changed?)');
  return actors.map((a) => a.kernel!);
}

// ------------------------------------------------------------------------------------------------------------
// cases 1 and 2: one training step against tfjs, the dense GRU and the EGRU with every unit firing

async function trainingCase(id: 1 | 2, o: Opts, s: Sizes, peer: PeerStatus): Promise<CaseResult> {
  const t0 = performance.now();
  const row = id === 1;
  const checkBefore = await machineCheck(`before case ${id}`, s.check);
  const task = row ? 'row-mnist' : 'pixel-mnist';
  const { H, B } = row ? s.row : s.pixel;
  const reps = row ? s.row.reps : s.pixel.reps;
  const { data, source } = mnistBatch(task, B, row ? undefined : s.pixel.T);
  const T = data.steps;
  const I = row ? 28 : 1;
  let cfg = defaultModelConfig({ inputSize: I, hidden: [H], classes: 10 });
  const notes: string[] = [];

  // EGRU at trained sparsity: a trained checkpoint when given (case 1), else thresholds calibrated to the target.
  let trained: Params<Float32Array> | null = null;
  let sparsitySource = '';
  if (row && o.checkpoint) {
    try {
      const { loadCheckpoint } = await import('../cli/io/checkpoint.js');
      const ck = loadCheckpoint(o.checkpoint);
      const m = ck.config.model;
      if (m.cell === 'egru' && m.inputSize === I && m.hidden.length === 1 && m.hidden[0] === H) {
        cfg = m;
        trained = ck.params;
        sparsitySource = `trained checkpoint ${o.checkpoint}`;
      } else notes.push(`--checkpoint ${o.checkpoint} is not a one-layer EGRU of hidden ${H} on 28 inputs: calibrated thresholds used instead.`);
    } catch (e) {
      notes.push(`--checkpoint ${o.checkpoint} could not be read (${(e as Error).message}): calibrated thresholds used instead.`);
    }
  }
  if (!trained) {
    trained = initParams(cfg);
    log(`case ${id}: calibrating thresholds to ${pct(o.sparsity)} activity sparsity`);
    const got = await calibrate(cfg, trained, data, o.sparsity);
    sparsitySource = `seeded initialisation with every threshold shifted until the activity sparsity on this batch is ${pct(got)} (target ${pct(o.sparsity)})`;
  }
  const cfgGru: ModelConfig = { ...cfg, cell: 'gru' };
  const common = { transport: 'threads' as const, batch: B, maxSteps: T, optimizer: ADAM_0 };
  const only = row ? undefined : s.pixel.only;
  const specs: [string, () => Promise<Trainer>][] = [
    ['egru2', () => Trainer.create({ ...common, model: cfg, params: trained, actors: 2 })],
    ['egru1', () => Trainer.create({ ...common, model: cfg, params: trained, actors: 1 })],
    ['on2', () => Trainer.create({ ...common, model: cfg, params: forced(cfg, true), actors: 2 })],
    ['gru2', () => Trainer.create({ ...common, model: cfgGru, actors: 2 })],
    ['off2', () => Trainer.create({ ...common, model: cfg, params: forced(cfg, false), actors: 2 })],
  ];
  const projects = new Map<string, Trainer>();
  for (const [name, make] of specs) if (!only || only.includes(name)) projects.set(name, await make());
  const cs: Contestant[] = [];
  let tf: ReturnType<Extract<PeerStatus, { available: true }>['peer']['gruTrainer']> | null = null;
  try {
    if (peer.available) {
      tf = peer.peer.gruTrainer({ steps: T, inputSize: I, hidden: H, classes: 10, batch: B, x: data.x, y: data.targets });
      cs.push({ name: 'tfjs', step: tf.step, samples: [], warm: row ? s.row.tfjsWarm : s.warm });
    }
    for (const [name, tr] of projects) cs.push({ name, step: trainerStep(tr, data), samples: [], after: () => tr.resetCounters() });
    await roundRobin(cs, s.warm, reps, `case ${id}`);
  } finally {
    tf?.dispose();
  }
  const by = (n: string) => cs.find((c) => c.name === n);
  const spOf = new Map([...projects].map(([n, t]) => [n, sparsityOf(t, reps)]));
  await Promise.all([...projects.values()].map((t) => t.close()));
  const checkAfter = await machineCheck(`after case ${id}`, s.check);
  const sp0 = spOf.get('egru2')!;
  if (spOf.has('on2') && spOf.get('on2')!.activity !== 0) notes.push(`"events forced on" still had ${pct(spOf.get('on2')!.activity)} activity sparsity (not every unit fired).`);
  if (spOf.has('off2') && spOf.get('off2')!.activity !== 1) notes.push(`"no events" still had ${pct(1 - spOf.get('off2')!.activity)} activity (some units fired).`);

  const tfStat = by('tfjs') ? stat(by('tfjs')!.samples) : null;
  const target = row ? 0.33 : 0.2;
  const vs = (x: Stat) => (tfStat ? ratioOf(x, tfStat) : { ratio: null as number | null });
  const st = (n: string) => (by(n) ? stat(by(n)!.samples) : null);
  const e2 = st('egru2')!;
  const e1 = st('egru1');
  const on = st('on2');
  const off = st('off2');
  const gru = st('gru2');
  const e2r = vs(e2);
  const left = (what: string): Row => ({ what, unit: 'ms', value: null, note: `not in the ${o.mode} set` });
  const rows: Row[] = [
    {
      what: `TensorFlow.js ${peer.available ? `${peer.info.tfjs} wasm${peer.info.simd ? ' SIMD' : ''}, ${peer.info.multithread ? `${peer.info.threads} threads` : '1 thread'}` : 'wasm'}, tf.layers.gru`,
      unit: 'ms',
      value: tfStat,
      ratio: tfStat ? 1 : null,
      note: peer.available ? undefined : `unavailable: ${peer.reason}`,
    },
    gru ? { what: `egru dense GRU (cell gru), 2 actors`, unit: 'ms', value: gru, ...vs(gru) } : left('egru dense GRU (cell gru), 2 actors'),
    on
      ? { what: `EGRU, events forced on (activity sparsity ${pct(spOf.get('on2')!.activity)}), 2 actors`, unit: 'ms', value: on, ...vs(on) }
      : left('EGRU, events forced on, 2 actors'),
    {
      what: `EGRU at ${pct(sp0.activity)} activity sparsity, 2 actors`,
      unit: 'ms',
      value: e2,
      ...e2r,
      target: `≤ ${target}× tfjs`,
      met: tfStat ? e2r.ratio! <= target : null,
    },
    e1 ? { what: `EGRU at ${pct(spOf.get('egru1')!.activity)} activity sparsity, 1 actor`, unit: 'ms', value: e1, ...vs(e1) } : left('EGRU, 1 actor'),
    off
      ? { what: `EGRU with no events at all (floor: work that does not scale with events), 2 actors`, unit: 'ms', value: off, ...vs(off) }
      : left('EGRU with no events at all, 2 actors'),
  ];
  const facts: string[] = [];
  if (gru) facts.push(`${(e2.median / gru.median).toFixed(2)}× the project's dense GRU`);
  if (on) facts.push(`${(e2.median / on.median).toFixed(2)}× the EGRU with every unit firing`);
  notes.push(
    `Same run, 2 actors: the EGRU at ${pct(sp0.activity)} sparsity takes ${facts.join(' and ') || '–'}` +
      (off
        ? `; with no events at all a step still takes ${off.median.toFixed(1)} ms (${((100 * off.median) / e2.median).toFixed(0)} % of the sparse step): the per-unit-step elementwise work (gates, their recomputation and the dense gradient pass, docs/math.md), the readout, the update and the ${2 * T} per-tick barriers`
        : '') +
      `.${e1 ? ` 2 actors vs 1 actor: ${(e1.median / e2.median).toFixed(2)}× speed-up.` : ''} Backward sparsity of the EGRU during the timed steps: ${pct(sp0.backward)} (s = ${cfg.support}).`,
  );
  if (tfStat) {
    const missed = !(e2r.ratio! <= target);
    const floor = off ? off.median / tfStat.median : null;
    const m = sp0;
    const rate = (macs: number, ms: number) => (macs / (ms * 1e6)).toFixed(2);
    notes.push(
      (missed ? `Target missed: ${e2r.ratio!.toFixed(2)}× tfjs. ` : '') +
        (off && floor !== null
          ? `The event-independent floor alone is ${floor.toFixed(2)}× the tfjs step${floor > target ? ', above the target whatever the sparsity' : ''}; the event-dependent part adds ${(e2.median - off.median).toFixed(1)} ms. `
          : '') +
        `By the MAC counters, the sparse EGRU step does ${(m.macs / 1e6).toFixed(0)} M multiply-accumulates, ${pct(m.macs / m.denseMacs)} of a dense GRU's ${(m.denseMacs / 1e6).toFixed(0)} M, at ${rate(m.macs, e2.median)} GMAC/s on 2 actors (row operations and gate nonlinearities in wasm SIMD, the rest of the elementwise math in JavaScript), while tfjs does the dense ${(m.denseMacs / 1e6).toFixed(0)} M at ${rate(m.denseMacs, tfStat.median)} GMAC/s on one thread (wasm SIMD matrix products, see case 7). Sparsity saves a factor ${(m.denseMacs / m.macs).toFixed(1)} in MACs: the backward partial sums run for every backward-active unit (${pct(1 - m.backward)} of the unit-steps here, docs/math.md).`,
    );
  }
  notes.push(checkNote(checkBefore, checkAfter));
  const shape = row ? 'row-MNIST shape (T = 28 steps, I = 28)' : `pixel-MNIST shape (T = ${T} steps, I = 1)`;
  return {
    id,
    key: row ? 'train-row-mnist' : 'train-pixel-mnist',
    title: `Training step, ${row ? 'row-MNIST' : 'pixel-MNIST'} shape, hidden ${H}, batch ${B}`,
    setup:
      `One training step (forward + backward through time + Adam update) of a one-layer network, hidden ${H}, batch ${B}, ${shape}, 10-way softmax readout, on ${source}. ` +
      `Project rows: threads transport; Adam with lr 0 (the same arithmetic as any lr, but the network and so its sparsity stay fixed across runs). ` +
      `EGRU thresholds: ${sparsitySource}. "Events forced on": ϑ = 0 and a g-gate bias of 8, so every unit fires at every step. ` +
      `${s.warm} warm-up step(s) each (tfjs: ${row ? s.row.tfjsWarm : s.warm}), then ${reps} runs, round-robin over the contestants. Ratio: time / tfjs time (lower is better).`,
    rows,
    headline: {
      target: `EGRU (2 actors) ≤ ${target}× tfjs-wasm GRU`,
      measured: e2r.ratio !== null ? `${e2r.ratio.toFixed(2)}× (${e2.median.toFixed(1)} ms vs ${tfStat!.median.toFixed(1)} ms, ${pct(sp0.activity)} sparsity)` : `${e2.median.toFixed(1)} ms (no tfjs)`,
      met: tfStat ? e2r.ratio! <= target : null,
    },
    notes,
    extra: { sparsity: Object.fromEntries(spOf), steps: T, hidden: H, batch: B, data: source, sparsitySource, machineCheck: [checkBefore, checkAfter] },
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------------------------
// cases 3 and 7: the activity sweep of the group kernel, and its MAC rate against a dense matvec

interface Sweep {
  H: number;
  B: number;
  rows: KernelRow[];
  /** The same kernel fed no events at all: the work that does not depend on them. */
  floor: KernelRow;
  /** Dense matvec rates of the same weight shape, one run per round of the sweep (case 7's reference). */
  dense: DenseRates;
  seconds: number;
}
let sweepCache: Sweep | null = null;

function sweep(s: Sizes): Sweep {
  if (sweepCache) return sweepCache;
  const t0 = performance.now();
  const { H, B, sparsities, steps } = s.sweep;
  const ko: KernelOptions = { formulation: 'evnn', cell: 'egru', hidden: H, batch: B, reps: steps, json: false };
  const cfg = benchConfig(ko);
  const gp = sliceGroup(initParams(cfg).layers[1]!, H, H, 0, H);
  measureSweep({ ...ko, reps: 1 }, cfg, gp, [0.5]); // JIT warm-up over every code path, discarded
  // the sparsities, the no-event floor (sparsity 1) and the dense matvec of case 7 measured round-robin
  const dense: DenseRates = { dot: [], axpy: [], simdDot: [], simdAxpy: [] };
  log(`case 3/7: dense matvec ${2 * H} × ${3 * H}, calibrating`);
  const denseRun = denseMatvec(2 * H, 3 * H, s.matvecMs, dense);
  const all = measureSweep(ko, cfg, gp, [...sparsities, 1], denseRun);
  for (const r of all) log(`case 3: sparsity ${pct(r.sparsity)}: ${r.ms.toFixed(2)} ms per step (${r.samples.map((x) => x.toFixed(1)).join(', ')})`);
  const floor = all.pop()!;
  sweepCache = { H, B, rows: all, floor, dense, seconds: (performance.now() - t0) / 1000 };
  return sweepCache;
}

function linearFit(x: number[], y: number[]): { slope: number; intercept: number; r2: number } {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  return { slope, intercept, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

function activityCase(s: Sizes): CaseResult {
  const sw = sweep(s);
  const { rows: kr, H, B } = sw;
  const at = (sp: number) => kr.find((r) => Math.abs(r.sparsity - sp) < 1e-9);
  const base = stat(kr[0]!.samples);
  const rows: Row[] = kr.map((r) => {
    const st = stat(r.samples);
    return { what: `activity sparsity ${(100 * r.sparsity).toFixed(0)} % (${r.eventsPerStep.toFixed(0)} events in / step)`, unit: 'ms', value: st, ...ratioOf(base, st) };
  });
  // R² per run (run r = the r-th round of sequences, one at every sparsity), and of the medians
  const x = kr.map((r) => r.eventsPerStep);
  const runs = Math.min(...kr.map((r) => r.samples.length));
  const r2runs = Array.from({ length: runs }, (_, i) => linearFit(x, kr.map((r) => r.samples[i]!)).r2);
  const fit = linearFit(x, kr.map((r) => r.ms));
  const r2 = stat(r2runs);
  rows.push({ what: 'R² of a linear fit, time per step vs events', unit: 'R²', value: r2, target: '≥ 0.95', met: r2.median >= 0.95 });
  const r90 = at(0.9);
  let speed: Stat | null = null;
  if (r90) {
    speed = ratioStat(base, stat(r90.samples));
    rows.push({ what: 'speed-up, 0 % → 90 % activity sparsity', unit: '×', value: speed, target: '≥ 6×', met: speed.median >= 6 });
  }
  const floor = sw.floor.ms;
  rows.push({ what: 'no events at all (the work that does not scale with events; not in the fit)', unit: 'ms', value: stat(sw.floor.samples) });
  // µs per received event beyond the no-event floor, and the share of weight rows a step reads at least once
  // (a row serves every batch element with an event on it: P(row touched) = 1 − s^B)
  const perEvent = (r: KernelRow) => (1000 * (r.ms - floor)) / r.eventsPerStep;
  const touched = (sp: number) => 1 - Math.pow(sp, B);
  const notes = [
    `Linear fit over the medians: time ≈ ${fit.intercept.toFixed(3)} ms + ${(fit.slope * 1000).toFixed(3)} µs × events (R² ${fit.r2.toFixed(4)}). A step with no events at all takes ${floor.toFixed(2)} ms (the dense elementwise gate and gradient pass over all ${B}×${H} unit-states, docs/math.md).`,
    `Beyond that floor an event costs ${perEvent(kr[0]!).toFixed(2)} µs at 0 %` +
      (r90 ? ` and ${perEvent(r90).toFixed(2)} µs at 90 % sparsity` : '') +
      `. The row operations run at SIMD speed, so bringing a weight row (${(12 * H / 1024).toFixed(0)} KB here) into the core's caches is no longer negligible: each step reads every row that received an event once and applies it to all batch elements that did (docs/math.md). At 0 % a row serves ${B} events; at 90 % sparsity ${pct(touched(0.9))} of the rows are still read, each serving ~${((0.1 * B) / touched(0.9)).toFixed(1)} events, so a sparse event carries a larger share of that cost.`,
  ];
  if (speed && speed.median < 6)
    notes.push(
      `Speed-up target missed: ${speed.median.toFixed(2)}× at 90 %. The floor (${floor.toFixed(2)} ms) and the larger cost per event at high sparsity (above) keep the ratio below the 10× fewer events.`,
    );
  return {
    id: 3,
    key: 'activity-sweep',
    title: `Time per step against activity, hidden ${H}`,
    setup:
      `bench/kernels.ts: one group kernel holding a whole layer (layer 1 of a two-layer EGRU, H = I = ${H}, batch ${B}, evnn), one thread, forward + backward of one step, ` +
      `fed synthetic event lists of density 1 − sparsity (inputs, recurrent events and incoming gradients; backward-active = events). ` +
      `Runs: ${runs} sequences of ${SEQUENCE_STEPS} steps at each sparsity (every step timed, including the weight-gradient rows the kernel accumulates once per 4 steps), round-robin over the sparsities after a warm-up sequence each; a run's figure is its time per step. Ratio: speed-up over 0 % sparsity.`,
    rows,
    headline: {
      target: 'R² ≥ 0.95 and ≥ 6× faster at 90 % than at 0 %',
      measured: `R² ${r2.median.toFixed(4)}, ${speed ? speed.median.toFixed(2) : '–'}×`,
      met: r2.median >= 0.95 && (speed ? speed.median >= 6 : false),
    },
    notes,
    extra: { fit, kernelRows: kr.map(({ samples: _s, ...r }) => r) },
    seconds: sw.seconds,
  };
}

interface DenseRates {
  dot: number[];
  axpy: number[];
  simdDot: number[];
  simdAxpy: number[];
}

/**
 * Dense float32 y = W·x, two layouts, in plain JavaScript and with the kernels' own WebAssembly SIMD row
 * primitives (model/simd.ts, one call per row). Returns a function that measures one run (≈ targetMs) of each
 * and appends its GMAC/s to `rates`, so the runs can be interleaved with the sparse kernels' (case 3's sweep).
 */
function denseMatvec(rows: number, cols: number, targetMs: number, rates: DenseRates): () => void {
  // dot: Wt [cols × rows], y_j = Σ_i Wt[j,i]·x_i (4 partial sums); axpy: W [rows × cols], y += x_i·W[i,:] (as the kernels do)
  const W = new Float32Array(rows * cols);
  for (let i = 0; i < W.length; i++) W[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const xv = new Float32Array(rows);
  for (let i = 0; i < rows; i++) xv[i] = ((i * 40503) % 997) / 997;
  const y = new Float64Array(cols);
  const dot = () => {
    for (let j = 0; j < cols; j++) {
      const o = j * rows;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < rows; i += 4) {
        s0 += W[o + i]! * xv[i]!;
        s1 += W[o + i + 1]! * xv[i + 1]!;
        s2 += W[o + i + 2]! * xv[i + 2]!;
        s3 += W[o + i + 3]! * xv[i + 3]!;
      }
      for (; i < rows; i++) s0 += W[o + i]! * xv[i]!;
      y[j] = s0 + s1 + (s2 + s3);
    }
  };
  const axpy = () => {
    y.fill(0);
    for (let i = 0; i < rows; i++) {
      const a = xv[i]!;
      const o = i * cols;
      let k = 0;
      for (; k + 7 < cols; k += 8) {
        y[k]! += a * W[o + k]!;
        y[k + 1]! += a * W[o + k + 1]!;
        y[k + 2]! += a * W[o + k + 2]!;
        y[k + 3]! += a * W[o + k + 3]!;
        y[k + 4]! += a * W[o + k + 4]!;
        y[k + 5]! += a * W[o + k + 5]!;
        y[k + 6]! += a * W[o + k + 6]!;
        y[k + 7]! += a * W[o + k + 7]!;
      }
      for (; k < cols; k++) y[k]! += a * W[o + k]!;
    }
  };
  // warm up, then size one run to ≈ targetMs
  const calibrate = (f: () => void) => {
    for (let w = 0; w < 5; w++) f();
    const t0 = performance.now();
    f();
    return Math.max(1, Math.round(targetMs / Math.max(performance.now() - t0, 0.01)));
  };
  const run = (f: () => void, inner: number, out: number[]) => {
    const a = performance.now();
    for (let k = 0; k < inner; k++) f();
    out.push((rows * cols * inner) / ((performance.now() - a) * 1e6));
  };
  // The same two layouts with the SIMD primitives, in a wasm arena of their own: W (axpy rows) / Wt (dot rows), x, y.
  const arena = new SimdArena([rows * cols, rows * cols, rows, cols]);
  const [sW, sWt, sx, sy] = arena.views as [Float32Array, Float32Array, Float32Array, Float32Array];
  sW.set(W);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sWt[j * rows + i] = W[i * cols + j]!;
  sx.set(xv);
  const { axpy: vAxpy, dot: vDot } = arena.ops;
  const pW = sW.byteOffset;
  const pWt = sWt.byteOffset;
  const px = sx.byteOffset;
  const py = sy.byteOffset;
  const simdDot = () => {
    for (let j = 0; j < cols; j++) sy[j] = vDot(pWt + 4 * j * rows, px, rows);
  };
  const simdAxpy = () => {
    sy.fill(0);
    for (let i = 0; i < rows; i++) vAxpy(py, sx[i]!, pW + 4 * i * cols, cols);
  };
  const inner = [calibrate(dot), calibrate(axpy), calibrate(simdDot), calibrate(simdAxpy)];
  return () => {
    run(dot, inner[0]!, rates.dot);
    run(axpy, inner[1]!, rates.axpy);
    run(simdDot, inner[2]!, rates.simdDot);
    run(simdAxpy, inner[3]!, rates.simdAxpy);
  };
}

async function efficiencyCase(s: Sizes, peer: PeerStatus): Promise<CaseResult> {
  const t0 = performance.now();
  const sw = sweep(s);
  const { H, B } = sw;
  const rows0 = 2 * H; // I + H of the swept layer
  const cols = 3 * H;
  const js = sw.dense;
  const dot = stat(js.dot);
  const axpy = stat(js.axpy);
  const simdDot = stat(js.simdDot);
  const simdAxpy = stat(js.simdAxpy);
  let tf: Stat | null = null;
  if (peer.available) tf = stat(await peer.peer.matvecRate(rows0, cols, s.reps));
  // The reference is the fastest dense matvec measured on this machine, whoever runs it.
  const candidates: [string, Stat][] = [
    ['JavaScript dot rows', dot],
    ['JavaScript axpy rows', axpy],
    ['wasm SIMD dot rows (model/simd.ts)', simdDot],
    ['wasm SIMD axpy rows (model/simd.ts)', simdAxpy],
  ];
  if (tf) candidates.push(['tfjs wasm tf.matMul', tf]);
  const [denseName, dense] = candidates.reduce((a, b) => (b[1].median > a[1].median ? b : a));
  const rows: Row[] = [
    { what: `dense float32 matvec, JavaScript, W·x with rows of W (dot products), ${cols} × ${rows0}`, unit: 'GMAC/s', value: dot, ...ratioOf(dot, dense) },
    { what: `dense float32 matvec, JavaScript, Σ x_i·W[i,:] (axpy rows)`, unit: 'GMAC/s', value: axpy, ...ratioOf(axpy, dense) },
    { what: `dense float32 matvec, wasm SIMD dot rows (the kernels' primitive, model/simd.ts)`, unit: 'GMAC/s', value: simdDot, ...ratioOf(simdDot, dense) },
    { what: `dense float32 matvec, wasm SIMD axpy rows (the kernels' primitive and access pattern)`, unit: 'GMAC/s', value: simdAxpy, ...ratioOf(simdAxpy, dense) },
  ];
  if (tf) rows.push({ what: `dense float32 matvec, tfjs wasm${peer.available && peer.info.simd ? ' SIMD' : ''} tf.matMul [1 × ${rows0}]·[${rows0} × ${cols}]`, unit: 'GMAC/s', value: tf, ...ratioOf(tf, dense) });
  else rows.push({ what: 'dense float32 matvec, tfjs wasm', unit: 'GMAC/s', value: null, note: `unavailable: ${peer.available ? '' : peer.reason}` });
  // Effective MACs of one timed step, by the kernel's own convention (docs/math.md): forward 3H per received item,
  // backward 9H per item (recompute, weight-gradient row, partial sum) → 12H per received event.
  let at90: Stat | null = null;
  for (const r of sw.rows) {
    const macs = 12 * H * r.eventsPerStep;
    const st = stat(r.samples.map((ms) => macs / (ms * 1e6)));
    const is90 = Math.abs(r.sparsity - 0.9) < 1e-9;
    if (is90) at90 = st;
    rows.push({
      what: `sparse kernels at ${(100 * r.sparsity).toFixed(0)} % activity sparsity (effective MACs / time)`,
      unit: 'GMAC/s',
      value: st,
      ...ratioOf(st, dense),
      target: is90 ? '≥ 0.5× dense' : undefined,
      met: is90 ? st.median / dense.median >= 0.5 : undefined,
    });
  }
  const eff = at90 ? at90.median / dense.median : null;
  const notes = [
    `Reference ("dense") = the fastest dense matvec measured here: ${denseName}, ${dense.median.toFixed(2)} GMAC/s. The sparse kernels do their row operations with the same wasm SIMD primitives (one call per received item); their gates are one SIMD call per batch element.`,
    `Effective MACs per step = 12·H·(received events): 3H forward and 9H backward (recompute, weight-gradient row and partial sum) per event — the kernels' own MAC count (docs/math.md), the same figure \`macs.forward + macs.backward\` reports. The fixed per-step elementwise work is not counted as MACs, which is why the rate falls at high sparsity.`,
  ];
  if (eff !== null && eff < 0.5) notes.push(`Target missed at 90 %: ${(100 * eff).toFixed(0)} % of the dense rate (see case 3's intercept: the dense elementwise pass per step does no MACs).`);
  return {
    id: 7,
    key: 'mac-efficiency',
    title: 'Arithmetic efficiency of the sparse kernels',
    setup: `Effective MAC rate of the group kernel of case 3 (H = ${H}, batch ${B}) at each sparsity, against the dense float32 matrix–vector rate of this machine measured in the same run (W of (I + H) × 3H = ${rows0} × ${cols}, ${s.reps} runs of ≈ ${s.matvecMs} ms each, one between each round of case 3's sequences so that both see the same machine; tfjs's runs come after). Ratio: rate / the fastest dense rate.`,
    rows,
    headline: {
      target: 'sparse kernels at 90 % sparsity ≥ 50 % of the dense matvec rate',
      measured: eff !== null ? `${(100 * eff).toFixed(0)} % (${at90!.median.toFixed(2)} vs ${dense.median.toFixed(2)} GMAC/s)` : '–',
      met: eff !== null ? eff >= 0.5 : null,
    },
    notes,
    extra: { denseJs: { dot: dot.median, axpy: axpy.median }, denseSimd: { dot: simdDot.median, axpy: simdAxpy.median }, tfjs: tf?.median ?? null, reference: denseName },
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------------------------
// cases 4 and 5: the runtime's synchronisation cost and parallel speed-up (bench/runtime.ts)

function asStat(r: { samples: number[] }): Stat {
  return stat(r.samples);
}

async function withSpins<T>(spins: string | undefined, f: () => Promise<T>): Promise<T> {
  const old = process.env.EGRU_SPINS;
  if (spins === undefined) delete process.env.EGRU_SPINS;
  else process.env.EGRU_SPINS = spins;
  try {
    return await f();
  } finally {
    if (old === undefined) delete process.env.EGRU_SPINS;
    else process.env.EGRU_SPINS = old;
  }
}

async function syncCase(s: Sizes): Promise<CaseResult> {
  const t0 = performance.now();
  const { reps, ticks } = s.sync;
  const checkBefore = await machineCheck('before case 4', s.check);
  const r1 = await withSpins(undefined, () => syncOverhead(1, reps, ticks));
  const r2 = await withSpins(undefined, () => syncOverhead(2, reps, ticks));
  const one = asStat(r1);
  const two = asStat(r2);
  const cold = stat(r2.warmupUs);
  const rows: Row[] = [
    { what: '1 actor (no partner: the barrier returns at once)', unit: 'µs', value: one },
    { what: '2 actors, threads (default barrier: spin, then Atomics.wait)', unit: 'µs', value: two, target: '≤ 10 µs', met: two.median <= 10 },
    { what: '2 actors − 1 actor (the barrier and the second thread)', unit: 'µs', value: { median: two.median - one.median, min: two.min - one.max, max: two.max - one.min, runs: reps, samples: [] } },
    { what: `2 actors, the ${r2.warmupUs.length} warm-up sequences of a fresh trainer (cold JIT; diagnostic)`, unit: 'µs', value: cold },
  ];
  const notes: string[] = [];
  if (s.sync.diagnose) {
    // The barrier spins EGRU_SPINS times before Atomics.wait (runtime/barrier.ts); show how much each part costs.
    for (const spins of ['0', '200000']) {
      const r = asStat(await withSpins(spins, () => syncOverhead(2, reps, ticks)));
      rows.push({ what: `2 actors, EGRU_SPINS=${spins} (${spins === '0' ? 'Atomics.wait only' : 'spin longer'}; diagnostic)`, unit: 'µs', value: r });
    }
  }
  notes.push(
    `The first sequences of a fresh trainer are slower (warm-up row: median ${cold.median.toFixed(1)} µs, first ${r2.warmupUs[0]!.toFixed(1)} µs per tick) until the JIT has optimised the tick path; the figure is the steady state after them.`,
  );
  if (two.median > 10)
    notes.push(
      `Target missed: ${two.median.toFixed(1)} µs per tick. When a tick outlasts the barrier's spin phase, the waiting actor falls back to Atomics.wait/notify (a futex round trip; the EGRU_SPINS=0 row shows its cost); when another process occupies a core, a spinning actor waits for a partner that is not running at all.`,
    );
  notes.push(checkNote(checkBefore, await machineCheck('after case 4', s.check)));
  return {
    id: 4,
    key: 'sync',
    title: 'Synchronisation cost per step, 2 actors, zero events',
    setup: `bench/runtime.ts syncOverhead: one layer of 2 units per actor, batch 1, thresholds 10⁹ (nothing fires, no payload), forward-only sequences of ${ticks} steps on the threads transport; figure = wall time per tick (one step: the per-tick phase work plus the barrier), ${reps} runs of one sequence each after ${r2.warmupUs.length} warm-up sequences.`,
    rows,
    headline: { target: '≤ 10 µs per step', measured: `${two.median.toFixed(2)} µs`, met: two.median <= 10 },
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function parallelCase(s: Sizes): Promise<CaseResult> {
  const t0 = performance.now();
  const { H, reps, rounds } = s.parallel;
  const checks: { ratio: number; evenSplit: number; memory: number | null }[] = [];
  const p = await parallelSpeedup(reps, H, 32, rounds, async (r) => {
    checks.push(await machineCheckBoth(`case 5, before round ${r + 1} of ${rounds}`, s.check));
  });
  checks.push(await machineCheckBoth('after case 5', s.check));
  const checkBefore = checks[0]!.ratio;
  const checkAfter = checks[checks.length - 1]!.ratio;
  const one = stat(p.samples.one);
  const two = stat(p.samples.two);
  const sp = ratioStat(one, two);
  const ceiling = stat(checks.map((c) => c.ratio));
  const even = stat(checks.map((c) => c.evenSplit));
  const memRuns = checks.map((c) => c.memory).filter((m): m is number => m !== null);
  const mem = memRuns.length ? stat(memRuns) : null;
  const rows: Row[] = [
    { what: '1 actor, one training step', unit: 'ms', value: one, ratio: 1 },
    { what: '2 actors, one training step', unit: 'ms', value: two, ...ratioOf(two, one) },
    { what: 'speed-up, 2 actors vs 1', unit: '×', value: sp, target: '≥ 1.6×', met: sp.median >= 1.6 },
    { what: 'machine check: compute of 2 busy threads vs 1 (before each round, after)', unit: '×', value: ceiling },
    { what: 'machine check: 2 × the slower of the two (the ceiling of an even split)', unit: '×', value: even },
  ];
  if (mem) rows.push({ what: 'machine check, memory-bound: 2 × the slower of two threads streaming 48 MiB each vs one alone', unit: '×', value: mem });
  const notes: string[] = [];
  if (sp.median < 1.6) {
    const weightMiB = (2 * 4 * H * 3 * H) / 2 ** 20; // R and its gradient, float32
    const why =
      even.min < 1.7
        ? `the machine itself gave two busy threads an even-split ceiling of only ${even.min.toFixed(2)}–${even.max.toFixed(2)}× during this case (another process, or the virtual machine's host, takes part of a core), which bounds any 2-actor speed-up`
        : mem && mem.median < 1.7 && weightMiB >= 16
          ? `two threads streaming memory got only ${mem.min.toFixed(2)}–${mem.max.toFixed(2)}× the bandwidth of one during this case (even split; compute: ${even.median.toFixed(2)}×), and at H ${H} each step streams the actors' recurrent weights and their gradients (${weightMiB.toFixed(0)} MiB, more than this machine's caches) through memory, so the machine's shared memory bandwidth bounds the speed-up`
          : `the machine checks between the rounds gave two threads ${ceiling.median.toFixed(2)}× the compute of one (even split ${even.median.toFixed(2)}×${mem ? `, memory ${mem.median.toFixed(2)}×` : ''}), so the loss is the runtime's or a slow spell between the checks: the barrier waits of the actor that finishes a tick first (uneven work per tick) and the per-tick synchronisation (case 4)`;
    notes.push(`Target missed: ${sp.median.toFixed(2)}×; ${why}.`);
  }
  return {
    id: 5,
    key: 'parallel',
    title: `Parallel speed-up, hidden ${H}, 2 actors vs 1 on ${os.cpus().length} cores`,
    setup: `bench/runtime.ts parallelSpeedup: one layer, hidden ${H}, batch 32, row-MNIST shape (T = 28, I = 28, random inputs with 20 % zeros), thresholds calibrated to ≈ 80 % activity sparsity (measured ${pct(p.sparsity)}), one training step (forward + backward + SGD lr 0) on the threads transport; ${rounds} round(s), each with a fresh trainer per actor count (so that no figure rests on one trainer's placement on this machine), two warm-up steps each, then ${reps} runs of each actor count, alternating; all runs pooled. Ratio: time / 1-actor time.`,
    rows,
    headline: { target: '≥ 1.6×', measured: `${sp.median.toFixed(2)}× (${one.median.toFixed(1)} → ${two.median.toFixed(1)} ms)`, met: sp.median >= 1.6 },
    notes,
    extra: { sparsity: p.sparsity, machineCheck: [checkBefore, checkAfter], machineChecks: checks },
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------------------------
// case 6: memory

interface MemoryJob {
  kind: 'baseline' | 'egru' | 'gru' | 'tfjs';
  H: number;
  B: number;
  T: number;
  actors: number;
  thr?: Float32Array;
}
interface MemoryReply {
  ok: boolean;
  error?: string;
  maxRssBefore: number;
  maxRss: number;
  stepMs: number;
}

/**
 * Peak resident set of this process, bytes: VmHWM of /proc/self/status on Linux (the high-water mark of this
 * process's own memory; getrusage's maxRSS would carry the parent's size over the fork), else maxRSS.
 */
function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Child process: run one job (one training step), report the peak RSS (all threads of the process) and exit. */
async function memoryChild(job: MemoryJob): Promise<MemoryReply> {
  const { data } = mnistBatch('pixel-mnist', job.B, job.T);
  const cfg = defaultModelConfig({ inputSize: 1, hidden: [job.H], classes: 10, cell: job.kind === 'gru' ? 'gru' : 'egru' });
  const params = initParams(cfg);
  if (job.thr) params.layers[0]!.thr.set(job.thr);
  let stepMs = 0;
  if (job.kind === 'tfjs') {
    const peer = await loadTfjsPeer(ROOT, { install: false, log });
    if (!peer.available) throw new Error(peer.reason);
    const before = peakRss();
    const tr = peer.peer.gruTrainer({ steps: job.T, inputSize: 1, hidden: job.H, classes: 10, batch: job.B, x: data.x, y: data.targets });
    stepMs = await tr.step();
    const peak = peakRss();
    tr.dispose();
    return { ok: true, maxRssBefore: before, maxRss: peak, stepMs };
  }
  const before = peakRss();
  if (job.kind !== 'baseline') {
    const tr = await Trainer.create({ model: cfg, params, actors: job.actors, transport: 'threads', batch: job.B, maxSteps: job.T, optimizer: ADAM_0 });
    try {
      const t = performance.now();
      await tr.train(data);
      stepMs = performance.now() - t;
    } finally {
      await tr.close();
    }
  }
  return { ok: true, maxRssBefore: before, maxRss: peakRss(), stepMs };
}

function runChild(job: MemoryJob): Promise<MemoryReply> {
  return new Promise((resolve) => {
    const child = fork(SELF, ['--child-memory'], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let done = false;
    const finish = (r: MemoryReply) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    child.on('message', (m) => finish(m as MemoryReply));
    child.on('error', (e) => finish({ ok: false, error: e.message, maxRss: 0, maxRssBefore: 0, stepMs: 0 }));
    child.on('exit', (code) => finish({ ok: false, error: `child exited with code ${code}`, maxRss: 0, maxRssBefore: 0, stepMs: 0 }));
    child.send(job);
  });
}

async function memoryCase(o: Opts, s: Sizes, peer: PeerStatus): Promise<CaseResult> {
  const t0 = performance.now();
  const { H, B, T: T0, rssRuns } = s.memory;
  const { data, source } = mnistBatch('pixel-mnist', B, T0);
  const T = data.steps;
  const cfg = defaultModelConfig({ inputSize: 1, hidden: [H], classes: 10 });
  const params = initParams(cfg);
  log(`case 6: calibrating thresholds to ${pct(o.sparsity)} activity sparsity`);
  await calibrate(cfg, params, data, o.sparsity);
  const thr = Float32Array.from(params.layers[0]!.thr);

  // BPTT history actually held, read from the kernels of inline trainers after one training step
  const history = async (model: ModelConfig, p: Params | undefined, actors: number) => {
    const tr = await Trainer.create({ model, params: p, actors, transport: 'inline', batch: B, maxSteps: T, optimizer: ADAM_0 });
    try {
      await tr.train(data);
      const sp = sparsityOf(tr);
      const hb = inlineKernels(tr).map((k) => k.historyBytes());
      const parts: Record<string, number> = {};
      for (const h of hb) for (const [k, v] of Object.entries(h.parts)) parts[k] = (parts[k] ?? 0) + v.inUse;
      return { inUse: hb.reduce((a, h) => a + h.inUse, 0), capacity: hb.reduce((a, h) => a + h.capacity, 0), parts, sparsity: sp };
    } finally {
      await tr.close();
    }
  };
  log('case 6: history bytes (inline trainers, one training step each)');
  const e2 = await history(cfg, params, 2);
  const e1 = await history(cfg, params, 1);
  const g2 = await history({ ...cfg, cell: 'gru' }, undefined, 2);
  const dense = 5 * 4 * T * B * H;
  const one = (bytes: number): Stat => ({ median: bytes / MB, min: bytes / MB, max: bytes / MB, runs: 1, samples: [bytes / MB] });
  const rows: Row[] = [
    { what: `dense BPTT history: 5 floats (z, r, g, rh_g, h) × T·B·H × 4 B`, unit: 'MB', value: one(dense), ratio: 1 },
    {
      what: `EGRU history in use, 2 actors (${pct(e2.sparsity.activity)} activity, ${pct(e2.sparsity.backward)} backward sparsity)`,
      unit: 'MB',
      value: one(e2.inUse),
      ratio: e2.inUse / dense,
      target: '≤ 0.5× dense',
      met: e2.inUse / dense <= 0.5,
    },
    { what: 'EGRU history allocated (capacity), 2 actors', unit: 'MB', value: one(e2.capacity), ratio: e2.capacity / dense },
    { what: 'EGRU history in use, 1 actor', unit: 'MB', value: one(e1.inUse), ratio: e1.inUse / dense },
    { what: 'egru dense GRU (cell gru) history in use, 2 actors', unit: 'MB', value: one(g2.inUse), ratio: g2.inUse / dense },
  ];

  // Peak RSS of whole processes (all threads), one process per run
  const all: { what: string; job: MemoryJob }[] = [
    { what: 'peak RSS: Node + egru + data, no trainer (baseline)', job: { kind: 'baseline', H, B, T, actors: 2 } },
    { what: `peak RSS: EGRU, 2 actors, one training step`, job: { kind: 'egru', H, B, T, actors: 2, thr } },
    { what: `peak RSS: egru dense GRU, 2 actors, one training step`, job: { kind: 'gru', H, B, T, actors: 2 } },
    { what: 'peak RSS: TensorFlow.js wasm GRU, one training step', job: { kind: 'tfjs', H, B, T, actors: 1 } },
  ];
  const jobs = all.filter((j) => s.memory.rssKinds.includes(j.job.kind) && (j.job.kind !== 'tfjs' || peer.available));
  const rss: Record<string, Stat | null> = {};
  const notes: string[] = [];
  for (const { what, job } of jobs) {
    const vals: number[] = [];
    for (let r = 0; r < rssRuns; r++) {
      const rep = await runChild(job);
      if (!rep.ok) {
        notes.push(`${what}: run failed (${rep.error}).`);
        break;
      }
      vals.push(rep.maxRss / MB);
      log(`case 6: ${what}: ${(rep.maxRss / MB).toFixed(0)} MB (step ${rep.stepMs.toFixed(0)} ms)`);
    }
    rss[job.kind] = vals.length ? stat(vals) : null;
  }
  const ref = rss['tfjs'] ?? null;
  for (const { what, job } of jobs) {
    const v = rss[job.kind] ?? null;
    rows.push({ what, unit: 'MB', value: v, ...(v && ref ? ratioOf(v, ref) : { ratio: null }) });
  }
  for (const { what, job } of all)
    if (!jobs.some((j) => j.job.kind === job.kind))
      rows.push({ what, unit: 'MB', value: null, note: job.kind === 'tfjs' && !peer.available ? `unavailable: ${peer.reason}` : `not in the ${o.mode} set` });

  const f = (k: string) => ((e2.parts[k] ?? 0) / MB).toFixed(1);
  notes.unshift(
    `What the kernels keep (2 actors, MB, as GroupKernel.historyBytes() reports it): state ${f('state')} (1 float per unit-step), received inputs ${f('inputs')}, received recurrent events ${f('recurrentEvents')}, backward-active announcements ${f('announcementsLayer')}. Every actor keeps its own copy of what it received (the 1-actor row has one copy); the dense GRU (cell gru) keeps every unit as an event.`,
  );
  if (e2.inUse / dense > 0.5) {
    const parts = Object.entries(e2.parts)
      .filter(([, v]) => v > 0)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${(v / MB).toFixed(1)} MB`);
    notes.push(`Target missed: the history is ${(e2.inUse / dense).toFixed(2)}× the dense one; largest parts: ${parts.join(', ')}.`);
  }
  notes.push(`Peak RSS: the high-water mark of the resident set of a fresh process per run (VmHWM, all threads: the actors are worker threads of that process), after loading the data and running one training step; ratio: to the TensorFlow.js process.`);
  return {
    id: 6,
    key: 'memory',
    title: `Memory, pixel-MNIST shape, hidden ${H}, batch ${B}`,
    setup: `One training step of a one-layer network, hidden ${H}, batch ${B}, T = ${T}, I = 1, on ${source}; EGRU thresholds calibrated to ${pct(o.sparsity)} activity sparsity. History bytes: GroupKernel.historyBytes() of every actor after one step (inline transport; identical work and storage to threads), in use and allocated. Dense reference: 5 × 4 B × T × B × H = ${(dense / MB).toFixed(1)} MB. Ratio: to the dense history (history rows), to the tfjs process (RSS rows).`,
    rows,
    headline: {
      target: 'BPTT history ≤ 0.5× dense at 80 % sparsity',
      measured: `${(e2.inUse / dense).toFixed(2)}× (${(e2.inUse / MB).toFixed(1)} of ${(dense / MB).toFixed(1)} MB, ${pct(e2.sparsity.activity)} sparsity)`,
      met: e2.inUse / dense <= 0.5,
    },
    notes,
    extra: { history: { egru2: e2, egru1: e1, gru2: g2, denseBytes: dense }, rss },
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------------------------
// main

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function render(path: string): void {
  const res = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  const doc = join(ROOT, 'docs', 'benchmarks.md');
  writeFileSync(doc, markdown(res));
  process.stdout.write(`wrote ${relative(process.cwd(), doc)} from ${relative(process.cwd(), path)}\n`);
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const o = parseArgs(argv);
  if (o.render) return render(o.out ?? join(ROOT, 'bench', 'results', 'latest.json'));
  const s = sizes(o);
  const t0 = performance.now();
  const info = machineInfo();
  log(`machine: ${info.line}; load average ${info.loadAtStart.map((v) => v.toFixed(2)).join(' / ')}`);
  info.concurrencyAtStart = await machineCheck('start', s.check);
  if (info.loadAtStart[0]! > 0.5) log('warning: the machine is not idle (load average > 0.5): the 2-actor figures will suffer');
  const wantsPeer = o.peers && o.cases.some((c) => c === 1 || c === 2 || c === 6 || c === 7);
  const peer: PeerStatus = wantsPeer ? await loadTfjsPeer(ROOT, { install: o.install, log }) : { available: false, reason: o.peers ? 'not needed by the selected cases' : '--no-peers', installed: false };
  if (peer.available) log(`peer: TensorFlow.js ${peer.info.tfjs}, backend ${peer.info.backend}, SIMD ${peer.info.simd}, multithread ${peer.info.multithread}, threads ${peer.info.threads}`);
  else log(`peer: TensorFlow.js unavailable (${peer.reason})`);

  const cases: CaseResult[] = [];
  for (const id of [...new Set(o.cases)].sort((a, b) => a - b)) {
    log(`case ${id} …`);
    let c: CaseResult;
    if (id === 1 || id === 2) c = await trainingCase(id, o, s, peer);
    else if (id === 3) c = activityCase(s);
    else if (id === 4) c = await syncCase(s);
    else if (id === 5) c = await parallelCase(s);
    else if (id === 6) c = await memoryCase(o, s, peer);
    else c = await efficiencyCase(s, peer);
    cases.push(c);
    if (!o.json) process.stdout.write(textTable(c) + '\n\n');
    log(`case ${id} done in ${c.seconds.toFixed(1)} s`);
  }
  const res: BenchResults = {
    tool: 'egru bench',
    version: version(),
    date: new Date().toISOString(),
    mode: o.mode,
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
    machine: info,
    peers: { tfjs: peer.available ? { available: true, info: peer.info } : { available: false, reason: peer.reason } },
    cases,
    seconds: (performance.now() - t0) / 1000,
  };
  if (o.json) process.stdout.write(JSON.stringify(res, null, 2) + '\n');
  else {
    process.stdout.write(`machine: ${info.line}\nsummary:\n`);
    for (const c of cases) process.stdout.write(`  ${c.id}. ${c.title}: target ${c.headline.target} → ${c.headline.measured}: ${c.headline.met === null ? 'n/a' : c.headline.met ? 'met' : 'MISSED'}\n`);
    process.stdout.write(`total ${(res.seconds / 60).toFixed(1)} min\n`);
  }
  if (!o.write || (o.mode === 'smoke' && !o.out)) return;
  const out = o.out ?? join(ROOT, 'bench', 'results', o.mode === 'quick' ? 'quick.json' : 'latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  log(`wrote ${relative(process.cwd(), out)}`);
  if (o.mode === 'full' && !o.out) {
    const doc = join(ROOT, 'docs', 'benchmarks.md');
    writeFileSync(doc, markdown(res));
    log(`wrote ${relative(process.cwd(), doc)}`);
  }
}

async function childMain(): Promise<void> {
  process.once('message', async (job: MemoryJob) => {
    let reply: MemoryReply;
    try {
      reply = await memoryChild(job);
    } catch (e) {
      reply = { ok: false, error: (e as Error).message, maxRss: 0, maxRssBefore: 0, stepMs: 0 };
    }
    process.send!(reply, () => process.exit(0));
  });
}

const invoked = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invoked) {
  if (process.argv.includes('--child-memory')) await childMain();
  else {
    try {
      await main();
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`egru bench: ${e.message}\n`);
        process.exit(2);
      }
      throw e;
    }
  }
}
