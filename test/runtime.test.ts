import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../model/config.js';
import { clipScale, Optimizer, sumOfSquares, type OptimizerConfig } from '../model/optim.js';
import { initParams, paramList, type Params } from '../model/params.js';
import { referenceForwardBackward } from '../model/reference.js';
import { ActorFailure, Trainer, type SequenceBatch, type TransportKind } from '../runtime/coordinator.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';
import { relErr } from './helpers/rel-err.js';

/** K optimiser steps of the float64 reference with the same optimiser code the actors use. */
function referenceTrain(cfg: ModelConfig, batches: SequenceBatch[], opt: OptimizerConfig, clip: number): Params<Float32Array> {
  const params = activeParams(cfg);
  const tensors = paramList(params);
  const thr = new Set(params.layers.map((l) => l.thr));
  const bias = new Set([...params.layers.flatMap((l) => [l.bias, l.recurrentBias]), params.readout.bias]);
  const optimizer = new Optimizer(opt, tensors, tensors.map((t) => thr.has(t)), tensors.map((t) => bias.has(t)));
  for (const b of batches) {
    const data = { x: b.x, batch: b.batch, steps: b.steps, inputSize: cfg.inputSize, targets: b.targets };
    // dropout masks are keyed by the optimiser step (ignored when cfg.dropout = 0)
    const r = referenceForwardBackward(cfg, params, data, { dropoutStep: optimizer.stepCount });
    const grads = paramList(r.grads);
    optimizer.step(grads, clipScale(Math.sqrt(sumOfSquares(grads)), clip));
  }
  return params;
}

/**
 * Parameters after training, float32 actors against the float64 reference, norm-wise per tensor: measured ≤ 5e-7
 * (SGD, dropout, Adam). The gradients themselves are compared step by step in regularisers.test.ts.
 */
const PARAMS_TOL = 5e-6;

async function trainActors(cfg: ModelConfig, actors: number | (number | number[])[], transport: TransportKind, batches: SequenceBatch[], opt: OptimizerConfig, clip: number) {
  const trainer = await Trainer.create({ model: cfg, params: activeParams(cfg), actors, transport, batch: batches[0]!.batch, maxSteps: 8, optimizer: opt, clip });
  try {
    const losses: number[] = [];
    for (const b of batches) losses.push((await trainer.train(b)).loss);
    return { params: await trainer.getParams(), losses, counters: trainer.counters() };
  } finally {
    await trainer.close();
  }
}

const sgd: OptimizerConfig = { kind: 'sgd', lr: 0.5 };
const splits: [string, number | (number | number[])[]][] = [
  ['1 actor', 1],
  ['2 actors', 2],
  ['3 actors', 3],
  ['5 uneven actors', [[3, 1, 2, 4, 1], [2, 1, 1, 2, 1]]],
];

describe.each(['evnn', 'paper'] as const)('actor runtime, formulation %s', (formulation) => {
  const cfg = smallModel({ formulation });
  const batches = [0, 1, 2].map((s) => randomBatch(cfg, 3, 6, 10 + s));
  const reference = referenceTrain(cfg, batches, sgd, 1.0);

  it.each(splits)('%s (inline) trains to the reference parameters', async (_name, actors) => {
    const { params } = await trainActors(cfg, actors, 'inline', batches, sgd, 1.0);
    const got = paramList(params);
    const want = paramList(reference);
    got.forEach((t, i) => expect(relErr(t, want[i]!)).toBeLessThan(PARAMS_TOL));
  });

  it.each(splits.slice(1))('%s: threads agree with inline bit for bit', async (_name, actors) => {
    const inline = await trainActors(cfg, actors, 'inline', batches, sgd, 1.0);
    const threads = await trainActors(cfg, actors, 'threads', batches, sgd, 1.0);
    expect(threads.losses).toEqual(inline.losses);
    paramList(threads.params).forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(paramList(inline.params)[i]!)));
    expect(threads.counters.totals).toEqual(inline.counters.totals);
  });
});

