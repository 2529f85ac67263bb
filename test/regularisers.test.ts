/**
 * Activity regulariser, dropout, gradient clipping and AdamW weight decay in the actor runtime, step by step
 * against the float64 reference, on an epoch that ends with short batches (fewer sequences than the batch
 * capacity, as the last batch of a real run), for 1, 2 and 3 (uneven) actors per layer.
 *
 * Each step: read the actors' parameters, zero their optimiser state (keeping the step count, which keys the
 * dropout masks), train one batch, then read the gradient back from the first moments (SGD momentum buffer = g,
 * Adam m = (1 − β1)·g after a step from zero) and compare it with the reference gradient at the same parameters.
 * The update itself is checked against the optimiser rules written out here.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../model/config.js';
import { clipScale, sumOfSquares, type OptimizerConfig, type OptimizerState } from '../model/optim.js';
import { paramList, paramShapes, type Params } from '../model/params.js';
import { referenceForwardBackward } from '../model/reference.js';
import { Trainer, type SequenceBatch, type TransportKind } from '../runtime/coordinator.js';
import { gatherActorTensors } from './helpers/actor-state.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';

const CAPACITY = 4;
const STEPS = 6;
/** Sequences per training step: a full batch, then short ones. */
const BATCH_SIZES = [4, 3, 1];
/**
 * Float32 actors against the float64 reference, norm-wise per tensor (‖a − b‖/‖b‖). Measured here: gradients
 * ≤ 1e-6, losses ≤ 1e-7 relative.
 */
const TOL = { grads: 1e-5, loss: 1e-6 };

const momentum: OptimizerConfig = { kind: 'sgd', lr: 0.5, momentum: 0.5 };
const adamW: OptimizerConfig = { kind: 'adam', lr: 0.01, weightDecay: 0.1 };

interface Case {
  name: string;
  model: Partial<ModelConfig>;
  optimizer: OptimizerConfig;
  clip: number;
}
const CASES: Case[] = [
  { name: 'activity regulariser', model: { activityReg: 0.5 }, optimizer: momentum, clip: 0 },
  { name: 'dropout', model: { dropout: 0.3 }, optimizer: momentum, clip: 0 },
  { name: 'gradient clipping', model: {}, optimizer: momentum, clip: 0.05 },
  { name: 'AdamW weight decay', model: {}, optimizer: adamW, clip: 0 },
  { name: 'all four together', model: { activityReg: 0.5, dropout: 0.3 }, optimizer: adamW, clip: 0.05 },
];
const SPLITS: [string, number | number[][]][] = [
  ['1 actor', 1],
  ['2 actors', 2],
  ['3 uneven actors', [[3, 1, 7], [2, 4, 1]]],
];

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  if (n === 0) return d === 0 ? 0 : Infinity;
  return Math.sqrt(d / n);
}

/** The optimiser states with zero moments and the step count kept. */
function zeroMoments(states: OptimizerState[]): OptimizerState[] {
  return states.map((s) => ({ step: s.step, m: s.m.map((t) => new Float32Array(t.length)), v: s.v.map((t) => new Float32Array(t.length)) }));
}

/** p after one step from zero moments: SGD p − lr·m; AdamW p·(1 − lr·wd on weights) − lr·m̂/(√v̂ + ε); ϑ clamped to [0, 1]. */
function expectedUpdate(cfg: ModelConfig, opt: OptimizerConfig, step: number, before: Params, m: Params, v: Params): Float64Array[] {
  const names = paramShapes(cfg).map((s) => s.name);
  const [p, mm, vv] = [paramList(before), paramList(m), paramList(v)];
  return p.map((t, k) => {
    const isThr = names[k]!.endsWith('.thr');
    const decays = names[k]!.endsWith('kernel') || names[k] === 'readout.weight';
    const out = new Float64Array(t.length);
    for (let i = 0; i < t.length; i++) {
      let x: number;
      if (opt.kind === 'sgd') x = t[i]! - opt.lr * mm[k]![i]!;
      else {
        const bc1 = 1 - 0.9 ** step;
        const bc2 = 1 - 0.999 ** step;
        const decay = decays ? 1 - opt.lr * opt.weightDecay! : 1;
        x = t[i]! * decay - (opt.lr * (mm[k]![i]! / bc1)) / (Math.sqrt(vv[k]![i]! / bc2) + 1e-8);
      }
      out[i] = isThr ? Math.min(1, Math.max(0, x)) : x;
    }
    return out;
  });
}

