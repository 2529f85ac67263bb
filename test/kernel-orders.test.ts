/**
 * The group kernel sums the pre-activations either by destination (one SIMD gather per step and batch element)
 * or by weight row (one pass per row for all batch elements); which one runs depends on the layer size. Both
 * must give the same bits, or results would change with the size of a layer's weights.
 */
import { describe, expect, it } from 'vitest';
import { defaultModelConfig } from '../model/config.js';
import { GroupKernel } from '../model/group-kernel.js';
import { ItemList } from '../model/items.js';
import { initParams, sliceGroup } from '../model/params.js';
import { Composition } from './helpers/compose.js';
import { activeParams, randomBatch } from './helpers/problems.js';

const CELLS = [
  ['evnn', {}],
  ['paper', { formulation: 'paper' as const }],
  ['gru', { cell: 'gru' as const }],
] as const;

/** Two layers with hidden sizes not divisible by 4 (the SIMD tails), uneven groups, 11 steps (more than two gradient blocks). */
function unevenProblem(extra: (typeof CELLS)[number][1]) {
  const cfg = defaultModelConfig({ inputSize: 5, hidden: [13, 6], classes: 3, seed: 7, activityReg: 0.1, ...extra });
  const params = activeParams(cfg);
  const B = 4;
  const steps = 11;
  const sb = randomBatch(cfg, B, steps, 3);
  const batch = { x: sb.x, targets: sb.targets, batch: B, steps, inputSize: cfg.inputSize };
  return { cfg, params, B, steps, batch, splits: [[5, 8], [1, 2, 3]] };
}

describe('pre-activation order', () => {
  for (const [name, extra] of CELLS)
    it(`${name}: by destination and by weight row give identical losses, gradients and figures (uneven groups, 11 steps)`, () => {
      const { cfg, params, B, batch, splits } = unevenProblem(extra);
      const byDestination = new Composition(cfg, params, B, splits, 'destination').run(batch);
      const byRow = new Composition(cfg, params, B, splits, 'row').run(batch);
      expect(byDestination.loss).toBeGreaterThan(0);
      expect(byDestination.figures.events).toBeGreaterThan(0);
      expect(byDestination).toEqual(byRow);
    });

  for (const [name, extra] of CELLS)
    it(`${name}: gates kept from the forward step and gates recomputed give identical losses, gradients and events`, () => {
      const { cfg, params, B, steps, batch, splits } = unevenProblem(extra);
      const recomputed = new Composition(cfg, params, B, splits, 'destination', 0).run(batch);
      const kept = new Composition(cfg, params, B, splits, 'destination', steps).run(batch);
      // a longer sequence than the kernels keep gates for: recomputed again
      const tooLong = new Composition(cfg, params, B, splits, 'destination', steps - 1).run(batch);
      expect(recomputed.figures.events).toBeGreaterThan(0);
      const { macs: m0, ...rest0 } = recomputed.figures;
      const { macs: m1, ...rest1 } = kept.figures;
      expect({ ...kept, figures: rest1 }).toEqual({ ...recomputed, figures: rest0 });
      expect(tooLong).toEqual(recomputed);
      // without the recompute, the backward step skips one row per received item (the forward step's rows);
      // the paper formulation always recomputes
      const readout = B * cfg.classes * 6;
      expect(m1.backward).toBe(name === 'paper' ? m0.backward : m0.backward - (m0.forward - readout));
      expect({ ...m1, backward: 0 }).toEqual({ ...m0, backward: 0 });
    });

  /** One kernel of a single 8-unit group over T steps, forward then backward, with the given input lists per step. */
  function runKernel(order: 'destination' | 'row', inputs: (t: number) => ItemList[]) {
    const cfg = defaultModelConfig({ inputSize: 8, hidden: [8], classes: 2, seed: 5 });
    const p = initParams(cfg);
    const k = new GroupKernel({ cfg, layer: 0, unitStart: 0, units: 8, batch: 1, preactivationOrder: order }, sliceGroup(p.layers[0]!, 8, 8, 0, 8));
    const T = 5;
    k.beginSequence(T);
    const ev = [new ItemList(1, 8), new ItemList(1, 8)];
    const outs: number[][] = [];
    for (let t = 0; t < T; t++) {
      k.forward(0, t, inputs(t), t > 0 ? [ev[(t - 1) & 1]!] : [], ev[t & 1]!);
      outs.push(Array.from(ev[t & 1]!.value.subarray(0, ev[t & 1]!.size)));
    }
    const g = Float32Array.from({ length: 8 }, (_, j) => 0.1 * (j - 3));
    const rec = new ItemList(1, 8);
    const below = new ItemList(1, 8);
    let incoming: ItemList[] = [];
    for (let t = T - 1; t >= 0; t--) {
      k.backward(0, t, incoming, g, rec, below);
      const next = new ItemList(1, 8);
      next.copyFrom(rec);
      incoming = [next];
    }
    return { outs, grads: [k.grads.kernel, k.grads.recurrentKernel, k.grads.bias, k.grads.thr].map((a) => Array.from(a)) };
  }

  it('an address repeated in several lists (more items than one SIMD call takes): both orders run and agree to float32 rounding', () => {
    // 16 items per step and batch element for 8 input rows: twice the item-list capacity of one call
    const lists = (t: number) =>
      [0, 1].map((l) => {
        const list = new ItemList(1, 8);
        list.clear();
        list.begin(0);
        for (let i = 0; i < 8; i++) list.push(i, 0.1 + 0.05 * i + 0.2 * l + 0.01 * t);
        list.end();
        return list;
      });
    // (with repeated addresses the two orders add a destination's items in different orders: rows first, or lists)
    const a = runKernel('destination', lists);
    const b = runKernel('row', lists);
    expect(a.outs.flat().length).toBeGreaterThan(0);
    expect(a.outs.map((o) => o.length)).toEqual(b.outs.map((o) => o.length));
    const all = (r: typeof a) => [...r.outs.flat(), ...r.grads.flat()];
    const [x, y] = [all(a), all(b)];
    expect(x.length).toBe(y.length);
    x.forEach((v, i) => expect(Math.abs(v - y[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(y[i]!))));
  });

  it('an input address outside the layer is refused in both orders, with the same message', () => {
    const bad = () => {
      const list = new ItemList(1, 2);
      list.clear();
      list.begin(0);
      list.push(8, 1);
      list.end();
      return [list];
    };
    for (const order of ['destination', 'row'] as const) expect(() => runKernel(order, bad)).toThrow(/item address 8 outside 0\.\.7/);
  });
});
