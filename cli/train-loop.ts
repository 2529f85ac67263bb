/**
 * The training loop behind `egru train`: deterministic epochs over a dataset, periodic validation, metrics,
 * checkpoints that resume to the bit-identical result, divergence handling and the final summary.
 *
 * Determinism: epoch e visits the training samples in the order permutation(n, seed, Stream.shuffle, e), in
 * consecutive batches of `batch` (the last batch of an epoch may be smaller). A checkpoint stores the optimiser
 * step, the epoch in progress, the position in it (batches done) and the optimiser state, so `--resume` continues
 * with exactly the batches and state an uninterrupted run would have used.
 *
 * Contiguous data (the text tasks, cli/data/text.ts): no shuffling; the samples run as `batch` parallel streams
 * in streamOrder, ⌊n/batch⌋ full batches an epoch, and every batch but an epoch's first carries the state on from
 * the previous one (truncated BPTT: SequenceBatch.carry). The state is reset (zeros) at the start of every epoch
 * and of every evaluation; the checkpoint stores the carried state (`rng.carried`).
 *
 * Checkpoint layout used here (cli/io/checkpoint.ts, docs/formats.md):
 *   config    the resolved TrainConfig (cli/run-config.ts; config.model = ModelConfig)
 *   optimizer {kind, step, m, v}: the optimiser state of every actor, assembled into the EvNN native layout
 *             (paramShapes order), so it is split again for any actor count on resume (cli/optimizer-layout.ts)
 *   step      optimiser steps done;  epoch: 0-based epoch in progress
 *   rng       {shuffle: 'permutation(n, seed, Stream.shuffle, epoch)' (contiguous data: 'streams'), seed, epoch,
 *             position, carried (contiguous data: the state the next batch carries on from, per layer [B, H])}
 *   meta      {version, wallSeconds, samplesSeen, totals (training counters so far), pairs (the same per actor
 *             pair: cli/pair-traffic.ts), pairsSince, runMeter, epochMeter, unitEvents (training events per unit,
 *             per layer: cli/unit-firing.ts), unitEventsSince, best (the best validation so far and the
 *             validations since: cli/validation-metric.ts)}
 * (rng and meta are read back by cli/run-state.ts).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { learningRateAt } from '../model/lr-schedule.js';
import { paramList, type Params } from '../model/params.js';
import { permutation, Stream } from '../model/rng.js';
import type { FaultSpec } from '../runtime/actor.js';
import type { NatsEndpoint } from '../runtime/nats-connect.js';
import { Trainer, type CounterTotals, type SequenceBatch } from '../runtime/coordinator.js';
import { writeFileAtomic } from './io/atomic.js';
import { saveCheckpoint, type Checkpoint } from './io/checkpoint.js';
import { isTextTask, recordedTask, type Dataset } from './data/tasks.js';
import { streamOrder } from './data/text.js';
import { getOptimizer, setOptimizer } from './optimizer-layout.js';
import { addPairs, diffPairs, pairItems, storedPairs, zeroPairs, type PairCounts } from './pair-traffic.js';
import type { Progress, ProgressState } from './progress.js';
import type { TrainConfig } from './run-config.js';
import { carriedTensors, EpochMeter, restoreState, storedNumber, type RunState } from './run-state.js';
import { UnitFiring } from './unit-firing.js';
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
  zeroTotals,
  type Figures,
} from './summary.js';
import { afterValidation, formatMetric, validationMetric, type ValidationMetric } from './validation-metric.js';

/** Training diverged (NaN/Inf loss or parameters): exit code 3. */
export class DivergenceError extends Error {}

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  checkpoint: 'checkpoint.egru',
  /** The parameters of the best validation so far (cli/validation-metric.ts). */
  best: 'checkpoint-best.egru',
} as const;
export const epochCheckpointName = (n: number) => `checkpoint-epoch${n}.egru`;

/** Batches of an epoch: the last one may be short; contiguous data (streams) has only full ones. */
export function stepsPerEpoch(n: number, batch: number, contiguous = false): number {
  return contiguous ? Math.floor(n / batch) : Math.ceil(n / batch);
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
      if (ds.source) {
        ds.source(i, this.x, k * rowX, this.y, k * rowY);
        continue;
      }
      this.x.set(ds.x.subarray(i * rowX, (i + 1) * rowX), k * rowX);
      if (rowY === 1) this.y[k] = ds.y[i]!;
      else this.y.set(ds.y.subarray(i * rowY, (i + 1) * rowY), k * rowY);
    }
    return { x: this.x.subarray(0, B * rowX), targets: this.y.subarray(0, B * rowY), batch: B, steps: ds.steps };
  }
}

