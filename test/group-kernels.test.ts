import { describe, expect, it } from 'vitest';
import { defaultModelConfig, type ModelConfig, type Readout as ReadoutMode } from '../model/config.js';
import { GroupKernel } from '../model/group-kernel.js';
import { SimdArena } from '../model/simd.js';
import { ItemList } from '../model/items.js';
import { initParams, paramList, paramShapes, sliceGroup, type Params } from '../model/params.js';
import { referenceForwardBackward, type Batch } from '../model/reference.js';
import { uniformAt } from '../model/rng.js';
import { Composition, composeForwardBackward, type ComposeResult } from './helpers/compose.js';

const B = 3;
const T = 6;
const I = 4;
const HID = [7, 5];
const C = 3;

/** Uneven splits of [7, 5] into G = 1…5 groups. */
const SPLITS: Record<number, number[][]> = {
  1: [[7], [5]],
  2: [[3, 4], [1, 4]],
  3: [[3, 1, 3], [2, 1, 2]],
  4: [[1, 3, 2, 1], [1, 1, 2, 1]],
  5: [[2, 1, 1, 2, 1], [1, 1, 1, 1, 1]],
};

type Model = 'evnn' | 'paper' | 'gru';

function config(model: Model, readout: ReadoutMode, extra: Partial<ModelConfig> = {}): ModelConfig {
  return defaultModelConfig({
    cell: model === 'gru' ? 'gru' : 'egru',
    formulation: model === 'paper' ? 'paper' : 'evnn',
    inputSize: I,
    hidden: HID,
    classes: C,
    readout,
    thresholdMean: 0.3,
    seed: 11,
    ...extra,
  });
}

/** Inputs uniform in [0, 1] with about a quarter exact zeros; targets with some −1. */
function makeBatch(cfg: ModelConfig, steps = T, seed = 5): Batch {
  const x = new Float32Array(B * steps * I);
  for (let k = 0; k < x.length; k++) {
    const u = uniformAt(seed, 1, k);
    x[k] = u < 0.25 ? 0 : uniformAt(seed, 2, k);
  }
  const perStep = cfg.readout === 'per-step';
  const targets = new Int32Array(perStep ? B * steps : B);
  for (let e = 0; e < targets.length; e++) {
    const u = uniformAt(seed, 3, e);
    targets[e] = u < 0.15 ? -1 : Math.floor(uniformAt(seed, 4, e) * C);
  }
  if (!perStep) targets[B - 1] = targets[B - 1]! < 0 ? 0 : targets[B - 1]!; // keep at least one target
  return { x, batch: B, steps, inputSize: I, targets };
}

/**
 * Params with non-zero biases so every bias path is exercised, and weights scaled up (kernel ×4, recurrent ×2)
 * so that roughly 15–20 % of the unit-steps are events in both layers (Xavier init alone gives ~1 % in layer 1).
 */
function makeParams(cfg: ModelConfig): Params<Float32Array> {
  const p = initParams(cfg);
  p.layers.forEach((l, li) => {
    for (let k = 0; k < l.kernel.length; k++) l.kernel[k]! *= 4;
    for (let k = 0; k < l.recurrentKernel.length; k++) l.recurrentKernel[k]! *= 2;
    for (let k = 0; k < l.bias.length; k++) l.bias[k] = 0.2 * (uniformAt(99, li, 1, k) - 0.5);
    for (let k = 0; k < l.recurrentBias.length; k++) l.recurrentBias[k] = 0.2 * (uniformAt(99, li, 2, k) - 0.5);
  });
  for (let c = 0; c < p.readout.bias.length; c++) p.readout.bias[c] = 0.1 * c;
  return p;
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d += (a[i]! - b[i]!) ** 2;
  const nb = norm(b);
  if (nb < 1e-12) return Math.sqrt(d) < 1e-9 ? 0 : Infinity;
  return Math.sqrt(d) / nb;
}

function expectGradsClose(cfg: ModelConfig, got: Params<Float64Array>, want: Params<Float64Array>, tol: number, what: string): void {
  const names = paramShapes(cfg).map((s) => s.name);
  const g = paramList(got);
  const w = paramList(want);
  names.forEach((name, k) => {
    const e = relErr(g[k]!, w[k]!);
    if (!(e < tol)) throw new Error(`${what}: ${name} relative error ${e} ≥ ${tol}`);
  });
}

