/**
 * Runtime benchmark (issue 3): per-step synchronisation overhead of the actor clock, and the speed-up of
 * 2 actors over 1 on this machine's cores.
 *
 * sync:     2 actors (threads), 2 units each, batch 1, thresholds so high that nothing ever fires: a tick is
 *           then nothing but the barrier plus a few gate evaluations. Reported: wall time per forward tick
 *           (T = 2000 steps per sequence), median over repetitions after 10 warm-up sequences, next to the
 *           same run on 1 actor.
 * speed-up: hidden 1024, batch 32, row-MNIST shape (T = 28, I = 28, inputs uniform [0,1] with 20 % zeros),
 *           thresholds shifted until activity sparsity is ≈ 80 %, one training step (forward + backward +
 *           update, SGD with lr 0 so every repetition sees the same network), 1 actor vs 2 actors, threads,
 *           the two trainers timed alternately.
 *
 * Usage (after `npm run build`): node dist/bench/runtime.js [--quick] [--json]
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import { initParams, type Params } from '../model/params.js';
import { uniformAt } from '../model/rng.js';
import { Trainer, type SequenceBatch } from '../runtime/coordinator.js';

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

const PROBE = `
const { parentPort } = require('node:worker_threads');
function loop(n) { let x = 1.0001, s = 0; for (let i = 0; i < n; i++) { s += x * 1.0000001; x = x * 0.9999999 + 1e-9; } return s; }
loop(1e6);
parentPort.on('message', (n) => { const t0 = performance.now(); const s = loop(n); parentPort.postMessage([performance.now() - t0, s]); });
`;

// The memory-bound twin: n passes of the kernels' own SIMD dot over two 24 MiB buffers (more than this
// machine's caches hold, like the weights of a 1024-unit layer), so the threads compete for memory bandwidth.
const MEMORY_PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const ready = import(workerData).then(({ SimdArena }) => {
  const n = (24 * 2 ** 20) / 4;
  const a = new SimdArena([n, n]);
  a.views[0].fill(1);
  a.views[1].fill(1);
  const p = a.views[0].byteOffset, q = a.views[1].byteOffset;
  return (reps) => { let s = 0; for (let r = 0; r < reps; r++) s += a.ops.dot(p, q, n); return s; };
});
parentPort.on('message', async (n) => { const loop = await ready; const t0 = performance.now(); const s = loop(n); parentPort.postMessage([performance.now() - t0, s]); });
`;

/**
 * How much compute this machine gives two busy threads at once: the same floating-point loop (~0.1 s) on one
 * thread alone, then on two threads together; ratio = 2·t(alone)/t(pair) — 2.0 for two free cores, ~1 when the
 * second core is taken (by another process, or by the host of a virtual machine). `evenSplit` = 2·t(alone)/t(slower
 * of the pair): the ceiling of a speed-up whose two halves wait for each other (actors at a barrier), lower than
 * `ratio` when the two cores run at different speeds. kind 'memory': the same for two threads streaming 48 MiB
 * each through memory (the ceiling for kernels whose weights outgrow the caches).
 */
