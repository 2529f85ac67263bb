import { describe, it, expect } from 'vitest';
import { defaultModelConfig, type ModelConfig, type Readout } from '../model/config.js';
import { initParams, paramList, paramShapes, toFloat32, toFloat64, type Params } from '../model/params.js';
import { DropoutMask } from '../model/dropout.js';
import { KeyedStream } from '../model/rng.js';
import {
  referenceForward,
  referenceForwardBackward,
  type Batch,
  type ReferenceOptions,
} from '../model/reference.js';
import { naiveForward } from './helpers/naive-forward.js';

// Small network of the brief: I = 3, H = [4, 3], C = 3, T = 5, B = 2.
const I = 3;
const HID = [4, 3];
const C = 3;
const T = 5;
const B = 2;

function config(over: Partial<ModelConfig>): ModelConfig {
  return defaultModelConfig({ inputSize: I, hidden: HID, classes: C, activityReg: 0.5, activityTarget: 0.05, seed: 7, ...over });
}

/** Xavier init plus random biases and thresholds, so every gate and the event paths are exercised. */
function randomParams(cfg: ModelConfig, seed: number, weightGain = 1.5): Params<Float64Array> {
  const p = toFloat64(initParams(cfg));
  const s = new KeyedStream(seed, 99);
  for (const l of p.layers) {
    for (let k = 0; k < l.kernel.length; k++) l.kernel[k]! *= weightGain;
    for (let k = 0; k < l.recurrentKernel.length; k++) l.recurrentKernel[k]! *= weightGain;
    for (let k = 0; k < l.bias.length; k++) l.bias[k] = 0.5 * s.normal();
    for (let k = 0; k < l.recurrentBias.length; k++) l.recurrentBias[k] = 0.3 * s.normal();
    for (let k = 0; k < l.thr.length; k++) l.thr[k] = 0.05 + 0.5 * s.uniform();
  }
  for (let k = 0; k < p.readout.weight.length; k++) p.readout.weight[k]! *= 2;
  for (let k = 0; k < p.readout.bias.length; k++) p.readout.bias[k] = 0.2 * s.normal();
  return p;
}

function randomBatch(readout: Readout, seed: number): Batch {
  const s = new KeyedStream(seed, 5);
  const x = new Float64Array(B * T * I);
  for (let k = 0; k < x.length; k++) x[k] = k % 4 === 1 ? 0 : 1.2 * s.normal();
  const perStep = readout === 'per-step';
  const targets = new Int32Array(perStep ? B * T : B);
  for (let k = 0; k < targets.length; k++) targets[k] = Math.floor(s.uniform() * C);
  if (perStep) {
    targets[1] = -1; // some ignored steps
    targets[T + 3] = -1;
  }
  return { x, batch: B, steps: T, inputSize: I, targets };
}

/**
 * Central finite differences of the loss for every entry of every parameter tensor, against the analytic
 * gradient. Returns the worst relative error with the tensor it came from.
 */
function fdCheck(cfg: ModelConfig, params: Params<Float64Array>, batch: Batch, opts: ReferenceOptions, eps: number) {
  const res = referenceForwardBackward(cfg, params, batch, opts);
  const names = paramShapes(cfg).map((s) => s.name);
  const tensors = paramList(params);
  const grads = paramList(res.grads);
  let worst = { err: 0, name: '', index: -1, fd: 0, an: 0 };
  let nonZero = 0;
  tensors.forEach((tensor, ti) => {
    for (let k = 0; k < tensor.length; k++) {
      const saved = tensor[k]!;
      tensor[k] = saved + eps;
      const up = referenceForward(cfg, params, batch, opts).loss;
      tensor[k] = saved - eps;
      const down = referenceForward(cfg, params, batch, opts).loss;
      tensor[k] = saved;
      const fd = (up - down) / (2 * eps);
      const an = grads[ti]![k]!;
      if (Math.abs(an) > 1e-9) nonZero++;
      // Relative error, with an absolute floor for the tiny entries where FD rounding (~1e-11) dominates.
      const err = Math.abs(fd - an) / (Math.max(Math.abs(fd), Math.abs(an)) + 1e-5);
      if (err > worst.err) worst = { err, name: names[ti]!, index: k, fd, an };
    }
  });
  return { worst, nonZero, res };
}

