import { describe, it, expect } from 'vitest';
import { clipScale, Optimizer, sumOfSquares, type OptimizerConfig } from '../model/optim.js';
import { KeyedStream } from '../model/rng.js';
import { SimdArena } from '../model/simd.js';

describe('Adam', () => {
  it('matches a hand-computed two-step example (bias-corrected, default β1, β2, eps)', () => {
    // p = 1, lr = 0.1, g = 0.5 then −0.25.
    // step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25 → p = 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002
    // step 2: m = 0.02, v = 0.00031225, m̂ = 0.02/0.19, v̂ = 0.00031225/0.001999 → p = 0.8733662987078463
    const p = Float32Array.of(1);
    const opt = new Optimizer({ kind: 'adam', lr: 0.1 }, [p], [false]);
    opt.step([Float64Array.of(0.5)], 1);
    expect(p[0]).toBeCloseTo(0.900000002, 6);
    expect(opt.state().m[0]![0]).toBeCloseTo(0.05, 7);
    expect(opt.state().v[0]![0]).toBeCloseTo(0.00025, 9);
    opt.step([Float64Array.of(-0.25)], 1);
    expect(p[0]).toBeCloseTo(0.8733662987078463, 6);
    expect(opt.stepCount).toBe(2);
    expect(opt.state().step).toBe(2);
    expect(opt.state().m[0]![0]).toBeCloseTo(0.02, 7);
    expect(opt.state().v[0]![0]).toBeCloseTo(0.00031225, 9);
  });

  it('scale multiplies the gradient first (clipping)', () => {
    const a = Float32Array.of(1, 2);
    const b = Float32Array.of(1, 2);
    new Optimizer({ kind: 'adam', lr: 0.01 }, [a], [false]).step([Float32Array.of(0.4, -0.2)], 0.5);
    new Optimizer({ kind: 'adam', lr: 0.01 }, [b], [false]).step([Float32Array.of(0.2, -0.1)], 1);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('AdamW decay is decoupled and skips thresholds and biases', () => {
    const w = Float32Array.of(2, -4);
    const thr = Float32Array.of(0.5);
    const bias = Float32Array.of(3);
    const opt = new Optimizer({ kind: 'adam', lr: 0.1, weightDecay: 0.2 }, [w, thr, bias], [false, true, false], [false, false, true]);
    // Zero gradients: the Adam step is 0, only the decay p ← p·(1 − lr·wd) = p·0.98 acts.
    opt.step([new Float32Array(2), new Float32Array(1), new Float32Array(1)], 1);
    expect(w[0]).toBeCloseTo(2 * 0.98, 6);
    expect(w[1]).toBeCloseTo(-4 * 0.98, 6);
    expect(thr[0]).toBe(0.5);
    expect(bias[0]).toBe(3);
  });
});

describe('SGD', () => {
  it('plain SGD: p ← p − lr·scale·g', () => {
    const p = Float32Array.of(1, -1);
    const opt = new Optimizer({ kind: 'sgd', lr: 0.5 }, [p], [false]);
    opt.step([Float64Array.of(0.2, 0.4)], 0.5);
    expect(p[0]).toBeCloseTo(0.95, 7);
    expect(p[1]).toBeCloseTo(-1.1, 7);
  });

  it('momentum: buf ← μ·buf + g, p ← p − lr·buf', () => {
    // g = 1 every step, lr = 0.1, μ = 0.9: buf = 1, 1.9, 2.71 → p = 0.9, 0.71, 0.439
    const p = Float32Array.of(1);
    const opt = new Optimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9 }, [p], [false]);
    const expected = [0.9, 0.71, 0.439];
    for (const e of expected) {
      opt.step([Float64Array.of(1)], 1);
      expect(p[0]).toBeCloseTo(e, 6);
    }
    expect(opt.state().m[0]![0]).toBeCloseTo(2.71, 6);
  });

  it('L2 weight decay is added to the gradient, except for thresholds and biases', () => {
    const w = Float32Array.of(2);
    const thr = Float32Array.of(0.5);
    const bias = Float32Array.of(3);
    const opt = new Optimizer({ kind: 'sgd', lr: 0.1, weightDecay: 0.5 }, [w, thr, bias], [false, true, false], [false, false, true]);
    opt.step([Float32Array.of(1), Float32Array.of(1), Float32Array.of(1)], 1);
    expect(w[0]).toBeCloseTo(2 - 0.1 * (1 + 0.5 * 2), 6); // 1.8
    expect(thr[0]).toBeCloseTo(0.4, 6);
    expect(bias[0]).toBeCloseTo(2.9, 6);
  });
});

describe('threshold projection', () => {
  for (const kind of ['adam', 'sgd'] as const) {
    it(`${kind}: thresholds are clamped into [0, 1] after every update; other tensors are not`, () => {
      const thr = Float32Array.of(0.01, 0.99, 0.5);
      const w = Float32Array.of(0.01, 0.99, 0.5);
      const opt = new Optimizer({ kind, lr: 1 }, [thr, w], [true, false]);
      opt.step([Float32Array.of(5, -5, 0), Float32Array.of(5, -5, 0)], 1);
      expect(Array.from(thr)).toEqual([0, 1, 0.5]);
      expect(w[0]).toBeLessThan(0);
      expect(w[1]).toBeGreaterThan(1);
    });
  }
});

