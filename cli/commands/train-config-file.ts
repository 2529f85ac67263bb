/**
 * `egru train --config run.json`: a run's config.json read back as the options that made it, so the run can be
 * repeated exactly; options given on the command line win over the file's values.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readTrainConfigFile } from '../io/checkpoint-config.js';
import { describeFsError, InputError } from '../io/errors.js';
import type { TrainConfig } from '../run-config.js';
import { given } from './common.js';
import { scheduleOptionsOf, type ScheduleOptions } from './train-schedule.js';

/** The option values (camelCase keys of `egru train`) that repeat the run `cfg` records. */
export function optionsOfRunConfig(cfg: TrainConfig, label: string): Record<string, unknown> {
  const m = cfg.model;
  const opt = cfg.optimizer;
  for (const k of ['beta1', 'beta2', 'eps'] as const)
    if (opt[k] !== undefined) throw new InputError(`${label}: optimizer.${k} has no egru train option (the run was not made by egru train)`);
  const o: Record<string, unknown> = {
    task: cfg.task,
    data: cfg.data,
    val: cfg.val,
    seqLen: cfg.seqLen,
    limit: cfg.limit,
    valLimit: cfg.valLimit,
    holdout: cfg.holdout,
    classes: cfg.data !== null ? m.classes : null,
    hidden: m.hidden,
    model: m.cell,
    formulation: m.formulation,
    thresholdMean: m.thresholdMean,
    dampening: m.dampening,
    support: m.support,
    readout: m.readout === 'per-step' ? null : m.readout, // per-step follows from the data
    activityReg: m.activityReg,
    activityTarget: m.activityTarget,
    dropout: m.dropout,
    optimizer: opt.kind,
    lr: opt.lr,
    weightDecay: opt.weightDecay,
    momentum: opt.momentum,
    ...(scheduleOptionsOf(opt.schedule) satisfies ScheduleOptions),
    batch: cfg.batch,
    ...(cfg.steps !== null ? { steps: cfg.steps } : { epochs: cfg.epochs }),
    seed: cfg.seed,
    actors: cfg.actors,
    transport: cfg.transport,
    nats: cfg.nats,
    actorHosts: cfg.actorHosts,
    clip: cfg.clip,
    evalEvery: cfg.evalEvery,
    logEvery: cfg.logEvery,
    saveEvery: cfg.saveEvery,
    maxMinutes: cfg.maxMinutes,
    earlyStop: cfg.earlyStop,
    init: cfg.init,
  };
  for (const [k, v] of Object.entries(o)) if (v === null || v === undefined) delete o[k];
  return o;
}

/** Fills `opts` from the config file `path` wherever the command line gave no value. */
export function applyRunConfigFile(opts: Record<string, unknown>, cmd: Command, path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`--config ${path}: ${describeFsError(e)}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`--config ${path}: not valid JSON (${(e as Error).message})`);
  }
  const fromFile = optionsOfRunConfig(readTrainConfigFile(doc, `--config ${path}`), `--config ${path}`);
  // The run length is one choice: --steps or --epochs on the command line replaces the file's, and so does the
  // cosine schedule's length (it follows the run's); --optimizer the file's momentum; --lr-schedule the file's
  // schedule; --task or --data its data.
  const lengthGiven = given(cmd, 'steps') || given(cmd, 'epochs');
  if (lengthGiven) for (const k of ['steps', 'epochs', 'cosineSteps']) delete fromFile[k];
  if (given(cmd, 'optimizer')) delete fromFile.momentum; // sgd's only
  if (given(cmd, 'lrSchedule')) for (const k of ['lrMin', 'lrStepEvery', 'lrGamma', 'cosineSteps']) delete fromFile[k];
  if (given(cmd, 'task') || given(cmd, 'data'))
    for (const k of ['task', 'data', 'val', 'seqLen', 'classes', 'readout', 'holdout']) delete fromFile[k];
  for (const [k, v] of Object.entries(fromFile)) if (!given(cmd, k)) opts[k] = v;
}