/**
 * Forward-only evaluation of a whole dataset in order: the figures of docs/figures.md (backward figures null/0).
 * Contiguous data runs as min(batch, n) streams from a zero state, carried from batch to batch.
 */
export async function evaluateDataset(
  trainer: Trainer,
  ds: Dataset,
  batch: number,
  onBatch?: (done: number, total: number, m: LossMeter, t: CounterTotals) => void,
): Promise<Figures> {
  const before = trainer.counters().totals;
  const meter = new LossMeter();
  const B = ds.contiguous ? Math.min(batch, ds.n) : batch;
  const batcher = new Batcher(ds, B);
  const order = ds.contiguous ? streamOrder(ds.n, B) : null;
  const total = stepsPerEpoch(ds.n, B, ds.contiguous);
  for (let k = 0; k < total; k++) {
    const from = k * B;
    const to = Math.min(ds.n, from + B);
    const r = await trainer.evaluate({ ...batcher.batch(order, from, to), carry: !!ds.contiguous && k > 0 });
    meter.add(r, to - from);
    onBatch?.(k + 1, total, meter, diffTotals(trainer.counters().totals, before));
  }
  return figures(diffTotals(trainer.counters().totals, before), meter, { backward: false, perStep: ds.perStep });
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
  /** The test split the final figures come from when `val` is held-out training data (--holdout); else absent. */
  test?: Dataset | null;
  /** Initial parameters (`--init`, or the resumed checkpoint's). */
  params?: Params;
  /** Continue from this checkpoint (`--resume`). */
  resume?: Checkpoint;
  /** The NATS server to connect to, with credentials (config.json records the URL without them). */
  /** With the run id that scopes the subjects (--nats-run, or a random one). */
  nats?: NatsEndpoint & { run?: string };
  progress: Progress;
  /** Where the summary table goes (stdout). */
  print: (text: string) => void;
  fault?: FaultSpec;
}

export type StopReason = 'completed' | 'max-minutes' | 'early-stop' | 'interrupted';

export interface TrainOutcome {
  stopped: StopReason;
  step: number;
  summary: Record<string, unknown> | null;
  /** What interrupted the run (`stopped: 'interrupted'`). */
  signal?: StopSignalName;
}

/**
 * Train until the run's last step, the --max-minutes deadline or Ctrl-C: restore or start the run, train step by
 * step (validating, logging and checkpointing on the way), then save the last checkpoint and write the summary.
 */
export async function trainLoop(input: TrainInput): Promise<TrainOutcome> {
  const run = await startRun(input);
  const stop = new StopSignal(input.progress);
  try {
    await openRunFiles(run);
    await trainSteps(run, stop);
    return { ...(await finishRun(run, stop.reason ?? 'completed')), signal: stop.signal };
  } finally {
    stop.dispose();
    input.progress.stop();
    await run.trainer.close();
  }
}

/** The state restored from the checkpoint (or a fresh one) and the trainer with the run's actors. */
async function startRun(input: TrainInput): Promise<TrainingRun> {
  const started = performance.now();
  const { cfg, train, val } = input;
  const metric = validationMetric(train);
  const state = restoreState(input.resume, metric);
  const trainer = await Trainer.create({
    model: cfg.model,
    params: input.params,
    actors: cfg.actors,
    transport: cfg.transport,
    nats: cfg.transport === 'nats' ? { servers: cfg.nats ?? 'nats://127.0.0.1:4222', ...input.nats, hosts: !!cfg.actorHosts } : undefined,
    batch: cfg.batch,
    maxSteps: Math.max(train.steps, val?.steps ?? 0),
    optimizer: cfg.optimizer,
    clip: cfg.clip,
    fault: input.fault,
  });
  return new TrainingRun(input, state, trainer, started, metric);
}

/**
 * Resumed: the optimiser state, and the metrics logged after the checkpoint are dropped (they are logged again).
 * New: an empty metrics file and a first checkpoint, so a run that diverges early still leaves a good one.
 * Either way config.json (a resumed run records its new run length and settings).
 */
