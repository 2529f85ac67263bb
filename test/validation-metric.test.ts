/** The best validation and --early-stop's count (cli/validation-metric.ts), and the learning rate on the progress line. */
import { describe, expect, it } from 'vitest';
import { progressLine } from '../cli/progress-line.js';
import type { Figures } from '../cli/summary.js';
import { afterValidation, noBestYet, storedBest, validationMetric, type BestValidation } from '../cli/validation-metric.js';

const fig = (f: Partial<Figures>) => f as Figures;

/** The record after validations with these values of the metric at steps 10, 20, …. */
function replay(perStep: boolean, values: number[]): { best: BestValidation; improvedAt: number[] } {
  const m = validationMetric({ perStep });
  let best = noBestYet(m);
  const improvedAt: number[] = [];
  values.forEach((v, k) => {
    const r = afterValidation(m, best, 10 * (k + 1), fig(perStep ? { bpc: v, accuracy: 0.5 } : { accuracy: v, loss: 1 }));
    best = r.best;
    if (r.improved) improvedAt.push(10 * (k + 1));
  });
  return { best, improvedAt };
}

describe('the best validation', () => {
  it('classification: higher accuracy is better; a tie is no improvement; the validations since are counted', () => {
    const { best, improvedAt } = replay(false, [0.5, 0.6, 0.6, 0.55, 0.7, 0.65]);
    expect(improvedAt).toEqual([10, 20, 50]);
    expect(best).toEqual({ metric: 'accuracy', step: 50, value: 0.7, since: 1 });
  });

  it('per-step targets (language modelling): lower bits per character is better', () => {
    const { best, improvedAt } = replay(true, [3, 2.5, 2.6, 2.4, 2.4]);
    expect(improvedAt).toEqual([10, 20, 40]);
    expect(best).toEqual({ metric: 'bpc', step: 40, value: 2.4, since: 1 });
  });

  it('a NaN metric never improves (and counts as a validation without improvement)', () => {
    const { best, improvedAt } = replay(true, [NaN, 2, NaN]);
    expect(improvedAt).toEqual([20]);
    expect(best.since).toBe(1);
  });

  it('--early-stop 2 would stop at the second validation after the best (the count reaches 2 there first)', () => {
    const values = [0.5, 0.6, 0.58, 0.6, 0.7];
    const sinces = values.map((_, k) => replay(false, values.slice(0, k + 1)).best.since);
    expect(sinces).toEqual([0, 0, 1, 2, 0]);
    expect(sinces.findIndex((s) => s >= 2)).toBe(3);
  });

  it('a checkpoint stores the record; one for another metric (or none) starts afresh', () => {
    const m = validationMetric({ perStep: false });
    const rec = { metric: 'accuracy', step: 30, value: 0.8, since: 2 };
    expect(storedBest(m, JSON.parse(JSON.stringify(rec)))).toEqual(rec);
    expect(storedBest(m, { ...rec, metric: 'bpc' })).toEqual(noBestYet(m));
    expect(storedBest(m, undefined)).toEqual({ metric: 'accuracy', step: null, value: null, since: 0 });
  });
});

describe('the learning rate on the progress line', () => {
  const state = { step: 10, total: 20, loss: 0.5, accuracy: 0.5, sparsity: 0.5 };
  const plain = { label: 'train', unit: 'steps', barCells: 0, separator: '  ' };
  it('shows it when given, and drops it right after the rate when narrow', () => {
    expect(progressLine({ ...state, lr: 0.00125 }, 2, plain)).toBe('train 10/20  loss 0.5000  acc 50.0 %  sparsity 50.0 %  lr 1.25e-3  2.00 steps/s  ETA 5.0 s');
    expect(progressLine({ ...state, lr: 0.00125 }, 2, plain, 70)).toBe('train 10/20  loss 0.5000  acc 50.0 %  sparsity 50.0 %  ETA 5.0 s');
    expect(progressLine(state, 2, plain)).not.toMatch(/lr/);
  });
});
