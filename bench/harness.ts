/**
 * What the benchmark's cases share: logging, the MNIST batch they time, the machine check, the round-robin of
 * contestants, ratios of spreads and the sparsity counters of a trainer.
 */
import { performance } from 'node:perf_hooks';
import { loadTask } from '../cli/data/tasks.js';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import type { OptimizerConfig } from '../model/optim.js';
import { initParams, type Params } from '../model/params.js';
import { Trainer, type SequenceBatch } from '../runtime/coordinator.js';
import type { Stat } from './report.js';
import { concurrencyCheck, randomInputs } from './runtime.js';

export const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
export const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
export const MB = 1024 * 1024;

/** Adam with learning rate 0: the arithmetic of a real update, while the network (and so its sparsity) stays fixed. */
export const ADAM_0: OptimizerConfig = { kind: 'adam', lr: 0 };

/** The first `batch` MNIST training examples in the shape of `task`, cut to `steps` steps; random inputs without MNIST. */
export function mnistBatch(task: 'row-mnist' | 'pixel-mnist', batch: number, steps?: number): { data: SequenceBatch; source: string; mnist: boolean } {
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
    return { data: { x, targets: d.y, batch, steps: T }, source: `the first ${batch} MNIST training images${T !== full ? ` (steps ${from}–${from + T - 1} only)` : ''}`, mnist: true };
  } catch (e) {
    const cfg = defaultModelConfig({ inputSize: I, hidden: [1] });
    return { data: randomInputs(cfg, batch, T, 11), source: `random inputs (MNIST unavailable: ${(e as Error).message})`, mnist: false };
  }
}

/** Rounds and busy-loop iterations of every machine check (concurrencyCheck); `--smoke` makes them short. */
export const machineCheckSize = { rounds: 3, iterations: 5e7 };

/** Compute two busy threads get, relative to one (2.00 = two free cores): see concurrencyCheck in bench/runtime.ts. */
export async function machineCheck(label: string): Promise<number> {
  const c = await concurrencyCheck(machineCheckSize.rounds, machineCheckSize.iterations);
  log(`machine check (${label}): two busy threads get ${c.ratio.toFixed(2)}× the compute of one (2.00 = two free cores)`);
  return c.ratio;
}

export const checkNote = (before: number, after: number) =>
  `Machine check (compute two busy threads get relative to one; 2.00 = two free cores): ${before.toFixed(2)}× before and ${after.toFixed(2)}× after this case.`;

/**
 * EGRU parameters with every unit firing at every step (on: ϑ = 0 and a g-gate bias of +8 keep v > 0) or none
 * (off: ϑ = 1 and a g-gate bias of −8 keep v near −1, so no unit fires and none is within 1/s of ϑ).
 */
export function forced(cfg: ModelConfig, on: boolean): Params<Float32Array> {
  const p = initParams(cfg);
  const H = cfg.hidden[0]!;
  p.layers[0]!.thr.fill(on ? 0 : 1);
  p.layers[0]!.bias.fill(on ? 8 : -8, 2 * H, 3 * H);
  return p;
}

export interface Contestant {
  name: string;
  /** Warm-up steps (default: the case's). */
  warm?: number;
  step: () => Promise<number>;
  samples: number[];
  after?: () => Promise<void>;
  /**
   * Idle this long (untimed) after each of its steps: a contestant in this process that leaves much garbage
   * behind (tfjs) should not have V8's concurrent collector share the cores with the next one.
   */
  settleMs?: number;
}

/** Warm every contestant up, then time them round-robin (run r of each, then run r + 1), so drifts hit all alike. */
export async function roundRobin(cs: Contestant[], warm: number, reps: number, label: string): Promise<void> {
  for (const c of cs) {
    for (let w = 0; w < (c.warm ?? warm); w++) await c.step();
    await c.after?.();
  }
  for (let r = 0; r < reps; r++) {
    const t: string[] = [];
    for (const c of cs) {
      const ms = await c.step();
      c.samples.push(ms);
      if (c.settleMs) await new Promise((res) => setTimeout(res, c.settleMs));
      t.push(`${c.name} ${ms.toFixed(1)}`);
    }
    log(`${label} run ${r + 1}/${reps}: ${t.join(', ')} ms`);
  }
}

export function trainerStep(tr: Trainer, batch: SequenceBatch): () => Promise<number> {
  return async () => {
    const t0 = performance.now();
    await tr.train(batch);
    return performance.now() - t0;
  };
}

/** a / b from two spreads: the medians' ratio and the extreme pairings (worst–best when smaller is better for a). */
export function ratioOf(a: Stat, b: Stat): { ratio: number; ratioRange: [number, number] } {
  return { ratio: a.median / b.median, ratioRange: [a.min / b.max, a.max / b.min] };
}
export function ratioStat(a: Stat, b: Stat): Stat {
  return { median: a.median / b.median, min: a.min / b.max, max: a.max / b.min, runs: Math.min(a.runs, b.runs), samples: [] };
}

/** Sparsities and MACs (the runtime's counters) since the last counter reset; MACs per step when `steps` is given. */
export function sparsityOf(tr: Trainer, steps = 1): { activity: number; backward: number; macs: number; denseMacs: number } {
  const c = tr.counters().totals;
  return {
    activity: 1 - c.events / c.unit_steps,
    backward: 1 - c.backward_active / c.unit_steps,
    macs: (c['macs.forward'] + c['macs.backward']) / steps,
    denseMacs: (c['macs.dense_forward'] + c['macs.dense_backward']) / steps,
  };
}

/** Activity sparsity of one forward pass of `params` over `batch` (inline, one actor). */
export async function evaluatedSparsity(cfg: ModelConfig, params: Params, batch: SequenceBatch): Promise<number> {
  const t = await Trainer.create({ model: cfg, params, actors: 1, transport: 'inline', batch: batch.batch, maxSteps: batch.steps });
  try {
    await t.evaluate(batch);
    const c = t.counters().totals;
    return 1 - c.events / c.unit_steps;
  } finally {
    await t.close();
  }
}

/** All of several target checks: false if any failed, null if none failed but one could not be checked. */
export function allMet(checks: (boolean | null)[]): boolean | null {
  if (checks.some((c) => c === false)) return false;
  return checks.some((c) => c === null) ? null : true;
}
