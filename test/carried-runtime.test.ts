/**
 * Truncated BPTT in the actor runtime: training and evaluation segments that carry the state on (SequenceBatch
 * `carry`) against the float64 reference with stateFromCarried, for 1, 2 and 3 actors per layer, inline, threads
 * and nats; the carried state read back and restored; training and evaluation keep separate states.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { ModelConfig } from '../model/config.js';
import { storedGateSteps } from '../model/group-kernel.js';
import { clipScale, Optimizer, sumOfSquares, type OptimizerConfig } from '../model/optim.js';
import { paramList, type Params } from '../model/params.js';
import { referenceForward, referenceForwardBackward, stateFromCarried, type ReferenceResult } from '../model/reference.js';
import { Trainer, type SequenceBatch, type TrainerOptions, type TransportKind } from '../runtime/coordinator.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import { relErr } from './helpers/rel-err.js';

const B = 3;
const T = 5;
const sgd: OptimizerConfig = { kind: 'sgd', lr: 0.5 };
/** The tolerances of runtime.test.ts and regularisers.test.ts: parameters after training, losses. */
const PARAMS_TOL = 5e-6;
const LOSS_TOL = 1e-6;

/** Segment 0 starts from zeros, the others carry on. */
function segments(cfg: ModelConfig, seed: number): SequenceBatch[] {
  return [0, 1, 2].map((s) => ({ ...randomBatch(cfg, B, T, seed + s), carry: s > 0 }));
}

const asBatch = (cfg: ModelConfig, b: SequenceBatch) => ({ x: b.x, batch: b.batch, steps: b.steps, inputSize: cfg.inputSize, targets: b.targets });

/** The reference trained segment by segment, each carrying on from the last one's final state with the current parameters. */
function referenceTrain(cfg: ModelConfig, batches: SequenceBatch[]) {
  const params = activeParams(cfg);
  const tensors = paramList(params);
  const thr = new Set(params.layers.map((l) => l.thr));
  const bias = new Set([...params.layers.flatMap((l) => [l.bias, l.recurrentBias]), params.readout.bias]);
  const optimizer = new Optimizer(sgd, tensors, tensors.map((t) => thr.has(t)), tensors.map((t) => bias.has(t)));
  let last: ReferenceResult | null = null;
  const results: ReferenceResult[] = [];
  for (const b of batches) {
    const initialState = b.carry && last ? stateFromCarried(cfg, params, last.finalState) : undefined;
    // MAC counts as the runtime's kernels run (maxSteps 8): gates kept where a layer's fit the budget
    const keptGates = cfg.hidden.map((_, l) => storedGateSteps(cfg, l, B, 8) > 0);
    last = referenceForwardBackward(cfg, params, asBatch(cfg, b), { initialState, keptGates });
    results.push(last);
    const grads = paramList(last.grads);
    optimizer.step(grads, clipScale(Math.sqrt(sumOfSquares(grads)), 0));
  }
  return { params, results };
}

/** The reference's evaluation of segments, carrying on as they say. */
function referenceEvaluate(cfg: ModelConfig, params: Params, batches: SequenceBatch[]) {
  let last: Omit<ReferenceResult, 'grads'> | null = null;
  return batches.map((b) => {
    const initialState = b.carry && last ? stateFromCarried(cfg, params, last.finalState) : undefined;
    last = referenceForward(cfg, params, asBatch(cfg, b), { initialState });
    return last;
  });
}

async function runActors(opts: Omit<TrainerOptions, 'batch' | 'maxSteps'>, train: SequenceBatch[], evaluate: SequenceBatch[]) {
  const trainer = await Trainer.create({ params: activeParams(opts.model), batch: B, maxSteps: 8, optimizer: sgd, ...opts });
  try {
    const losses: number[] = [];
    const evalLosses: number[] = [];
    // evaluation segments interleaved with training ones: each kind carries its own state on
    for (let s = 0; s < train.length; s++) {
      losses.push((await trainer.train(train[s]!)).loss);
      if (s === 0) for (const e of evaluate) evalLosses.push((await trainer.evaluate(e)).loss);
    }
    await trainer.resetCounters();
    const evalAgain = await trainer.evaluate({ ...evaluate[0]!, carry: false });
    return {
      losses,
      evalLosses,
      params: await trainer.getParams(),
      carried: await trainer.getCarriedState('train'),
      counters: trainer.counters().totals,
      evalAgainLoss: evalAgain.loss,
    };
  } finally {
    await trainer.close();
  }
}

const SPLITS: [string, number | number[][]][] = [
  ['1 actor', 1],
  ['2 actors', 2],
  ['3 uneven actors', [[3, 1, 7], [2, 4, 1]]],
];

