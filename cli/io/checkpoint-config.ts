/**
 * Reads the `config` of a checkpoint file, which is untrusted input: every field the program uses is checked, and
 * the first one that is missing or of the wrong type is named in a one-line InputError
 * (`run/checkpoint.egru: checkpoint config.batch must be an integer ≥ 1, got "32"`).
 * The object is checked in place and returned as it is (unknown extra fields and key order kept), so a resumed run
 * records the configuration exactly as it was stored.
 */
import { validateModelConfig, type ModelConfig } from '../../model/config.js';
import { LR_SCHEDULES, validateLrSchedule, type LrSchedule } from '../../model/lr-schedule.js';
import type { OptimizerConfig } from '../../model/optim.js';
import type { BenchConfig, CheckpointConfig, ImportConfig, TrainConfig } from '../run-config.js';
import { InputError } from './errors.js';

/** How to read one field: `expected` says in words what it must be; `read` returns the value typed or throws. */
interface Rule<T> {
  expected: string;
  read(value: unknown, path: string): T;
  /** Objects: the rules of the fields a (checked) value may have, for the check of unknown fields. */
  fieldsOf?(value: Record<string, unknown>): Record<string, Rule<unknown>>;
}

/** A field that is missing or of the wrong type; `message` starts with its path (`config.model.hidden[1] …`). */
class FieldError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads `config` (the msgpack value) of the checkpoint `label`; anything wrong → InputError naming the field. */
export function readCheckpointConfig(config: unknown, label: string): CheckpointConfig {
  if (!isPlainObject(config) || !isPlainObject(config.model)) throw new InputError(`${label}: checkpoint has no model configuration (config.model)`);
  try {
    if (config.command === 'train') return TRAIN_CONFIG.read(config, 'config');
    if (config.command === 'import') return IMPORT_CONFIG.read(config, 'config');
    if (config.command === 'bench') return BENCH_CONFIG.read(config, 'config');
    return fail('config.command', '"train", "import" or "bench"', config.command);
  } catch (e) {
    if (e instanceof FieldError) throw new InputError(`${label}: checkpoint ${e.message}`);
    throw e;
  }
}

/**
 * Reads a run's config.json given to `egru train --config`: the checks of a checkpoint's training configuration,
 * and besides, no field the program does not know (a misspelt field would otherwise be silently ignored).
 */
export function readTrainConfigFile(config: unknown, label: string): TrainConfig {
  try {
    if (!isPlainObject(config)) fail('config', 'an object', config);
    const cfg = TRAIN_CONFIG.read(config, 'config');
    rejectUnknownFields(TRAIN_CONFIG, cfg as unknown as Record<string, unknown>, 'config');
    return cfg;
  } catch (e) {
    if (e instanceof FieldError) throw new InputError(`${label}: ${e.message.replace(/^config\./, '')}`);
    throw e;
  }
}

function rejectUnknownFields(r: Rule<unknown>, value: Record<string, unknown>, path: string): void {
  const fields = r.fieldsOf?.(value);
  if (!fields) return;
  for (const [key, v] of Object.entries(value)) {
    const field = fields[key];
    if (!field) throw new FieldError(`${path}.${key}`, `${path}.${key} is not a known field (known: ${Object.keys(fields).join(', ')})`);
    if (isPlainObject(v)) rejectUnknownFields(field, v, `${path}.${key}`);
  }
}

// ---- rules ---------------------------------------------------------------------------------------------------------

function fail(path: string, expected: string, value: unknown): never {
  throw new FieldError(path, value === undefined ? `${path} is missing (expected ${expected})` : `${path} must be ${expected}, got ${describe(value)}`);
}

function rule<T>(expected: string, test: (value: unknown) => boolean): Rule<T> {
  return {
    expected,
    read: (value, path) => (test(value) ? (value as T) : fail(path, expected, value)),
  };
}

