/**
 * Learning-rate schedules: the rate of an optimiser step as a pure function of the step's index, so every actor,
 * every actor split and a resumed run use the same rate without being told it.
 *
 * `step` is the 0-based index of the update (the optimiser steps done before it); `lr` the base (peak) rate.
 *   warm-up (any kind): steps 0 … warmup−1 use lr·(step+1)/warmup, a linear ramp from lr/warmup up to lr (never 0,
 *                       so no step is wasted); the decay below starts after it (at step index `warmup`).
 *   constant:           lr.
 *   cosine:             lr − (lr − lrMin)·(1 − cos(π·d/D))/2 with d = step − warmup and D = steps − warmup: from lr
 *                       at the end of the warm-up to lrMin at step `steps` (PyTorch CosineAnnealingLR); lrMin after.
 *   step:               max(lrMin, lr·gamma^⌊d/every⌋): multiplied by gamma every `every` steps after the warm-up.
 */

export type LrSchedule =
  | { kind: 'constant'; warmup: number }
  | { kind: 'cosine'; warmup: number; lrMin: number; /** The step at which the rate reaches lrMin. */ steps: number }
  | { kind: 'step'; warmup: number; lrMin: number; every: number; gamma: number };

export const LR_SCHEDULES = ['constant', 'cosine', 'step'] as const;
export type LrScheduleKind = (typeof LR_SCHEDULES)[number];

/** The rate of update `step` (0-based) for base rate `lr`; no schedule = constant. */
export function learningRateAt(lr: number, schedule: LrSchedule | undefined, step: number): number {
  if (!schedule) return lr;
  const { warmup } = schedule;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const d = step - warmup;
  switch (schedule.kind) {
    case 'constant':
      return lr;
    case 'cosine': {
      const span = schedule.steps - warmup;
      if (d >= span) return schedule.lrMin;
      // Written from lr down, so the first step after the warm-up has lr exactly.
      return lr - ((lr - schedule.lrMin) * (1 - Math.cos((Math.PI * d) / span))) / 2;
    }
    case 'step':
      return Math.max(schedule.lrMin, lr * Math.pow(schedule.gamma, Math.floor(d / schedule.every)));
  }
}

/** Throws with a one-line message when the schedule cannot be used with base rate `lr`. */
export function validateLrSchedule(lr: number, s: LrSchedule): void {
  const nonNegInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!(LR_SCHEDULES as readonly string[]).includes(s.kind)) throw new Error(`unknown learning-rate schedule "${String(s.kind)}" (${LR_SCHEDULES.join(', ')})`);
  if (!nonNegInt(s.warmup)) throw new Error(`warm-up must be a whole number of steps ≥ 0, got ${s.warmup}`);
  if (s.kind === 'constant') return;
  if (!(s.lrMin >= 0)) throw new Error(`the minimum learning rate must be ≥ 0, got ${s.lrMin}`);
  if (s.lrMin > lr) throw new Error(`the minimum learning rate ${s.lrMin} is above the learning rate ${lr}`);
  if (s.kind === 'cosine' && !nonNegInt(s.steps)) throw new Error(`the cosine schedule's length must be a whole number of steps ≥ 0, got ${s.steps}`);
  if (s.kind === 'step') {
    if (!(nonNegInt(s.every) && s.every > 0)) throw new Error(`the step schedule's interval must be a whole number of steps ≥ 1, got ${s.every}`);
    if (!(s.gamma > 0 && s.gamma <= 1)) throw new Error(`the step schedule's factor must lie in (0, 1], got ${s.gamma}`);
  }
}
