/**
 * Parameters in the EvNN native layout (docs/math.md), the seeded initialisation, and conversion to and from
 * the per-group layout the actors use.
 */
import { layerInputSize, type ModelConfig } from './config.js';
import { KeyedStream, normalAt, Stream } from './rng.js';

export type Tensor = Float64Array | Float32Array;

export interface LayerParams<T extends Tensor = Tensor> {
  /** I × 3H row-major; column blocks z, r, g (for `paper`: u, r, g). */
  kernel: T;
  /** H × 3H row-major; row j = weights leaving unit j. */
  recurrentKernel: T;
  bias: T; // 3H
  recurrentBias: T; // 3H
  thr: T; // H (unused by the dense GRU, kept for a uniform layout)
}

export interface Params<T extends Tensor = Tensor> {
  layers: LayerParams<T>[];
  readout: { weight: T; bias: T }; // weight C × H_last row-major, bias C
}

/** Names and shapes of every tensor, in a fixed order (export/import, optimiser, tests). */
export function paramShapes(cfg: ModelConfig): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  cfg.hidden.forEach((h, l) => {
    const i = layerInputSize(cfg, l);
    out.push({ name: `layers.${l}.kernel`, shape: [i, 3 * h] });
    out.push({ name: `layers.${l}.recurrent_kernel`, shape: [h, 3 * h] });
    out.push({ name: `layers.${l}.bias`, shape: [3 * h] });
    out.push({ name: `layers.${l}.recurrent_bias`, shape: [3 * h] });
    out.push({ name: `layers.${l}.thr`, shape: [h] });
  });
  const last = cfg.hidden[cfg.hidden.length - 1]!;
  out.push({ name: 'readout.weight', shape: [cfg.classes, last] });
  out.push({ name: 'readout.bias', shape: [cfg.classes] });
  return out;
}

/** The tensors of `p` in the order of paramShapes. */
export function paramList<T extends Tensor>(p: Params<T>): T[] {
  const out: T[] = [];
  for (const l of p.layers) out.push(l.kernel, l.recurrentKernel, l.bias, l.recurrentBias, l.thr);
  out.push(p.readout.weight, p.readout.bias);
  return out;
}

export function mapParams<T extends Tensor, U extends Tensor>(p: Params<T>, f: (t: T) => U): Params<U> {
  return {
    layers: p.layers.map((l) => ({
      kernel: f(l.kernel),
      recurrentKernel: f(l.recurrentKernel),
      bias: f(l.bias),
      recurrentBias: f(l.recurrentBias),
      thr: f(l.thr),
    })),
    readout: { weight: f(p.readout.weight), bias: f(p.readout.bias) },
  };
}

export function zerosLike(p: Params): Params<Float64Array> {
  return mapParams(p, (t) => new Float64Array(t.length));
}
export function toFloat64(p: Params): Params<Float64Array> {
  return mapParams(p, (t) => Float64Array.from(t));
}
export function toFloat32(p: Params): Params<Float32Array> {
  return mapParams(p, (t) => Float32Array.from(t));
}

/**
 * Seeded initialisation: Xavier-normal weights, Beta(3m/(1−m), 3) thresholds, zero biases.
 * Each value is keyed by (seed, stream, layer, column, row), never by an actor or a draw order.
 */
export function initParams(cfg: ModelConfig): Params<Float32Array> {
  const layers: LayerParams<Float32Array>[] = cfg.hidden.map((h, l) => {
    const inSize = layerInputSize(cfg, l);
    const kernel = new Float32Array(inSize * 3 * h);
    const stdK = Math.sqrt(2 / (inSize + 3 * h));
    for (let i = 0; i < inSize; i++)
      for (let c = 0; c < 3 * h; c++) kernel[i * 3 * h + c] = stdK * normalAt(cfg.seed, Stream.kernel, l, c, i);
    const recurrentKernel = new Float32Array(h * 3 * h);
    const stdR = Math.sqrt(2 / (h + 3 * h));
    for (let j = 0; j < h; j++)
      for (let c = 0; c < 3 * h; c++)
        recurrentKernel[j * 3 * h + c] = stdR * normalAt(cfg.seed, Stream.recurrentKernel, l, c, j);
    const thr = new Float32Array(h);
    const m = cfg.thresholdMean;
    for (let j = 0; j < h; j++) thr[j] = new KeyedStream(cfg.seed, Stream.threshold, l, j).beta((3 * m) / (1 - m), 3);
    return { kernel, recurrentKernel, bias: new Float32Array(3 * h), recurrentBias: new Float32Array(3 * h), thr };
  });
  const last = cfg.hidden[cfg.hidden.length - 1]!;
  const weight = new Float32Array(cfg.classes * last);
  const stdW = Math.sqrt(2 / (cfg.classes + last));
  for (let c = 0; c < cfg.classes; c++)
    for (let j = 0; j < last; j++) weight[c * last + j] = stdW * normalAt(cfg.seed, Stream.readout, 0, c, j);
  return { layers, readout: { weight, bias: new Float32Array(cfg.classes) } };
}