const string = rule<string>('a string', (v) => typeof v === 'string');
const boolean = rule<boolean>('true or false', (v) => typeof v === 'boolean');
const finite = rule<number>('a finite number', (v) => Number.isFinite(v));
const integer = rule<number>('an integer', (v) => Number.isSafeInteger(v));
const atLeast = (min: number) => rule<number>(`a number ≥ ${min}`, (v) => Number.isFinite(v) && (v as number) >= min);
const above = (min: number) => rule<number>(`a number > ${min}`, (v) => Number.isFinite(v) && (v as number) > min);
const integerFrom = (min: number) => rule<number>(`an integer ≥ ${min}`, (v) => Number.isSafeInteger(v) && (v as number) >= min);
const oneOf = <T extends string>(...values: T[]) =>
  rule<T>(values.map((v) => `"${v}"`).join(', ').replace(/, ([^,]*)$/, ' or $1'), (v) => (values as unknown[]).includes(v));
const record = rule<Record<string, unknown>>('an object', isPlainObject);

function orNull<T>(r: Rule<T>): Rule<T | null> {
  const expected = `${r.expected} or null`;
  return {
    expected,
    fieldsOf: r.fieldsOf,
    read(value, path) {
      if (value === null) return null;
      try {
        return r.read(value, path);
      } catch (e) {
        if (e instanceof FieldError && e.path === path) return fail(path, expected, value); // say that null would do
        throw e;
      }
    },
  };
}

/** A field that may be absent (written by older versions). */
function optional<T>(r: Rule<T>): Rule<T | undefined> {
  return { expected: r.expected, fieldsOf: r.fieldsOf, read: (value, path) => (value === undefined ? undefined : r.read(value, path)) };
}

/** An absent field reads as `fallback` (and is filled in). */
function withDefault<T>(r: Rule<T>, fallback: T): Rule<T> {
  return { expected: r.expected, fieldsOf: r.fieldsOf, read: (value, path) => (value === undefined ? fallback : r.read(value, path)) };
}

function list<T>(item: Rule<T>): Rule<T[]> {
  const expected = `a list of ${item.expected.replace(/^an? /, '')}s`;
  return {
    expected,
    read(value, path) {
      if (!Array.isArray(value)) return fail(path, expected, value);
      value.forEach((v, i) => item.read(v, `${path}[${i}]`));
      return value as T[];
    },
  };
}

/** An object with one rule per field of T (the compiler insists on every field). Checked in place; extra fields kept. */
function object<T extends object>(fields: { [K in keyof T]-?: Rule<T[K]> }, check?: (value: T, path: string) => void): Rule<T> {
  return {
    expected: 'an object',
    fieldsOf: () => fields as Record<string, Rule<unknown>>,
    read(value, path) {
      if (!isPlainObject(value)) return fail(path, 'an object', value);
      for (const [key, r] of Object.entries(fields) as [string, Rule<unknown>][]) {
        const v = r.read(value[key], `${path}.${key}`);
        if (v !== undefined) value[key] = v; // an existing key keeps its place; a default is added at the end
      }
      check?.(value as T, path);
      return value as T;
    },
  };
}

// ---- the configurations --------------------------------------------------------------------------------------------

const MODEL_CONFIG = object<ModelConfig>(
  {
    cell: oneOf('egru', 'gru'),
    formulation: oneOf('evnn', 'paper'),
    inputSize: integer,
    hidden: list(integer),
    classes: integer,
    readout: oneOf('trace', 'last', 'per-step'),
    dampening: finite,
    support: finite,
    thresholdMean: finite,
    activityReg: finite,
    activityTarget: finite,
    dropout: withDefault(finite, 0), // checkpoints written before dropout existed have none
    seed: integer,
  },
  (model, path) => {
    // The ranges: the same rules as for a configuration made from command-line options.
    try {
      validateModelConfig(model);
    } catch (e) {
      throw new FieldError(path, `${path} is invalid: ${(e as Error).message}`);
    }
  },
);