async function openRunFiles(run: TrainingRun): Promise<void> {
  const ck = run.input.resume;
  const s = run.state;
  if (ck) {
    await setOptimizer(run.trainer, ck.optimizer ?? { step: 0, m: [], v: [] });
    if (s.carried) await run.trainer.setCarriedState(s.carried, 'train');
    truncateMetrics(run.path(RUN_FILES.metrics), s.step);
    run.metricsLine({ kind: 'resume', step: s.step, epoch: s.epoch + 1, position: s.position });
  } else {
    writeFileAtomic(run.path(RUN_FILES.metrics), '');
    await run.save([RUN_FILES.checkpoint]);
  }
  writeFileAtomic(run.path(RUN_FILES.config), toJson(run.cfg, 2) + '\n');
}

/** Optimiser steps until the run's last step, the --max-minutes deadline or an interrupt. */
async function trainSteps(run: TrainingRun, stop: StopSignal): Promise<void> {
  const { cfg, train, progress } = run.input;
  const s = run.state;
  const order = new EpochOrder(train.n, cfg.seed, train.contiguous ? cfg.batch : 0);
  const batcher = new Batcher(train, cfg.batch);
  const deadline = cfg.maxMinutes !== null ? performance.now() + cfg.maxMinutes * 60_000 : Infinity;
  run.skipCounters();
  progress.start(run.progressState());
  const window = new StepWindow(run.actors);
  stopEarlyIfDue(run, stop); // a resumed run that had stopped early
  while (s.step < cfg.totalSteps && stop.reason === null) {
    await trainOneStep(run, batcher, order, window);
    if (s.step % cfg.logEvery === 0) logSteps(run, window);
    progress.update(run.progressState());
    if (await validateIfDue(run)) stopEarlyIfDue(run, stop);
    if (cfg.saveEvery > 0 && s.step % cfg.saveEvery === 0 && s.lastSavedStep !== s.step) await run.checkpoint([RUN_FILES.checkpoint]);
    if (performance.now() > deadline && s.step < cfg.totalSteps) {
      stop.reason = 'max-minutes';
      progress.note(`--max-minutes ${cfg.maxMinutes} reached: stopping at step ${s.step} of ${cfg.totalSteps}`);
    }
  }
  progress.stop();
}

/** --early-stop: stop when the last `patience` validations did not improve on the best. */
function stopEarlyIfDue(run: TrainingRun, stop: StopSignal): void {
  const patience = run.cfg.earlyStop ?? 0;
  const best = run.state.best;
  if (patience === 0 || best.since < patience || stop.reason !== null) return;
  stop.reason = 'early-stop';
  run.input.progress.note(`--early-stop ${patience}: ${earlyStopReason(run)}; stopping at step ${run.state.step}`);
}

function earlyStopReason(run: TrainingRun): string {
  const b = run.state.best;
  return `validation ${b.metric} did not improve for ${b.since} validations (best ${formatMetric(b.metric, b.value)} at step ${b.step})`;
}

/** One optimiser step on the next batch of the epoch; its loss and counters go to the run, the epoch and the window. */
async function trainOneStep(run: TrainingRun, batcher: Batcher, order: EpochOrder, window: StepWindow): Promise<void> {
  const { cfg, train } = run.input;
  const s = run.state;
  const from = s.position * cfg.batch;
  const to = Math.min(train.n, from + cfg.batch);
  // contiguous data: every batch of an epoch but the first carries the state on
  const r = await run.trainer.train({ ...batcher.batch(order.of(s.epoch), from, to), carry: !!train.contiguous && s.position > 0 });
  // Let timers and signals run (the inline transport never yields to the event loop by itself).
  await new Promise((res) => setImmediate(res));
  s.step++;
  s.position++;
  s.samplesSeen += to - from;
  if (!Number.isFinite(r.loss)) run.diverged(`the loss is ${r.loss}`);
  const { totals: delta, pairs } = run.takeCounters();
  addPairs(run.pairs, pairs);
  addPairs(window.pairs, pairs);
  addTotals(s.totals, delta);
  addTotals(s.epochMeter.totals, delta);
  addTotals(window.totals, delta);
  s.meter.add(r, to - from);
  s.epochMeter.meter.add(r, to - from);
  window.meter.add(r, to - from);
}

