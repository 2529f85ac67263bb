/**
 * Per-unit event counts of training (Trainer.unitEvents): equal to the float64 reference's events per unit,
 * summed over the training steps, for any actor split and transport; evaluation does not count.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../model/config.js';
import { clipScale, Optimizer, sumOfSquares, type OptimizerConfig } from '../model/optim.js';
import { paramList } from '../model/params.js';
import { referenceForwardBackward } from '../model/reference.js';
import { Trainer, type SequenceBatch, type TransportKind } from '../runtime/coordinator.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';

const sgd: OptimizerConfig = { kind: 'sgd', lr: 0.5 };

/** The reference trained on `batches`: per layer, each unit's events summed over the steps, and Σ T·B. */
function referenceCounts(cfg: ModelConfig, batches: SequenceBatch[]): { counts: number[][]; steps: number } {
  const params = activeParams(cfg);
  const tensors = paramList(params);
  const thr = new Set(params.layers.map((l) => l.thr));
  const bias = new Set([...params.layers.flatMap((l) => [l.bias, l.recurrentBias]), params.readout.bias]);
  const optimizer = new Optimizer(sgd, tensors, tensors.map((t) => thr.has(t)), tensors.map((t) => bias.has(t)));
  const counts = cfg.hidden.map((h) => new Array<number>(h).fill(0));
  let steps = 0;
  for (const b of batches) {
    const data = { x: b.x, batch: b.batch, steps: b.steps, inputSize: cfg.inputSize, targets: b.targets };
    const r = referenceForwardBackward(cfg, params, data, { dropoutStep: optimizer.stepCount });
    r.perUnitEvents.forEach((layer, l) => layer.forEach((n, j) => (counts[l]![j]! += n)));
    steps += b.steps * b.batch;
    const grads = paramList(r.grads);
    optimizer.step(grads, clipScale(Math.sqrt(sumOfSquares(grads)), 1));
  }
  return { counts, steps };
}

describe.each(['evnn', 'paper'] as const)('per-unit training event counts, formulation %s', (formulation) => {
  const cfg = smallModel({ formulation });
  // The last batch is short (2 of capacity 3): its padding must not count.
  const batches = [randomBatch(cfg, 3, 6, 10), randomBatch(cfg, 3, 5, 11), randomBatch(cfg, 2, 6, 12)];
  const want = referenceCounts(cfg, batches);

  const cases: [TransportKind, number][] = [['inline', 1], ['inline', 2], ['inline', 3], ['threads', 1], ['threads', 2], ['threads', 3]];
  it.each(cases)('%s, %i actors per layer: the reference’s events per unit; evaluation adds none', async (transport, actors) => {
    const trainer = await Trainer.create({ model: cfg, params: activeParams(cfg), actors, transport, batch: 3, maxSteps: 8, optimizer: sgd, clip: 1 });
    try {
      for (const [k, b] of batches.entries()) {
        await trainer.train(b);
        if (k === 0) await trainer.evaluate(batches[1]!, { trace: true }); // a validation pass in between
      }
      const got = await trainer.unitEvents();
      expect(got.map((l) => Array.from(l.counts))).toEqual(want.counts);
      expect(got.map((l) => l.steps)).toEqual(cfg.hidden.map(() => want.steps));
      await trainer.resetCounters();
      expect((await trainer.unitEvents()).every((l) => l.steps === 0 && l.counts.every((n) => n === 0))).toBe(true);
    } finally {
      await trainer.close();
    }
  });

  it('counts some units and not others (the comparison above is not trivial)', () => {
    for (const layer of want.counts) {
      expect(layer.some((n) => n > 0)).toBe(true);
      expect(layer.some((n) => n < want.steps)).toBe(true);
    }
  });
});