/**
 * Float32 kernels against the float64 reference, norm-wise per tensor (‖a − b‖/‖b‖). Measured over every case
 * here: gradients ≤ 6e-7, logits ≤ 4e-7, loss ≤ 5e-8; a pseudo-derivative off by 1e-4 relative gives 1e-4.
 */
const TOL = { loss: 1e-6, logits: 2e-6, grads: 1e-5 };

function compareToReference(cfg: ModelConfig, got: ComposeResult, ref: ReturnType<typeof referenceForwardBackward>, what: string): void {
  expect(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss), `${what} loss`).toBeLessThan(TOL.loss);
  expect(relErr(got.logits, ref.logits), `${what} logits`).toBeLessThan(TOL.logits);
  expect(got.correct).toBe(ref.correct);
  expect(got.count).toBe(ref.count);
  expectGradsClose(cfg, got.grads, ref.grads, TOL.grads, what);
  // counters of the kernels (+ readout) equal the reference's figures exactly
  expect(got.figures, `${what} figures`).toEqual(ref.figures);
  expect(got.perLayerEvents).toEqual(ref.perLayerEvents);
  expect(got.perUnitEvents, `${what} events per unit`).toEqual(ref.perUnitEvents);
}

const cases: { model: Model; readout: ReadoutMode; extra?: Partial<ModelConfig> }[] = [];
for (const model of ['evnn', 'paper', 'gru'] as Model[])
  for (const readout of ['trace', 'last', 'per-step'] as ReadoutMode[]) cases.push({ model, readout });
cases.push({ model: 'evnn', readout: 'trace', extra: { activityReg: 0.5 } });
cases.push({ model: 'paper', readout: 'per-step', extra: { activityReg: 0.5 } });
for (const model of ['evnn', 'paper', 'gru'] as Model[]) cases.push({ model, readout: 'trace', extra: { dropout: 0.3 } });
cases.push({ model: 'evnn', readout: 'per-step', extra: { dropout: 0.3 } });
cases.push({ model: 'paper', readout: 'last', extra: { dropout: 0.3, activityReg: 0.5 } });

describe('group kernels composed over G groups equal the float64 reference', () => {
  for (const { model, readout, extra } of cases) {
    const tag = `${model}/${readout}${extra?.activityReg ? ' + activity reg' : ''}${extra?.dropout ? ' + dropout' : ''}`;
    it(tag, () => {
      const cfg = config(model, readout, extra);
      const params = makeParams(cfg);
      const data = makeBatch(cfg);
      const dropoutStep = extra?.dropout ? 3 : null;
      const ref = referenceForwardBackward(cfg, params, data, dropoutStep === null ? {} : { dropoutStep });
      // events happen, but not everywhere (EGRU)
      if (model !== 'gru') {
        ref.perLayerEvents.forEach((e, l) => {
          expect(e, `layer ${l} events`).toBeGreaterThan(0.1 * T * B * HID[l]!);
          expect(e, `layer ${l} events`).toBeLessThan(0.5 * T * B * HID[l]!);
        });
        expect(ref.figures.backwardActive).toBeGreaterThan(ref.figures.events); // announcements matter
      }
      if (extra?.activityReg) expect(ref.activityPenalty).toBeGreaterThan(0);
      const results: ComposeResult[] = [];
      for (let G = 1; G <= 5; G++) {
        const got = composeForwardBackward(cfg, params, data, SPLITS[G]!, dropoutStep);
        compareToReference(cfg, got, ref, `${tag} G=${G}`);
        results.push(got);
      }
      if (model !== 'gru') expect(results[0]!.forwardItems[HID.length - 1]![T - 1]).toBeGreaterThan(0); // 'last' sees events
      // different splits agree with each other to float32 rounding
      for (let G = 2; G <= 5; G++) {
        const a = results[G - 1]!;
        const b = results[0]!;
        expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6 * Math.abs(b.loss) + 1e-9);
        expectGradsClose(cfg, a.grads, b.grads, 1e-5, `${tag} G=${G} vs G=1`);
        expect(a.forwardItems).toEqual(b.forwardItems);
      }
    });
  }
});

