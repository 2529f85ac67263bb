/** Where a training run stands, as a checkpoint stores it (`rng`, `meta`), so --resume continues exactly. */
import type { Checkpoint } from './io/checkpoint.js';
import { InputError } from './io/errors.js';
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
  /** Contiguous data: the state the next training batch carries on from, per layer [B·H]; null: none stored. */
  carried: Float32Array[] | null;
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
    carried: carriedFrom(ck?.rng),
  };
}

/** The carried state as checkpoint tensors ({shape: [B, H], dtype: 'float32', data: bytes}), per layer. */
export function carriedTensors(state: readonly Float32Array[], batch: number) {
  return state.map((s) => ({ shape: [batch, s.length / batch], dtype: 'float32', data: new Uint8Array(s.buffer, s.byteOffset, s.byteLength) }));
}

/** `rng.carried` of a checkpoint, or null (none stored: checkpoints of other tasks and of older versions). */
function carriedFrom(rng: unknown): Float32Array[] | null {
  const list = rng && typeof rng === 'object' ? (rng as { carried?: unknown }).carried : undefined;
  if (!Array.isArray(list)) return null;
  return list.map((t: { data?: unknown }) => {
    if (!(t?.data instanceof Uint8Array) || t.data.byteLength % 4 !== 0) throw new InputError('checkpoint rng.carried holds a malformed tensor');
    const out = new Float32Array(t.data.byteLength / 4);
    new Uint8Array(out.buffer).set(t.data);
    return out;
  });
}

/** `o[key]` when `o` is an object and that is a number, else 0. */
export function storedNumber(o: unknown, key: string): number {
  const v = o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' ? v : 0;
}

function meterFrom(v: unknown): LossMeter {
  const m = new LossMeter();
  for (const k of ['lossSum', 'ceSum', 'ceCount', 'correct', 'count', 'samples'] as const) m[k] = storedNumber(v, k);
  return m;
}

export class EpochMeter {
  meter = new LossMeter();
  totals = zeroTotals();
  toJSON() {
    const { lossSum, ceSum, ceCount, correct, count, samples } = this.meter;
    return { lossSum, ceSum, ceCount, correct, count, samples, totals: this.totals };
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
