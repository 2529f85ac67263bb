/** Learning-rate schedules (model/lr-schedule.ts) and the optimiser following them from its own step count. */
import { describe, expect, it } from 'vitest';
import { learningRateAt, validateLrSchedule, type LrSchedule } from '../model/lr-schedule.js';
import { Optimizer, type OptimizerConfig } from '../model/optim.js';

const rates = (lr: number, s: LrSchedule, steps: number[]) => steps.map((k) => learningRateAt(lr, s, k));

describe('learning-rate schedules', () => {
  it('no schedule and constant: the base rate at every step', () => {
    expect(rates(0.1, { kind: 'constant', warmup: 0 }, [0, 1, 1000])).toEqual([0.1, 0.1, 0.1]);
    expect(learningRateAt(0.1, undefined, 7)).toBe(0.1);
  });

  it('warm-up: lr·(step+1)/warmup over the first warmup steps, then the base rate', () => {
    const s: LrSchedule = { kind: 'constant', warmup: 4 };
    expect(rates(0.8, s, [0, 1, 2, 3, 4, 5])).toEqual([0.2, 0.4, 0.6000000000000001, 0.8, 0.8, 0.8]);
  });

  it('cosine: lr at the end of the warm-up, the midpoint halfway, lrMin at step `steps` and after', () => {
    const s: LrSchedule = { kind: 'cosine', warmup: 2, lrMin: 0.1, steps: 12 };
    expect(learningRateAt(1, s, 0)).toBe(0.5); // warm-up, not cosine
    expect(learningRateAt(1, s, 1)).toBe(1);
    expect(learningRateAt(1, s, 2)).toBe(1); // decay starts at the warm-up's end: cos(0)
    expect(learningRateAt(1, s, 7)).toBeCloseTo(0.55, 15); // d = 5 of 10: (1 + 0.1) / 2
    expect(learningRateAt(1, s, 11)).toBeCloseTo(0.1 + 0.9 * (1 + Math.cos(Math.PI * 0.9)) / 2, 15); // the last step
    expect(learningRateAt(1, s, 11)).toBeGreaterThan(0.1);
    expect(rates(1, s, [12, 13, 500])).toEqual([0.1, 0.1, 0.1]);
    // decreasing after the warm-up
    const r = rates(1, s, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    r.slice(1).forEach((v, i) => expect(v).toBeLessThan(r[i]!));
  });

  it('cosine whose warm-up covers the run: the base rate until step `steps`', () => {
    expect(rates(1, { kind: 'cosine', warmup: 4, lrMin: 0, steps: 4 }, [3, 4])).toEqual([1, 0]);
  });

  it('step: × gamma every `every` steps after the warm-up, never below lrMin', () => {
    const s: LrSchedule = { kind: 'step', warmup: 2, lrMin: 0.05, every: 3, gamma: 0.5 };
    expect(rates(1, s, [0, 1, 2, 4, 5, 7, 8, 10, 11, 14, 100])).toEqual([0.5, 1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.0625, 0.05]);
  });

  it('bad schedules are refused in one line', () => {
    const bad: [LrSchedule, RegExp][] = [
      [{ kind: 'constant', warmup: -1 }, /warm-up must be a whole number of steps ≥ 0, got -1/],
      [{ kind: 'constant', warmup: 1.5 }, /warm-up/],
      [{ kind: 'linear', warmup: 0 } as unknown as LrSchedule, /unknown learning-rate schedule "linear" \(constant, cosine, step\)/],
      [{ kind: 'cosine', warmup: 0, lrMin: 0.2, steps: 10 }, /minimum learning rate 0.2 is above the learning rate 0.1/],
      [{ kind: 'step', warmup: 0, lrMin: 0, every: 0, gamma: 0.5 }, /interval must be a whole number of steps ≥ 1/],
      [{ kind: 'step', warmup: 0, lrMin: 0, every: 2, gamma: 1.5 }, /factor must lie in \(0, 1\]/],
    ];
    for (const [s, msg] of bad) expect(() => validateLrSchedule(0.1, s)).toThrow(msg);
    expect(() => new Optimizer({ kind: 'sgd', lr: 0.1, schedule: { kind: 'constant', warmup: -2 } }, [new Float32Array(1)], [false])).toThrow(/warm-up/);
  });
});

describe('the optimiser follows its schedule', () => {
  it('sgd: each step moves the parameter by the scheduled rate × the gradient, also after loadState', () => {
    const schedule: LrSchedule = { kind: 'step', warmup: 2, lrMin: 0, every: 2, gamma: 0.5 };
    const p = Float32Array.of(0);
    const opt = new Optimizer({ kind: 'sgd', lr: 1, schedule }, [p], [false]);
    const moves: number[] = [];
    for (let k = 0; k < 6; k++) {
      const before = p[0]!;
      expect(opt.nextRate).toBe(learningRateAt(1, schedule, k));
      opt.step([Float32Array.of(-1)], 1);
      moves.push(p[0]! - before);
    }
    expect(moves).toEqual([0.5, 1, 1, 1, 0.5, 0.5]);
    // a fresh optimiser given the state of step 6 (a resumed run) continues the schedule
    const q = Float32Array.of(0);
    const again = new Optimizer({ kind: 'sgd', lr: 1, schedule }, [q], [false]);
    again.loadState(opt.state());
    again.step([Float32Array.of(-1)], 1);
    expect(q[0]).toBe(0.25);
  });

  it('adam with a cosine schedule: split across two optimisers, bit-identical to one', () => {
    const cfg: OptimizerConfig = { kind: 'adam', lr: 0.05, weightDecay: 0.01, schedule: { kind: 'cosine', warmup: 3, lrMin: 0.001, steps: 10 } };
    const whole = Float32Array.of(0.3, -0.2, 0.7, 0.1);
    const [a, b] = [whole.slice(0, 1), whole.slice(1)];
    const one = new Optimizer(cfg, [whole], [false]);
    const left = new Optimizer(cfg, [a], [false]);
    const right = new Optimizer(cfg, [b], [false]);
    for (let k = 0; k < 12; k++) {
      const g = Float32Array.from(whole, (x, i) => Math.sin(k + i) * x + 0.01 * i);
      one.step([g], 1);
      left.step([g.subarray(0, 1)], 1);
      right.step([g.subarray(1)], 1);
    }
    expect([...a, ...b]).toEqual([...whole]);
    // and the schedule changed the result: a constant rate ends elsewhere
    const constant = Float32Array.of(0.3, -0.2, 0.7, 0.1);
    const plain = new Optimizer({ ...cfg, schedule: undefined }, [constant], [false]);
    for (let k = 0; k < 12; k++) plain.step([Float32Array.from(constant, (x, i) => Math.sin(k + i) * x + 0.01 * i)], 1);
    expect([...constant]).not.toEqual([...whole]);
  });
});