/** The `step` metrics record: the steps since the previous one. */
function logSteps(run: TrainingRun, window: StepWindow): void {
  const s = run.state;
  const secs = (performance.now() - window.started) / 1000;
  const t = window.totals;
  run.metricsLine({
    kind: 'step',
    step: s.step,
    epoch: s.epoch + 1,
    loss: window.meter.loss,
    accuracy: window.meter.accuracy,
    ...(run.input.train.perStep ? { bpc: window.meter.bpc } : {}),
    activity_sparsity: sparsity(t),
    backward_sparsity: t.unit_steps > 0 ? 1 - t.backward_active / t.unit_steps : null,
    events: t.events,
    lr: run.rateOfStep(s.step - 1),
    samples: window.meter.samples,
    steps_per_second: secs > 0 ? run.cfg.logEvery / secs : null,
    wall_seconds: run.wall(),
    ...(run.actors >= 2 ? { actors: run.actors, pairs_items: pairItems(window.pairs) } : {}),
  });
  window.reset();
}

/** Every --eval-every steps and at the end of an epoch: validate; at the end of an epoch, close it. True: validated. */
async function validateIfDue(run: TrainingRun): Promise<boolean> {
  const { cfg, progress } = run.input;
  const s = run.state;
  const epochDone = s.position >= cfg.stepsPerEpoch;
  const atEval = cfg.evalEvery > 0 && s.step % cfg.evalEvery === 0;
  if (!epochDone && !atEval) return false;
  const vf = await run.validate();
  run.skipCounters(); // validation is not training
  if (vf) await run.noteValidation(vf);
  if (vf && !epochDone) {
    run.metricsLine({ kind: 'eval', step: s.step, epoch: s.epoch + 1, split: 'validation', ...vf });
    progress.note(
      `step ${s.step}: validation accuracy ${pct(vf.accuracy, 2)}, loss ${num(vf.loss)}${vf.bpc !== undefined ? `, bpc ${num(vf.bpc, 3)}` : ''}, activity sparsity ${pct(vf.activity_sparsity)}`,
    );
  }
  if (epochDone) await endEpoch(run, vf);
  return vf !== null;
}

/** The epoch record and line, the epoch's checkpoint; the next epoch starts. */
async function endEpoch(run: TrainingRun, vf: Figures | null): Promise<void> {
  const { train, progress } = run.input;
  const s = run.state;
  const tf = figures(s.epochMeter.totals, s.epochMeter.meter, { backward: true, perStep: train.perStep });
  run.metricsLine({ kind: 'epoch', step: s.step, epoch: s.epoch + 1, train: tf, validation: vf, wall_seconds: run.wall() });
  progress.note(
    `epoch ${s.epoch + 1}: train loss ${num(tf.loss)}, acc ${pct(tf.accuracy, 2)}${bpcText(tf)}, sparsity ${pct(tf.activity_sparsity)}` +
      (vf ? ` | validation loss ${num(vf.loss)}, acc ${pct(vf.accuracy, 2)}${bpcText(vf)}, sparsity ${pct(vf.activity_sparsity)}` : '') +
      ` | ${duration(run.wall())}`,
  );
  s.epoch++;
  s.position = 0;
  s.epochMeter = new EpochMeter();
  await run.checkpoint([epochCheckpointName(s.epoch), RUN_FILES.checkpoint]);
}

/** ", bpc 1.234" where the figures have bits per character (per-step targets), else nothing. */
function bpcText(f: Figures): string {
  return f.bpc !== undefined ? `, bpc ${num(f.bpc, 3)}` : '';
}

/**
 * Unless interrupted, the final validation (it counts for the best checkpoint); the last checkpoint; then, unless
 * interrupted, summary.json and the summary table.
 */
async function finishRun(run: TrainingRun, stopped: StopReason): Promise<TrainOutcome> {
  const s = run.state;
  if (stopped !== 'interrupted') {
    const vf = await run.validate();
    if (vf) await run.noteValidation(vf);
  }
  if (s.lastSavedStep !== s.step) await run.checkpoint([RUN_FILES.checkpoint]);
  if (stopped === 'interrupted') {
    run.metricsLine({ kind: 'interrupted', step: s.step, epoch: s.epoch + 1 });
    run.input.print(`interrupted at step ${s.step}; checkpoint saved. Continue with: egru train --resume ${run.input.dir}`);
    return { stopped, step: s.step, summary: null };
  }
  return { stopped, step: s.step, summary: await writeSummary(run, stopped) };
}

/**
 * summary.json (the final validation's figures, else the training figures; with a test split beside held-out
 * validation data, the test split's), the `final` and `test` records, the table.
 */
