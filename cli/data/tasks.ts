/**
 * Datasets: the built-in tasks and user data from .npz (docs/formats.md).
 *
 * Built-in tasks (`loadTask`):
 * - `row-mnist`   MNIST, one image row per step: T = 28, I = 28, 10 classes.
 * - `pixel-mnist` MNIST, one pixel per step in raster order: T = 784, I = 1, 10 classes.
 * - `perm-mnist`  pixel-mnist with the pixel order shuffled by one fixed permutation, the same for every image,
 *                 run and split: PERM_MNIST_ORDER = permutation(784, 0x5eed, 0) from model/rng.ts; step t shows
 *                 pixel PERM_MNIST_ORDER[t].
 * - `adding-class` the adding problem's input as a 10-way classification (not the usual regression of the sum
 *                 with a squared error). T steps (default 100), I = 2: channel 0 a value
 *                 uniform in (0, 1), channel 1 a marker that is 1 at exactly two steps — one in the first half
 *                 [0, ⌊T/2⌋), one in the second half. Target = min(9, ⌊5 · (sum of the two marked values)⌋).
 *                 Generated from `seed` (default 0) with keyed uniforms (uniformAt(seed, Stream.data, split, i, …)),
 *                 so example i is the same whatever `limit` is; train and test use different keys.
 *                 Default size 10000 (train) / 2000 (test); `limit` sets the number of examples.
 * - `moby-dick`, `sotu` character-level language modelling (cli/data/text.ts): one character per step as one
 *                 input item, the next character as every step's target; T (default 100) is the segment length of
 *                 truncated BPTT. Splits train / validation / test (90 / 5 / 5 % of the characters); `limit` keeps
 *                 the first `limit` characters of the split.
 * MNIST splits are the standard 60000 / 10000; `limit` keeps the first `limit` examples. With `holdout` N
 * (MNIST_HOLDOUT_TASKS only) the last N of the 60000 training images — indices 60000 − N … 59999 of the IDX file,
 * whatever the seed or `limit` — form the split `holdout` and are left out of `train`, which keeps the first
 * 60000 − N (then `limit` of those).
 */
import { permutation, Stream, uniformAt } from '../../model/rng.js';
import { InputError } from '../io/errors.js';
import { readNpz } from '../io/npz.js';
import { elementName, formatShape, toFloat32, toInt32 } from '../io/npy.js';
import { loadMnist, type Split } from './mnist.js';
import { buildCorpus, corpusText, encode, textSamples, type Corpus, type SampleWriter, type TextTask } from './text.js';

export interface Dataset {
  /** Inputs [n, steps, inputSize], row-major. */
  x: Float32Array;
  /** Labels [n] (perStep false) or per-step targets [n, steps] with −1 = no target (perStep true). */
  y: Int32Array;
  n: number;
  steps: number;
  inputSize: number;
  classes: number;
  perStep: boolean;
  /**
   * Samples made on demand (text tasks): writes sample i's inputs and targets; `x` and `y` are then empty, and
   * Batcher (cli/train-loop.ts) uses this instead.
   */
  source?: SampleWriter;
  /** Sample i + 1 continues sample i (segments of one text): trained and evaluated as streams with carried state. */
  contiguous?: boolean;
}

export interface TaskInfo {
  description: string;
  /** Sequence length (for `adding-class`, the default; set with `steps`). */
  steps: number;
  inputSize: number;
  classes: number;
  perStep: boolean;
  /** Examples per split (for `adding-class`, the default count). */
  size: { train: number; test: number };
}

/** More classes than this is not a classification a readout can learn; a label that large is a data error. */
export const MAX_CLASSES = 1 << 20;

export const TASKS = {
  'row-mnist': { description: 'MNIST, one 28-pixel row per step', steps: 28, inputSize: 28, classes: 10, perStep: false, size: { train: 60000, test: 10000 } },
  'pixel-mnist': { description: 'MNIST, one pixel per step (raster order)', steps: 784, inputSize: 1, classes: 10, perStep: false, size: { train: 60000, test: 10000 } },
  'perm-mnist': { description: 'MNIST, one pixel per step in a fixed permuted order', steps: 784, inputSize: 1, classes: 10, perStep: false, size: { train: 60000, test: 10000 } },
  'adding-class': { description: '10-way classification of the sum of two marked values (adding-problem inputs)', steps: 100, inputSize: 2, classes: 10, perStep: false, size: { train: 10000, test: 2000 } },
  // text tasks: inputSize = classes = the vocabulary (unknown symbol included); size: characters of the train and test splits
  'moby-dick': { description: 'Moby Dick, next character (character-level language model)', steps: 100, inputSize: 80, classes: 80, perStep: true, size: { train: 1071285, test: 59516 } },
  sotu: { description: 'State of the Union addresses, next character (language model)', steps: 100, inputSize: 86, classes: 86, perStep: true, size: { train: 9684455, test: 538026 } },
} satisfies Record<string, TaskInfo>;

