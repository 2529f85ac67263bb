/** Option parsers and small helpers shared by the commands. Every parser throws InputError (exit code 2). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { defaultModelConfig, validateModelConfig, type ModelConfig } from '../../model/config.js';
import { InputError } from '../io/errors.js';
import { knownTasks, unknownTaskMessage } from '../data/tasks.js';
import { PROGRESS_MODES, type ProgressMode } from '../progress.js';

// Commander argument parsers: InvalidArgumentError is reported as "option '--lr <x>' argument 'abc' is invalid. <why>".
export function intArg(min: number) {
  return (v: string): number => {
    const n = Number(v);
    // 1e8 is an integer too; 1.5 and 1e-3 are not (Number.isSafeInteger).
    if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer.');
    if (n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}.`);
    return n;
  };
}

export function floatArg(min: number, opts: { exclusive?: boolean; max?: number } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a finite number.');
    if (opts.exclusive ? !(n > min) : !(n >= min)) throw new InvalidArgumentError(`expected a number ${opts.exclusive ? '>' : '≥'} ${min}.`);
    if (opts.max !== undefined && !(n <= opts.max)) throw new InvalidArgumentError(`expected a number ≤ ${opts.max}.`);
    return n;
  };
}

export function choiceArg<T extends string>(choices: readonly T[]) {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`choose one of ${choices.join(', ')}.`);
    return v as T;
  };
}

/** `--hidden 128` or `--hidden 128,64`. */
export function hiddenArg(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  const sizes = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || sizes.some((n) => !(n >= 1)))
    throw new InvalidArgumentError('expected positive integers separated by commas, e.g. 128 or 128,64.');
  return sizes;
}

export function taskArg(v: string): string {
  if (!knownTasks().includes(v as never)) throw new InvalidArgumentError(`${unknownTaskMessage(v)}.`);
  return v;
}

export const progressArg = choiceArg<ProgressMode>(PROGRESS_MODES);
export const transportArg = choiceArg(['inline', 'threads', 'nats'] as const);
export type TransportName = 'inline' | 'threads' | 'nats';
export const TRANSPORT_HELP = 'inline (one thread), threads (one worker per actor) or nats (actor messages over a NATS server, see --nats)';
export const DEFAULT_NATS = 'nats://127.0.0.1:4222';
/** The runtime's nats option from --transport/--nats. */
export function natsOption(o: { transport: string; nats?: string; actorHosts?: boolean }): { servers: string; hosts: boolean } | undefined {
  if (o.actorHosts && o.transport !== 'nats') throw new InputError('--actor-hosts needs --transport nats');
  return o.transport === 'nats' ? { servers: o.nats ?? DEFAULT_NATS, hosts: !!o.actorHosts } : undefined;
}
export const ACTOR_HOSTS_HELP = 'with --transport nats: run the actors on `egru actor-host` processes (other machines) instead of local threads';

/** True when the user gave the option on the command line (not a default). */
export function given(cmd: Command, key: string): boolean {
  return cmd.getOptionValueSource(key) === 'cli';
}

/** Model options shared by train and import (all optional; undefined = default or inferred). */
export interface ModelOptions {
  model?: 'egru' | 'gru';
  formulation?: 'evnn' | 'paper';
  thresholdMean?: number;
  dampening?: number;
  support?: number;
  readout?: 'trace' | 'last' | 'per-step';
  activityReg?: number;
  activityTarget?: number;
  dropout?: number;
  seed?: number;
}

export function addModelOptions(cmd: Command, readouts: readonly string[] = ['trace', 'last']): Command {
  return cmd
    .option('--model <cell>', 'egru (event-based) or gru (the dense baseline)', choiceArg(['egru', 'gru'] as const))
    .option('--formulation <f>', 'evnn (EvNN reference, default) or paper', choiceArg(['evnn', 'paper'] as const))
    .option('--threshold-mean <m>', 'mean of the Beta threshold initialisation, in (0, 1) (default 0.3)', floatArg(0, { exclusive: true, max: 1 }))
    .option('--dampening <gamma>', 'pseudo-derivative height γ (default 0.7)', floatArg(0))
    .option('--support <s>', 'pseudo-derivative inverse half-width s (default 1; the row-mnist preset of train: 3.6)', floatArg(0, { exclusive: true }))
    .option('--readout <r>', `classifier input: ${readouts.join(' or ')} (default trace)`, choiceArg(readouts as string[]))
    .option('--activity-reg <lambda>', 'activity regularisation λ (default 0 = off)', floatArg(0))
    .option('--activity-target <a>', 'target event rate a* of the activity regulariser (default 0.05)', floatArg(0, { max: 1 }));
}

/** A validated ModelConfig from the options over `base`; any problem → InputError. */
export function modelConfig(base: Partial<ModelConfig>, o: ModelOptions): ModelConfig {
  const cfg = defaultModelConfig({ ...base });
  if (o.model !== undefined) cfg.cell = o.model;
  if (o.formulation !== undefined) cfg.formulation = o.formulation;
  if (o.thresholdMean !== undefined) cfg.thresholdMean = o.thresholdMean;
  if (o.dampening !== undefined) cfg.dampening = o.dampening;
  if (o.support !== undefined) cfg.support = o.support;
  if (o.readout !== undefined) cfg.readout = o.readout;
  if (o.activityReg !== undefined) cfg.activityReg = o.activityReg;
  if (o.activityTarget !== undefined) cfg.activityTarget = o.activityTarget;
  if (o.dropout !== undefined) cfg.dropout = o.dropout;
  if (o.seed !== undefined) cfg.seed = o.seed;
  try {
    validateModelConfig(cfg);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  return cfg;
}

let version: string | undefined;
/** The package version (from the package.json above this module, in sources or in dist/). */
export function packageVersion(): string {
  if (version) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 5; k++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'egru-actors' && pkg.version) return (version = pkg.version);
    } catch {
      /* keep looking */
    }
    dir = dirname(dir);
  }
  return (version = 'unknown');
}

/** Examples block for addHelpText('after', …). */
export function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