describe.each(['evnn', 'paper'] as const)('actor runtime with dropout p = 0.3, formulation %s', (formulation) => {
  const cfg = smallModel({ formulation, dropout: 0.3 });
  const batches = [0, 1, 2].map((s) => randomBatch(cfg, 3, 6, 40 + s));
  const reference = referenceTrain(cfg, batches, sgd, 1.0);

  it.each([splits[0]!, splits[2]!, splits[3]!])('%s (inline) trains to the reference parameters', async (_name, actors) => {
    const { params } = await trainActors(cfg, actors, 'inline', batches, sgd, 1.0);
    paramList(params).forEach((t, i) => expect(relErr(t, paramList(reference)[i]!)).toBeLessThan(PARAMS_TOL));
  });

  it('threads agree with inline bit for bit; dropout changes the run; evaluation is undropped', async () => {
    const inline = await trainActors(cfg, 2, 'inline', batches, sgd, 1.0);
    const threads = await trainActors(cfg, 2, 'threads', batches, sgd, 1.0);
    expect(threads.losses).toEqual(inline.losses);
    paramList(threads.params).forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(paramList(inline.params)[i]!)));
    const plain = await trainActors({ ...cfg, dropout: 0 }, 2, 'inline', batches, sgd, 1.0);
    expect(plain.losses[0]).not.toBe(inline.losses[0]);
    // evaluation sees the whole network: the same as the reference without dropout
    const trainer = await Trainer.create({ model: cfg, params: activeParams(cfg), actors: 2, transport: 'inline', batch: 3, maxSteps: 8 });
    try {
      const b = batches[0]!;
      const ev = await trainer.evaluate(b);
      const ref = referenceForwardBackward(cfg, activeParams(cfg), { x: b.x, batch: b.batch, steps: b.steps, inputSize: cfg.inputSize, targets: b.targets });
      expect(Math.abs(ev.loss - ref.loss)).toBeLessThan(1e-6 * Math.abs(ref.loss));
    } finally {
      await trainer.close();
    }
  });
});

