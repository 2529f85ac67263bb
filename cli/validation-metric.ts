/**
 * Which validation figure says a run improved (the best checkpoint, --early-stop), and the record of the best one
 * so far, which checkpoints store so a resumed run carries it on.
 */
import { num, pct, type Figures } from './summary.js';

export interface ValidationMetric {
  /** The figure's name in summary.json and metrics.jsonl. */
  name: 'accuracy' | 'bpc' | 'loss';
  higherIsBetter: boolean;
}

/**
 * Sequence classification: accuracy. Per-step targets (language modelling): bits per character, lower is better.
 * A new kind of task adds its case here.
 */
export function validationMetric(data: { perStep: boolean }): ValidationMetric {
  return data.perStep ? { name: 'bpc', higherIsBetter: false } : { name: 'accuracy', higherIsBetter: true };
}

/** The metric's value in `f` (NaN when the figures lack it: never an improvement). */
export function metricValue(m: ValidationMetric, f: Figures): number {
  const v = f[m.name];
  return typeof v === 'number' ? v : NaN;
}

/** A value of the metric for people: accuracy in per cent. */
export function formatMetric(name: ValidationMetric['name'], v: number | null): string {
  return name === 'accuracy' ? pct(v, 2) : num(v);
}

/** The best validation so far, and the validations since it (what --early-stop counts). */
export interface BestValidation {
  metric: ValidationMetric['name'];
  /** Step and value of the best validation; null before the first. */
  step: number | null;
  value: number | null;
  since: number;
}

export function noBestYet(m: ValidationMetric): BestValidation {
  return { metric: m.name, step: null, value: null, since: 0 };
}

/** True when `value` beats the best so far (strictly: a tie is no improvement). */
export function improves(m: ValidationMetric, best: BestValidation, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (best.value === null) return true;
  return m.higherIsBetter ? value > best.value : value < best.value;
}

/** The record after a validation at `step` with figures `f`; `improved` says whether it is the new best. */
export function afterValidation(m: ValidationMetric, best: BestValidation, step: number, f: Figures): { best: BestValidation; improved: boolean } {
  const value = metricValue(m, f);
  if (improves(m, best, value)) return { best: { metric: m.name, step, value, since: 0 }, improved: true };
  return { best: { ...best, since: best.since + 1 }, improved: false };
}

/** The record a checkpoint stored (meta.best), or none when it holds none for this metric. */
export function storedBest(m: ValidationMetric, v: unknown): BestValidation {
  const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  const numOrNull = (x: unknown) => (typeof x === 'number' ? x : null);
  if (o.metric !== m.name) return noBestYet(m);
  return { metric: m.name, step: numOrNull(o.step), value: numOrNull(o.value), since: typeof o.since === 'number' ? o.since : 0 };
}