export type TaskName = keyof typeof TASKS;

export function knownTasks(): TaskName[] {
  return Object.keys(TASKS) as TaskName[];
}

/** Tasks renamed since: the old name is refused with the new one, except where a checkpoint or run recorded it. */
const RENAMED: Record<string, TaskName> = { adding: 'adding-class' };

/** Why `name` is not a task: renamed (with what it is now called), or unknown (with the known ones). */
export function unknownTaskMessage(name: string): string {
  if (Object.hasOwn(RENAMED, name))
    return `task '${name}' is now called '${RENAMED[name]}': it classifies the sum of two marked values into 10 classes, it is not the adding problem's regression`;
  return `unknown task '${name}' (known tasks: ${knownTasks().join(', ')})`;
}

/** The current name of a task a checkpoint or run directory recorded (runs before the rename recorded `adding`). */
export function recordedTask(name: string): string {
  return Object.hasOwn(RENAMED, name) ? RENAMED[name]! : name;
}

/** Seed of the perm-mnist pixel order. */
export const PERM_MNIST_SEED = 0x5eed;
let permOrder: Int32Array | undefined;
/** The fixed perm-mnist pixel order: step t shows pixel PERM_MNIST_ORDER()[t] (= permutation(784, 0x5eed, 0)). */
export function permMnistOrder(): Int32Array {
  return permOrderShared().slice();
}
function permOrderShared(): Int32Array {
  return (permOrder ??= permutation(784, PERM_MNIST_SEED, 0));
}

/** The tasks whose training split can give up a held-out validation split (`holdout`). */
export const MNIST_HOLDOUT_TASKS = ['row-mnist', 'pixel-mnist', 'perm-mnist'] as const;

export function canHoldOut(name: string): boolean {
  return (MNIST_HOLDOUT_TASKS as readonly string[]).includes(name);
}

/** A split of a built-in task: `validation` of the text tasks, `holdout` of the MNIST tasks (see `holdout`). */
export type TaskSplit = Split | 'validation' | 'holdout';

export interface TaskOptions {
  /** MNIST tasks: keep the first `limit` examples. `adding-class`: number of examples to generate. Text: characters. */
  limit?: number;
  /** `adding-class` only: data seed (default 0). */
  seed?: number;
  /** `adding-class`: sequence length (default 100, at least 2); text tasks: segment length. MNIST: fixed length. */
  steps?: number;
  /**
   * MNIST tasks: the last `holdout` training images are the split `holdout`, and `train` leaves them out
   * (0 or absent: none). An integer in [0, 60000).
   */
  holdout?: number;
}

/** Tasks whose data is a text (cli/data/text.ts), with train, validation and test splits. */
export function isTextTask(name: string): name is TextTask {
  return name === 'moby-dick' || name === 'sotu';
}

/** Load a built-in task. Unknown name or bad option → InputError. */
export function loadTask(name: string, split: TaskSplit, opts: TaskOptions = {}): Dataset {
  if (!Object.hasOwn(TASKS, name)) throw new InputError(unknownTaskMessage(name));
  const task = name as TaskName;
  const splits = isTextTask(task) ? 'train, validation or test' : canHoldOut(task) ? 'train, test or holdout' : 'train or test';
  if (split !== 'train' && split !== 'test' && !(split === 'validation' && isTextTask(task)) && !(split === 'holdout' && canHoldOut(task)))
    throw new InputError(`unknown split '${String(split)}' of task ${task} (${splits})`);
  const info: TaskInfo = TASKS[task];
  const { limit, seed, steps } = opts;
  const holdout = opts.holdout ?? 0;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new InputError(`limit must be a positive integer, got ${limit}`);
  if (holdout !== 0) checkHoldout(task, holdout);
  if (isTextTask(task)) return textDataset(task, split as Split | 'validation', steps ?? info.steps, limit);
  if (split === 'validation') throw new InputError(`task ${task} has no validation split`); // (narrows the type)
  if (task !== 'adding-class') {
    if (steps !== undefined && steps !== info.steps) throw new InputError(`task ${task} has a fixed length of ${info.steps} steps (got steps = ${steps})`);
    if (split === 'holdout' && holdout === 0) throw new InputError(`task ${task}: the holdout split needs holdout ≥ 1 (the number of training images to hold out)`);
    // row-mnist and pixel-mnist share the memory layout of the images; perm-mnist reorders while converting.
    const pixelOrder = task === 'perm-mnist' ? permOrderShared() : undefined;
    const m = loadMnist(split === 'test' ? 'test' : 'train', { ...mnistRows(split, holdout, limit, info.size.train), pixelOrder });
    return { x: m.images, y: m.labels, n: m.n, steps: info.steps, inputSize: info.inputSize, classes: 10, perStep: false };
  }
  if (split === 'holdout') throw new InputError(`task ${task} has no holdout split`); // (narrows the type)
  const T = steps ?? info.steps;
  if (!(Number.isInteger(T) && T >= 2)) throw new InputError(`adding-class: steps must be an integer ≥ 2, got ${T}`);
  if (seed !== undefined && !Number.isInteger(seed)) throw new InputError(`seed must be an integer, got ${seed}`);
  return addingClass(limit ?? info.size[split], T, seed ?? 0, split);
}