describe('clipping helpers', () => {
  it('sumOfSquares over mixed float32/float64 tensors', () => {
    expect(sumOfSquares([Float32Array.of(3, 4), Float64Array.of(1)])).toBe(26);
    expect(sumOfSquares([])).toBe(0);
  });

  it('clipScale', () => {
    expect(clipScale(5, 0)).toBe(1); // off
    expect(clipScale(5, -1)).toBe(1); // off
    expect(clipScale(5, 10)).toBe(1);
    expect(clipScale(5, 5)).toBe(1);
    expect(clipScale(10, 5)).toBe(5 / (10 + 1e-6));
  });
});

// ----------------------------------------------------------------------------------------------------------

function randomTensors(seed: number, sizes: number[], scale = 1): Float32Array[] {
  const s = new KeyedStream(seed, 1);
  return sizes.map((n) => Float32Array.from({ length: n }, () => scale * s.normal()));
}

describe('actor-split invariance', () => {
  for (const cfg of [
    { kind: 'adam' as const, lr: 0.01, weightDecay: 0.1 },
    { kind: 'sgd' as const, lr: 0.05, momentum: 0.9, weightDecay: 0.01 },
  ]) {
    it(`${cfg.kind}: two instances over column slices update exactly like one instance`, () => {
      // Tensors: weights (12), thresholds (4), bias (6). Actor A owns the first part of each, actor B the rest.
      const sizes = [12, 4, 6];
      const cut = [5, 1, 2];
      const isThr = [false, true, false];
      const isBias = [false, false, true];
      const whole = randomTensors(1, sizes, 0.3);
      whole[1] = Float32Array.of(0.02, 0.3, 0.6, 0.97);
      const split = whole.map((t) => t.slice());
      const one = new Optimizer(cfg, whole, isThr, isBias);
      // Views into `split`: updating them in place updates the split copy.
      const a = new Optimizer(cfg, split.map((t, k) => t.subarray(0, cut[k])), isThr, isBias);
      const b = new Optimizer(cfg, split.map((t, k) => t.subarray(cut[k])), isThr, isBias);
      for (let step = 0; step < 5; step++) {
        const grads = randomTensors(100 + step, sizes);
        // The global norm is reduced from per-actor partial sums (agrees with the whole to rounding).
        const partA = sumOfSquares(grads.map((g, k) => g.subarray(0, cut[k])));
        const partB = sumOfSquares(grads.map((g, k) => g.subarray(cut[k])));
        expect(partA + partB).toBeCloseTo(sumOfSquares(grads), 10);
        const scale = clipScale(Math.sqrt(partA + partB), 2);
        expect(scale).toBeLessThan(1);
        one.step(grads, scale);
        a.step(grads.map((g, k) => g.subarray(0, cut[k])), scale);
        b.step(grads.map((g, k) => g.subarray(cut[k])), scale);
      }
      split.forEach((t, k) => expect(Array.from(t)).toEqual(Array.from(whole[k]!)));
      // Thresholds stayed projected.
      for (const x of whole[1]!) expect(x >= 0 && x <= 1).toBe(true);
    });
  }
});

describe('state / loadState', () => {
  for (const cfg of [
    { kind: 'adam' as const, lr: 0.01 },
    { kind: 'sgd' as const, lr: 0.05, momentum: 0.9 },
  ]) {
    it(`${cfg.kind}: a restored optimiser continues identically`, () => {
      const sizes = [7, 3];
      const p1 = randomTensors(2, sizes);
      const opt1 = new Optimizer(cfg, p1, [false, false]);
      opt1.step(randomTensors(10, sizes), 1);
      opt1.step(randomTensors(11, sizes), 1);
      const saved = opt1.state();
      const p2 = p1.map((t) => t.slice());
      const opt2 = new Optimizer(cfg, p2, [false, false]);
      opt2.loadState(saved);
      expect(opt2.stepCount).toBe(2);
      const g = randomTensors(12, sizes);
      opt1.step(g, 1);
      opt2.step(g, 1);
      p2.forEach((t, k) => expect(Array.from(t)).toEqual(Array.from(p1[k]!)));
      // state() is a copy: mutating it does not touch the optimiser.
      saved.m[0]!.fill(123);
      expect(opt1.state().m[0]![0]).not.toBe(123);
    });
  }

  it('rejects state of the wrong shape', () => {
    const opt = new Optimizer({ kind: 'adam', lr: 0.01 }, [new Float32Array(3)], [false]);
    expect(() => opt.loadState({ step: 1, m: [new Float32Array(2)], v: [new Float32Array(3)] })).toThrow(/m\[0\]/);
    expect(() => opt.loadState({ step: 1, m: [], v: [] })).toThrow(/tensors/);
  });
});