const READOUTS: Readout[] = ['trace', 'last', 'per-step'];
const CELLS: { cell: 'egru' | 'gru'; formulation: 'evnn' | 'paper' }[] = [
  { cell: 'egru', formulation: 'evnn' },
  { cell: 'egru', formulation: 'paper' },
  { cell: 'gru', formulation: 'evnn' },
];

describe('reference gradients: smooth Heaviside (exact surrogate paths)', () => {
  for (const { cell, formulation } of CELLS) {
    for (const readout of READOUTS) {
      it(`${cell}/${formulation}/${readout}: every parameter entry matches central differences`, () => {
        const cfg = config({ cell, formulation, readout, support: 1.5, dampening: 0.7 });
        const params = randomParams(cfg, 11);
        const batch = randomBatch(readout, 3);
        const { worst, nonZero, res } = fdCheck(cfg, params, batch, { smoothHeaviside: true }, 1e-5);
        expect(worst.err, JSON.stringify(worst)).toBeLessThan(1e-5);
        // The check must not pass vacuously: most entries carry gradient, including thresholds for EGRU.
        expect(nonZero).toBeGreaterThan(150);
        if (cell === 'egru') {
          for (const l of res.grads.layers) expect(l.thr.some((g) => Math.abs(g) > 1e-6)).toBe(true);
          expect(res.activityPenalty).toBeGreaterThan(0);
        } else {
          for (const l of res.grads.layers) expect(l.thr.every((g) => g === 0)).toBe(true);
          expect(res.activityPenalty).toBe(0);
        }
        expect(res.loss).toBeCloseTo(res.crossEntropy + res.activityPenalty, 14);
        expect(res.count).toBe(readout === 'per-step' ? B * T - 2 : B);
      });
    }
  }
});

describe('reference gradients: true Heaviside, γ = 0', () => {
  for (const { cell, formulation } of CELLS.filter((c) => c.cell === 'egru')) {
    for (const readout of READOUTS) {
      it(`${cell}/${formulation}/${readout}: no unit near flipping, so FD equals the analytic gradient`, () => {
        const cfg = config({ cell, formulation, readout, dampening: 0 });
        const batch = randomBatch(readout, 4);
        const eps = 1e-5;
        // A perturbation of eps = 1e-5 moves any v by far less than 1e-3 here, so with every |v − ϑ| > 1e-3 no event
        // can flip during the FD. Take the first seed whose network satisfies that and has both firing and silent
        // unit-steps in every layer; assert that one was found.
        const usable = (params: Params<Float64Array>) => {
          let minMargin = Infinity;
          const probe = (_l: number, _t: number, _b: number, _j: number, d: number) => {
            minMargin = Math.min(minMargin, Math.abs(d));
          };
          const r = referenceForward(cfg, params, batch, { probe });
          const mixed = r.perLayerEvents.every((e, l) => e > 0 && e < HID[l]! * T * B);
          return minMargin > 1e-3 && mixed;
        };
        let params: Params<Float64Array> | undefined;
        for (let seed = 1; seed <= 40 && !params; seed++) {
          const p = randomParams(cfg, seed);
          // Low thresholds and a positive layer-1 candidate bias, so the sparser layer 1 fires too.
          p.layers.forEach((l, li) => {
            for (let j = 0; j < l.thr.length; j++) l.thr[j] = 0.02 + 0.1 * j;
            if (li === 1) for (let j = 0; j < l.thr.length; j++) l.bias[2 * l.thr.length + j]! += 0.8;
          });
          if (usable(p)) params = p;
        }
        expect(params, 'no seed gave a network without near-threshold units').toBeDefined();
        const { worst, nonZero } = fdCheck(cfg, params!, batch, {}, eps);
        expect(worst.err, JSON.stringify(worst)).toBeLessThan(1e-5);
        expect(nonZero).toBeGreaterThan(50);
      });
    }
  }
});