/** `holdout` must be an integer that leaves at least one training image: one InputError line otherwise. */
export function checkHoldout(task: TaskName, holdout: number): void {
  if (!canHoldOut(task))
    throw new InputError(
      `--holdout applies to the MNIST tasks (${MNIST_HOLDOUT_TASKS.join(', ')}): ${isTextTask(task) ? `${task} validates on its own validation split` : `${task} has no held-out split (it validates on its generated test split)`}`,
    );
  const size = TASKS[task].size.train;
  if (!(Number.isSafeInteger(holdout) && holdout >= 0 && holdout < size))
    throw new InputError(`--holdout must be an integer from 0 to ${size - 1} (${task} has ${size} training images and needs at least one to train on), got ${holdout}`);
}

/** Which rows of the MNIST IDX file a split reads: the held-out images are the last `holdout` training ones. */
function mnistRows(split: Split | 'holdout', holdout: number, limit: number | undefined, trainSize: number): { from: number; limit?: number } {
  if (split === 'test') return { from: 0, limit };
  if (split === 'holdout') return { from: trainSize - holdout, limit: Math.min(limit ?? holdout, holdout) };
  return { from: 0, limit: Math.min(limit ?? trainSize, trainSize - holdout) };
}

const corpora = new Map<TextTask, Corpus>();

/** A split of a text task as samples made on demand (cli/data/text.ts). */
function textDataset(task: TextTask, split: Split | 'validation', steps: number, limit: number | undefined): Dataset {
  if (!(Number.isInteger(steps) && steps >= 1)) throw new InputError(`${task}: the segment length must be a positive integer, got ${steps}`);
  let corpus = corpora.get(task);
  if (!corpus) corpora.set(task, (corpus = buildCorpus(corpusText(task))));
  const [from, to] = corpus.bounds[split];
  const ids = encode(corpus, from, limit !== undefined ? Math.min(to, from + limit) : to);
  const V = corpus.vocabulary.length;
  const { n, write } = textSamples(ids, steps, V);
  if (n === 0) throw new InputError(`${task} (${split}): ${ids.length} characters make no segment of ${steps} steps and its next character`);
  return { x: new Float32Array(0), y: new Int32Array(0), n, steps, inputSize: V, classes: V, perStep: true, source: write, contiguous: true };
}

/** The adding-class task (see the module comment). Deterministic in (n index, T, seed, split). */
export function addingClass(n: number, T: number, seed: number, split: Split): Dataset {
  const s = split === 'train' ? 0 : 1;
  const half = Math.floor(T / 2);
  const x = new Float32Array(n * T * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p1 = Math.min(half - 1, Math.floor(uniformAt(seed, Stream.data, s, i, 0) * half));
    const p2 = half + Math.min(T - half - 1, Math.floor(uniformAt(seed, Stream.data, s, i, 1) * (T - half)));
    const o = i * T * 2;
    for (let t = 0; t < T; t++) x[o + 2 * t] = uniformAt(seed, Stream.data, s, i, 2, t);
    x[o + 2 * p1 + 1] = 1;
    x[o + 2 * p2 + 1] = 1;
    const sum = x[o + 2 * p1]! + x[o + 2 * p2]!;
    y[i] = Math.min(9, Math.floor(sum * 5));
  }
  return { x, y, n, steps: T, inputSize: 2, classes: 10, perStep: false };
}

export interface NpzDataOptions {
  /** Number of classes; labels ≥ classes are rejected. Default: max label + 1. */
  classes?: number;
  /** Required input size I (e.g. a validation set must match the training data). */
  inputSize?: number;
}

