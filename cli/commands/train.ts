/** `egru train`: parse, validate everything (nothing is written on bad input), then run cli/train-loop.ts. */
import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { ModelConfig } from '../../model/config.js';
import type { FaultSpec } from '../../runtime/actor.js';
import { loadCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import { describeFsError, InputError } from '../io/errors.js';
import { removeOrphanedTempFiles } from '../io/atomic.js';
import { lockRunDirectory } from '../io/run-lock.js';
import { checkDatasetMemory, checkTrainingMemory } from '../memory-check.js';
import { checkNatsAuthUse, checkNatsServer, natsAuth, recordableNatsServers, natsRunArg, natsRunOf, NATS_CREDS_HELP, NATS_RUN_HELP, NATS_TLS_CA_HELP, SECRET_FILE_HELP, type NatsAuthOptions } from './nats-options.js';
import { canHoldOut, checkHoldout, datasetFromNpz, isTextTask, loadTask, MNIST_HOLDOUT_TASKS, recordedTask, TASKS, type Dataset, type TaskName } from '../data/tasks.js';
import { makeProgress, type ProgressMode } from '../progress.js';
import type { TrainConfig } from '../run-config.js';
import { DivergenceError, exitCodeOf, RUN_FILES, stepsPerEpoch, totalSteps, trainLoop, type TrainInput, type TrainOutcome } from '../train-loop.js';
import { REPORT_OUTPUTS, reportAfterTraining } from '../report/write.js';
import { applyRunConfigFile } from './train-config-file.js';
import { addScheduleOptions, lrScheduleOf, type ScheduleOptions } from './train-schedule.js';
import {
  addModelOptions,
  choiceArg,
  examples,
  floatArg,
  given,
  hiddenArg,
  intArg,
  modelConfig,
  packageVersion,
  progressArg,
  taskArg,
  transportArg,
  TRANSPORT_HELP,
  ACTOR_HOSTS_HELP,
  natsOption,
  DEFAULT_NATS,
  type TransportName,
  type ModelOptions,
} from './common.js';

/**
 * Recommended presets of the built-in tasks: used for every option the user does not give, recorded in
 * config.json (`preset`). row-mnist's is the default run (`egru train`): measured to finish in under ten minutes
 * on two cores with ≥ 95 % test accuracy and ≥ 70 % activity sparsity.
 */
export const PRESETS: Record<
  TaskName,
  { hidden: number[]; batch: number; lr: number; epochs: number; activityReg?: number; support?: number; thresholdMean?: number; maxMinutes?: number; seqLen?: number }
> = {
  // maxMinutes: a safety net for the default run only (applied when neither --steps nor --epochs is given).
  // support 3.6: the sparse-BPTT sweep of docs/results.md (8 epochs: 98.32 % at 71.9 % backward sparsity, against
  // 98.49 % at 40.7 % with s = 1).
  'row-mnist': { hidden: [128], batch: 32, lr: 3e-3, epochs: 2, activityReg: 0.3, support: 3.6, maxMinutes: 9 },
  'pixel-mnist': { hidden: [128], batch: 32, lr: 1e-3, epochs: 1 },
  'perm-mnist': { hidden: [128], batch: 32, lr: 1e-3, epochs: 1 },
  'adding-class': { hidden: [64], batch: 32, lr: 3e-3, epochs: 5 },
  // seqLen: the segment length T of truncated BPTT; batch: the parallel streams. moby-dick's, measured on 2 cores:
  // 2.44 bits per character on the validation text (test 2.42; the unigram entropy is 4.47) at 60 % activity
  // sparsity after its 1002 steps, in 9m19s (1.8 steps/s).
  'moby-dick': { hidden: [256], batch: 32, lr: 3e-3, epochs: 3, seqLen: 100 },
  sotu: { hidden: [256], batch: 32, lr: 3e-3, epochs: 1, seqLen: 100 },
};
/** Defaults for user data (`--data`). */
const DATA_DEFAULTS = { hidden: [128], batch: 32, lr: 3e-3, epochs: 10 };

interface TrainOptions extends ModelOptions, NatsAuthOptions, ScheduleOptions {
  config?: string;
  earlyStop?: number;
  task?: string;
  data?: string;
  val?: string;
  seqLen?: number;
  classes?: number;
  limit?: number;
  valLimit?: number;
  holdout?: number;
  hidden?: number[];
  optimizer: 'adam' | 'sgd';
  lr?: number;
  momentum: number;
  weightDecay: number;
  clip: number;
  dropout: number;
  batch?: number;
  steps?: number;
  epochs?: number;
  actors: number;
  transport: TransportName;
  nats?: string;
  actorHosts?: boolean;
  init?: string;
  resume?: string;
  out?: string;
  force?: boolean;
  evalEvery: number;
  logEvery: number;
  saveEvery: number;
  maxMinutes?: number;
  progress: ProgressMode;
  report: boolean;
  seed: number;
}

/** Options that may be given with --resume (they change neither the data nor the arithmetic). */
const RESUME_OK = new Set(['resume', 'steps', 'epochs', 'earlyStop', 'maxMinutes', 'progress', 'evalEvery', 'logEvery', 'saveEvery', 'transport', 'nats', 'natsCreds', 'natsTlsCa', 'secretFile', 'natsRun', 'actorHosts', 'actors', 'report']);

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train an EGRU (or GRU) network with actor-parallel sparse BPTT and write a run directory')
    .option('--task <name>', `built-in task: ${Object.keys(TASKS).join(', ')} (default row-mnist)`, taskArg)
    .option('--data <file.npz>', 'train on your own sequences: x float [N, T, I], y int [N] or [N, T] (docs/formats.md)')
    .option('--val <file.npz>', 'validation sequences for --data (same layout)')
    .option('--seq-len <T>', 'adding-class task: sequence length (default 100); moby-dick, sotu: segment length of truncated BPTT', intArg(2))
    .option('--classes <C>', '--data: number of classes (default: largest label + 1)', intArg(1))
    .option('--limit <N>', 'use only the first N training samples (moby-dick, sotu: characters)', intArg(1))
    .option('--val-limit <N>', 'use only the first N validation samples (moby-dick, sotu: characters; with --holdout, also of the final test figures)', intArg(1))
    .option('--holdout <N>', "MNIST tasks: validate (progress, --early-stop, checkpoint-best.egru) on the last N of the 60000 training images, which are never trained on (the same images whatever --seed or --limit); the final figures stay the test split's (default 0: validate on the test split)", intArg(0))
    .option('--hidden <sizes>', 'hidden units per layer, e.g. 128 or 128,64 (default 128)', hiddenArg);
  addModelOptions(cmd)
    .option('--optimizer <name>', 'adam or sgd', choiceArg(['adam', 'sgd'] as const), 'adam')
    .option('--lr <rate>', 'learning rate (default 3e-3; the peak rate of a schedule)', floatArg(0))
    .option('--momentum <mu>', 'sgd momentum', floatArg(0, { max: 1 }), 0)
    .option('--weight-decay <wd>', 'weight decay (AdamW-style for adam, L2 for sgd); thresholds and biases are not decayed', floatArg(0), 0)
    .option('--clip <norm>', 'global-norm gradient clipping (0 = off)', floatArg(0), 0)
    .option('--dropout <p>', 'inverted dropout rate on the events a layer passes up and on the readout inputs, in [0, 1) (0 = off)', floatArg(0, { max: 1 }), 0)
  addScheduleOptions(cmd)
    .option('--batch <B>', 'sequences per optimiser step (default 32)', intArg(1))
    .option('--steps <n>', 'run length in optimiser steps (instead of --epochs)', intArg(1))
    .option('--epochs <n>', 'run length in epochs (default: the task preset, row-mnist 2)', intArg(1))
    .option('--seed <n>', 'seed of the initialisation and of the shuffling', intArg(0), 1)
    .option('--actors <n>', 'actors (unit groups) per layer', intArg(1), 2)
    .option('--transport <t>', TRANSPORT_HELP, transportArg, 'threads')
    .option('--nats <url>', `NATS server of --transport nats (default ${DEFAULT_NATS})`)
    .option('--actor-hosts', ACTOR_HOSTS_HELP)
    .option('--nats-creds <file>', NATS_CREDS_HELP)
    .option('--nats-tls-ca <file>', NATS_TLS_CA_HELP)
    .option('--nats-run <id>', NATS_RUN_HELP, natsRunArg)
    .option('--secret-file <file>', SECRET_FILE_HELP)
    .option('--init <ckpt>', 'start from the parameters of a checkpoint (fresh optimiser)')
    .option('--resume <dir>', 'continue the run in DIR from its checkpoint.egru (only run-length options may change)')
    .option('--out <dir>', 'run directory (default runs/<task>-<timestamp>)')
    .option('--force', 'write into --out even if it exists (replaces its run files)')
    .option('--eval-every <n>', 'also validate every n steps (0 = only after each epoch)', intArg(0), 0)
    .option('--log-every <n>', 'write a metrics.jsonl step record every n steps', intArg(1), 50)
    .option('--save-every <n>', 'also write checkpoint.egru every n steps (0 = only after each epoch)', intArg(0), 0)
    .option('--max-minutes <m>', 'stop (with checkpoint and summary) after m minutes of training', floatArg(0, { exclusive: true }))
    .option('--early-stop <patience>', 'stop when the validation metric (accuracy; bits per character for per-step targets) has not improved for PATIENCE validations (0 = off); on an MNIST task give --holdout N, else it validates (and selects) on the test split', intArg(0))
    .option('--config <run.json>', "repeat a run: take every option from its config.json (options given here win)")
    .addOption(new Option('--progress <mode>', 'auto (bar on a terminal, lines otherwise), bar, plain or none').argParser(progressArg).default('auto'))
    .option('--no-report', 'do not write report.html (the plots of egru report) into the run directory at the end')
    .addHelpText(
      'after',
      examples([
        'egru train                                      # row-MNIST, 128 EGRU units, 2 actors on threads (< 10 min)',
        'egru train --task adding-class --hidden 32 --epochs 3 --out runs/adding',
        'egru train --task moby-dick --out runs/moby                # character-level language model, bits per character',
        'egru train --task pixel-mnist --hidden 128,64 --actors 4 --max-minutes 60',
        'egru train --data train.npz --val val.npz --hidden 64 --epochs 20 --out runs/mine',
        'egru train --task pixel-mnist --hidden 128,128 --dropout 0.1 --activity-reg 0.3  # regularised 2-layer run',
        'egru train --model gru --out runs/gru-baseline  # dense GRU of the same shape, for comparison',
        'egru train --resume runs/mine --epochs 30       # continue a run (bit-identical to one long run)',
        'egru train --init runs/mine/checkpoint.egru --task row-mnist --lr 1e-3',
        'egru train --lr 3e-3 --lr-schedule cosine --warmup 100 --lr-min 1e-4 --early-stop 5 --eval-every 200 --holdout 5000',
        'egru train --lr-schedule step --lr-step-every 1000 --lr-gamma 0.5',
        'egru train --config runs/mine/config.json --out runs/mine-again  # repeat a run exactly',
        'egru eval --checkpoint runs/mine/checkpoint-best.egru  # the weights of the best validation',
        '',
        'Run directory: config.json, metrics.jsonl (step/eval/epoch records), summary.json (the figures of the',
        'final validation — with --holdout of the test split, the held-out ones under "validation"; "figures_from" and',
        '"validation_split" say which — nested: {"messages": {"forward": {"packets": …}}, "macs": {…}}, plus "train":',
        'the figures of all training steps), checkpoint.egru (final), checkpoint-epochN.egru and checkpoint-best.egru (the best',
        'validation so far) (docs/formats.md, docs/figures.md),',
        'report.html (plots; see egru report --help) unless --no-report.',
        'Exit codes: 0 done, 1 an actor failed, 2 bad input, 3 training diverged (NaN loss), 130 interrupted (Ctrl-C), 143 stopped by SIGTERM (both save a checkpoint first).',
        '',
        'Task presets (used for the options you do not give; recorded in config.json):',
        ...Object.entries({ ...PRESETS, '--data': DATA_DEFAULTS }).map(([t, p]) => `  ${t.padEnd(13)} ${Object.entries(p).map(([k, v]) => `${kebab(k)} ${Array.isArray(v) ? v.join(',') : v}`).join(', ')}`),
      ]),
    )
    .action(async (opts: TrainOptions, command: Command) => {
      process.exitCode = await runTrain(opts, command);
    });
  return cmd;
}

