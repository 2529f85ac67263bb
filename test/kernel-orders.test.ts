/**
 * The group kernel sums the pre-activations either by destination (one SIMD gather per step and batch element)
 * or by weight row (one pass per row for all batch elements); which one runs depends on the layer size. Both
 * must give the same bits, or results would change with the size of a layer's weights.
 */
import { describe, expect, it } from 'vitest';
import { defaultModelConfig } from '../model/config.js';
import { Composition } from './helpers/compose.js';
import { activeParams, randomBatch } from './helpers/problems.js';

describe('pre-activation order', () => {
  for (const [name, extra] of [
    ['evnn', {}],
    ['paper', { formulation: 'paper' as const }],
    ['gru', { cell: 'gru' as const }],
  ] as const)
    it(`${name}: by destination and by weight row give identical losses, gradients and figures (uneven groups, 11 steps)`, () => {
      // hidden sizes not divisible by 4 (the SIMD tails), a sequence longer than two gradient blocks
      const cfg = defaultModelConfig({ inputSize: 5, hidden: [13, 6], classes: 3, seed: 7, activityReg: 0.1, ...extra });
      const params = activeParams(cfg);
      const B = 4;
      const steps = 11;
      const sb = randomBatch(cfg, B, steps, 3);
      const batch = { x: sb.x, targets: sb.targets, batch: B, steps, inputSize: cfg.inputSize };
      const splits = [[5, 8], [1, 2, 3]];
      const byDestination = new Composition(cfg, params, B, splits, 'destination').run(batch);
      const byRow = new Composition(cfg, params, B, splits, 'row').run(batch);
      expect(byDestination.loss).toBeGreaterThan(0);
      expect(byDestination.figures.events).toBeGreaterThan(0);
      expect(byDestination).toEqual(byRow);
    });
});
