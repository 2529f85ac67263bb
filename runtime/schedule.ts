/**
 * The per-sequence schedule every transport follows: the same ordered phases, with a barrier after each.
 * Forward and backward run as wavefronts over the layers (layer l handles step t at tick t + l going
 * forward), so every message written in one tick is read in the next and one barrier closes a tick.
 */
import type { ActorCore } from './actor.js';
import { JOB } from './actor.js';

export const Phase = { Begin: 0, Forward: 1, Loss: 2, Backward: 3, Norm: 4, Update: 5, End: 6 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export function runSchedule(
  ticks: number,
  forwardPhases: number,
  backwardPhases: number,
  train: boolean,
  step: (phase: Phase, k: number, p: number) => void,
): void {
  step(Phase.Begin, 0, 0);
  for (let k = 0; k < ticks; k++) for (let p = 0; p < forwardPhases; p++) step(Phase.Forward, k, p);
  step(Phase.Loss, 0, 0);
  if (train) {
    for (let k = 0; k < ticks; k++) for (let p = 0; p < backwardPhases; p++) step(Phase.Backward, k, p);
    step(Phase.Norm, 0, 0);
    step(Phase.Update, 0, 0);
  }
  step(Phase.End, 0, 0);
}

/** The same schedule as a list, for drivers that await between phases (network transports). */
export function phaseList(ticks: number, forwardPhases: number, backwardPhases: number, train: boolean): [Phase, number, number][] {
  const out: [Phase, number, number][] = [];
  runSchedule(ticks, forwardPhases, backwardPhases, train, (phase, k, p) => out.push([phase, k, p]));
  return out;
}

/** Run one phase on one actor. */
export function execPhase(actor: ActorCore, phase: Phase, k: number, p: number, trace: boolean): void {
  switch (phase) {
    case Phase.Begin:
      return actor.begin(trace);
    case Phase.Forward:
      return actor.forward(k, p);
    case Phase.Loss:
      return actor.loss();
    case Phase.Backward:
      return actor.backward(k, p);
    case Phase.Norm:
      return actor.norm();
    case Phase.Update:
      return actor.update();
    case Phase.End:
      return actor.end();
  }
}

export function phaseName(phase: Phase, k: number, p: number): string {
  const names = ['begin', 'forward', 'loss', 'backward', 'gradient norm', 'update', 'end'];
  return phase === Phase.Forward || phase === Phase.Backward ? `${names[phase]} tick ${k}${p ? ` phase ${p}` : ''}` : names[phase]!;
}

export { JOB };