describe('reference gradients with dropout (p = 0.3, masks of one training step)', () => {
  for (const { cell, formulation } of CELLS) {
    for (const readout of READOUTS) {
      it(`${cell}/${formulation}/${readout}: every parameter entry matches central differences`, () => {
        const cfg = config({ cell, formulation, readout, support: 1.5, dampening: 0.7, dropout: 0.3 });
        const params = randomParams(cfg, 11);
        const batch = randomBatch(readout, 3);
        const opts: ReferenceOptions = { smoothHeaviside: true, dropoutStep: 4 };
        const { worst, nonZero, res } = fdCheck(cfg, params, batch, opts, 1e-5);
        expect(worst.err, JSON.stringify(worst)).toBeLessThan(1e-5);
        expect(nonZero).toBeGreaterThan(100);
        // dropout changed the function: the loss differs from the undropped one and from another step's masks
        const plain = referenceForward(cfg, params, batch, { smoothHeaviside: true });
        const other = referenceForward(cfg, params, batch, { smoothHeaviside: true, dropoutStep: 5 });
        expect(res.loss).not.toBe(plain.loss);
        expect(res.loss).not.toBe(other.loss);
      });
    }
  }
});

describe('dropout masks', () => {
  it('drop a fraction p, scale kept values by 1/(1 − p), depend on the step and are off without one', () => {
    const m = new DropoutMask(0.25, 7, 1);
    m.begin(3);
    let dropped = 0;
    const N = 40000;
    const first: number[] = [];
    for (let k = 0; k < N; k++) {
      const d = m.at(k % 20, (k / 20) % 10 | 0, (k / 200) | 0);
      if (k < 64) first.push(d);
      if (d === 0) dropped++;
      else expect(d).toBe(1 / 0.75);
    }
    expect(dropped / N).toBeGreaterThan(0.24);
    expect(dropped / N).toBeLessThan(0.26);
    m.begin(4);
    const next = Array.from({ length: 64 }, (_, k) => m.at(k % 20, (k / 20) % 10 | 0, (k / 200) | 0));
    expect(next).not.toEqual(first);
    m.begin(3);
    expect(Array.from({ length: 64 }, (_, k) => m.at(k % 20, (k / 20) % 10 | 0, (k / 200) | 0))).toEqual(first);
    m.begin(null);
    expect(m.active).toBe(false);
    expect(m.at(0, 0, 0)).toBe(1);
    expect(() => new DropoutMask(1, 7, 0)).toThrow(/dropout rate/);
  });

  it('without a dropout step (evaluation) the reference ignores the rate', () => {
    const cfg = config({ dropout: 0.5 });
    const params = randomParams(cfg, 5);
    const batch = randomBatch('trace', 6);
    const a = referenceForwardBackward(cfg, params, batch);
    const b = referenceForwardBackward({ ...cfg, dropout: 0 }, params, batch, { dropoutStep: 2 });
    expect(a.loss).toBe(b.loss);
    expect(paramList(a.grads).map((t) => Array.from(t))).toEqual(paramList(b.grads).map((t) => Array.from(t)));
  });

  it('figures count only the kept events and backward-active units as work of the layer above', () => {
    const cfg = config({ dropout: 0.5 });
    const params = randomParams(cfg, 5);
    const batch = randomBatch('trace', 6);
    const a = referenceForward(cfg, params, batch);
    const b = referenceForward(cfg, params, batch, { dropoutStep: 1 });
    expect(b.perLayerEvents[0]).toBe(a.perLayerEvents[0]); // layer 0 fires the same; what reaches layer 1 changes
    expect(b.figures.macs.forward).toBeLessThan(a.figures.macs.forward);
    expect(b.figures.macs.backward).toBeLessThan(a.figures.macs.backward);
    expect(b.figures.macs.denseForward).toBe(a.figures.macs.denseForward);
  });
});

