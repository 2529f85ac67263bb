/** Where a training run stands, as a checkpoint stores it (`rng`, `meta`), so --resume continues exactly. */
import type { Checkpoint } from './io/checkpoint.js';
import { LossMeter, totalsFrom, zeroTotals } from './summary.js';
import { storedBest, validationMetric, type BestValidation, type ValidationMetric } from './validation-metric.js';
import type { CounterTotals } from '../runtime/coordinator.js';

/** Where a run stands: everything a checkpoint stores besides the parameters and the optimiser state. */
export interface RunState {
  /** Optimiser steps done. */
  step: number;
  /** 0-based epoch in progress, and the batches of it done. */
  epoch: number;
  position: number;
  samplesSeen: number;
  /** Training counters and loss of the whole run, and of the epoch in progress. */
  totals: CounterTotals;
  meter: LossMeter;
  epochMeter: EpochMeter;
  /** Step of the last checkpoint written (-1: none yet). */
  lastSavedStep: number;
  /** Wall-clock seconds of the run before this process. */
  wallBefore: number;
  /** The best validation so far and the validations since (the best checkpoint, --early-stop). */
  best: BestValidation;
}

/**
 * The state stored in a checkpoint (`rng`, `meta`), or that of a new run; fields a checkpoint lacks start at 0.
 * `metric`: what the run's validations are judged by (the best validation is kept for it).
 */
export function restoreState(ck?: Checkpoint, metric: ValidationMetric = validationMetric({ perStep: false })): RunState {
  const meta = ck?.meta ?? {};
  return {
    step: ck?.step ?? 0,
    epoch: ck?.epoch ?? 0,
    position: storedNumber(ck?.rng, 'position'),
    samplesSeen: storedNumber(meta, 'samplesSeen'),
    totals: totalsFrom(meta.totals),
    meter: meterFrom(meta.runMeter),
    epochMeter: EpochMeter.from(meta.epochMeter),
    lastSavedStep: ck ? ck.step : -1,
    wallBefore: storedNumber(meta, 'wallSeconds'),
    best: storedBest(metric, meta.best),
  };
}

/** `o[key]` when `o` is an object and that is a number, else 0. */
export function storedNumber(o: unknown, key: string): number {
  const v = o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' ? v : 0;
}

function meterFrom(v: unknown): LossMeter {
  const m = new LossMeter();
  for (const k of ['lossSum', 'correct', 'count', 'samples'] as const) m[k] = storedNumber(v, k);
  return m;
}

export class EpochMeter {
  meter = new LossMeter();
  totals = zeroTotals();
  toJSON() {
    const { lossSum, correct, count, samples } = this.meter;
    return { lossSum, correct, count, samples, totals: this.totals };
  }
  static from(v: unknown): EpochMeter {
    const e = new EpochMeter();
    if (v && typeof v === 'object') {
      e.meter = meterFrom(v);
      e.totals = totalsFrom((v as { totals?: unknown }).totals);
    }
    return e;
  }
}