/**
 * User data from .npz (docs/formats.md): `x` float [N, T, I]; `y` integer [N] (one label per sequence) or [N, T]
 * (per-step targets, −1 = none). Missing keys, wrong dims, NaN/Inf in x, labels outside [0, classes) → InputError.
 */
export function datasetFromNpz(path: string, opts: NpzDataOptions = {}): Dataset {
  const bad = (what: string) => new InputError(`${path}: ${what}`);
  const map = readNpz(path);
  const keys = [...map.keys()];
  const xa = map.get('x');
  const ya = map.get('y');
  const have = keys.length ? `it has ${keys.join(', ')}` : 'it has no arrays';
  if (!xa) throw bad(`missing array 'x' (inputs, float32 [N, T, I]); ${have}`);
  if (!ya) throw bad(`missing array 'y' (labels, integer [N] or [N, T]); ${have}`);
  if (xa.shape.length !== 3)
    throw bad(`x has shape ${formatShape(xa.shape)}, expected 3 dimensions [N, T, I]${xa.shape.length === 2 ? ' (for one input per step, reshape to (N, T, 1))' : ''}`);
  const [N, T, I] = xa.shape as [number, number, number];
  if (N === 0) throw bad('x holds no sequences (N = 0)');
  if (T === 0) throw bad('x has zero-length sequences (T = 0)');
  if (I === 0) throw bad('x has no input features (I = 0)');
  if (opts.inputSize !== undefined && I !== opts.inputSize) throw bad(`x has ${I} inputs per step, expected ${opts.inputSize}`);
  if (xa.dtype === '|b1') throw bad('x is boolean; expected float32');
  const rethrow = (e: unknown): never => {
    if (e instanceof InputError) throw bad(e.message);
    throw e;
  };
  let x: Float32Array;
  try {
    x = toFloat32(xa, 'x');
  } catch (e) {
    rethrow(e);
  }
  for (let k = 0; k < x!.length; k++) {
    const v = x![k]!;
    if (v - v !== 0) throw bad(`${elementName('x', xa.shape, k)} is ${v} (inputs must be finite)`);
  }

  let perStep: boolean;
  if (ya.shape.length === 1) {
    if (ya.shape[0] !== N) throw bad(`y has ${ya.shape[0]} labels for ${N} sequences in x`);
    perStep = false;
  } else if (ya.shape.length === 2) {
    if (ya.shape[0] !== N || ya.shape[1] !== T)
      throw bad(`y has shape ${formatShape(ya.shape)}; per-step targets need (N, T) = ${formatShape([N, T])}, per-sequence labels (N,) = ${formatShape([N])}`);
    perStep = true;
  } else throw bad(`y has shape ${formatShape(ya.shape)}; expected (N,) = ${formatShape([N])} or (N, T) = ${formatShape([N, T])}`);
  if (ya.dtype === '|b1') throw bad(`y is boolean; expected integer labels`);
  let y: Int32Array;
  try {
    y = toInt32(ya, 'y');
  } catch (e) {
    rethrow(e);
  }
  if (y! === ya.data) y = Int32Array.from(y!);
  const given = opts.classes;
  if (given !== undefined && !(Number.isInteger(given) && given > 0)) throw new InputError(`classes must be a positive integer, got ${given}`);
  if (given !== undefined && given > MAX_CLASSES) throw new InputError(`classes must be at most ${MAX_CLASSES}, got ${given}`);
  let max = -1;
  let maxAt = -1;
  for (let k = 0; k < y!.length; k++) {
    const v = y![k]!;
    if (v < 0) {
      if (!perStep) throw bad(`${elementName('y', ya.shape, k)} = ${v}: every sequence needs a label ≥ 0 (−1 is allowed only in per-step targets [N, T])`);
      if (v !== -1) throw bad(`${elementName('y', ya.shape, k)} = ${v}: targets must be ≥ 0, or −1 for none`);
      continue;
    }
    if (given !== undefined && v >= given) throw bad(`${elementName('y', ya.shape, k)} = ${v} is outside [0, ${given}) (${given} classes)`);
    if (v > max) [max, maxAt] = [v, k];
  }
  if (max < 0) throw bad('y holds no targets (all −1)');
  if (max >= MAX_CLASSES)
    throw bad(`${elementName('y', ya.shape, maxAt)} = ${max}: labels are class indices 0…C−1, and this one would make ${max + 1} classes (at most ${MAX_CLASSES})`);
  const classes = given ?? max + 1;
  return { x: x!, y: y!, n: N, steps: T, inputSize: I, classes, perStep };
}