describe('reference: consistency', () => {
  it('referenceForward and referenceForwardBackward agree with an independently written forward pass', () => {
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
    for (const { cell, formulation } of CELLS) {
      for (const readout of READOUTS) {
        const what = `${cell}/${formulation}/${readout}`;
        const cfg = config({ cell, formulation, readout });
        const params = randomParams(cfg, 5);
        for (const l of params.layers) l.thr.forEach((_, j) => (l.thr[j] = 0.01 + 0.03 * j)); // low: both layers fire
        const batch = randomBatch(readout, 6);
        const want = naiveForward(cfg, params, batch);
        // both layers fire sometimes, so the event paths and the activity penalty are exercised
        if (cell === 'egru') want.perLayerEvents.forEach((e, l) => expect(e > 0 && e < HID[l]! * T * B, `${what} layer ${l}`).toBe(true));
        for (const got of [referenceForward(cfg, params, batch), referenceForwardBackward(cfg, params, batch)]) {
          expect(close(got.loss, want.loss), `${what} loss ${got.loss} vs ${want.loss}`).toBe(true);
          expect(close(got.activityPenalty, want.activityPenalty), `${what} penalty`).toBe(true);
          expect(got.logits.length).toBe(want.logits.length);
          got.logits.forEach((v, k) => expect(close(v, want.logits[k]!), `${what} logit ${k}`).toBe(true));
          expect(got.perLayerEvents).toEqual(want.perLayerEvents);
          expect([got.correct, got.count]).toEqual([want.correct, want.count]);
        }
        expect(want.logits.length).toBe(readout === 'per-step' ? B * T * C : B * C);
        if (cell === 'egru') expect(want.activityPenalty).toBeGreaterThan(0);
      }
    }
  });

  it('the dense GRU ignores the formulation (docs/math.md: the evnn layer with y = h = v)', () => {
    const cfg = config({ cell: 'gru', formulation: 'evnn' });
    const params = randomParams(cfg, 5);
    const batch = randomBatch('trace', 6);
    const a = referenceForwardBackward(cfg, params, batch);
    const b = referenceForwardBackward({ ...cfg, formulation: 'paper' }, params, batch);
    expect(b.loss).toBe(a.loss);
    expect(paramList(b.grads).map((t) => Array.from(t))).toEqual(paramList(a.grads).map((t) => Array.from(t)));
  });

  it('float32 parameters are read as their float64 values (against the independent forward pass)', () => {
    const cfg = config({});
    const p32 = toFloat32(randomParams(cfg, 8));
    const batch = randomBatch('trace', 2);
    const got = referenceForwardBackward(cfg, p32, batch);
    const want = naiveForward(cfg, toFloat64(p32), batch);
    expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-12 * want.loss);
    expect(got.perLayerEvents).toEqual(want.perLayerEvents);
    // and the float32 rounding of the parameters matters: the float64 originals give another loss
    expect(referenceForward(cfg, randomParams(cfg, 8), batch).loss).not.toBe(got.loss);
  });

  it('cross-entropy is numerically stable for huge logits', () => {
    const cfg = config({ readout: 'trace', activityReg: 0 });
    const params = randomParams(cfg, 5);
    params.readout.bias[0] = 1e4;
    const batch = randomBatch('trace', 6);
    batch.targets[0] = 1;
    batch.targets[1] = 0;
    const r = referenceForwardBackward(cfg, params, batch);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.loss).toBeGreaterThan(1e4 / 2 - 10);
    expect(r.correct).toBe(1);
    expect(r.count).toBe(2);
  });

  it('rejects malformed batches', () => {
    const cfg = config({});
    const params = initParams(cfg);
    const batch = randomBatch('trace', 1);
    expect(() => referenceForward(cfg, params, { ...batch, x: batch.x.subarray(1) })).toThrow(/x has/);
    expect(() => referenceForward(cfg, params, { ...batch, targets: new Int32Array([0, 7]) })).toThrow(/target 7/);
    expect(() => referenceForward({ ...cfg, readout: 'per-step' }, params, batch)).toThrow(/targets have length/);
  });
});

// ----------------------------------------------------------------------------------------------------------
// Figures: MAC and event counts for a network whose firing pattern is known by construction.

/** Input with a fixed zero pattern; nzX[b·T + t] = non-zero inputs of (b, t). */
function patternedInput(): { batch: (readout: Readout) => Batch; nzX: number[] } {
  const x = new Float64Array(B * T * I);
  const nzX: number[] = [];
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      let nz = 0;
      for (let i = 0; i < I; i++) {
        const zero = (b + t + i) % 3 === 0 || (t === 2 && b === 1);
        x[(b * T + t) * I + i] = zero ? 0 : 0.5 + i;
        if (!zero) nz++;
      }
      nzX.push(nz);
    }
  return {
    nzX,
    batch: (readout) => ({
      x, batch: B, steps: T, inputSize: I,
      targets: new Int32Array(readout === 'per-step' ? B * T : B),
    }),
  };
}