async function writeSummary(run: TrainingRun, stopped: Exclude<StopReason, 'interrupted'>): Promise<Record<string, unknown>> {
  const { cfg, dir, train, test } = run.input;
  const s = run.state;
  const spe = cfg.stepsPerEpoch;
  const vf = await run.validate();
  const tf = figures(s.totals, s.meter, { backward: true, perStep: train.perStep });
  const trainPart = {
    ...tf,
    pairs: run.pairs,
    ...(run.pairsSince > 0 ? { pairs_since_step: run.pairsSince } : {}),
    firing: await run.firing.summary(run.trainer),
  };
  const testF = test ? await evaluateDataset(run.trainer, test, cfg.batch) : null; // after the training figures: not training
  const summary: Record<string, unknown> = {
    version: cfg.version,
    task: cfg.task,
    data: cfg.data,
    val: cfg.val,
    stopped,
    stop_reason: stopReason(run, stopped),
    steps: s.step,
    epochs: s.step / spe,
    samples_seen: s.samplesSeen,
    wall_seconds: run.wall(),
    best: s.best.step === null ? null : { step: s.best.step, metric: s.best.metric, value: s.best.value, checkpoint: RUN_FILES.best },
    figures_from: testF ? 'test' : vf ? 'validation' : 'train',
    validation_split: validationSplit(cfg),
    ...(testF ?? vf ?? tf),
    ...(testF && vf ? { validation: vf } : {}),
    train: trainPart,
  };
  writeFileAtomic(run.path(RUN_FILES.summary), toJson(summary, 2) + '\n');
  const epoch = Math.ceil(s.step / spe);
  if (vf) run.metricsLine({ kind: 'final', step: s.step, epoch, split: 'validation', ...vf });
  if (testF) run.metricsLine({ kind: 'test', step: s.step, epoch, split: 'test', ...testF });
  const head =
    `${stopped === 'completed' ? 'finished' : `stopped (${stopped})`}: ${s.step} steps (${(s.step / spe).toFixed(2)} epochs), ` +
    `${s.samplesSeen} samples, ${duration(run.wall())}; run directory ${dir}` +
    (stopped === 'early-stop' ? `\n${earlyStopReason(run)}` : '');
  const valLabel = validationSplit(cfg) === 'holdout' ? 'validation (held out)' : validationSplit(cfg) === 'test' ? 'test (validation)' : 'validation';
  run.input.print(`${head}\n\n${figuresTable([['training', tf], [valLabel, vf], ['test', testF]], run.wall())}\n`);
  return summary;
}

/**
 * What the run validated on (summary.json `validation_split`): `holdout` (--holdout: held-out training images),
 * `test` (a built-in task's test split), `validation` (a text task's validation split), `val` (the --val file);
 * null without validation data.
 */
function validationSplit(cfg: TrainConfig): 'holdout' | 'test' | 'validation' | 'val' | null {
  if (cfg.task === null) return cfg.val !== null ? 'val' : null;
  if (cfg.holdout) return 'holdout';
  return isTextTask(recordedTask(cfg.task)) ? 'validation' : 'test';
}

/** Why the run ended, in words (summary.json `stop_reason`). */
function stopReason(run: TrainingRun, stopped: Exclude<StopReason, 'interrupted'>): string {
  const { cfg, state: s } = run;
  switch (stopped) {
    case 'completed':
      return `reached step ${s.step} of ${cfg.totalSteps}`;
    case 'max-minutes':
      return `--max-minutes ${cfg.maxMinutes} reached at step ${s.step} of ${cfg.totalSteps}`;
    case 'early-stop':
      return `--early-stop ${cfg.earlyStop}: ${earlyStopReason(run)}`;
  }
}

// ---- the run in progress -------------------------------------------------------------------------------------------

/** A run in progress: its state, its trainer and the files of its run directory. */
class TrainingRun {
  private lastValidation: { step: number; figures: Figures } | null = null;
  /** Trainer counters when training counters were last taken (validation in between is not counted). */
  private countersSeen: CounterTotals;
  private pairsSeen: PairCounts;
  /** The actors exchanging messages (their count may differ from the checkpoint's on --resume). */
  readonly actors: number;
  /** Training traffic per actor pair since step `pairsSince` (0, unless a resumed checkpoint had none that fit). */
  readonly pairs: PairCounts;
  readonly pairsSince: number;
  /** Training events per unit, since the run's start (or the resume of a checkpoint without them). */
  readonly firing: UnitFiring;

