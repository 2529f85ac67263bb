/**
 * Weights interchange in the EvNN native layout (docs/formats.md): `layers.{l}.kernel` (I × 3H),
 * `layers.{l}.recurrent_kernel` (H × 3H), `layers.{l}.bias` (3H), `layers.{l}.recurrent_bias` (3H),
 * `layers.{l}.thr` (H), `readout.weight` (C × H_last), `readout.bias` (C).
 */
import type { ModelConfig } from '../../model/config.js';
import { paramList, paramShapes, type Params, type Tensor } from '../../model/params.js';
import { InputError } from './errors.js';
import { dtypeName, elementName, formatShape, toFloat32, type NdArray } from './npy.js';

/** The architecture a weights file determines (everything else comes from defaults or the command line). */
export type WeightsShape = Pick<ModelConfig, 'inputSize' | 'hidden' | 'classes'>;

/** Float32 .npz entries named and shaped as paramShapes(cfg), in that order. */
export function paramsToNpzEntries(cfg: ModelConfig, params: Params<Tensor>): Record<string, NdArray> {
  const shapes = paramShapes(cfg);
  const list = paramList(params);
  if (list.length !== shapes.length) throw new TypeError(`weights: ${list.length} tensors, the model has ${shapes.length}`);
  const out: Record<string, NdArray> = {};
  shapes.forEach(({ name, shape }, k) => {
    const t = list[k]!;
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.length !== n) throw new TypeError(`weights: ${name} has ${t.length} values, shape ${formatShape(shape)} needs ${n}`);
    out[name] = { dtype: '<f4', shape: shape.slice(), data: t instanceof Float32Array ? t : Float32Array.from(t) };
  });
  return out;
}

const LAYER_KEY = /^layers\.(\d+)\.(kernel|recurrent_kernel|bias|recurrent_bias|thr)$/;

/**
 * Parameters from the arrays of a weights .npz (see readNpz). The architecture is inferred from the shapes and
 * checked for consistency; a missing, unexpected, misshapen, non-numeric or non-finite array → InputError.
 * Float64 and integer arrays are converted to float32. `file` names the source in messages.
 */