/** The fields of each kind of learning-rate schedule (model/lr-schedule.ts). */
const LR_SCHEDULE_FIELDS: { [K in LrSchedule['kind']]: Rule<Extract<LrSchedule, { kind: K }>> } = {
  constant: object({ kind: oneOf('constant'), warmup: integerFrom(0) }),
  cosine: object({ kind: oneOf('cosine'), warmup: integerFrom(0), lrMin: atLeast(0), steps: integerFrom(0) }),
  step: object({ kind: oneOf('step'), warmup: integerFrom(0), lrMin: atLeast(0), every: integerFrom(1), gamma: above(0) }),
};

const LR_SCHEDULE: Rule<LrSchedule> = {
  expected: 'an object',
  fieldsOf: (value) => LR_SCHEDULE_FIELDS[value.kind as LrSchedule['kind']]?.fieldsOf?.(value) ?? {},
  read(value, path) {
    if (!isPlainObject(value)) return fail(path, 'an object', value);
    const kind = oneOf(...LR_SCHEDULES).read(value.kind, `${path}.kind`);
    return LR_SCHEDULE_FIELDS[kind].read(value, path);
  },
};

const OPTIMIZER_CONFIG = object<OptimizerConfig>(
  {
    kind: oneOf('adam', 'sgd'),
    lr: atLeast(0),
    beta1: optional(finite),
    beta2: optional(finite),
    eps: optional(finite),
    weightDecay: optional(atLeast(0)),
    momentum: optional(atLeast(0)),
    schedule: optional(LR_SCHEDULE), // absent in runs from before schedules: constant
  },
  (optimizer, path) => {
    if (!optimizer.schedule) return;
    try {
      validateLrSchedule(optimizer.lr, optimizer.schedule);
    } catch (e) {
      throw new FieldError(path, `${path}.schedule is invalid: ${(e as Error).message}`);
    }
  },
);

const TRAIN_CONFIG = object<TrainConfig>({
  command: oneOf('train'),
  version: string,
  task: orNull(string),
  data: orNull(string),
  val: orNull(string),
  seqLen: orNull(integerFrom(2)),
  limit: orNull(integerFrom(1)),
  valLimit: orNull(integerFrom(1)),
  holdout: optional(orNull(integerFrom(1))),
  model: MODEL_CONFIG,
  optimizer: OPTIMIZER_CONFIG,
  batch: integerFrom(1),
  epochs: integerFrom(1),
  steps: orNull(integerFrom(1)),
  seed: integer,
  actors: integerFrom(1),
  transport: oneOf('inline', 'threads', 'nats'),
  nats: optional(orNull(string)),
  actorHosts: optional(boolean),
  clip: atLeast(0),
  evalEvery: integerFrom(0),
  logEvery: integerFrom(1),
  saveEvery: integerFrom(0),
  maxMinutes: orNull(above(0)),
  earlyStop: optional(orNull(integerFrom(1))),
  init: orNull(string),
  preset: orNull(object<{ task: string; applied: Record<string, unknown> }>({ task: string, applied: record })),
  trainSamples: integerFrom(0),
  valSamples: integerFrom(0),
  stepsPerEpoch: integerFrom(0),
  totalSteps: integerFrom(0),
});

const IMPORT_CONFIG = object<ImportConfig>({
  command: oneOf('import'),
  version: string,
  task: orNull(string),
  weights: string,
  model: MODEL_CONFIG,
});

const BENCH_CONFIG = object<BenchConfig>({
  command: oneOf('bench'),
  version: string,
  task: string,
  model: MODEL_CONFIG,
  optimizer: OPTIMIZER_CONFIG,
  batch: integerFrom(1),
  steps: integerFrom(1),
  seed: integer,
  actors: integerFrom(1),
  key: string,
});

// ---- helpers -------------------------------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** A short description of a wrong value for a message. */
function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (ArrayBuffer.isView(v)) return 'binary data';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return typeof v;
}
