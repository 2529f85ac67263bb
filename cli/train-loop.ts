/**
 * The training loop behind `egru train`: deterministic epochs over a dataset, periodic validation, metrics,
 * checkpoints that resume to the bit-identical result, divergence handling and the final summary.
 *
 * Determinism: epoch e visits the training samples in the order permutation(n, seed, Stream.shuffle, e), in
 * consecutive batches of `batch` (the last batch of an epoch may be smaller). A checkpoint stores the optimiser
 * step, the epoch in progress, the position in it (batches done) and the optimiser state, so `--resume` continues
 * with exactly the batches and state an uninterrupted run would have used.
 *
 * Checkpoint layout used here (cli/io/checkpoint.ts, SPEC §2):
 *   config    the resolved TrainConfig (config.model = ModelConfig)
 *   optimizer {kind, step, m, v}: the optimiser state of every actor, assembled into the EvNN native layout
 *             (paramShapes order), so it is split again for any actor count on resume
 *   step      optimiser steps done;  epoch: 0-based epoch in progress
 *   rng       {shuffle: 'permutation(n, seed, Stream.shuffle, epoch)', seed, epoch, position}
 *   meta      {version, wallSeconds, samplesSeen, totals (training counters so far), epochMeter, epochTotals}
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../model/config.js';
import type { OptimizerState } from '../model/optim.js';
import { paramList, paramShapes, scatterGroup, sliceGroup, type Params } from '../model/params.js';
import { layerInputSize } from '../model/config.js';
import { permutation, Stream } from '../model/rng.js';
import type { FaultSpec } from '../runtime/actor.js';
import { Trainer, type CounterTotals, type SequenceBatch } from '../runtime/coordinator.js';
import { writeFileAtomic } from './io/atomic.js';
import { saveCheckpoint, type Checkpoint } from './io/checkpoint.js';
import type { Dataset } from './data/tasks.js';
import type { Progress } from './progress.js';
import type { TrainConfig } from './run-config.js';
import {
  addTotals,
  diffTotals,
  duration,
  figures,
  figuresTable,
  LossMeter,
  num,
  pct,
  sparsity,
  toJson,
  totalsFrom,
  zeroTotals,
  type Figures,
} from './summary.js';

/** Training diverged (NaN/Inf loss or parameters): exit code 3. */
export class DivergenceError extends Error {}

export const RUN_FILES = { config: 'config.json', metrics: 'metrics.jsonl', summary: 'summary.json', checkpoint: 'checkpoint.egru' } as const;
export const epochCheckpointName = (n: number) => `checkpoint-epoch${n}.egru`;

export function stepsPerEpoch(n: number, batch: number): number {
  return Math.ceil(n / batch);
}

export function totalSteps(cfg: Pick<TrainConfig, 'steps' | 'epochs' | 'stepsPerEpoch'>): number {
  return cfg.steps ?? cfg.epochs * cfg.stepsPerEpoch;
}

// ---- batches -------------------------------------------------------------------------------------------------------

/** Copies samples into a reusable batch buffer. */
export class Batcher {
  private readonly x: Float32Array;
  private readonly y: Int32Array;
  private readonly rowX: number;
  private readonly rowY: number;
  constructor(
    private readonly ds: Dataset,
    capacity: number,
  ) {
    this.rowX = ds.steps * ds.inputSize;
    this.rowY = ds.perStep ? ds.steps : 1;
    this.x = new Float32Array(capacity * this.rowX);
    this.y = new Int32Array(capacity * this.rowY);
  }
  /** Samples idx[from..to) (or from..to directly when idx is null). */
  batch(idx: Int32Array | null, from: number, to: number): SequenceBatch {
    const { ds, rowX, rowY } = this;
    const B = to - from;
    for (let k = 0; k < B; k++) {
      const i = idx ? idx[from + k]! : from + k;
      this.x.set(ds.x.subarray(i * rowX, (i + 1) * rowX), k * rowX);
      if (rowY === 1) this.y[k] = ds.y[i]!;
      else this.y.set(ds.y.subarray(i * rowY, (i + 1) * rowY), k * rowY);
    }
    return { x: this.x.subarray(0, B * rowX), targets: this.y.subarray(0, B * rowY), batch: B, steps: ds.steps };
  }
}