/**
 * The training data, the validation data, and the test split the final figures come from when validation is on
 * held-out training images (--holdout; else null).
 */
function loadData(cfg: Pick<TrainConfig, 'task' | 'data' | 'val' | 'seqLen' | 'limit' | 'valLimit' | 'holdout'>, classes?: number, inputSize?: number) {
  let train: Dataset;
  let val: Dataset | null = null;
  let test: Dataset | null = null;
  if (cfg.data) {
    train = datasetFromNpz(cfg.data, { classes, inputSize });
    if (cfg.limit !== null && cfg.limit < train.n) train = head(train, cfg.limit);
    if (cfg.val) {
      val = datasetFromNpz(cfg.val, { classes: train.classes, inputSize: train.inputSize });
      if (val.perStep !== train.perStep)
        throw new InputError(`${cfg.val}: y is ${val.perStep ? 'per-step [N, T]' : 'per-sequence [N]'} but the training data's is ${train.perStep ? 'per-step' : 'per-sequence'}`);
      if (cfg.valLimit !== null && cfg.valLimit < val.n) val = head(val, cfg.valLimit);
    }
  } else {
    const task = recordedTask(cfg.task!);
    const holdout = cfg.holdout ?? 0;
    const opts = { steps: cfg.seqLen ?? undefined, holdout: holdout || undefined };
    if (Object.hasOwn(TASKS, task) && !isTextTask(task)) checkTaskMemory(task as TaskName, cfg); // text samples are made on demand
    train = loadTask(task, 'train', { ...opts, limit: cfg.limit ?? undefined });
    const valLimit = cfg.valLimit ?? undefined;
    val = loadTask(task, isTextTask(task) ? 'validation' : holdout ? 'holdout' : 'test', { ...opts, limit: valLimit });
    if (holdout) test = loadTask(task, 'test', { ...opts, limit: valLimit });
    if (inputSize !== undefined && train.inputSize !== inputSize) throw new InputError(`task ${task} has ${train.inputSize} inputs per step, the checkpoint's model takes ${inputSize}`);
    if (classes !== undefined && train.classes !== classes) throw new InputError(`task ${task} has ${train.classes} classes, the checkpoint's model has ${classes}`);
  }
  return { train, val, test };
}

