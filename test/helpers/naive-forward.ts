/**
 * A second, deliberately plain float64 forward pass written from the model equations (docs/math.md), sequence by
 * sequence, sharing no code with model/reference.ts, so that tests can check the reference against an
 * independent computation. No dropout, no figures, no gradients.
 */
import { TRACE_DECAY, type ModelConfig } from '../../model/config.js';
import type { Params, Tensor } from '../../model/params.js';
import type { Batch } from '../../model/reference.js';

export interface NaiveResult {
  loss: number;
  crossEntropy: number;
  activityPenalty: number;
  /** [B, C] (trace|last) or [B, T, C] (per-step). */
  logits: Float64Array;
  correct: number;
  count: number;
  perLayerEvents: number[];
}

const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

/** (x·W)[c] + bias[c] for a row-major W of `cols` columns. */
function affine(x: ArrayLike<number>, W: Tensor, bias: Tensor, cols: number): number[] {
  const out = Array.from(bias);
  for (let i = 0; i < x.length; i++) {
    if (x[i] === 0) continue;
    for (let c = 0; c < cols; c++) out[c]! += x[i]! * W[i * cols + c]!;
  }
  return out;
}

/** One layer over one sequence: xs[t] is the input at step t; returns the outputs y_t and the events per step. */
function runLayer(cfg: ModelConfig, p: Params['layers'][number], H: number, xs: number[][]): { ys: number[][]; events: number } {
  const egru = cfg.cell === 'egru';
  const paper = egru && cfg.formulation === 'paper';
  let y = new Array<number>(H).fill(0);
  let state = new Array<number>(H).fill(0); // evnn: h after the reset; paper: c
  const ys: number[][] = [];
  let events = 0;
  for (const x of xs) {
    const wx = affine(x, p.kernel, p.bias, 3 * H);
    const rh = affine(y, p.recurrentKernel, p.recurrentBias, 3 * H);
    const z = (j: number) => sigmoid(wx[j]! + rh[j]!);
    const r = (j: number) => sigmoid(wx[H + j]! + rh[H + j]!);
    const nextY = new Array<number>(H).fill(0);
    const nextState = new Array<number>(H).fill(0);
    for (let j = 0; j < H; j++) {
      const thr = p.thr[j]!;
      if (paper) {
        // the reset gate scales the previous outputs before the product; the state drops the last output
        let q = p.recurrentBias[2 * H + j]!;
        for (let m = 0; m < H; m++) q += r(m) * y[m]! * p.recurrentKernel[m * 3 * H + 2 * H + j]!;
        const g = Math.tanh(wx[2 * H + j]! + q);
        const c = z(j) * g + (1 - z(j)) * state[j]! - y[j]!;
        const fired = c - thr > 0;
        nextState[j] = c;
        nextY[j] = fired ? c : 0;
        if (fired) events++;
      } else {
        const g = Math.tanh(wx[2 * H + j]! + r(j) * rh[2 * H + j]!);
        const v = z(j) * state[j]! + (1 - z(j)) * g;
        const fired = !egru || v - thr > 0;
        nextY[j] = fired ? v : 0;
        nextState[j] = egru && fired ? v - thr : v;
        if (fired) events++;
      }
    }
    y = nextY;
    state = nextState;
    ys.push(y);
  }
  return { ys, events };
}

export function naiveForward(cfg: ModelConfig, params: Params, batch: Batch): NaiveResult {
  const { batch: B, steps: T, inputSize: I } = batch;
  const C = cfg.classes;
  const L = cfg.hidden.length;
  const Hl = cfg.hidden[L - 1]!;
  const perStep = cfg.readout === 'per-step';
  const logits = new Float64Array((perStep ? B * T : B) * C);
  const perLayerEvents = new Array<number>(L).fill(0);
  let ceSum = 0;
  let count = 0;
  let correct = 0;
  const score = (feat: number[], target: number, at: number) => {
    const row = affine(feat, transpose(params.readout.weight, C, Hl), params.readout.bias, C);
    row.forEach((v, c) => (logits[at * C + c] = v));
    if (target < 0) return;
    const max = Math.max(...row);
    const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    ceSum += logSum - row[target]!;
    count++;
    if (row.indexOf(max) === target) correct++;
  };
  for (let b = 0; b < B; b++) {
    let xs = Array.from({ length: T }, (_, t) => Array.from(batch.x.subarray((b * T + t) * I, (b * T + t + 1) * I)));
    cfg.hidden.forEach((H, l) => {
      const out = runLayer(cfg, params.layers[l]!, H, xs);
      perLayerEvents[l]! += out.events;
      xs = out.ys;
    });
    if (cfg.readout === 'trace') {
      const trace = new Array<number>(Hl).fill(0);
      for (const y of xs) y.forEach((v, j) => (trace[j] = TRACE_DECAY * trace[j]! + (1 - TRACE_DECAY) * v));
      score(trace, batch.targets[b]!, b);
    } else if (cfg.readout === 'last') score(xs[T - 1]!, batch.targets[b]!, b);
    else xs.forEach((y, t) => score(y, batch.targets[b * T + t]!, b * T + t));
  }
  let activityPenalty = 0;
  if (cfg.cell === 'egru' && cfg.activityReg > 0)
    cfg.hidden.forEach((H, l) => (activityPenalty += cfg.activityReg * (perLayerEvents[l]! / (B * T * H) - cfg.activityTarget) ** 2));
  const crossEntropy = count > 0 ? ceSum / count : 0;
  return { loss: crossEntropy + activityPenalty, crossEntropy, activityPenalty, logits, correct, count, perLayerEvents };
}

/** W [rows × cols] row-major → Wᵀ [cols × rows]. */
function transpose(W: Tensor, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = W[r * cols + c]!;
  return out;
}