/**
 * docs/math.md MAC conventions written out for 2 layers with constant per-step events ev_l and backward-active
 * counts act_l (the same at every (t, b)).
 */
function expectedMacs(nzX: number[], ev: [number, number], act: [number, number], readoutEvals: number) {
  const [H0, H1] = HID as [number, number];
  const G0 = 3 * H0;
  const G1 = 3 * H1;
  let forward = 0;
  let backward = 0;
  let denseForward = 0;
  let denseBackward = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const first = t === 0;
      const nz0 = nzX[b * T + t]!;
      const evPrev0 = first ? 0 : ev[0];
      const evPrev1 = first ? 0 : ev[1];
      // layer 0: nzIn = non-zero inputs
      forward += (nz0 + evPrev0) * G0;
      backward += 2 * (nz0 + evPrev0) * G0 + (first ? 0 : act[0]) * G0;
      denseForward += (I + H0) * G0;
      denseBackward += (I + H0) * G0 + (first ? 0 : H0 * G0);
      // layer 1: nzIn = events of layer 0; partial sums to the layer below for its backward-active units
      forward += (ev[0] + evPrev1) * G1;
      backward += 2 * (ev[0] + evPrev1) * G1 + (first ? 0 : act[1]) * G1 + act[0] * G1;
      denseForward += (H0 + H1) * G1;
      denseBackward += (H0 + H1) * G1 + (first ? 0 : H1 * G1) + H0 * G1;
    }
  const ro = readoutEvals * C * H1;
  return { forward: forward + ro, backward: backward + 2 * ro, denseForward: denseForward + ro, denseBackward: denseBackward + 2 * ro };
}

/**
 * Zero weights, zero thresholds, update/reset pre-activations 0 (z = r = ½) and g-bias ±5: a unit with g-bias
 * +5 has v > 0 at every step and fires always (evnn and paper); one with −5 has v ≤ −0.49 and never fires.
 * With s = 4 (half-width 0.25) a silent unit is never backward-active.
 */
function knownPatternParams(cfg: ModelConfig, fire: boolean[][]): Params<Float64Array> {
  const p = toFloat64(initParams(cfg));
  p.layers.forEach((l, li) => {
    const H = cfg.hidden[li]!;
    l.kernel.fill(0);
    l.recurrentKernel.fill(0);
    l.bias.fill(0);
    l.recurrentBias.fill(0);
    l.thr.fill(0);
    for (let j = 0; j < H; j++) l.bias[2 * H + j] = fire[li]![j] ? 5 : -5;
  });
  return p;
}