/** Forward-only evaluation of a whole dataset in order: SPEC §4 figures (backward figures null/0). */
export async function evaluateDataset(
  trainer: Trainer,
  ds: Dataset,
  batch: number,
  onBatch?: (done: number, total: number, m: LossMeter, t: CounterTotals) => void,
): Promise<Figures> {
  const before = trainer.counters().totals;
  const meter = new LossMeter();
  const batcher = new Batcher(ds, batch);
  const total = Math.ceil(ds.n / batch);
  for (let k = 0; k < total; k++) {
    const from = k * batch;
    const to = Math.min(ds.n, from + batch);
    const r = await trainer.evaluate(batcher.batch(null, from, to));
    meter.add(r, to - from);
    onBatch?.(k + 1, total, meter, diffTotals(trainer.counters().totals, before));
  }
  return figures(diffTotals(trainer.counters().totals, before), meter, { backward: false, perStep: ds.perStep });
}

// ---- optimiser state: per actor <-> native layout ------------------------------------------------------------------

function zeroParams(model: ModelConfig): Params<Float32Array> {
  const t = paramShapes(model).map((s) => new Float32Array(s.shape.reduce((a, b) => a * b, 1)));
  let k = 0;
  return {
    layers: model.hidden.map(() => ({ kernel: t[k++]!, recurrentKernel: t[k++]!, bias: t[k++]!, recurrentBias: t[k++]!, thr: t[k++]! })),
    readout: { weight: t[k++]!, bias: t[k++]! },
  };
}

function paramsFromList(model: ModelConfig, list: Float32Array[]): Params<Float32Array> {
  let k = 0;
  return {
    layers: model.hidden.map(() => ({ kernel: list[k++]!, recurrentKernel: list[k++]!, bias: list[k++]!, recurrentBias: list[k++]!, thr: list[k++]! })),
    readout: { weight: list[k++]!, bias: list[k++]! },
  };
}

/** The moments of every actor (its own tensor order) assembled into native-layout tensors; [] when none are kept. */
function gatherMoments(trainer: Trainer, perActor: Float32Array[][]): Float32Array[] {
  if (perActor.every((ts) => ts.every((t) => t.length === 0))) return [];
  const model = trainer.options.model;
  const out = zeroParams(model);
  const last = model.hidden.length - 1;
  const H = model.hidden[last]!;
  for (const a of trainer.topology.actors) {
    const t = perActor[a.id]!;
    scatterGroup(
      {
        unitStart: a.unitStart,
        units: a.units,
        inputSize: layerInputSize(model, a.layer),
        layerSize: model.hidden[a.layer]!,
        kernel: t[0]!,
        recurrentKernel: t[1]!,
        bias: t[2]!,
        recurrentBias: t[3]!,
        thr: t[4]!,
      },
      out.layers[a.layer]!,
    );
    if (a.layer === last) {
      const w = t[5]!;
      for (let c = 0; c < model.classes; c++) for (let j = 0; j < a.units; j++) out.readout.weight[c * H + a.unitStart + j] = w[c * a.units + j]!;
      if (a.rank === 0) out.readout.bias.set(t[6]!);
    }
  }
  return paramList(out);
}

function splitMoments(trainer: Trainer, global: Float32Array[]): Float32Array[][] {
  const model = trainer.options.model;
  const last = model.hidden.length - 1;
  const H = model.hidden[last]!;
  const p = global.length ? paramsFromList(model, global) : null;
  return trainer.topology.actors.map((a) => {
    const count = a.layer === last ? 7 : 5;
    if (!p) return Array.from({ length: count }, () => new Float32Array(0));
    const g = sliceGroup(p.layers[a.layer]!, layerInputSize(model, a.layer), model.hidden[a.layer]!, a.unitStart, a.units);
    const t = [g.kernel, g.recurrentKernel, g.bias, g.recurrentBias, g.thr];
    if (a.layer === last) {
      const w = new Float32Array(model.classes * a.units);
      for (let c = 0; c < model.classes; c++) for (let j = 0; j < a.units; j++) w[c * a.units + j] = p.readout.weight[c * H + a.unitStart + j]!;
      t.push(w, Float32Array.from(p.readout.bias));
    }
    return t;
  });
}

export interface StoredOptimizer {
  kind: string;
  step: number;
  m: Float32Array[];
  v: Float32Array[];
  [extra: string]: unknown;
}