  /** The step of the last validation noted for the best checkpoint (a resumed run's step is noted already). */
  private notedStep: number;

  constructor(
    readonly input: TrainInput,
    readonly state: RunState,
    readonly trainer: Trainer,
    private readonly started: number,
    readonly metric: ValidationMetric,
  ) {
    this.notedStep = input.resume ? state.step : -1;
    const now = trainer.counters();
    this.countersSeen = now.totals;
    this.pairsSeen = now.pairs;
    this.actors = now.pairs.length;
    const stored = input.resume ? storedPairs(input.resume.meta?.pairs, this.actors) : zeroPairs(this.actors);
    const since = storedNumber(input.resume?.meta, 'pairsSince');
    this.pairs = stored ?? zeroPairs(this.actors);
    this.pairsSince = stored ? since : state.step;
    this.firing = UnitFiring.restore(input.resume?.meta, input.cfg.model.hidden, state.step);
  }

  get cfg(): TrainConfig {
    return this.input.cfg;
  }

  path(file: string): string {
    return join(this.input.dir, file);
  }

  /** Wall-clock seconds of the whole run (earlier processes included). */
  wall(): number {
    return this.state.wallBefore + (performance.now() - this.started) / 1000;
  }

  metricsLine(record: Record<string, unknown>): void {
    appendFileSync(this.path(RUN_FILES.metrics), toJson(record) + '\n');
  }

  /** The trainer counters since the last call (or skipCounters): totals and per actor pair. */
  takeCounters(): { totals: CounterTotals; pairs: PairCounts } {
    const now = this.trainer.counters();
    const delta = { totals: diffTotals(now.totals, this.countersSeen), pairs: diffPairs(now.pairs, this.pairsSeen) };
    this.countersSeen = now.totals;
    this.pairsSeen = now.pairs;
    return delta;
  }

  skipCounters(): void {
    const now = this.trainer.counters();
    this.countersSeen = now.totals;
    this.pairsSeen = now.pairs;
  }

  /** The learning rate of optimiser step `step` (0-based), as the actors compute it (model/lr-schedule.ts). */
  rateOfStep(step: number): number {
    const o = this.cfg.optimizer;
    return learningRateAt(o.lr, o.schedule, Math.max(0, step));
  }

  /** A validation at the current step: the best so far is updated, and the best checkpoint written when it improved. */
  async noteValidation(f: Figures): Promise<void> {
    const s = this.state;
    if (this.notedStep === s.step) return;
    this.notedStep = s.step;
    const next = afterValidation(this.metric, s.best, s.step, f);
    s.best = next.best;
    if (next.improved) await this.checkpoint([RUN_FILES.best]);
  }

  progressState(): ProgressState {
    const { cfg, state: s } = this;
    const epochs = cfg.steps === null ? cfg.epochs : Math.ceil(cfg.totalSteps / cfg.stepsPerEpoch);
    return {
      step: s.step,
      total: cfg.totalSteps,
      epoch: Math.min(s.epoch + 1, epochs),
      epochs,
      loss: s.epochMeter.meter.loss,
      accuracy: s.epochMeter.meter.accuracy,
      sparsity: sparsity(s.epochMeter.totals),
      lr: this.rateOfStep(s.step - 1),
      ...(this.input.train.contiguous ? { bpc: s.epochMeter.meter.bpc } : {}),
    };
  }

  /** Validation figures at the current step (computed once per step); null without validation data. */
  async validate(): Promise<Figures | null> {
    const { val } = this.input;
    if (!val) return null;
    if (this.lastValidation?.step === this.state.step) return this.lastValidation.figures;
    const f = await evaluateDataset(this.trainer, val, this.cfg.batch);
    this.lastValidation = { step: this.state.step, figures: f };
    return f;
  }