/** Contiguous split of n units into g groups whose sizes differ by at most one (larger groups first). */
export function evenSplit(n: number, g: number): number[] {
  if (!Number.isInteger(g) || g < 1 || g > n) throw new Error(`cannot split ${n} units into ${g} groups`);
  const base = Math.floor(n / g);
  const extra = n % g;
  return Array.from({ length: g }, (_, k) => base + (k < extra ? 1 : 0));
}

/** Group boundaries [start0, start1, …, n] from group sizes. */
export function boundaries(sizes: number[]): number[] {
  const b = [0];
  for (const s of sizes) b.push(b[b.length - 1]! + s);
  return b;
}

/**
 * Per-group layout: an incoming event from input/unit i reads one contiguous row of 3n floats
 * (own columns of the z, r, g blocks, in that order).
 */
export interface GroupParams {
  unitStart: number;
  units: number; // n
  inputSize: number;
  layerSize: number;
  kernel: Float32Array; // inputSize × 3n
  recurrentKernel: Float32Array; // layerSize × 3n
  bias: Float32Array; // 3n
  recurrentBias: Float32Array; // 3n
  thr: Float32Array; // n
}

/** Copy the columns of units [start, start+n) out of a native-layout layer. */
export function sliceGroup(layer: LayerParams, inputSize: number, layerSize: number, start: number, n: number): GroupParams {
  const H = layerSize;
  const gatherRows = (src: Tensor, rows: number) => {
    const dst = new Float32Array(rows * 3 * n);
    for (let i = 0; i < rows; i++)
      for (let k = 0; k < 3; k++)
        for (let j = 0; j < n; j++) dst[i * 3 * n + k * n + j] = src[i * 3 * H + k * H + start + j]!;
    return dst;
  };
  const gatherVec = (src: Tensor) => {
    const dst = new Float32Array(3 * n);
    for (let k = 0; k < 3; k++) for (let j = 0; j < n; j++) dst[k * n + j] = src[k * H + start + j]!;
    return dst;
  };
  return {
    unitStart: start,
    units: n,
    inputSize,
    layerSize,
    kernel: gatherRows(layer.kernel, inputSize),
    recurrentKernel: gatherRows(layer.recurrentKernel, H),
    bias: gatherVec(layer.bias),
    recurrentBias: gatherVec(layer.recurrentBias),
    thr: Float32Array.from(layer.thr.subarray(start, start + n)),
  };
}

/** Write a group's columns back into a native-layout layer (inverse of sliceGroup). */
export function scatterGroup(g: GroupParams, layer: LayerParams): void {
  const H = g.layerSize;
  const n = g.units;
  const s = g.unitStart;
  const scatterRows = (src: Float32Array, dst: Tensor, rows: number) => {
    for (let i = 0; i < rows; i++)
      for (let k = 0; k < 3; k++) for (let j = 0; j < n; j++) dst[i * 3 * H + k * H + s + j] = src[i * 3 * n + k * n + j]!;
  };
  const scatterVec = (src: Float32Array, dst: Tensor) => {
    for (let k = 0; k < 3; k++) for (let j = 0; j < n; j++) dst[k * H + s + j] = src[k * n + j]!;
  };
  scatterRows(g.kernel, layer.kernel, g.inputSize);
  scatterRows(g.recurrentKernel, layer.recurrentKernel, H);
  scatterVec(g.bias, layer.bias);
  scatterVec(g.recurrentBias, layer.recurrentBias);
  layer.thr.set(g.thr, s);
}
