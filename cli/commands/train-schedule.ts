/** The learning-rate schedule options of `egru train` and the schedule they make (model/lr-schedule.ts). */
import type { Command } from 'commander';
import { LR_SCHEDULES, validateLrSchedule, type LrSchedule, type LrScheduleKind } from '../../model/lr-schedule.js';
import { InputError } from '../io/errors.js';
import { choiceArg, floatArg, intArg } from './common.js';

export interface ScheduleOptions {
  lrSchedule?: LrScheduleKind;
  warmup?: number;
  lrMin?: number;
  lrStepEvery?: number;
  lrGamma?: number;
  /** cosine: the step at which it reaches --lr-min, when not the run's last (a repeated run's, from --config). */
  cosineSteps?: number;
}

/** The step schedule's factor when --lr-gamma is not given. */
export const DEFAULT_LR_GAMMA = 0.1;

export function addScheduleOptions(cmd: Command): Command {
  return cmd
    .option('--lr-schedule <kind>', 'learning rate over the steps: constant (default), cosine (decays to --lr-min over the run) or step (× --lr-gamma every --lr-step-every steps)', choiceArg(LR_SCHEDULES))
    .option('--warmup <steps>', 'linear warm-up over the first STEPS steps, from lr/STEPS up to --lr (default 0 = none)', intArg(0))
    .option('--lr-min <rate>', 'cosine: the rate it decays to by the end of the run; step: the lowest rate (default 0)', floatArg(0))
    .option('--lr-step-every <n>', 'step schedule: multiply the rate by --lr-gamma every n steps after the warm-up', intArg(1))
    .option('--lr-gamma <g>', `step schedule: the factor, in (0, 1] (default ${DEFAULT_LR_GAMMA})`, floatArg(0, { exclusive: true, max: 1 }));
}

/** The schedule of the options, for base rate `lr` over a run of `totalSteps` steps; bad combinations → InputError. */
export function lrScheduleOf(o: ScheduleOptions, lr: number, totalSteps: number): LrSchedule {
  const kind = o.lrSchedule ?? 'constant';
  const warmup = o.warmup ?? 0;
  if (o.lrMin !== undefined && kind === 'constant') throw new InputError('--lr-min applies to --lr-schedule cosine or step only');
  if ((o.lrStepEvery !== undefined || o.lrGamma !== undefined) && kind !== 'step')
    throw new InputError(`--${o.lrStepEvery !== undefined ? 'lr-step-every' : 'lr-gamma'} applies to --lr-schedule step only`);
  if (kind === 'step' && o.lrStepEvery === undefined) throw new InputError('--lr-schedule step needs --lr-step-every N (the steps between the drops)');
  if (o.lrMin !== undefined && o.lrMin > lr) throw new InputError(`--lr-min ${o.lrMin} is above the learning rate ${lr} (--lr)`);
  const lrMin = o.lrMin ?? 0;
  const schedule: LrSchedule =
    kind === 'cosine'
      ? { kind, warmup, lrMin, steps: o.cosineSteps ?? totalSteps }
      : kind === 'step'
        ? { kind, warmup, lrMin, every: o.lrStepEvery!, gamma: o.lrGamma ?? DEFAULT_LR_GAMMA }
        : { kind, warmup };
  try {
    validateLrSchedule(lr, schedule);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  return schedule;
}

/** The options that make `schedule` again (`--config`). */
export function scheduleOptionsOf(schedule: LrSchedule | undefined): ScheduleOptions {
  if (!schedule) return {};
  const o: ScheduleOptions = { lrSchedule: schedule.kind, warmup: schedule.warmup };
  if (schedule.kind !== 'constant') o.lrMin = schedule.lrMin;
  if (schedule.kind === 'cosine') o.cosineSteps = schedule.steps;
  if (schedule.kind === 'step') Object.assign(o, { lrStepEvery: schedule.every, lrGamma: schedule.gamma });
  return o;
}