async function trainAndCompare(cfg: ModelConfig, c: Case, actors: number | number[][], transport: TransportKind, batches: SequenceBatch[]) {
  const trainer = await Trainer.create({ model: cfg, params: activeParams(cfg), actors, transport, batch: CAPACITY, maxSteps: STEPS, optimizer: c.optimizer, clip: c.clip });
  const firstMoment = c.optimizer.kind === 'adam' ? 1 - 0.9 : 1;
  try {
    for (const [step, batch] of batches.entries()) {
      const what = `step ${step} (${batch.batch} of ${CAPACITY} sequences)`;
      const before = await trainer.getParams();
      await trainer.setOptimizerState(zeroMoments(await trainer.getOptimizerState()));
      const got = await trainer.train(batch);
      const data = { x: batch.x, batch: batch.batch, steps: batch.steps, inputSize: cfg.inputSize, targets: batch.targets };
      const ref = referenceForwardBackward(cfg, before, data, { dropoutStep: step });
      const refGrads = paramList(ref.grads);
      const scale = clipScale(Math.sqrt(sumOfSquares(refGrads)), c.clip);
      if (c.clip > 0) expect(scale, `${what}: clipping active`).toBeLessThan(0.9);

      expect(Math.abs(got.loss - ref.loss) / ref.loss, `${what} loss`).toBeLessThan(TOL.loss);
      expect(Math.abs(got.crossEntropy - ref.crossEntropy) / ref.crossEntropy, `${what} cross-entropy`).toBeLessThan(TOL.loss);
      expect(Math.abs(got.activityPenalty - ref.activityPenalty), `${what} activity penalty`).toBeLessThanOrEqual(TOL.loss * ref.activityPenalty);
      if (cfg.activityReg > 0) expect(ref.activityPenalty).toBeGreaterThan(0);
      expect([got.correct, got.count]).toEqual([ref.correct, ref.count]);

      const states = await trainer.getOptimizerState();
      const m = gatherActorTensors(trainer, states.map((s) => s.m));
      const names = paramShapes(cfg).map((s) => s.name);
      paramList(m).forEach((t, k) => {
        const want = refGrads[k]!.map((g) => g * scale * firstMoment);
        expect(relErr(t, want), `${what} gradient of ${names[k]}`).toBeLessThan(TOL.grads);
      });

      const v = c.optimizer.kind === 'adam' ? gatherActorTensors(trainer, states.map((s) => s.v)) : m;
      const want = expectedUpdate(cfg, c.optimizer, step + 1, before, m, v);
      paramList(await trainer.getParams()).forEach((t, k) => {
        const worst = t.reduce((w, x, i) => Math.max(w, Math.abs(x - want[k]![i]!) / Math.max(1, Math.abs(want[k]![i]!))), 0);
        expect(worst, `${what} update of ${names[k]}`).toBeLessThan(1e-6);
      });
    }
  } finally {
    await trainer.close();
  }
}

describe.each([
  ['evnn', 'trace'],
  ['paper', 'per-step'],
] as const)('regularisers with short last batches: %s formulation, %s readout', (formulation, readout) => {
  for (const c of CASES) {
    const cfg = smallModel({ formulation, readout, ...c.model });
    const batches = BATCH_SIZES.map((n, k) => randomBatch(cfg, n, STEPS, 60 + k));
    it.each(SPLITS)(`${c.name}: %s (inline) follow the reference step by step`, async (_name, actors) => {
      await trainAndCompare(cfg, c, actors, 'inline', batches);
    });
  }
});

describe('regularisers with short last batches on the threads transport', () => {
  it('all four together, 3 uneven actors', async () => {
    const c = CASES[CASES.length - 1]!;
    const cfg = smallModel({ ...c.model });
    const batches = BATCH_SIZES.map((n, k) => randomBatch(cfg, n, STEPS, 70 + k));
    await trainAndCompare(cfg, c, SPLITS[2]![1], 'threads', batches);
  });
});