describe.each(['evnn', 'paper'] as const)('carried state in the actor runtime, formulation %s', (formulation) => {
  const cfg = smallModel({ formulation, readout: 'per-step', activityReg: 0.3 });
  const train = segments(cfg, 60);
  const evaluate = segments(cfg, 70);
  const ref = referenceTrain(cfg, train);

  it.each(SPLITS)('%s (inline): training segments follow the reference', async (_name, actors) => {
    const got = await runActors({ model: cfg, actors, transport: 'inline' }, train, evaluate);
    got.losses.forEach((l, s) => expect(Math.abs(l - ref.results[s]!.loss)).toBeLessThan(LOSS_TOL * ref.results[s]!.loss));
    paramList(got.params).forEach((t, i) => expect(relErr(t, paramList(ref.params)[i]!)).toBeLessThan(PARAMS_TOL));
    // the state the next segment would carry on from
    got.carried.forEach((s, l) => expect(relErr(s, ref.results[2]!.finalState[l]!)).toBeLessThan(PARAMS_TOL));
    // evaluation (after the first training step) carried on its own state, not the training one's
    const refParams1 = referenceTrain(cfg, train.slice(0, 1)).params;
    const refEval = referenceEvaluate(cfg, refParams1, evaluate);
    got.evalLosses.forEach((l, s) => expect(Math.abs(l - refEval[s]!.loss)).toBeLessThan(LOSS_TOL * refEval[s]!.loss));
    // the figures of a fresh evaluation are the reference's
    const fresh = referenceForward(cfg, ref.params, asBatch(cfg, evaluate[0]!));
    expect(got.counters.events).toBe(fresh.figures.events);
  });

  it('the carried state matters, and its MAC figures are the reference ones', async () => {
    const fresh = train.map((b) => ({ ...b, carry: false }));
    const reset = referenceTrain(cfg, fresh);
    expect(Math.abs(reset.results[1]!.loss - ref.results[1]!.loss)).toBeGreaterThan(1e-4);
    const trainer = await Trainer.create({ model: cfg, params: activeParams(cfg), actors: 2, transport: 'inline', batch: B, maxSteps: 8, optimizer: sgd });
    try {
      await trainer.train(train[0]!);
      await trainer.resetCounters();
      await trainer.train(train[1]!);
      const c = trainer.counters().totals;
      const f = ref.results[1]!.figures;
      expect(c.events).toBe(f.events);
      expect(c['macs.forward']).toBe(f.macs.forward);
      expect(c['macs.backward']).toBe(f.macs.backward);
      expect(c.backward_active).toBe(f.backwardActive);
    } finally {
      await trainer.close();
    }
  });

  it.each(SPLITS.slice(1))('%s: threads agree with inline bit for bit', async (_name, actors) => {
    const inline = await runActors({ model: cfg, actors, transport: 'inline' }, train, evaluate);
    const threads = await runActors({ model: cfg, actors, transport: 'threads' }, train, evaluate);
    expect(threads.losses).toEqual(inline.losses);
    expect(threads.evalLosses).toEqual(inline.evalLosses);
    paramList(threads.params).forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(paramList(inline.params)[i]!)));
    threads.carried.forEach((s, l) => expect(Array.from(s)).toEqual(Array.from(inline.carried[l]!)));
    expect(threads.counters).toEqual(inline.counters);
  });
});

describe('carried state, restored', () => {
  it('setCarriedState on a new trainer with another split continues exactly like the first', async () => {
    const cfg = smallModel({ readout: 'per-step' });
    const train = segments(cfg, 80);
    const a = await Trainer.create({ model: cfg, params: activeParams(cfg), actors: 2, transport: 'inline', batch: B, maxSteps: 8, optimizer: sgd });
    const b = await Trainer.create({ model: cfg, params: activeParams(cfg), actors: 3, transport: 'inline', batch: B, maxSteps: 8, optimizer: sgd });
    try {
      await a.train(train[0]!);
      await b.setParams(await a.getParams());
      await b.setCarriedState(await a.getCarriedState());
      const la = await a.train(train[1]!);
      const lb = await b.train(train[1]!);
      expect(Math.abs(la.loss - lb.loss)).toBeLessThan(1e-6 * la.loss);
      await expect(b.setCarriedState([new Float32Array(2)])).rejects.toThrow(/carried state must hold B·H values/);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

const NATS_MISSING = natsServerMissing();
let server: Awaited<ReturnType<typeof startNatsServer>> | undefined;
beforeAll(async () => {
  if (!NATS_MISSING) server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

describe.each(['evnn', 'paper'] as const)('carried state over nats (%s)', (formulation) => {
  it('2 actors per layer: bit-identical to inline', async (ctx: TestContext) => {
    if (NATS_MISSING) ctx.skip(NATS_MISSING);
    const cfg = smallModel({ formulation, readout: 'per-step' });
    const train = segments(cfg, 90);
    const evaluate = segments(cfg, 95);
    const inline = await runActors({ model: cfg, actors: 2, transport: 'inline' as TransportKind }, train, evaluate);
    const nats = await runActors({ model: cfg, actors: 2, transport: 'nats', nats: { servers: server!.url } }, train, evaluate);
    expect(nats.losses).toEqual(inline.losses);
    expect(nats.evalLosses).toEqual(inline.evalLosses);
    paramList(nats.params).forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(paramList(inline.params)[i]!)));
    nats.carried.forEach((s, l) => expect(Array.from(s)).toEqual(Array.from(inline.carried[l]!)));
    expect(nats.counters).toEqual(inline.counters);
  });
});
