import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx, readIdx } from '../cli/data/idx.js';
import { loadMnist, mnistFiles } from '../cli/data/mnist.js';
import { addingClass, datasetFromNpz, knownTasks, loadTask, permMnistOrder } from '../cli/data/tasks.js';
import { ndarray, type NdArray } from '../cli/io/npy.js';
import { writeNpz } from '../cli/io/npz.js';
import { permutation } from '../model/rng.js';
import { inputError } from './helpers/input-error.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'egru-data-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


function idxBytes(magic: number, dims: number[], body: number[] | Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  v.setUint32(0, magic, false);
  dims.forEach((d, k) => v.setUint32(4 + 4 * k, d, false));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

describe('IDX parser', () => {
  it('reads the real MNIST files', () => {
    const train = mnistFiles('train');
    const test = mnistFiles('test');
    const labels = readIdx(train.labels, IDX_LABELS_MAGIC);
    expect(labels.dims).toEqual([60000]);
    expect(labels.data[0]).toBe(5);
    expect(readIdx(test.labels, IDX_LABELS_MAGIC).dims).toEqual([10000]);
    const head = readIdx(train.images, IDX_IMAGES_MAGIC, 3);
    expect(head.dims).toEqual([3, 28, 28]);
    expect(head.total).toBe(60000);
    expect(head.data.length).toBe(3 * 784);
    expect(readIdx(test.images, IDX_IMAGES_MAGIC, 1).total).toBe(10000);
  });

  it('loads MNIST as floats in [0, 1]: every pixel is its byte / 255', () => {
    const m = loadMnist('train');
    expect(m.n).toBe(60000);
    expect(m.images.length).toBe(60000 * 784);
    expect(m.labels[0]).toBe(5);
    let max = 0;
    let min = 1;
    for (let k = 0; k < 784 * 100; k++) {
      max = Math.max(max, m.images[k]!);
      min = Math.min(min, m.images[k]!);
    }
    expect(max).toBe(1);
    expect(min).toBe(0);
    const raw = readIdx(mnistFiles('train').images, IDX_IMAGES_MAGIC).data;
    expect(raw.length).toBe(m.images.length);
    let wrong = 0;
    for (let k = 0; k < raw.length; k++) if (m.images[k] !== Math.fround(raw[k]! / 255)) wrong++;
    expect(wrong).toBe(0);
    const t = loadMnist('test', { limit: 7 });
    expect(t.n).toBe(7);
    expect(t.images.length).toBe(7 * 784);
  });

  it('rejects bad magic, truncated and oversized files', () => {
    const good = idxBytes(IDX_IMAGES_MAGIC, [2, 2, 3], new Uint8Array(12));
    expect(parseIdx(good, 'g', IDX_IMAGES_MAGIC).dims).toEqual([2, 2, 3]);
    expect(inputError(() => parseIdx(good, 'lab.idx', IDX_LABELS_MAGIC))).toMatch(/lab\.idx: IDX file has 3 dimensions/);
    expect(inputError(() => parseIdx(idxBytes(0x12345678, [1], [0]), 'x.idx', IDX_LABELS_MAGIC))).toMatch(/x\.idx: not an IDX file \(magic 0x12345678/);
    expect(inputError(() => parseIdx(idxBytes(0x00000d01, [1], [0]), 'f.idx', IDX_LABELS_MAGIC))).toMatch(/unsupported IDX data type 0xd/);
    expect(inputError(() => parseIdx(good.subarray(0, good.length - 1), 't.idx', IDX_IMAGES_MAGIC))).toMatch(/t\.idx: truncated: dimensions 2 × 2 × 3 need 28 bytes, file has 27/);
    expect(inputError(() => parseIdx(good.subarray(0, 9), 'h.idx', IDX_IMAGES_MAGIC))).toMatch(/truncated IDX header/);
    expect(inputError(() => parseIdx(good.subarray(0, 2), 'h.idx', IDX_IMAGES_MAGIC))).toMatch(/not an IDX file/);
    expect(inputError(() => parseIdx(Uint8Array.from([...good, 0]), 'o.idx', IDX_IMAGES_MAGIC))).toMatch(/1 extra/);
    const p = join(dir, 'cut-labels');
    writeFileSync(p, idxBytes(IDX_LABELS_MAGIC, [10], [1, 2, 3]));
    expect(inputError(() => readIdx(p, IDX_LABELS_MAGIC))).toMatch(/cut-labels: truncated/);
    expect(inputError(() => readIdx(p, IDX_LABELS_MAGIC, 2))).toMatch(/truncated/); // size is checked even with a limit
    expect(inputError(() => readIdx(join(dir, 'absent'), IDX_LABELS_MAGIC))).toMatch(/absent: no such file/);
  });
});

describe('built-in tasks', () => {
  it('have the right shapes', () => {
    const row = loadTask('row-mnist', 'train', { limit: 5 });
    expect([row.n, row.steps, row.inputSize, row.classes, row.perStep]).toEqual([5, 28, 28, 10, false]);
    expect(row.x.length).toBe(5 * 28 * 28);
    expect(row.y.length).toBe(5);
    expect(row.y[0]).toBe(5);
    const pix = loadTask('pixel-mnist', 'test', { limit: 4 });
    expect([pix.n, pix.steps, pix.inputSize, pix.classes]).toEqual([4, 784, 1, 10]);
    expect(pix.x.length).toBe(4 * 784);
    const add = loadTask('adding-class', 'train', { limit: 50, steps: 30 });
    expect([add.n, add.steps, add.inputSize, add.classes, add.perStep]).toEqual([50, 30, 2, 10, false]);
    expect(add.x.length).toBe(50 * 30 * 2);
    expect(loadTask('adding-class', 'test').n).toBe(2000);
    expect(loadTask('row-mnist', 'test').n).toBe(10000);
  });

  it('perm-mnist is the fixed permutation of pixel-mnist', () => {
    const perm = permMnistOrder();
    expect(Array.from(perm)).toEqual(Array.from(permutation(784, 0x5eed, 0)));
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 784 }, (_, k) => k));
    const pix = loadTask('pixel-mnist', 'train', { limit: 3 });
    const per = loadTask('perm-mnist', 'train', { limit: 3 });
    expect(Array.from(per.y)).toEqual(Array.from(pix.y));
    for (let i = 0; i < 3; i++) for (let t = 0; t < 784; t++) expect(per.x[i * 784 + t]).toBe(pix.x[i * 784 + perm[t]!]);
    expect(Array.from(per.x.subarray(0, 784))).not.toEqual(Array.from(pix.x.subarray(0, 784)));
  });

  it('adding-class is deterministic, well-formed and seed/split dependent', () => {
    const a = loadTask('adding-class', 'train', { limit: 200, seed: 4 });
    const b = loadTask('adding-class', 'train', { limit: 200, seed: 4 });
    expect(a.x).toEqual(b.x);
    expect(a.y).toEqual(b.y);
    expect(loadTask('adding-class', 'train', { limit: 200, seed: 5 }).x).not.toEqual(a.x);
    expect(loadTask('adding-class', 'test', { limit: 200, seed: 4 }).x).not.toEqual(a.x);
    // a prefix does not depend on the count
    expect(Array.from(addingClass(10, 100, 4, 'train').y)).toEqual(Array.from(a.y.subarray(0, 10)));
    const T = a.steps;
    const seen = new Set<number>();
    for (let i = 0; i < a.n; i++) {
      const marked: number[] = [];
      for (let t = 0; t < T; t++) {
        const v = a.x[(i * T + t) * 2]!;
        expect(v > 0 && v < 1).toBe(true);
        if (a.x[(i * T + t) * 2 + 1] === 1) marked.push(t);
      }
      expect(marked.length).toBe(2);
      expect(marked[0]! < T / 2 && marked[1]! >= Math.floor(T / 2)).toBe(true);
      const sum = a.x[(i * T + marked[0]!) * 2]! + a.x[(i * T + marked[1]!) * 2]!;
      expect(a.y[i]).toBe(Math.min(9, Math.floor(sum * 5)));
      seen.add(a.y[i]!);
    }
    expect(seen.size).toBeGreaterThan(6);
  });

  it('rejects unknown tasks and bad options', () => {
    expect(inputError(() => loadTask('cifar', 'train'))).toMatch(/unknown task 'cifar' \(known tasks: row-mnist, pixel-mnist, perm-mnist, adding-class, moby-dick, sotu\)/);
    expect(knownTasks()).toContain('adding-class');
    expect(inputError(() => loadTask('adding', 'train'))).toMatch(/^task 'adding' is now called 'adding-class'/);
    expect(inputError(() => loadTask('row-mnist', 'train', { steps: 100 }))).toMatch(/fixed length of 28 steps/);
    expect(inputError(() => loadTask('adding-class', 'train', { steps: 1 }))).toMatch(/steps must be an integer ≥ 2/);
    expect(inputError(() => loadTask('adding-class', 'train', { limit: 0 }))).toMatch(/limit must be a positive integer/);
  });
});

