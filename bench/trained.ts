/**
 * Networks whose sparsity comes from training, for the benchmark's training-step cases: a task's preset (the one
 * `egru train --task <task>` uses: hidden size, batch, Adam learning rate, activity regulariser) trained with the
 * runtime Trainer (2 actors, threads, seed 1) for a bounded number of optimiser steps, one pass over the first
 * steps × batch training images in the order permutation(n, seed, Stream.shuffle, 0), as `egru train` shuffles.
 *
 * The parameters are cached in bench/results/cache/ (git-ignored) as .egru checkpoints, keyed by task, model
 * configuration, optimiser, batch, step count and a hash of the compiled model/ and runtime/ code, so a later run
 * reuses them and any change to the arithmetic trains afresh.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PRESETS } from '../cli/commands/train.js';
import { loadTask } from '../cli/data/tasks.js';
import { packageVersion } from '../cli/commands/common.js';
import { loadCheckpoint, saveCheckpoint } from '../cli/io/checkpoint.js';
import { LossMeter } from '../cli/summary.js';
import { Batcher } from '../cli/train-loop.js';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import type { OptimizerConfig } from '../model/optim.js';
import type { Params } from '../model/params.js';
import { permutation, Stream } from '../model/rng.js';
import { Trainer } from '../runtime/coordinator.js';

export type TrainedTask = 'row-mnist' | 'pixel-mnist';

export interface TrainedNetwork {
  model: ModelConfig;
  params: Params<Float32Array>;
  task: TrainedTask;
  steps: number;
  batch: number;
  lr: number;
  /** Over the last quarter of the training steps. */
  trainLoss: number;
  trainAccuracy: number;
  trainSparsity: number;
  /** Seconds the training took (when it ran, not when the cache was read). */
  trainSeconds: number;
  /** The cache file, or null (smoke runs keep nothing). */
  file: string | null;
  fromCache: boolean;
}

export interface TrainOptions {
  steps: number;
  /** Hidden size, default the preset's (smoke runs use a tiny one). */
  hidden?: number;
  /** Batch, default the preset's. */
  batch?: number;
  /** Pseudo-derivative support s, default the preset's (row-mnist 3.6; otherwise the model default, 1). */
  support?: number;
  /** Cache directory, or null to train without reading or writing a cache. */
  cacheDir: string | null;
  /** Train even when a cached network exists (and replace it). */
  retrain: boolean;
  log: (line: string) => void;
}

const SEED = 1;
const ACTORS = 2;

/** sha256 of the compiled (or source) model/ and runtime/ modules next to this one: the code the training ran. */
function codeHash(): string {
  const h = createHash('sha256');
  for (const sub of ['../model/', '../runtime/']) {
    const dir = fileURLToPath(new URL(sub, import.meta.url));
    for (const f of readdirSync(dir).filter((f) => /\.(js|ts|wasm)$/.test(f)).sort()) {
      h.update(f);
      h.update(readFileSync(join(dir, f)));
    }
  }
  return h.digest('hex');
}

/** The preset's model for this task (as `egru train --task <task>` builds it), with an optional hidden size. */
export function presetModel(task: TrainedTask, hidden?: number, support?: number): { model: ModelConfig; batch: number; optimizer: OptimizerConfig } {
  const p = PRESETS[task];
  const info = task === 'row-mnist' ? { inputSize: 28 } : { inputSize: 1 };
  const model = defaultModelConfig({
    ...info,
    hidden: [hidden ?? p.hidden[0]!],
    classes: 10,
    seed: SEED,
    ...(p.activityReg !== undefined ? { activityReg: p.activityReg } : {}),
    ...(p.thresholdMean !== undefined ? { thresholdMean: p.thresholdMean } : {}),
    ...(p.support !== undefined ? { support: p.support } : {}),
    ...(support !== undefined ? { support } : {}),
  });
  return { model, batch: p.batch, optimizer: { kind: 'adam', lr: p.lr, weightDecay: 0 } };
}

/**
 * The task's preset network after `steps` optimiser steps: from the cache when there, else trained now (and
 * cached). Throws when the MNIST data cannot be loaded.
 */
export async function trainedNetwork(task: TrainedTask, o: TrainOptions): Promise<TrainedNetwork> {
  const { model, batch: presetBatch, optimizer } = presetModel(task, o.hidden, o.support);
  const batch = o.batch ?? presetBatch;
  const n = o.steps * batch;
  const key = createHash('sha256')
    .update(JSON.stringify({ task, model, optimizer, batch, steps: o.steps, seed: SEED, samples: n, order: 'permutation(n, seed, Stream.shuffle, 0)', code: codeHash() }))
    .digest('hex')
    .slice(0, 16);
  const file = o.cacheDir ? join(o.cacheDir, `${task}-h${model.hidden[0]}-b${batch}-${o.steps}steps-${key}.egru`) : null;
  if (file && existsSync(file) && !o.retrain) {
    const ck = loadCheckpoint(file);
    const b = ck.meta as { trainLoss: number; trainAccuracy: number; trainSparsity: number; trainSeconds: number };
    o.log(`${task}: trained network from the cache, ${file}`);
    return { model: ck.config.model, params: ck.params, task, steps: o.steps, batch, lr: optimizer.lr, ...b, file, fromCache: true };
  }

  const data = loadTask(task, 'train', { limit: n });
  const order = permutation(data.n, SEED, Stream.shuffle, 0);
  const batcher = new Batcher(data, batch);
  const t0 = performance.now();
  o.log(`${task}: training the preset (hidden ${model.hidden[0]}, batch ${batch}, Adam lr ${optimizer.lr}, activity reg ${model.activityReg}) for ${o.steps} steps …`);
  const trainer = await Trainer.create({ model, actors: ACTORS, transport: 'threads', batch, maxSteps: data.steps, optimizer });
  const tail = new LossMeter();
  const tailFrom = Math.floor((3 * o.steps) / 4);
  let params: Params<Float32Array>;
  let trainSparsity: number;
  try {
    for (let step = 0; step < o.steps; step++) {
      const from = (step * batch) % data.n;
      const to = Math.min(data.n, from + batch);
      if (step === tailFrom) await trainer.resetCounters();
      const r = await trainer.train(batcher.batch(order, from, to));
      if (!Number.isFinite(r.loss)) throw new Error(`training the ${task} network diverged at step ${step} (loss ${r.loss})`);
      if (step >= tailFrom) tail.add(r, to - from);
      if ((step + 1) % 100 === 0) o.log(`${task}: step ${step + 1}/${o.steps}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const c = trainer.counters().totals;
    trainSparsity = 1 - c.events / c.unit_steps;
    params = await trainer.getParams();
  } finally {
    await trainer.close();
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const meta = { trainLoss: tail.loss, trainAccuracy: tail.accuracy, trainSparsity, trainSeconds };
  o.log(`${task}: trained in ${trainSeconds.toFixed(0)} s; last quarter: loss ${tail.loss.toFixed(3)}, accuracy ${(100 * tail.accuracy).toFixed(1)} %, activity sparsity ${(100 * trainSparsity).toFixed(1)} %`);
  if (file) {
    mkdirSync(o.cacheDir!, { recursive: true });
    saveCheckpoint(file, { config: { command: 'bench', version: packageVersion(), task, model, optimizer, batch, steps: o.steps, seed: SEED, actors: ACTORS, key }, params, step: o.steps, epoch: 0, meta });
    o.log(`${task}: cached in ${file}`);
  }
  return { model, params, task, steps: o.steps, batch, lr: optimizer.lr, ...meta, file, fromCache: false };
}