export async function getOptimizer(trainer: Trainer, kind: string): Promise<StoredOptimizer> {
  const states = await trainer.getOptimizerState();
  return {
    kind,
    step: states[0]!.step,
    m: gatherMoments(trainer, states.map((s) => s.m)),
    v: gatherMoments(trainer, states.map((s) => s.v)),
  };
}

export async function setOptimizer(trainer: Trainer, st: { step: number; m: Float32Array[]; v: Float32Array[] }): Promise<void> {
  const m = splitMoments(trainer, st.m);
  const v = splitMoments(trainer, st.v);
  const states: OptimizerState[] = trainer.topology.actors.map((a) => ({ step: st.step, m: m[a.id]!, v: v[a.id]! }));
  await trainer.setOptimizerState(states);
}

function allFinite(p: Params): boolean {
  for (const t of paramList(p)) for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i]!)) return false;
  return true;
}

// ---- the loop ------------------------------------------------------------------------------------------------------

export interface TrainInput {
  cfg: TrainConfig;
  dir: string;
  train: Dataset;
  val: Dataset | null;
  /** Initial parameters (`--init`, or the resumed checkpoint's). */
  params?: Params;
  /** Continue from this checkpoint (`--resume`). */
  resume?: Checkpoint;
  progress: Progress;
  /** Where the summary table goes (stdout). */
  print: (text: string) => void;
  fault?: FaultSpec;
}

export type StopReason = 'completed' | 'max-minutes' | 'interrupted';

export interface TrainOutcome {
  stopped: StopReason;
  step: number;
  summary: Record<string, unknown> | null;
}

class EpochMeter {
  meter = new LossMeter();
  totals = zeroTotals();
  toJSON() {
    const { lossSum, correct, count, samples } = this.meter;
    return { lossSum, correct, count, samples, totals: this.totals };
  }
  static from(v: unknown): EpochMeter {
    const e = new EpochMeter();
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of ['lossSum', 'correct', 'count', 'samples'] as const) if (typeof o[k] === 'number') e.meter[k] = o[k] as number;
      e.totals = totalsFrom(o.totals);
    }
    return e;
  }
}

