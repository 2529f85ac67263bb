/**
 * Truncated BPTT in the float64 reference: a segment that starts from the state the previous one ended in
 * continues the whole sequence exactly, and its gradients (the carried state a constant input) match central
 * differences.
 */
import { describe, expect, it } from 'vitest';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import { KeyedStream } from '../model/rng.js';
import { initParams, paramList, toFloat64, type Params } from '../model/params.js';
import { referenceForward, referenceForwardBackward, stateFromCarried, type Batch, type ReferenceOptions } from '../model/reference.js';

const I = 3;
const HID = [4, 3];
const C = 3;
const B = 2;

function config(over: Partial<ModelConfig>): ModelConfig {
  return defaultModelConfig({ inputSize: I, hidden: HID, classes: C, readout: 'per-step', activityReg: 0.5, seed: 7, ...over });
}

function randomParams(cfg: ModelConfig, seed: number): Params<Float64Array> {
  const p = toFloat64(initParams(cfg));
  const s = new KeyedStream(seed, 99);
  for (const l of p.layers) {
    for (let k = 0; k < l.kernel.length; k++) l.kernel[k]! *= 1.5;
    for (let k = 0; k < l.recurrentKernel.length; k++) l.recurrentKernel[k]! *= 1.5;
    for (let k = 0; k < l.bias.length; k++) l.bias[k] = 0.5 * s.normal();
    for (let k = 0; k < l.thr.length; k++) l.thr[k] = 0.05 + 0.4 * s.uniform();
  }
  return p;
}

function randomBatch(T: number, seed: number): Batch {
  const s = new KeyedStream(seed, 5);
  const x = new Float64Array(B * T * I);
  for (let k = 0; k < x.length; k++) x[k] = k % 4 === 1 ? 0 : 1.2 * s.normal();
  const targets = new Int32Array(B * T);
  for (let k = 0; k < targets.length; k++) targets[k] = Math.floor(s.uniform() * C);
  return { x, batch: B, steps: T, inputSize: I, targets };
}

/** Steps [from, to) of a batch as a batch of its own. */
function stepsOf(batch: Batch, from: number, to: number): Batch {
  const T = to - from;
  const x = new Float64Array(B * T * I);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < I; i++) x[(b * T + t) * I + i] = batch.x[(b * batch.steps + from + t) * I + i]!;
      targets[b * T + t] = batch.targets[b * batch.steps + from + t]!;
    }
  return { x, batch: B, steps: T, inputSize: I, targets };
}

/** The batch with the targets of steps before `from` ignored. */
function targetsFrom(batch: Batch, from: number): Batch {
  const targets = batch.targets.map((y, k) => (k % batch.steps < from ? -1 : y));
  return { ...batch, targets };
}

const CELLS = [
  { cell: 'egru', formulation: 'evnn' },
  { cell: 'egru', formulation: 'paper' },
  { cell: 'gru', formulation: 'evnn' },
] as const;

describe('reference with carried state', () => {
  it.each(CELLS)('$cell/$formulation: two segments with the carried state are the whole sequence', ({ cell, formulation }) => {
    const cfg = config({ cell, formulation });
    const params = randomParams(cfg, 3);
    const T = 7;
    const split = 3;
    const whole = randomBatch(T, 4);
    const all = referenceForward(cfg, params, whole);
    const first = referenceForward(cfg, params, stepsOf(whole, 0, split));
    const initialState = stateFromCarried(cfg, params, first.finalState);
    const second = referenceForward(cfg, params, stepsOf(whole, split, T), { initialState });
    // the logits of every later step, bit for bit
    for (let b = 0; b < B; b++)
      for (let t = split; t < T; t++)
        for (let c = 0; c < C; c++)
          expect(second.logits[(b * (T - split) + t - split) * C + c]).toBe(all.logits[(b * T + t) * C + c]);
    expect(second.finalState).toEqual(all.finalState);
    // the cross-entropy of the second half; events and forward MACs add up
    expect(second.crossEntropy).toBeCloseTo(referenceForward(cfg, params, targetsFrom(whole, split)).crossEntropy, 12);
    expect(first.figures.events + second.figures.events).toBe(all.figures.events);
    expect(first.figures.macs.forward + second.figures.macs.forward).toBe(all.figures.macs.forward);
    expect(second.figures.events).toBeGreaterThan(0);
    // and the carried state matters: a fresh start gives other logits
    const fresh = referenceForward(cfg, params, stepsOf(whole, split, T));
    expect(Array.from(fresh.logits)).not.toEqual(Array.from(second.logits));
  });

  it.each(CELLS)('$cell/$formulation: gradients of a segment with a nonzero initial state match central differences', ({ cell, formulation }) => {
    const cfg = config({ cell, formulation, support: 1.5 });
    const params = randomParams(cfg, 11);
    const opts: ReferenceOptions = { smoothHeaviside: true };
    // A first segment sets the state; the second starts from it, a constant under the perturbations.
    const whole = randomBatch(9, 5);
    const first = referenceForward(cfg, params, stepsOf(whole, 0, 4), opts);
    const initialState = stateFromCarried(cfg, params, first.finalState, opts);
    const segment = stepsOf(whole, 4, 9);
    const withState = { ...opts, initialState };
    const res = referenceForwardBackward(cfg, params, segment, withState);
    const eps = 1e-5;
    let worst = 0;
    const tensors = paramList(params);
    const grads = paramList(res.grads);
    tensors.forEach((tensor, ti) => {
      for (let k = 0; k < tensor.length; k++) {
        const saved = tensor[k]!;
        tensor[k] = saved + eps;
        const up = referenceForward(cfg, params, segment, withState).loss;
        tensor[k] = saved - eps;
        const down = referenceForward(cfg, params, segment, withState).loss;
        tensor[k] = saved;
        const fd = (up - down) / (2 * eps);
        const an = grads[ti]![k]!;
        worst = Math.max(worst, Math.abs(fd - an) / (Math.max(Math.abs(fd), Math.abs(an)) + 1e-5));
      }
    });
    expect(worst).toBeLessThan(1e-5);
    // not vacuous: the initial state changes the gradient of the recurrent weights
    const fresh = referenceForwardBackward(cfg, params, segment, opts);
    const rk = (r: typeof res) => Array.from(r.grads.layers[0]!.recurrentKernel);
    expect(rk(fresh)).not.toEqual(rk(res));
  });

  it('rejects an initial state of the wrong shape with one clear line', () => {
    const cfg = config({});
    const params = randomParams(cfg, 1);
    const initialState = stateFromCarried(cfg, params, [new Float64Array(4), new Float64Array(3)]);
    expect(() => referenceForward(cfg, params, randomBatch(3, 1), { initialState })).toThrow(/initial state of layer 0 must hold B·H = 8 values/);
  });
});