describe('SIMD update (state in a wasm arena)', () => {
  // Tensors of odd and even lengths, one starting off a 16-byte boundary, one outside the wasm memory (the
  // readout's case): the SIMD module updates whole pairs in its memory, JavaScript the rest.
  const sizes = [13, 8, 1, 6];
  const isThr = [false, false, true, false];
  const isBias = [false, true, false, false];

  /** Parameters and gradients in one wasm memory with an optimiser arena, and the same values in plain arrays. */
  function setup(cfg: OptimizerConfig) {
    const lengths = sizes.map((n, k) => (k === 0 ? n - 1 : n));
    const [tensors, state] = SimdArena.group([[...sizes, ...sizes], Optimizer.arenaSizes(cfg, lengths)]) as [SimdArena, SimdArena];
    const inMemory = (t: Float32Array, k: number) => (k === 0 ? t.subarray(1) : t);
    const params = tensors.views.slice(0, sizes.length).map(inMemory);
    params[3] = new Float32Array(sizes[3]!); // outside the memory
    const grads = tensors.views.slice(sizes.length).map(inMemory);
    randomTensors(3, lengths, 0.5).forEach((t, k) => params[k]!.set(t));
    params[2]![0] = 0.5;
    const calls = { adam: 0, sgd: 0, sumSquares: 0 };
    const ops = tensors.ops;
    const counted = {
      adam: (...a: Parameters<typeof ops.adam>) => (calls.adam++, ops.adam(...a)),
      sgd: (...a: Parameters<typeof ops.sgd>) => (calls.sgd++, ops.sgd(...a)),
      sumSquares: (...a: Parameters<typeof ops.sumSquares>) => (calls.sumSquares++, ops.sumSquares(...a)),
    };
    const arena = Object.create(state, { ops: { value: counted } }) as SimdArena;
    const simd = new Optimizer(cfg, params, isThr, isBias, arena);
    const plainParams = params.map((t) => t.slice());
    const plain = new Optimizer(cfg, plainParams, isThr, isBias);
    return { lengths, params, grads, simd, plainParams, plain, calls };
  }

  for (const cfg of [
    { kind: 'adam' as const, lr: 0.01, weightDecay: 0.1 },
    { kind: 'adam' as const, lr: 0.05, beta1: 0.5, beta2: 0.9, eps: 1e-3, schedule: { kind: 'cosine' as const, warmup: 2, lrMin: 0.001, steps: 6 } },
    { kind: 'sgd' as const, lr: 0.05, momentum: 0.9, weightDecay: 0.01 },
    { kind: 'sgd' as const, lr: 0.5, weightDecay: 0.2 },
    { kind: 'sgd' as const, lr: 0.5 },
  ]) {
    it(`${cfg.kind} ${JSON.stringify(cfg)}: the same bits as the plain optimiser, state included`, () => {
      const { lengths, params, grads, simd, plainParams, plain, calls } = setup(cfg);
      for (let step = 0; step < 6; step++) {
        randomTensors(200 + step, lengths, step === 3 ? 1e-3 : 2).forEach((t, k) => grads[k]!.set(t));
        grads[1]![step] = step % 2 ? -0 : 0; // signed zeros take the same path as any value
        const scale = clipScale(Math.sqrt(plain.sumOfSquares(grads)), 3);
        simd.step(grads, scale);
        plain.step(grads.map((g) => g.slice()), scale);
      }
      const bits = (ts: Float32Array[]) => ts.map((t) => Array.from(new Uint32Array(t.slice().buffer)));
      expect(bits(params)).toEqual(bits(plainParams));
      expect(bits(simd.state().m)).toEqual(bits(plain.state().m));
      expect(bits(simd.state().v)).toEqual(bits(plain.state().v));
      expect(calls[cfg.kind]).toBe(6 * 3); // three tensors in the memory, each step
    });
  }

  it('sumOfSquares: the SIMD sums agree with the sequential one to rounding; other tensors as before', () => {
    const { grads, simd, calls } = setup({ kind: 'adam', lr: 0.01 });
    randomTensors(7, sizes.map((n, k) => (k === 0 ? n - 1 : n))).forEach((t, k) => grads[k]!.set(t));
    const outside = Float64Array.of(1, 2);
    expect(simd.sumOfSquares([...grads, outside])).toBeCloseTo(sumOfSquares([...grads, outside]), 12);
    expect(calls.sumSquares).toBe(4);
    grads.forEach((g) => g.fill(0.5));
    expect(simd.sumOfSquares(grads)).toBe(0.25 * (12 + 8 + 1 + 6)); // exact sums: any order gives the same
  });

  it('rejects an arena of other sizes', () => {
    const [arena] = SimdArena.group([[3, 3]]) as [SimdArena];
    expect(() => new Optimizer({ kind: 'adam', lr: 0.01 }, [new Float32Array(4)], [false], undefined, arena)).toThrow(/Optimizer.arenaSizes/);
  });
});