  /** Writes the checkpoint to each of `files`; false (nothing written) when the parameters are not finite. */
  async save(files: string[]): Promise<boolean> {
    const { cfg, state: s } = this;
    const params = await this.trainer.getParams();
    if (!allFinite(params)) return false;
    const optimizer = await getOptimizer(this.trainer, cfg.optimizer.kind);
    const doc = {
      config: cfg,
      params,
      optimizer,
      step: s.step,
      epoch: s.epoch,
      rng: this.input.train.contiguous
        ? { shuffle: 'streams', seed: cfg.seed, epoch: s.epoch, position: s.position, carried: carriedTensors(await this.trainer.getCarriedState('train'), cfg.batch) }
        : { shuffle: 'permutation(n, seed, Stream.shuffle, epoch)', seed: cfg.seed, epoch: s.epoch, position: s.position },
      meta: {
        version: cfg.version,
        wallSeconds: this.wall(),
        samplesSeen: s.samplesSeen,
        totals: s.totals,
        pairs: this.pairs,
        pairsSince: this.pairsSince,
        runMeter: { lossSum: s.meter.lossSum, ceSum: s.meter.ceSum, ceCount: s.meter.ceCount, correct: s.meter.correct, count: s.meter.count, samples: s.meter.samples },
        epochMeter: s.epochMeter.toJSON(),
        ...(await this.firing.meta(this.trainer)),
        best: s.best,
      },
    };
    for (const f of files) saveCheckpoint(this.path(f), doc);
    if (files.includes(RUN_FILES.checkpoint)) s.lastSavedStep = s.step;
    return true;
  }

  /** save, or stop the run as diverged when the parameters are not finite. */
  async checkpoint(files: string[]): Promise<void> {
    if (!(await this.save(files))) this.diverged('the parameters are not finite');
  }

  /** Stops the run: a `diverged` record, and a DivergenceError naming the step and the last good checkpoint. */
  diverged(what: string): never {
    const s = this.state;
    const file = this.path(RUN_FILES.checkpoint);
    this.input.progress.stop();
    this.metricsLine({ kind: 'diverged', step: s.step, epoch: s.epoch + 1, reason: what });
    const kept = existsSync(file) ? `kept the last good checkpoint ${file} (step ${s.lastSavedStep})` : 'no checkpoint was written';
    throw new DivergenceError(`training diverged: ${what} at step ${s.step} (epoch ${s.epoch + 1}); ${kept}`);
  }
}

/** The signals that stop a run after its step (with a checkpoint), and the exit codes they end it with (128 + n). */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignalName = keyof typeof STOP_SIGNALS;

/**
 * Why the loop stops (null: it goes on): the deadline, or Ctrl-C / SIGTERM (a second one quits at once).
 * SIGTERM is what service managers and schedulers send before they kill: treated like Ctrl-C, so the run saves.
 */
class StopSignal {
  reason: StopReason | null = null;
  /** The signal that interrupted the run, if one did. */
  signal: StopSignalName | undefined;
  private readonly onSignal = (signal: StopSignalName) => {
    if (this.reason === 'interrupted') process.exit(STOP_SIGNALS[signal]);
    this.reason = 'interrupted';
    this.signal = signal;
    const what = signal === 'SIGINT' ? 'interrupt' : signal;
    this.progress.note(`${what}: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)`);
  };

  constructor(private readonly progress: Progress) {
    for (const s of Object.keys(STOP_SIGNALS)) process.on(s, this.onSignal);
  }

  dispose(): void {
    for (const s of Object.keys(STOP_SIGNALS)) process.off(s, this.onSignal);
  }
}

/** The exit code of a run that ended this way: 0, or 128 + the number of the signal that interrupted it. */
export function exitCodeOf(out: TrainOutcome): number {
  return out.stopped === 'interrupted' ? STOP_SIGNALS[out.signal ?? 'SIGINT'] : 0;
}

/**
 * The sample order of each epoch: permutation(n, seed, Stream.shuffle, epoch), made once per epoch; with
 * `streams` > 0 (contiguous data) streamOrder(n, streams) in every epoch.
 */
class EpochOrder {
  private order: Int32Array = new Int32Array(0);
  private epoch = -1;

  constructor(
    private readonly n: number,
    private readonly seed: number,
    private readonly streams: number,
  ) {}

  of(epoch: number): Int32Array {
    if (this.epoch !== epoch) {
      this.order = this.streams > 0 ? streamOrder(this.n, this.streams) : permutation(this.n, this.seed, Stream.shuffle, epoch);
      this.epoch = epoch;
    }
    return this.order;
  }
}

/** Loss and counters since the last `step` metrics record. */
class StepWindow {
  meter = new LossMeter();
  totals = zeroTotals();
  pairs: PairCounts;
  started = performance.now();

  constructor(private readonly actors: number) {
    this.pairs = zeroPairs(actors);
  }

  reset(): void {
    this.meter = new LossMeter();
    this.totals = zeroTotals();
    this.pairs = zeroPairs(this.actors);
    this.started = performance.now();
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