/** The built-in task's data must fit in memory: the adding-class task's sequences are as long and as many as asked. */
function checkTaskMemory(task: TaskName, cfg: Pick<TrainConfig, 'seqLen' | 'limit' | 'valLimit' | 'holdout'>): void {
  const info = TASKS[task];
  const adding = task === 'adding-class'; // generated: --limit is the count; MNIST: at most the split's size
  const count = (limit: number | null, size: number) => (adding ? (limit ?? size) : Math.min(limit ?? size, size));
  const holdout = cfg.holdout ?? 0; // held out: validation on those, and the test split for the final figures
  const sequences = count(cfg.limit, info.size.train - holdout) + count(cfg.valLimit, info.size.test) + (holdout ? count(cfg.valLimit, holdout) : 0);
  checkDatasetMemory(`the ${task} task${cfg.seqLen ? ` with --seq-len ${cfg.seqLen}` : ''}`, sequences, cfg.seqLen ?? info.steps, info.inputSize);
}

function head(ds: Dataset, n: number): Dataset {
  const rowX = ds.steps * ds.inputSize;
  const rowY = ds.perStep ? ds.steps : 1;
  return { ...ds, n, x: ds.x.subarray(0, n * rowX), y: ds.y.subarray(0, n * rowY) };
}

function checkModelFitsData(model: ModelConfig, train: Dataset, what: string): void {
  if (model.inputSize !== train.inputSize) throw new InputError(`shape mismatch: ${what} takes ${model.inputSize} inputs per step, the data has ${train.inputSize}`);
  if (model.classes < train.classes) throw new InputError(`shape mismatch: ${what} has ${model.classes} classes, the data has labels up to ${train.classes - 1}`);
  if ((model.readout === 'per-step') !== train.perStep)
    throw new InputError(`shape mismatch: ${what} has a ${model.readout} readout but the data has ${train.perStep ? 'per-step targets [N, T]' : 'one label per sequence'}`);
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Check (and with --force clear) the run directory; creates nothing. */
function prepareOut(dir: string, force: boolean): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new InputError(`--out ${dir} exists and is not a directory`);
  if (!force) throw new InputError(`--out ${dir} already exists (use --force to write into it, or --resume ${dir} to continue its run)`);
}