export function paramsFromNpz(map: Map<string, NdArray>, file = 'weights'): { cfg: WeightsShape; params: Params<Float32Array> } {
  const bad = (what: string) => new InputError(`${file}: ${what}`);
  let layersCount = 0;
  for (const key of map.keys()) {
    const m = LAYER_KEY.exec(key);
    if (m) layersCount = Math.max(layersCount, Number(m[1]) + 1);
  }
  if (layersCount === 0) throw bad('not an EGRU weights file: no layers.0.kernel (expected arrays layers.{l}.kernel, …, readout.weight, readout.bias)');

  const get = (name: string, dims: number): NdArray => {
    const nd = map.get(name);
    if (!nd) throw bad(`missing array ${name}`);
    if (nd.dtype === '|b1') throw bad(`array ${name} is boolean, expected floating point`);
    if (nd.shape.length !== dims) throw bad(`array ${name} has shape ${formatShape(nd.shape)}, expected ${dims} dimension${dims > 1 ? 's' : ''}`);
    return nd;
  };
  const expect = (name: string, nd: NdArray, shape: number[]) => {
    if (nd.shape.length !== shape.length || nd.shape.some((d, k) => d !== shape[k]))
      throw bad(`array ${name} has shape ${formatShape(nd.shape)}, expected ${formatShape(shape)} (from the other arrays)`);
  };
  const values = (name: string, nd: NdArray): Float32Array => {
    let f: Float32Array;
    try {
      f = toFloat32(nd, name);
    } catch (e) {
      if (e instanceof InputError) throw bad(e.message);
      throw e;
    }
    for (let k = 0; k < f.length; k++)
      if (!Number.isFinite(f[k]!)) throw bad(`${elementName(name, nd.shape, k)} is ${f[k]} (weights must be finite)`);
    // copy unless already an independent float32 array
    return f === nd.data ? Float32Array.from(f) : f;
  };

  const hidden: number[] = [];
  const layers: Params<Float32Array>['layers'] = [];
  let inputSize = 0;
  for (let l = 0; l < layersCount; l++) {
    const p = `layers.${l}.`;
    const kernel = get(`${p}kernel`, 2);
    const [I, H3] = kernel.shape as [number, number];
    if (H3 === 0 || H3 % 3 !== 0) throw bad(`array ${p}kernel has shape ${formatShape(kernel.shape)}: its second dimension must be 3 × hidden size`);
    const H = H3 / 3;
    if (I === 0) throw bad(`array ${p}kernel has shape ${formatShape(kernel.shape)}: zero inputs`);
    if (l === 0) inputSize = I;
    else if (I !== hidden[l - 1])
      throw bad(`array ${p}kernel has shape ${formatShape(kernel.shape)}, but layer ${l - 1} has ${hidden[l - 1]} units (expected (${hidden[l - 1]}, ${H3}))`);
    const rk = get(`${p}recurrent_kernel`, 2);
    expect(`${p}recurrent_kernel`, rk, [H, H3]);
    const b = get(`${p}bias`, 1);
    expect(`${p}bias`, b, [H3]);
    const rb = get(`${p}recurrent_bias`, 1);
    expect(`${p}recurrent_bias`, rb, [H3]);
    const thr = get(`${p}thr`, 1);
    expect(`${p}thr`, thr, [H]);
    hidden.push(H);
    layers.push({
      kernel: values(`${p}kernel`, kernel),
      recurrentKernel: values(`${p}recurrent_kernel`, rk),
      bias: values(`${p}bias`, b),
      recurrentBias: values(`${p}recurrent_bias`, rb),
      thr: values(`${p}thr`, thr),
    });
  }
  const last = hidden[hidden.length - 1]!;
  const w = get('readout.weight', 2);
  const C = w.shape[0]!;
  if (C === 0) throw bad(`array readout.weight has shape ${formatShape(w.shape)}: zero classes`);
  expect('readout.weight', w, [C, last]);
  const rb = get('readout.bias', 1);
  expect('readout.bias', rb, [C]);
  const readout = { weight: values('readout.weight', w), bias: values('readout.bias', rb) };

  const cfg: WeightsShape = { inputSize, hidden, classes: C };
  const known = new Set(paramShapes({ ...cfg } as ModelConfig).map((s) => s.name));
  for (const key of map.keys())
    if (!known.has(key)) throw bad(`unexpected array ${key} (${dtypeName(map.get(key)!.dtype)} ${formatShape(map.get(key)!.shape)}); layers must be numbered 0..${layersCount - 1} without gaps`);
  return { cfg, params: { layers, readout } };
}

export interface JsonTensor {
  shape: number[];
  /** Nested arrays following `shape` (rows of a matrix; a flat list for a vector). */
  data: number[] | number[][];
}

export interface WeightsJson {
  format: 'egru-weights';
  version: 1;
  model: WeightsShape & Partial<ModelConfig>;
  /** Tensors by EvNN name, in paramShapes order. */
  tensors: Record<string, JsonTensor>;
}

/** Plain-JSON form of the weights (for `export --format json`): names, shapes and nested arrays of numbers. */
export function paramsToJson(cfg: ModelConfig, params: Params<Tensor>): WeightsJson {
  const entries = paramsToNpzEntries(cfg, params);
  const tensors: Record<string, JsonTensor> = {};
  for (const [name, nd] of Object.entries(entries)) {
    const f = nd.data as Float32Array;
    if (nd.shape.length === 2) {
      const [r, c] = nd.shape as [number, number];
      const rows: number[][] = [];
      for (let i = 0; i < r; i++) rows.push(Array.from(f.subarray(i * c, (i + 1) * c)));
      tensors[name] = { shape: nd.shape, data: rows };
    } else tensors[name] = { shape: nd.shape, data: Array.from(f) };
  }
  return { format: 'egru-weights', version: 1, model: { ...cfg, hidden: cfg.hidden.slice() }, tensors };
}

/**
 * Projects the thresholds into [0, 1] in place, as EvNN clamps them at every forward pass (and training here after
 * every update, docs/math.md), so imported weights behave as they did there. Returns how many moved, of how many.
 */
export function clampThresholds(params: Params<Float32Array>): { clamped: number; total: number } {
  let clamped = 0;
  let total = 0;
  for (const { thr } of params.layers) {
    total += thr.length;
    for (let j = 0; j < thr.length; j++) {
      const v = thr[j]!;
      if (v < 0 || v > 1) {
        thr[j] = v < 0 ? 0 : 1;
        clamped++;
      }
    }
  }
  return { clamped, total };
}