describe('actor runtime details', () => {
  it('Adam with clipping, gru and per-step readout follow the reference', async () => {
    // Adam divides by √v: a gradient that is zero in float64 but 1e-9 in float32 would become a full
    // ±lr step, so a larger ε keeps this comparison about the runtime rather than that amplification.
    const adam: OptimizerConfig = { kind: 'adam', lr: 1e-2, eps: 1e-5 };
    for (const cfg of [smallModel({ cell: 'gru' }), smallModel({ readout: 'per-step', activityReg: 0.5 })]) {
      const batches = [0, 1].map((s) => randomBatch(cfg, 3, 5, 20 + s));
      const reference = referenceTrain(cfg, batches, adam, 0.5);
      const { params } = await trainActors(cfg, 3, 'inline', batches, adam, 0.5);
      paramList(params).forEach((t, i) => expect(relErr(t, paramList(reference)[i]!)).toBeLessThan(PARAMS_TOL));
    }
  });

  it('a short batch (2 of capacity 4) trains exactly like the reference on those 2 sequences', async () => {
    const cfg = smallModel();
    const batches = [randomBatch(cfg, 2, 6, 31), randomBatch(cfg, 2, 6, 32)];
    const reference = referenceTrain(cfg, batches, sgd, 0);
    const trainer = await Trainer.create({ model: cfg, params: activeParams(cfg), actors: 2, transport: 'inline', batch: 4, maxSteps: 8, optimizer: sgd });
    try {
      for (const b of batches) await trainer.train(b);
      const got = paramList(await trainer.getParams());
      got.forEach((t, i) => expect(relErr(t, paramList(reference)[i]!)).toBeLessThan(PARAMS_TOL));
      // Padding costs nothing: unit-steps count only the 2 real sequences.
      expect(trainer.counters().totals.unit_steps).toBe(2 * 2 * 6 * (11 + 7));
    } finally {
      await trainer.close();
    }
    // The dense GRU fires every real unit-step, and no padding one; the gathered logits cover real rows only.
    const gru = smallModel({ cell: 'gru', hidden: [8] });
    const t2 = await Trainer.create({ model: gru, actors: 2, transport: 'inline', batch: 4, maxSteps: 5 });
    try {
      await t2.evaluate(randomBatch(gru, 1, 5, 3));
      const c = t2.counters().totals;
      expect(c.events).toBe(c.unit_steps);
      expect(c.unit_steps).toBe(1 * 5 * 8);
      // forward items: every event to the 1 other actor, plus 1 row × C logits each way
      expect(c['messages.forward.items']).toBe(c.events + 2 * gru.classes);
    } finally {
      await t2.close();
    }
  });

  it('forward event items = events × consuming actors; backward items = routed partial sums', async () => {
    const cfg = smallModel({ hidden: [9] });
    const b = randomBatch(cfg, 2, 5, 7);
    const trainer = await Trainer.create({ model: cfg, params: activeParams(cfg), actors: 3, transport: 'inline', batch: 2, maxSteps: 5 });
    try {
      const ev = await trainer.evaluate(b, { trace: true });
      const c = trainer.counters();
      const events = ev.trace!.reduce((s, tr) => s + tr.units.length, 0);
      expect(events).toBe(c.totals.events);
      expect(events).toBeGreaterThan(0);
      // One layer of 3 actors: each event goes to the 2 other actors; the readout is co-located; the
      // partial logits are all-gathered (2 peers × B·C values each).
      const logitItems = 3 * 2 * 2 * cfg.classes;
      expect(c.totals['messages.forward.items']).toBe(2 * events + logitItems);
      let pairItems = 0;
      for (const row of c.pairs) for (const p of row) pairItems += p.forward.items;
      expect(pairItems).toBe(c.totals['messages.forward.items']);
    } finally {
      await trainer.close();
    }
  });

  it('backward items = partial sums for the other actors backward-active units + announcements', async () => {
    const cfg = smallModel({ hidden: [9] });
    const b = randomBatch(cfg, 2, 5, 8);
    const params = activeParams(cfg);
    // Backward-active sets from the reference: active at t when o = 1 or |v − ϑ| < 1/s.
    const T = b.steps;
    const activeAt = new Array<number>(T).fill(0);
    let near = 0;
    referenceForwardBackward(cfg, params, { x: b.x, batch: b.batch, steps: T, inputSize: cfg.inputSize, targets: b.targets }, {
      probe: (_l, t, _b, _j, d) => {
        const fired = d > 0;
        const close = Math.abs(d) < 1 / cfg.support;
        if (fired || close) activeAt[t]!++;
        if (!fired && close) near++;
      },
    });
    const G = 3;
    const trainer = await Trainer.create({ model: cfg, params, actors: G, transport: 'inline', batch: 2, maxSteps: 5 });
    try {
      await trainer.train(b);
      const c = trainer.counters();
      // Each of the G − 1 other actors sends a sum for every unit active at t − 1 (t ≥ 1), and every actor
      // announces its near-threshold units to its G − 1 peers.
      const sums = activeAt.slice(0, T - 1).reduce((s, v) => s + v, 0);
      expect(near).toBeGreaterThan(0);
      expect(c.totals['messages.backward.items']).toBe((G - 1) * (sums + near));
      expect(c.totals.backward_active).toBe(activeAt.reduce((s, v) => s + v, 0));
    } finally {
      await trainer.close();
    }
  });

  it('zero events send no event payload, only control', async () => {
    const cfg = smallModel({ hidden: [6] });
    const params = initParams(cfg);
    params.layers[0]!.thr.fill(1e9);
    const trainer = await Trainer.create({ model: cfg, params, actors: 2, transport: 'inline', batch: 2, maxSteps: 5 });
    try {
      await trainer.train(randomBatch(cfg, 2, 5, 9));
      const c = trainer.counters().totals;
      expect(c.events).toBe(0);
      // Only the all-gathered logits remain on the forward path.
      expect(c['messages.forward.items']).toBe(2 * 2 * cfg.classes);
      // 2 actors × (5 forward ticks + loss + 5 backward ticks + gradient norm), 12 bytes each (messages.test.ts)
      expect(c['messages.control.packets']).toBe(2 * (5 + 1 + 5 + 1));
      expect(c['messages.control.bytes']).toBe(12 * c['messages.control.packets']);
      expect(c['messages.backward.items']).toBe(0); // no unit is near its threshold of 1e9 either
    } finally {
      await trainer.close();
    }
  });

  it.each(['throw', 'exit'] as const)('a failing actor (%s) ends the run with a named error, not by a timeout', async (kind) => {
    const cfg = smallModel();
    // Timeouts far beyond the test's own: only the failure itself (error or exit of the worker) can end the step.
    const trainer = await Trainer.create({
      model: cfg,
      actors: 2,
      transport: 'threads',
      batch: 3,
      maxSteps: 8,
      fault: { actor: 1, job: 1, tick: 3, kind },
      callTimeoutMs: 3_600_000,
      sequenceTimeoutMs: 3_600_000,
    });
    const b = randomBatch(cfg, 3, 6, 1);
    await trainer.train(b);
    const err = await trainer.train(b).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(ActorFailure);
    expect(err!.message).not.toMatch(/did not answer/);
    expect(err!.message).toMatch(/actor 1 \(layer 0, units 6–10\)/);
    expect(err!.message).toMatch(/training step 1/);
    if (kind === 'throw') expect(err!.message).toMatch(/forward tick 3.*injected fault/);
    expect(trainer.aliveWorkers()).toBe(0);
    await trainer.close();
  });
});