export async function trainLoop(input: TrainInput): Promise<TrainOutcome> {
  const { cfg, dir, train, val, progress, print } = input;
  const model = cfg.model;
  const path = (f: string) => join(dir, f);
  const ck = input.resume;
  const meta = (ck?.meta ?? {}) as Record<string, unknown>;
  const started = performance.now();
  const priorWall = typeof meta.wallSeconds === 'number' ? meta.wallSeconds : 0;
  const wall = () => priorWall + (performance.now() - started) / 1000;

  let step = ck?.step ?? 0;
  let epoch = ck?.epoch ?? 0;
  const rng = (ck?.rng ?? {}) as Record<string, unknown>;
  let position = typeof rng.position === 'number' ? rng.position : 0;
  let samplesSeen = typeof meta.samplesSeen === 'number' ? meta.samplesSeen : 0;
  const runTotals = totalsFrom(meta.totals);
  const runMeter = new LossMeter();
  const rm = (meta.runMeter ?? {}) as Record<string, unknown>;
  for (const k of ['lossSum', 'correct', 'count', 'samples'] as const) if (typeof rm[k] === 'number') runMeter[k] = rm[k] as number;
  let epochM = EpochMeter.from(meta.epochMeter);
  let lastSavedStep = ck ? ck.step : -1;
  let lastValidation: { step: number; figures: Figures } | null = null;

  const trainer = await Trainer.create({
    model,
    params: input.params,
    actors: cfg.actors,
    transport: cfg.transport,
    nats: cfg.transport === 'nats' ? { servers: cfg.nats ?? 'nats://127.0.0.1:4222', hosts: !!cfg.actorHosts } : undefined,
    batch: cfg.batch,
    maxSteps: Math.max(train.steps, val?.steps ?? 0),
    optimizer: cfg.optimizer,
    clip: cfg.clip,
    fault: input.fault,
  });
  const metricsLine = (o: Record<string, unknown>) => appendFileSync(path(RUN_FILES.metrics), toJson(o) + '\n');

  let stopFlag = null as StopReason | null;
  const onSigint = () => {
    if (stopFlag === 'interrupted') process.exit(130);
    stopFlag = 'interrupted';
    progress.note('interrupt: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);

  const save = async (files: string[]) => {
    const params = await trainer.getParams();
    if (!allFinite(params)) return false;
    const optimizer = await getOptimizer(trainer, cfg.optimizer.kind);
    const doc = {
      config: cfg,
      params,
      optimizer,
      step,
      epoch,
      rng: { shuffle: 'permutation(n, seed, Stream.shuffle, epoch)', seed: cfg.seed, epoch, position },
      meta: {
        version: cfg.version,
        wallSeconds: wall(),
        samplesSeen,
        totals: runTotals,
        runMeter: { lossSum: runMeter.lossSum, correct: runMeter.correct, count: runMeter.count, samples: runMeter.samples },
        epochMeter: epochM.toJSON(),
      },
    };
    for (const f of files) saveCheckpoint(path(f), doc);
    lastSavedStep = step;
    return true;
  };

  const diverged = (what: string): never => {
    progress.stop();
    metricsLine({ kind: 'diverged', step, epoch: epoch + 1, reason: what });
    const kept = existsSync(path(RUN_FILES.checkpoint)) ? `kept the last good checkpoint ${path(RUN_FILES.checkpoint)} (step ${lastSavedStep})` : 'no checkpoint was written';
    throw new DivergenceError(`training diverged: ${what} at step ${step} (epoch ${epoch + 1}); ${kept}`);
  };

  const validate = async (): Promise<Figures | null> => {
    if (!val) return null;
    if (lastValidation?.step === step) return lastValidation.figures;
    const f = await evaluateDataset(trainer, val, cfg.batch);
    lastValidation = { step, figures: f };
    return f;
  };

  try {
    if (ck) {
      await setOptimizer(trainer, ck.optimizer ?? { step: 0, m: [], v: [] });
      truncateMetrics(path(RUN_FILES.metrics), step);
      metricsLine({ kind: 'resume', step, epoch: epoch + 1, position });
    } else {
      writeFileAtomic(path(RUN_FILES.metrics), '');
      // A first checkpoint, so a run that diverges early still leaves a good one.
      await save([RUN_FILES.checkpoint]);
    }
    writeFileAtomic(path(RUN_FILES.config), toJson(cfg, 2) + '\n');

    const total = cfg.totalSteps;
    const spe = cfg.stepsPerEpoch;
    const epochsLabel = cfg.steps === null ? cfg.epochs : Math.ceil(total / spe);
    const batcher = new Batcher(train, cfg.batch);
    let order: Int32Array | null = null;
    let orderEpoch = -1;
    let snapshot = trainer.counters().totals;
    const windowMeter = { m: new LossMeter(), t: zeroTotals() };
    const deadline = cfg.maxMinutes !== null ? performance.now() + cfg.maxMinutes * 60_000 : Infinity;
    const state = () => ({
      step,
      total,
      epoch: Math.min(epoch + 1, epochsLabel),
      epochs: epochsLabel,
      loss: epochM.meter.loss,
      accuracy: epochM.meter.accuracy,
      sparsity: sparsity(epochM.totals),
    });
    progress.start(state());
    let windowStart = performance.now();

    while (step < total && stopFlag === null) {
      if (orderEpoch !== epoch) {
        order = permutation(train.n, cfg.seed, Stream.shuffle, epoch);
        orderEpoch = epoch;
      }
      const from = position * cfg.batch;
      const to = Math.min(train.n, from + cfg.batch);
      const r = await trainer.train(batcher.batch(order, from, to));
      // Let timers and signals run (the inline transport never yields to the event loop by itself).
      await new Promise((res) => setImmediate(res));
      step++;
      position++;
      samplesSeen += to - from;
      if (!Number.isFinite(r.loss)) diverged(`the loss is ${r.loss}`);
      const now = trainer.counters().totals;
      const delta = diffTotals(now, snapshot);
      snapshot = now;
      addTotals(runTotals, delta);
      addTotals(epochM.totals, delta);
      addTotals(windowMeter.t, delta);
      runMeter.add(r, to - from);
      epochM.meter.add(r, to - from);
      windowMeter.m.add(r, to - from);

      if (step % cfg.logEvery === 0) {
        const secs = (performance.now() - windowStart) / 1000;
        metricsLine({
          kind: 'step',
          step,
          epoch: epoch + 1,
          loss: windowMeter.m.loss,
          accuracy: windowMeter.m.accuracy,
          activity_sparsity: sparsity(windowMeter.t),
          backward_sparsity: windowMeter.t.unit_steps > 0 ? 1 - windowMeter.t.backward_active / windowMeter.t.unit_steps : null,
          steps_per_second: secs > 0 ? cfg.logEvery / secs : null,
          wall_seconds: wall(),
        });
        windowMeter.m = new LossMeter();
        windowMeter.t = zeroTotals();
        windowStart = performance.now();
      }
      progress.update(state());

      const epochDone = position >= spe;
      const atEval = cfg.evalEvery > 0 && step % cfg.evalEvery === 0;
      if (epochDone || atEval) {
        const vf = await validate();
        snapshot = trainer.counters().totals;
        if (vf && !epochDone) {
          metricsLine({ kind: 'eval', step, epoch: epoch + 1, split: 'validation', ...vf });
          progress.note(`step ${step}: validation accuracy ${pct(vf.accuracy, 2)}, loss ${num(vf.loss)}, activity sparsity ${pct(vf.activity_sparsity)}`);
        }
        if (epochDone) {
          const tf = figures(epochM.totals, epochM.meter, { backward: true, perStep: train.perStep });
          metricsLine({ kind: 'epoch', step, epoch: epoch + 1, train: tf, validation: vf, wall_seconds: wall() });
          progress.note(
            `epoch ${epoch + 1}: train loss ${num(tf.loss)}, acc ${pct(tf.accuracy, 2)}, sparsity ${pct(tf.activity_sparsity)}` +
              (vf ? ` | validation loss ${num(vf.loss)}, acc ${pct(vf.accuracy, 2)}, sparsity ${pct(vf.activity_sparsity)}` : '') +
              ` | ${duration(wall())}`,
          );
          epoch++;
          position = 0;
          epochM = new EpochMeter();
          if (!(await save([epochCheckpointName(epoch), RUN_FILES.checkpoint]))) diverged('the parameters are not finite');
        }
      }
      if (cfg.saveEvery > 0 && step % cfg.saveEvery === 0 && lastSavedStep !== step) {
        if (!(await save([RUN_FILES.checkpoint]))) diverged('the parameters are not finite');
      }
      if (performance.now() > deadline && step < total) {
        stopFlag = 'max-minutes';
        progress.note(`--max-minutes ${cfg.maxMinutes} reached: stopping at step ${step} of ${total}`);
      }
    }
    progress.stop();
    const stopped: StopReason = stopFlag ?? 'completed';
    if (lastSavedStep !== step && !(await save([RUN_FILES.checkpoint]))) diverged('the parameters are not finite');
    if (stopped === 'interrupted') {
      metricsLine({ kind: 'interrupted', step, epoch: epoch + 1 });
      print(`interrupted at step ${step}; checkpoint saved. Continue with: egru train --resume ${dir}`);
      return { stopped, step, summary: null };
    }

    const vf = await validate();
    const tf = figures(runTotals, runMeter, { backward: true, perStep: train.perStep });
    const summary: Record<string, unknown> = {
      version: cfg.version,
      task: cfg.task,
      data: cfg.data,
      val: cfg.val,
      stopped,
      steps: step,
      epochs: step / spe,
      samples_seen: samplesSeen,
      wall_seconds: wall(),
      figures_from: vf ? 'validation' : 'train',
      ...(vf ?? tf),
      train: tf,
    };
    writeFileAtomic(path(RUN_FILES.summary), toJson(summary, 2) + '\n');
    if (vf) metricsLine({ kind: 'final', step, epoch: Math.ceil(step / spe), split: 'validation', ...vf });
    const head =
      `${stopped === 'completed' ? 'finished' : `stopped (${stopped})`}: ${step} steps (${(step / spe).toFixed(2)} epochs), ` +
      `${samplesSeen} samples, ${duration(wall())}; run directory ${dir}`;
    print(`${head}\n\n${figuresTable([['training', tf], [val ? 'validation' : '', vf]], wall())}\n`);
    return { stopped, step, summary };
  } finally {
    process.off('SIGINT', onSigint);
    progress.stop();
    await trainer.close();
  }
}

/** Drop metrics lines logged after `step` (a resumed run logs them again). */
function truncateMetrics(file: string, step: number): void {
  if (!existsSync(file)) return;
  const keep = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        const o = JSON.parse(line) as { step?: number };
        return typeof o.step !== 'number' || o.step <= step;
      } catch {
        return false;
      }
    });
  writeFileAtomic(file, keep.map((l) => l + '\n').join(''));
}