describe('reference figures (events, backward-active, MACs)', () => {
  const { batch, nzX } = patternedInput();
  const fire = [
    [true, false, true, false],
    [false, true, false],
  ];

  for (const formulation of ['evnn', 'paper'] as const) {
    for (const readout of ['trace', 'per-step'] as const) {
      it(`egru/${formulation}/${readout}: known firing pattern`, () => {
        const cfg = config({ formulation, readout, support: 4, activityReg: 0 });
        const r = referenceForward(cfg, knownPatternParams(cfg, fire), batch(readout));
        expect(r.perLayerEvents).toEqual([2 * T * B, 1 * T * B]);
        expect(r.figures.events).toBe(3 * T * B);
        expect(r.figures.unitSteps).toBe((4 + 3) * T * B);
        expect(r.figures.backwardActive).toBe(3 * T * B);
        expect(r.figures.macs).toEqual(expectedMacs(nzX, [2, 1], [2, 1], readout === 'per-step' ? B * T : B));
      });
    }
  }

  it('activity penalty: λ·Σ_l (mean(o) − a*)² for the known pattern (mean(o) = 1/2 and 1/3)', () => {
    const cfg = config({ support: 4, activityReg: 0.5, activityTarget: 0.05 });
    const r = referenceForward(cfg, knownPatternParams(cfg, fire), batch('trace'));
    expect(r.activityPenalty).toBeCloseTo(0.5 * ((0.5 - 0.05) ** 2 + (1 / 3 - 0.05) ** 2), 14);
    expect(r.loss).toBeCloseTo(r.crossEntropy + r.activityPenalty, 14);
  });

  it('egru with s = 1: silent units near threshold count as backward-active', () => {
    // Silent units have v ∈ (−1, −0.49]: within 1/s = 1 of ϑ = 0, so every unit-step is backward-active.
    const cfg = config({ support: 1, activityReg: 0 });
    const r = referenceForward(cfg, knownPatternParams(cfg, fire), batch('trace'));
    expect(r.figures.events).toBe(3 * T * B);
    expect(r.figures.backwardActive).toBe(7 * T * B);
    expect(r.figures.macs).toEqual(expectedMacs(nzX, [2, 1], [4, 3], B));
  });

  it('egru: thresholds above every reachable v give zero events and no backward-active unit', () => {
    // |v| < 1 always (convex mix of tanh and the previous state), so v − ϑ < −1 = −1/s for ϑ = 2.
    const cfg = config({ support: 1, activityReg: 0 });
    const params = randomParams(cfg, 3);
    for (const l of params.layers) l.thr.fill(2);
    const r = referenceForward(cfg, params, batch('last'));
    expect(r.figures.events).toBe(0);
    expect(r.perLayerEvents).toEqual([0, 0]);
    expect(r.figures.backwardActive).toBe(0);
    const sumNz = nzX.reduce((a, b) => a + b, 0);
    // By hand: forward = Σ nzX·3H0 + B·C·H1; backward = 2·Σ nzX·3H0 + 2·B·C·H1.
    expect(r.figures.macs.forward).toBe(sumNz * 12 + 2 * 3 * 3);
    expect(r.figures.macs.backward).toBe(2 * sumNz * 12 + 2 * 2 * 3 * 3);
    expect(r.figures.macs).toEqual(expectedMacs(nzX, [0, 0], [0, 0], B));
  });

  for (const readout of ['last', 'per-step'] as const) {
    it(`gru/${readout}: every unit is an event and backward-active`, () => {
      const cfg = config({ cell: 'gru', readout });
      const r = referenceForward(cfg, randomParams(cfg, 9), batch(readout));
      expect(r.perLayerEvents).toEqual([4 * T * B, 3 * T * B]);
      expect(r.figures.events).toBe(7 * T * B);
      expect(r.figures.unitSteps).toBe(7 * T * B);
      expect(r.figures.backwardActive).toBe(7 * T * B);
      expect(r.figures.macs).toEqual(expectedMacs(nzX, [4, 3], [4, 3], readout === 'per-step' ? B * T : B));
      // Literal totals for readout 'last' (T = 5, B = 2): dense forward = 10·(7·12 + 7·9) + 2·9.
      if (readout === 'last') {
        expect(r.figures.macs.denseForward).toBe(10 * (7 * 12 + 7 * 9) + 18);
        expect(r.figures.macs.denseBackward).toBe(10 * (7 * 12 + 7 * 9 + 4 * 9) + 8 * (4 * 12 + 3 * 9) + 36);
      }
    });
  }
});

// ----------------------------------------------------------------------------------------------------------
// Forward semantics: the evnn equations written out by hand for one unit over two steps.