function clearRunFiles(dir: string): void {
  try {
    for (const f of readdirSync(dir))
      if (Object.values(RUN_FILES).includes(f as never) || REPORT_OUTPUTS.includes(f) || /^checkpoint-epoch\d+\.egru$/.test(f)) unlinkSync(join(dir, f));
  } catch (e) {
    throw new InputError(`cannot clear the run directory ${dir}: ${describeFsError(e)}`, { cause: e });
  }
}

function faultFromEnv(): FaultSpec | undefined {
  // Test hook: EGRU_INJECT_FAULT=actor:job:tick[:throw|exit] makes that actor fail (runtime FaultSpec).
  const s = process.env.EGRU_INJECT_FAULT;
  if (!s) return undefined;
  const [actor, job, tick, kind] = s.split(':');
  return { actor: Number(actor), job: Number(job), tick: Number(tick), kind: kind === 'exit' ? 'exit' : 'throw' };
}

async function runTrain(o: TrainOptions, cmd: Command): Promise<number> {
  const version = packageVersion();
  if (o.resume !== undefined) return runResume(o, cmd);
  if (o.config !== undefined) applyRunConfigFile(o as unknown as Record<string, unknown>, cmd, o.config);

  // ---- what to train on
  if (o.data !== undefined && o.task !== undefined) throw new InputError('give either --task or --data, not both');
  if (o.val !== undefined && o.data === undefined) throw new InputError('--val needs --data (built-in tasks validate on their own split; the MNIST tasks on held-out training images with --holdout)');
  if (o.steps !== undefined && o.epochs !== undefined) throw new InputError('give either --steps or --epochs, not both');
  const task = o.data === undefined ? ((o.task ?? 'row-mnist') as TaskName) : null;
  if (o.seqLen !== undefined && task !== 'adding-class' && !(task && isTextTask(task)))
    throw new InputError('--seq-len applies to the adding-class, moby-dick and sotu tasks only');
  if (o.classes !== undefined && o.data === undefined) throw new InputError('--classes applies to --data only (built-in tasks have a fixed number of classes)');
  if (o.holdout && !task) throw new InputError(`--holdout applies to the MNIST tasks (${MNIST_HOLDOUT_TASKS.join(', ')}): with --data, give the validation sequences with --val`);
  if (o.holdout && task) checkHoldout(task, o.holdout);
  const base = task ? PRESETS[task] : DATA_DEFAULTS;
  const applied: Record<string, unknown> = {};
  const pick = <K extends keyof typeof base>(k: K, v: (typeof base)[K] | undefined): (typeof base)[K] => {
    if (v !== undefined) return v;
    applied[k] = base[k];
    return base[k];
  };

  // ---- initial parameters
  let init: Checkpoint | undefined;
  if (o.init !== undefined) init = loadCheckpoint(o.init);
  const initModel = init?.config.model;

  const data = o.data !== undefined ? resolve(o.data) : null;
  const valPath = o.val !== undefined ? resolve(o.val) : null;
  const presetSeqLen = o.seqLen === undefined && task ? PRESETS[task].seqLen : undefined;
  if (presetSeqLen !== undefined) applied.seqLen = presetSeqLen;
  const src = { task, data, val: valPath, seqLen: o.seqLen ?? presetSeqLen ?? null, limit: o.limit ?? null, valLimit: o.valLimit ?? null, holdout: o.holdout || null };
  const { train, val, test } = loadData(src, o.classes ?? (initModel && o.data !== undefined ? initModel.classes : undefined));

  let hidden: number[];
  if (initModel) {
    if (o.hidden !== undefined && o.hidden.join(',') !== initModel.hidden.join(','))
      throw new InputError(`shape mismatch: --hidden ${o.hidden.join(',')} but the checkpoint ${o.init} has hidden sizes ${initModel.hidden.join(',')}`);
    hidden = initModel.hidden;
  } else hidden = pick('hidden', o.hidden);
  const preset = task ? PRESETS[task] : undefined;
  const mo: ModelOptions = { ...o };
  // The activity regulariser of a preset is for EGRU (a dense GRU has no events to regularise).
  if (preset?.activityReg !== undefined && o.activityReg === undefined && !initModel && o.model !== 'gru') mo.activityReg = applied.activityReg = preset.activityReg;
  if (preset?.support !== undefined && o.support === undefined && !initModel && o.model !== 'gru') mo.support = applied.support = preset.support;
  if (preset?.thresholdMean !== undefined && o.thresholdMean === undefined && !initModel) mo.thresholdMean = applied.thresholdMean = preset.thresholdMean;
  const readout = train.perStep ? 'per-step' : (o.readout ?? initModel?.readout ?? 'trace');
  if (train.perStep && o.readout !== undefined) throw new InputError(`--readout ${o.readout}: the data has per-step targets [N, T], which use the per-step readout`);
  const model = modelConfig(
    { ...(initModel ?? {}), inputSize: train.inputSize, hidden, classes: initModel?.classes ?? (o.classes ?? train.classes), seed: o.seed },
    { ...mo, readout, dropout: o.dropout },
  );
  if (initModel) checkModelFitsData(initModel, train, `the checkpoint ${o.init}`);

  const batch = pick('batch', o.batch);
  const lr = pick('lr', o.lr);
  const epochs = o.steps !== undefined ? (o.epochs ?? base.epochs) : pick('epochs', o.epochs);
  if (train.contiguous && train.n < batch)
    throw new InputError(`the ${task} training text makes ${train.n} segments of ${train.steps} characters, fewer than the ${batch} streams of --batch`);
  const spe = stepsPerEpoch(train.n, batch, train.contiguous);
  const natsUse = natsOption(o);
  const cfg: TrainConfig = {
    command: 'train',
    version,
    ...src,
    model,
    optimizer: { kind: o.optimizer, lr, weightDecay: o.weightDecay, ...(o.optimizer === 'sgd' ? { momentum: o.momentum } : {}) },
    batch,
    epochs,
    steps: o.steps ?? null,
    seed: o.seed,
    actors: o.actors,
    transport: o.transport,
    nats: natsUse ? recordableNatsServers(natsUse.servers) : null, // never the credentials
    actorHosts: natsUse?.hosts ?? false,
    clip: o.clip,
    evalEvery: o.evalEvery,
    logEvery: o.logEvery,
    saveEvery: o.saveEvery,
    earlyStop: o.earlyStop || null,
    maxMinutes: o.maxMinutes ?? (preset?.maxMinutes !== undefined && o.steps === undefined && o.epochs === undefined ? (applied.maxMinutes = preset.maxMinutes) : null),
    init: o.init !== undefined ? resolve(o.init) : null,
    preset: task ? { task, applied } : null,
    trainSamples: train.n,
    valSamples: val?.n ?? 0,
    stepsPerEpoch: spe,
    totalSteps: 0,
  };
  if (o.momentum !== 0 && o.optimizer !== 'sgd') throw new InputError('--momentum applies to --optimizer sgd only');
  cfg.totalSteps = totalSteps(cfg);
  cfg.optimizer.schedule = lrScheduleOf(o, lr, cfg.totalSteps);
  if (cfg.earlyStop && !val) throw new InputError('--early-stop needs validation data (--val with --data)');
  noteSelectionOnTest(cfg);
  checkTrainingMemory(model, batch, Math.max(train.steps, val?.steps ?? 0));

  checkNatsAuthUse(o);
  const nats = natsUse ? { servers: natsUse.servers, ...natsAuth(o), run: natsRunOf(o) } : undefined; // the run id is not recorded: each start may choose
  if (nats) await checkNatsServer(nats);

  // ---- the run directory (checked before anything is written)
  let dir: string;
  if (o.out !== undefined) {
    dir = o.out;
    prepareOut(dir, !!o.force);
  } else {
    const name = task ?? basename(data!, extname(data!));
    dir = join('runs', `${name}-${timestamp()}`);
    for (let k = 2; existsSync(dir); k++) dir = join('runs', `${name}-${timestamp()}-${k}`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create the run directory ${dir}: ${(e as Error).message}`);
  }
  const lock = lockRunDirectory(dir, printNote);
  try {
    if (o.force) clearRunFiles(dir);
    removeOrphanedTempFiles(dir);
    return await trainAndReport(o, {
      cfg,
      dir,
      train,
      val,
      test,
      params: init?.params,
      nats,
      progress: makeProgress(o.progress, { label: 'train', unit: 'steps' }),
      print: (s) => process.stdout.write(s + '\n'),
      fault: faultFromEnv(),
    });
  } finally {
    lock.release();
  }
}

const printNote = (line: string) => process.stderr.write(`egru: note: ${line}\n`);

async function runResume(o: TrainOptions, cmd: Command): Promise<number> {
  const dir = o.resume!;
  const bad = Object.keys(o).filter((k) => given(cmd, k) && !RESUME_OK.has(k));
  if (bad.length)
    throw new InputError(
      `--${kebab(bad[0]!)} cannot be given with --resume: the run continues with the configuration stored in ${join(dir, RUN_FILES.checkpoint)} (only --steps, --epochs, --max-minutes, --eval-every, --log-every, --save-every, --actors, --transport and --progress may change)`,
    );
  if (o.steps !== undefined && o.epochs !== undefined) throw new InputError('give either --steps or --epochs, not both');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--resume ${dir}: no such run directory`);
  const lock = lockRunDirectory(dir, printNote);
  try {
    removeOrphanedTempFiles(dir); // what a run killed mid-save left
    return await resumeLocked(o, cmd, dir);
  } finally {
    lock.release();
  }
}

/** --resume, once this process holds the run directory. */
async function resumeLocked(o: TrainOptions, cmd: Command, dir: string): Promise<number> {
  const ck = loadCheckpoint(join(dir, RUN_FILES.checkpoint));
  if (ck.config.command !== 'train')
    throw new InputError(`${join(dir, RUN_FILES.checkpoint)} was not written by egru train (no training configuration to resume)`);
  const cfg: TrainConfig = { ...ck.config, version: packageVersion() };
  if (o.steps !== undefined) cfg.steps = o.steps;
  if (o.epochs !== undefined) {
    cfg.epochs = o.epochs;
    cfg.steps = null;
  }
  if (given(cmd, 'maxMinutes')) cfg.maxMinutes = o.maxMinutes ?? null;
  if (given(cmd, 'evalEvery')) cfg.evalEvery = o.evalEvery;
  if (given(cmd, 'logEvery')) cfg.logEvery = o.logEvery;
  if (given(cmd, 'saveEvery')) cfg.saveEvery = o.saveEvery;
  if (given(cmd, 'transport')) cfg.transport = o.transport;
  if (given(cmd, 'nats')) cfg.nats = recordableNatsServers(o.nats!);
  if (given(cmd, 'actorHosts')) cfg.actorHosts = o.actorHosts;
  if (given(cmd, 'actors')) cfg.actors = o.actors;
  if (given(cmd, 'earlyStop')) cfg.earlyStop = o.earlyStop || null;

  const { train, val, test } = loadData(cfg, cfg.data ? cfg.model.classes : undefined);
  if (train.n !== cfg.trainSamples)
    throw new InputError(`the training data now has ${train.n} samples, the run was started with ${cfg.trainSamples}; cannot resume`);
  checkModelFitsData(cfg.model, train, `the checkpoint in ${dir}`);
  cfg.totalSteps = totalSteps(cfg);
  noteScheduleLength(cfg);
  if (given(cmd, 'earlyStop')) noteSelectionOnTest(cfg);
  // The recorded server list holds no credentials: those come from this command line.
  checkNatsAuthUse({ ...o, transport: cfg.transport });
  const nats = cfg.transport === 'nats' ? { servers: o.nats ?? cfg.nats ?? DEFAULT_NATS, ...natsAuth(o), run: natsRunOf(o) } : undefined;
  if (ck.step >= cfg.totalSteps) {
    process.stdout.write(`the run in ${dir} is already at step ${ck.step} of ${cfg.totalSteps}; give a larger --steps or --epochs to continue\n`);
    return 0;
  }
  if (nats) await checkNatsServer(nats);
  return trainAndReport(o, {
    cfg,
    dir,
    train,
    val,
    test,
    params: ck.params,
    resume: ck,
    nats,
    progress: makeProgress(o.progress, { label: 'train', unit: 'steps' }),
    print: (s) => process.stdout.write(s + '\n'),
    fault: faultFromEnv(),
  });
}

/** The training loop, then (also after Ctrl-C, SIGTERM or divergence) report.html unless --no-report; the exit code. */
async function trainAndReport(o: TrainOptions, input: TrainInput): Promise<number> {
  const report = () => o.report && reportAfterTraining(input.dir, input.cfg.version, input.print);
  let out: TrainOutcome;
  try {
    out = await trainLoop(input);
  } catch (e) {
    if (e instanceof DivergenceError) report(); // its run files stay, up to the divergence
    throw e;
  }
  report();
  return exitCodeOf(out);
}

/**
 * --early-stop on a built-in task that validates on its test split: allowed (runs made that way repeat), but the
 * stopping step and checkpoint-best.egru are then chosen on the test set, so say so and name the remedy.
 */
function noteSelectionOnTest(cfg: TrainConfig): void {
  const task = cfg.task === null ? null : recordedTask(cfg.task);
  if (!cfg.earlyStop || task === null || isTextTask(task) || cfg.holdout) return;
  const remedy = canHoldOut(task) ? 'give --holdout N to select on N held-out training images instead' : `${task} has no held-out split`;
  printNote(`--early-stop on ${task} without --holdout validates on the test split: the stopping step and checkpoint-best.egru are chosen on the test set (${remedy})`);
}

/** A resumed run keeps its cosine schedule's length: say so when the run now ends elsewhere. */
function noteScheduleLength(cfg: TrainConfig): void {
  const s = cfg.optimizer.schedule;
  if (s?.kind !== 'cosine' || s.steps === cfg.totalSteps) return;
  printNote(`the cosine learning-rate schedule keeps its length: it reaches --lr-min ${s.lrMin} at step ${s.steps}, the run now ends at step ${cfg.totalSteps}`);
}

function kebab(k: string): string {
  return k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