describe('group kernels: sequences, sparsity, API', () => {
  it('reuses its buffers across sequences of different lengths and stays exact', () => {
    for (const model of ['evnn', 'paper'] as Model[]) {
      const cfg = config(model, 'trace');
      const params = makeParams(cfg);
      const comp = new Composition(cfg, params, B, SPLITS[3]!);
      for (const [steps, seed] of [
        [6, 5],
        [3, 6],
        [11, 7],
        [6, 5],
      ] as const) {
        const data = makeBatch(cfg, steps, seed);
        const ref = referenceForwardBackward(cfg, params, data);
        compareToReference(cfg, comp.run(data), ref, `${model} T=${steps}`);
      }
      // bit-identical on a repeat
      const data = makeBatch(cfg, 6, 5);
      const a = comp.run(data);
      const b = comp.run(data);
      expect(a.loss).toBe(b.loss);
      paramList(a.grads).forEach((t, k) => expect(Array.from(t)).toEqual(Array.from(paramList(b.grads)[k]!)));
    }
  });

  it('the backward step recomputes exactly the forward gates (block recompute, every step and batch element)', () => {
    for (const model of ['evnn', 'paper', 'gru'] as Model[]) {
      const cfg = config(model, 'per-step');
      const params = makeParams(cfg);
      const comp = new Composition(cfg, params, B, SPLITS[2]!);
      const seen = new Map<string, number[][]>();
      for (const [gi, k] of comp.kernels.flat().entries()) {
        // spy on the gate calls of the kernel's cell (model/cells/), keyed by the step being run
        const cells = k as unknown as { evnnCell: object | null; paperCell: object | null };
        const raw = (cells.evnnCell ?? cells.paperCell) as { simd: { gates: (d: number, a: number, c: number, n: number, r: 0 | 1) => void }; gate: Float32Array };
        const ops = raw.simd;
        let key = '';
        raw.simd = {
          ...ops,
          gates: (d, a, c, n, r) => {
            ops.gates(d, a, c, n, r);
            const list = seen.get(key) ?? [];
            list.push(Array.from(raw.gate));
            seen.set(key, list);
          },
        };
        const fwd = k.forward.bind(k);
        const bwd = k.backward.bind(k);
        k.forward = (phase, t, ...rest) => {
          key = `${gi} f ${t} ${model === 'paper' ? phase : 1}`;
          fwd(phase, t, ...rest);
        };
        k.backward = (phase, t, ...rest) => {
          key = `${gi} b ${t} ${phase + 1}`;
          bwd(phase, t, ...rest);
        };
      }
      for (const steps of [9, 4, 6]) {
        seen.clear();
        comp.run(makeBatch(cfg, steps, 8));
        let compared = 0;
        for (const [key, calls] of seen) {
          if (!key.includes(' b ')) continue;
          expect(calls, `${model} ${key}`).toEqual(seen.get(key.replace(' b ', ' f ')));
          compared += calls.length;
        }
        expect(compared, model).toBe(steps * B * 4); // every (step, batch element) of the four groups
      }
    }
  });

  it('recomputes the forward gates with a short active batch too, and refuses a backward step before its forward step', () => {
    for (const model of ['evnn', 'paper'] as Model[]) {
      const cfg = config(model, 'trace');
      const p = initParams(cfg);
      const n = HID[0]!;
      const batch = 4;
      const k = new GroupKernel({ cfg, layer: 0, unitStart: 0, units: n, batch }, sliceGroup(p.layers[0]!, I, n, 0, n));
      const cells = k as unknown as { evnnCell: object | null; paperCell: object | null }; // spy on the cell's gate calls
      const raw = (cells.evnnCell ?? cells.paperCell) as { simd: { gates: (d: number, a: number, c: number, m: number, mode: 0 | 1 | 2) => void }; gate: Float32Array };
      const ops = raw.simd;
      let calls: number[][] = [];
      raw.simd = { ...ops, gates: (d, a, c, m, mode) => (ops.gates(d, a, c, m, mode), void calls.push([mode, ...raw.gate])) };
      const T = 7;
      const active = 2;
      const x = Array.from({ length: T }, (_, t) => {
        const l = new ItemList(batch);
        for (let b = 0; b < active; b++) {
          l.begin(b);
          for (let i = 0; i < I; i++) l.push(i, 2 * uniformAt(9, t, b, i) - 0.5);
        }
        l.end();
        return l;
      });
      const events = Array.from({ length: T }, () => new ItemList(batch));
      const resets = new ItemList(batch);
      k.beginSequence(T, active);
      const forwardGates: number[][][] = [];
      for (let t = 0; t < T; t++) {
        calls = [];
        const rec = t > 0 ? [events[t - 1]!] : [];
        if (k.forwardPhases === 2) {
          k.forward(0, t, [x[t]!], rec, resets);
          k.forward(1, t, [x[t]!], [resets], events[t]!);
        } else k.forward(0, t, [x[t]!], rec, events[t]!);
        forwardGates.push(calls.filter((g) => g[0] !== 2)); // (paper phase 0 asks for σ only)
      }
      expect(forwardGates.flat().length).toBe(T * active);
      const grad = new Float32Array(batch * n).map((_, i) => uniformAt(10, i) - 0.5);
      const [rec, below, pl] = [new ItemList(batch), new ItemList(batch), new ItemList(batch)];
      for (let t = T - 1; t >= 0; t--) {
        calls = [];
        k.backward(0, t, [], grad, k.backwardPhases === 2 ? pl : rec, below);
        if (k.backwardPhases === 2) k.backward(1, t, [pl], null, rec, below);
        expect(calls, `${model} t=${t}`).toEqual(forwardGates[t]);
      }
      // a backward step whose forward step has not run fails clearly instead of reading stale lists
      k.beginSequence(T, active);
      for (let t = 0; t < 5; t++) {
        if (k.forwardPhases === 2) {
          k.forward(0, t, [x[t]!], [], resets);
          k.forward(1, t, [x[t]!], [resets], events[t]!);
        } else k.forward(0, t, [x[t]!], [], events[t]!);
      }
      expect(() => k.backward(0, 5, [], grad, rec, below)).toThrow(/before its forward step/);
      expect(() => k.backward(0, 4, [], grad, k.backwardPhases === 2 ? pl : rec, below)).not.toThrow();
    }
  });

  it('allocates no new buffers once capacity is reached', () => {
    /** Every typed array reachable from the kernel (fields and the fields of its pools). */
    const buffers = (k: GroupKernel): unknown[] => {
      const out: unknown[] = [];
      for (const v of Object.values(k)) {
        if (ArrayBuffer.isView(v)) out.push(v);
        else if (v && typeof v === 'object') for (const w of Object.values(v)) if (ArrayBuffer.isView(w)) out.push(w);
      }
      return out;
    };
    for (const model of ['evnn', 'paper', 'gru'] as Model[]) {
      const cfg = config(model, 'per-step');
      const params = makeParams(cfg);
      const comp = new Composition(cfg, params, B, SPLITS[2]!);
      const batches = [makeBatch(cfg, 8, 5), makeBatch(cfg, 8, 6), makeBatch(cfg, 5, 7)];
      for (const d of batches) comp.run(d); // reach capacity
      const before = comp.kernels.flat().map(buffers);
      expect(before[0]!.length).toBeGreaterThan(20);
      for (const d of [...batches].reverse()) comp.run(d);
      const after = comp.kernels.flat().map(buffers);
      after.forEach((bufs, g) => bufs.forEach((b, i) => expect(b === before[g]![i], `${model} kernel ${g} buffer ${i}`).toBe(true)));
    }
  });

  it('emits nothing when no unit reaches its threshold', () => {
    for (const model of ['evnn', 'paper'] as Model[]) {
      const cfg = config(model, 'trace');
      const params = makeParams(cfg);
      for (const l of params.layers) l.thr.fill(1e6);
      const data = makeBatch(cfg);
      const got = composeForwardBackward(cfg, params, data, SPLITS[2]!);
      for (const perStep of got.forwardItems) expect(perStep.every((n) => n === 0)).toBe(true);
      expect(got.figures.events).toBe(0);
      expect(got.figures.backwardActive).toBe(0);
      const ref = referenceForwardBackward(cfg, params, data);
      compareToReference(cfg, got, ref, `${model} silent`);
      // nothing active: no recurrent or input-side partial sums, no recurrent weight gradient
      expect(norm(got.grads.layers[0]!.recurrentKernel)).toBe(0);
    }
  });

  it('the dense GRU writes every unit and is all backward-active', () => {
    const cfg = config('gru', 'last');
    const params = makeParams(cfg);
    const data = makeBatch(cfg);
    const got = composeForwardBackward(cfg, params, data, SPLITS[3]!);
    got.forwardItems.forEach((perStep, l) => expect(perStep.every((n) => n === B * HID[l]!)).toBe(true));
    expect(got.figures.backwardActive).toBe(got.figures.unitSteps);
  });

  it('exposes phases and validates its inputs', () => {
    const mk = (model: Model) => {
      const cfg = config(model, 'trace');
      const p = initParams(cfg);
      return new GroupKernel({ cfg, layer: 1, unitStart: 2, units: 3, batch: B }, sliceGroup(p.layers[1]!, 7, 5, 2, 3));
    };
    expect([mk('evnn').forwardPhases, mk('evnn').backwardPhases]).toEqual([1, 1]);
    expect([mk('paper').forwardPhases, mk('paper').backwardPhases]).toEqual([2, 2]);
    expect([mk('gru').forwardPhases, mk('gru').backwardPhases]).toEqual([1, 1]);
    const k = mk('evnn');
    expect(() => k.forward(0, 0, [], [], new ItemList(B))).toThrow(/sequence/);
    {
      // a kernel placed after another one in a shared memory computes bit for bit what a kernel with a memory of
      // its own does
      const cfg = config('evnn', 'trace');
      const p = initParams(cfg);
      const n = HID[0]!;
      const spec = { cfg, layer: 0, unitStart: 0, units: n, batch: B };
      const gp = () => sliceGroup(p.layers[0]!, I, n, 0, n);
      const [, arena] = SimdArena.group([[5], GroupKernel.arenaSizes(spec)]);
      expect(arena!.views[0]!.byteOffset).toBeGreaterThan(0);
      const run = (kernel: GroupKernel) => {
        const T = 5;
        const out = Array.from({ length: T }, () => new ItemList(B));
        kernel.beginSequence(T);
        kernel.zeroGrads();
        for (let t = 0; t < T; t++) {
          const x = new ItemList(B);
          for (let b = 0; b < B; b++) {
            x.begin(b);
            for (let i = 0; i < I; i++) x.push(i, 2 * uniformAt(12, t, b, i) - 0.5);
          }
          x.end();
          kernel.forward(0, t, [x], t > 0 ? [out[t - 1]!] : [], out[t]!);
        }
        const grad = new Float32Array(B * n).map((_, i) => uniformAt(13, i) - 0.5);
        for (let t = T - 1; t >= 0; t--) kernel.backward(0, t, [], grad, new ItemList(B), new ItemList(B));
        return [...out.map((l) => Array.from(l.value.subarray(0, l.size))), ...Object.values(kernel.grads).map((g) => Array.from(g))];
      };
      expect(run(new GroupKernel(spec, gp(), arena))).toEqual(run(new GroupKernel(spec, gp())));
      expect(() => new GroupKernel(spec, gp(), SimdArena.group([[5]])[0])).toThrow(/arena/);
    }
    k.beginSequence(2);
    expect(() => k.forward(1, 0, [], [], new ItemList(B))).toThrow(/phase/);
    const bad = new ItemList(B);
    bad.begin(0);
    bad.push(0, 1); // unit 0 is not in the group 2..4
    bad.end();
    k.forward(0, 0, [], [], new ItemList(B));
    k.forward(0, 1, [], [], new ItemList(B));
    expect(() => k.backward(0, 1, [bad], null, new ItemList(B), new ItemList(B))).toThrow(/unit 0/);
  });
});