describe('reference forward: hand-computed scalar network', () => {
  const sig = (a: number) => 1 / (1 + Math.exp(-a));
  // I = 1, H = 1, C = 2; x = [0.8, −0.6]; kernel/recurrent_kernel/bias/recurrent_bias are the z|r|g triples.
  const K = [0.7, -0.4, 1.1];
  const R = [0.5, 0.9, -1.3];
  const bb = [0.1, 0.2, 0.3];
  const rb = [-0.2, 0.1, 0.4];
  const thr = 0.25;
  const W = [1.5, -0.5];
  const bias = [0.05, -0.05];
  const xs = [0.8, -0.6];
  const mk = (cfg: ModelConfig): Params<Float64Array> => ({
    layers: [{
      kernel: Float64Array.from(K), recurrentKernel: Float64Array.from(R), bias: Float64Array.from(bb),
      recurrentBias: Float64Array.from(rb), thr: Float64Array.of(thr),
    }],
    readout: { weight: Float64Array.from(W), bias: Float64Array.from(bias) },
  });
  const base = (over: Partial<ModelConfig>) =>
    defaultModelConfig({ inputSize: 1, hidden: [1], classes: 2, activityReg: 0, ...over });
  const batch = (readout: Readout): Batch => ({
    x: Float64Array.from(xs), batch: 1, steps: 2, inputSize: 1,
    targets: readout === 'per-step' ? Int32Array.of(0, 1) : Int32Array.of(1),
  });

  /** Returns y_0, y_1 by the evnn forward equations. */
  function handEvnn(egru: boolean): number[] {
    let h = 0;
    let y = 0;
    const ys: number[] = [];
    for (const x of xs) {
      const z = sig(x * K[0]! + bb[0]! + y * R[0]! + rb[0]!);
      const r = sig(x * K[1]! + bb[1]! + y * R[1]! + rb[1]!);
      const g = Math.tanh(x * K[2]! + bb[2]! + r * (y * R[2]! + rb[2]!));
      const v = z * h + (1 - z) * g;
      const o = egru ? (v - thr > 0 ? 1 : 0) : 1;
      y = o * v;
      h = egru ? v - o * thr : v;
      ys.push(y);
    }
    return ys;
  }
  function handPaper(): number[] {
    let c = 0;
    let y = 0;
    const ys: number[] = [];
    for (const x of xs) {
      const u = sig(x * K[0]! + bb[0]! + y * R[0]! + rb[0]!);
      const r = sig(x * K[1]! + bb[1]! + y * R[1]! + rb[1]!);
      const g = Math.tanh(x * K[2]! + bb[2]! + r * y * R[2]! + rb[2]!);
      c = u * g + (1 - u) * c - y;
      y = c - thr > 0 ? c : 0;
      ys.push(y);
    }
    return ys;
  }
  const logitsOf = (f: number) => [f * W[0]! + bias[0]!, f * W[1]! + bias[1]!];

  it('evnn egru, gru and paper egru: trace, last and per-step logits', () => {
    const cases: [ModelConfig['cell'], ModelConfig['formulation'], number[]][] = [
      ['egru', 'evnn', handEvnn(true)],
      ['gru', 'evnn', handEvnn(false)],
      ['egru', 'paper', handPaper()],
    ];
    for (const [cell, formulation, ys] of cases) {
      // The constants make the unit fire at step 0 and stay silent at step 1 (EGRU), so all paths matter.
      if (cell === 'egru') expect(ys[0]! > 0 && ys[1] === 0, `${formulation}: ${ys}`).toBe(true);
      const tr = 0.9 * 0.1 * ys[0]! + 0.1 * ys[1]!;
      const cfgT = base({ cell, formulation, readout: 'trace' });
      const rT = referenceForward(cfgT, mk(cfgT), batch('trace'));
      logitsOf(tr).forEach((l, c) => expect(rT.logits[c]).toBeCloseTo(l, 14));
      const cfgL = base({ cell, formulation, readout: 'last' });
      const rL = referenceForward(cfgL, mk(cfgL), batch('last'));
      logitsOf(ys[1]!).forEach((l, c) => expect(rL.logits[c]).toBeCloseTo(l, 14));
      const cfgP = base({ cell, formulation, readout: 'per-step' });
      const rP = referenceForward(cfgP, mk(cfgP), batch('per-step'));
      [...logitsOf(ys[0]!), ...logitsOf(ys[1]!)].forEach((l, k) => expect(rP.logits[k]).toBeCloseTo(l, 14));
      // Mean cross-entropy over the two steps, targets 0 then 1.
      const ce = (ls: number[], t: number) => Math.log(Math.exp(ls[0]!) + Math.exp(ls[1]!)) - ls[t]!;
      expect(rP.crossEntropy).toBeCloseTo((ce(logitsOf(ys[0]!), 0) + ce(logitsOf(ys[1]!), 1)) / 2, 14);
      expect(rP.count).toBe(2);
    }
  });
});