export async function concurrencyCheck(
  rounds = 3,
  iterations = 5e7,
  kind: 'compute' | 'memory' = 'compute',
): Promise<{ ratio: number; evenSplit: number; aloneMs: number; pairMs: number }> {
  const memory = kind === 'memory';
  if (memory) iterations = Math.max(1, Math.round(iterations / 2.5e6)); // passes of 48 MiB: ~20 for the default
  const make = () =>
    memory
      ? new Worker(MEMORY_PROBE, { eval: true, workerData: new URL('../model/simd.js', import.meta.url).href })
      : new Worker(PROBE, { eval: true });
  const ws = [make(), make()];
  const run = (w: Worker, n: number) =>
    new Promise<number>((resolve, reject) => {
      w.once('message', (m: [number, number]) => resolve(m[0]));
      w.once('error', reject);
      w.postMessage(n);
    });
  try {
    await Promise.all(ws.map((w) => run(w, Math.ceil(iterations / 10)))); // warm-up
    const alone: number[] = [];
    const pair: number[] = [];
    const slower: number[] = [];
    for (let r = 0; r < rounds; r++) {
      alone.push(await run(ws[0]!, iterations));
      const both = await Promise.all(ws.map((w) => run(w, iterations)));
      pair.push((both[0]! + both[1]!) / 2);
      slower.push(Math.max(both[0]!, both[1]!));
    }
    const a = median(alone);
    const p = median(pair);
    return { ratio: (2 * a) / p, evenSplit: (2 * a) / median(slower), aloneMs: a, pairMs: p };
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function randomInputs(cfg: ModelConfig, batch: number, steps: number, seed: number): SequenceBatch {
  const x = new Float32Array(batch * steps * cfg.inputSize);
  for (let i = 0; i < x.length; i++) x[i] = uniformAt(seed, 1, i) < 0.2 ? 0 : uniformAt(seed, 2, i);
  const targets = new Int32Array(batch);
  for (let b = 0; b < batch; b++) targets[b] = Math.floor(uniformAt(seed, 3, b) * cfg.classes);
  return { x, targets, batch, steps };
}

/**
 * Per forward tick, µs: median over `reps` sequences, after `warmup` sequences (the first few thousand ticks of a
 * fresh trainer run before the JIT has optimised the tick path and are several times slower; `warmupUs` has them).
 */
export async function syncOverhead(
  actors: number,
  reps: number,
  steps = 2000,
  warmup = 10,
): Promise<{ medianUs: number; minUs: number; maxUs: number; samples: number[]; warmupUs: number[] }> {
  const cfg = defaultModelConfig({ inputSize: 1, hidden: [2 * actors], classes: 2 });
  const params = initParams(cfg);
  params.layers[0]!.thr.fill(1e9);
  const trainer = await Trainer.create({ model: cfg, params, actors, transport: 'threads', batch: 1, maxSteps: steps });
  try {
    const batch = randomInputs(cfg, 1, steps, 5);
    const perTick = async () => {
      const t0 = performance.now();
      await trainer.evaluate(batch);
      return ((performance.now() - t0) * 1000) / trainer.topology.ticks(steps);
    };
    const warmupUs: number[] = [];
    for (let r = 0; r < warmup; r++) warmupUs.push(await perTick());
    const per: number[] = [];
    for (let r = 0; r < reps; r++) per.push(await perTick());
    if (trainer.counters().totals.events !== 0) throw new Error('sync benchmark: events fired');
    return { medianUs: median(per), minUs: Math.min(...per), maxUs: Math.max(...per), samples: per, warmupUs };
  } finally {
    await trainer.close();
  }
}

/** Shift every threshold until the evaluated activity sparsity is close to `target`. */
export async function calibrate(cfg: ModelConfig, params: Params<Float32Array>, batch: SequenceBatch, target: number): Promise<number> {
  const base = Float32Array.from(params.layers[0]!.thr);
  let lo = -1;
  let hi = 1;
  let sparsity = 0;
  for (let it = 0; it < 8; it++) {
    const shift = (lo + hi) / 2;
    params.layers[0]!.thr.set(base.map((v) => Math.min(1, Math.max(0, v + shift))));
    const t = await Trainer.create({ model: cfg, params, actors: 1, transport: 'inline', batch: batch.batch, maxSteps: batch.steps });
    await t.evaluate(batch);
    const c = t.counters().totals;
    await t.close();
    sparsity = 1 - c.events / c.unit_steps;
    if (Math.abs(sparsity - target) < 0.01) break;
    if (sparsity < target) lo = shift;
    else hi = shift;
  }
  return sparsity;
}

/**
 * One training step on 1 and on 2 actors: `rounds` rounds, each with a fresh trainer of each count (two warm-up steps
 * each, then `reps` steps alternating between them), so that neither count's figure rests on one trainer's
 * placement on this machine; `beforeRound` runs before each round (the machine check). All steps pooled.
 */
export async function parallelSpeedup(reps: number, hidden = 1024, batchSize = 32, rounds = 1, beforeRound?: (round: number) => Promise<void>) {
  const cfg = defaultModelConfig({ inputSize: 28, hidden: [hidden], classes: 10 });
  const params = initParams(cfg);
  const batch = randomInputs(cfg, batchSize, 28, 9);
  const sparsity = await calibrate(cfg, params, batch, 0.8);
  const times: Record<number, number[]> = { 1: [], 2: [] };
  for (let round = 0; round < rounds; round++) {
    await beforeRound?.(round);
    const trainers: Record<number, Trainer> = {};
    try {
      for (const actors of [1, 2]) {
        trainers[actors] = await Trainer.create({ model: cfg, params, actors, transport: 'threads', batch: batchSize, maxSteps: 28, optimizer: { kind: 'sgd', lr: 0 } });
        for (let w = 0; w < 2; w++) await trainers[actors]!.train(batch); // warm-up (JIT, wasm tier-up)
      }
      // Alternate 1 and 2 actors, so that a change in the machine's load hits both alike.
      for (let r = 0; r < reps; r++)
        for (const actors of [1, 2]) {
          const t0 = performance.now();
          await trainers[actors]!.train(batch);
          times[actors]!.push(performance.now() - t0);
        }
    } finally {
      for (const t of Object.values(trainers)) await t.close();
    }
  }
  const one = median(times[1]!);
  const two = median(times[2]!);
  return {
    sparsity,
    oneActorMs: one,
    twoActorsMs: two,
    speedup: one / two,
    spread: { one: [Math.min(...times[1]!), Math.max(...times[1]!)], two: [Math.min(...times[2]!), Math.max(...times[2]!)] },
    samples: { one: times[1]!, two: times[2]! },
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const reps = quick ? 3 : 7;
  const sync1 = await syncOverhead(1, reps);
  const sync2 = await syncOverhead(2, reps);
  const par = await parallelSpeedup(quick ? 3 : 5, quick ? 512 : 1024);
  const result = { machine: machine(), sync: { oneActor: sync1, twoActors: sync2, targetUs: 10 }, parallel: { ...par, target: 1.6 } };
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`machine: ${result.machine}`);
  console.log(`sync, zero events, per tick: 1 actor ${sync1.medianUs.toFixed(2)} µs, 2 actors ${sync2.medianUs.toFixed(2)} µs (min ${sync2.minUs.toFixed(2)}, max ${sync2.maxUs.toFixed(2)}; target ≤ 10 µs)`);
  console.log(
    `parallel, H=${quick ? 512 : 1024}, B=32, T=28, activity sparsity ${(100 * par.sparsity).toFixed(1)} %: 1 actor ${par.oneActorMs.toFixed(1)} ms, 2 actors ${par.twoActorsMs.toFixed(1)} ms per training step → ${par.speedup.toFixed(2)}× (target ≥ 1.6×)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