describe('datasetFromNpz', () => {
  let n = 0;
  const write = (entries: Record<string, NdArray>) => {
    const p = join(dir, `d${n++}.npz`);
    writeNpz(p, entries);
    return p;
  };
  const x = (N: number, T: number, I: number) => ndarray(Float32Array.from({ length: N * T * I }, (_, k) => (k % 7) / 7), [N, T, I]);

  it('loads per-sequence and per-step data', () => {
    const d = datasetFromNpz(write({ x: x(4, 3, 2), y: ndarray(new BigInt64Array([0n, 2n, 1n, 2n])) }));
    expect([d.n, d.steps, d.inputSize, d.classes, d.perStep]).toEqual([4, 3, 2, 3, false]);
    expect(Array.from(d.y)).toEqual([0, 2, 1, 2]);
    expect(d.x[1]).toBeCloseTo(1 / 7);
    const s = datasetFromNpz(write({ x: x(2, 3, 1), y: ndarray(new Int32Array([-1, 4, 0, 1, -1, 2]), [2, 3]) }), { classes: 6 });
    expect([s.perStep, s.classes]).toEqual([true, 6]);
    expect(Array.from(s.y)).toEqual([-1, 4, 0, 1, -1, 2]);
    const f64 = datasetFromNpz(write({ x: ndarray(new Float64Array(6), [2, 3, 1]), y: ndarray(new Uint8Array([1, 0])) }));
    expect(f64.x).toBeInstanceOf(Float32Array);
  });

  it('rejects NaN/Inf, bad labels, wrong dims and missing keys', () => {
    const nan = x(2, 3, 2);
    (nan.data as Float32Array)[1 * 6 + 2 * 2 + 1] = NaN;
    expect(inputError(() => datasetFromNpz(write({ x: nan, y: ndarray(new Int32Array([0, 1])) })))).toMatch(/x\[1, 2, 1\] is NaN/);
    const inf = x(2, 3, 2);
    (inf.data as Float32Array)[0] = -Infinity;
    expect(inputError(() => datasetFromNpz(write({ x: inf, y: ndarray(new Int32Array([0, 1])) })))).toMatch(/x\[0, 0, 0\] is -Infinity/);
    const y2 = ndarray(new Int32Array([0, 1]));
    let p = write({ x: x(2, 3, 1), y: ndarray(new Int32Array([0, 5])) });
    expect(inputError(() => datasetFromNpz(p, { classes: 5 }))).toMatch(/y\[1\] = 5 is outside \[0, 5\)/);
    expect(datasetFromNpz(p).classes).toBe(6);
    expect(inputError(() => datasetFromNpz(write({ x: x(2, 3, 1), y: ndarray(new Int32Array([0, -1])) })))).toMatch(/y\[1\] = -1: every sequence needs a label/);
    expect(inputError(() => datasetFromNpz(write({ x: x(1, 2, 1), y: ndarray(new Int32Array([0, -2]), [1, 2]) })))).toMatch(/y\[0, 1\] = -2: targets must be ≥ 0, or −1/);
    expect(inputError(() => datasetFromNpz(write({ x: x(1, 2, 1), y: ndarray(new Int32Array([-1, -1]), [1, 2]) })))).toMatch(/no targets/);
    expect(inputError(() => datasetFromNpz(write({ x: x(2, 3, 1), y: ndarray(new Float32Array([0, 1.5])) })))).toMatch(/y\[1\] = 1.5 is not an integer/);
    expect(inputError(() => datasetFromNpz(write({ x: ndarray(new Float32Array(6), [2, 3]), y: y2 })))).toMatch(/x has shape \(2, 3\), expected 3 dimensions.*reshape to \(N, T, 1\)/);
    expect(inputError(() => datasetFromNpz(write({ x: x(3, 3, 1), y: y2 })))).toMatch(/y has 2 labels for 3 sequences/);
    expect(inputError(() => datasetFromNpz(write({ x: x(2, 3, 1), y: ndarray(new Int32Array(4), [2, 2]) })))).toMatch(/y has shape \(2, 2\); per-step targets need \(N, T\) = \(2, 3\)/);
    expect(inputError(() => datasetFromNpz(write({ x: x(2, 3, 1), y: ndarray(new Int32Array(2), [2, 1, 1]) })))).toMatch(/y has shape \(2, 1, 1\)/);
    expect(inputError(() => datasetFromNpz(write({ x: x(2, 3, 1) })))).toMatch(/missing array 'y'.*it has x/);
    expect(inputError(() => datasetFromNpz(write({ y: y2 })))).toMatch(/missing array 'x'/);
    expect(inputError(() => datasetFromNpz(write({ x: x(0, 3, 1), y: ndarray(new Int32Array(0)) })))).toMatch(/no sequences/);
    expect(inputError(() => datasetFromNpz(write({ x: x(2, 3, 2), y: y2 }), { inputSize: 3 }))).toMatch(/2 inputs per step, expected 3/);
    expect(inputError(() => datasetFromNpz(join(dir, 'none.npz')))).toMatch(/none\.npz: no such file/);
  });
});
