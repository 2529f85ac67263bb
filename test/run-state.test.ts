/** Where a training run stands, read back from a checkpoint for --resume (the loop itself is tested through the CLI). */
import { describe, expect, it } from 'vitest';
import { defaultModelConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import type { Checkpoint } from '../cli/io/checkpoint.js';
import { restoreState } from '../cli/run-state.js';
import { zeroTotals } from '../cli/summary.js';

const model = defaultModelConfig({ inputSize: 2, hidden: [3], classes: 2 });
const checkpoint = (over: Partial<Checkpoint>): Checkpoint => ({
  config: { command: 'import', version: '0.1.0', task: null, weights: 'w.npz', model },
  params: initParams(model),
  step: 7,
  epoch: 2,
  ...over,
});

describe('restoreState', () => {
  it('a new run starts at step 0 of epoch 0, with nothing counted and no checkpoint written', () => {
    const s = restoreState(undefined);
    expect(s).toMatchObject({ step: 0, epoch: 0, position: 0, samplesSeen: 0, lastSavedStep: -1, wallBefore: 0 });
    expect(s.totals).toEqual(zeroTotals());
    expect(s.meter).toMatchObject({ lossSum: 0, correct: 0, count: 0, samples: 0 });
    expect(s.epochMeter.meter.count).toBe(0);
  });

  it('a checkpoint gives back where its run stood', () => {
    const s = restoreState(
      checkpoint({
        rng: { epoch: 2, position: 3 },
        meta: {
          wallSeconds: 12.5,
          samplesSeen: 224,
          totals: { events: 40, unit_steps: 90 },
          runMeter: { lossSum: 9, correct: 100, count: 224, samples: 224 },
          epochMeter: { lossSum: 1, correct: 20, count: 48, samples: 48, totals: { events: 4 } },
        },
      }),
    );
    expect(s).toMatchObject({ step: 7, epoch: 2, position: 3, samplesSeen: 224, lastSavedStep: 7, wallBefore: 12.5 });
    expect(s.totals).toEqual({ ...zeroTotals(), events: 40, unit_steps: 90 });
    expect(s.meter).toMatchObject({ lossSum: 9, correct: 100, count: 224, samples: 224 });
    expect(s.epochMeter.meter).toMatchObject({ lossSum: 1, correct: 20, count: 48, samples: 48 });
    expect(s.epochMeter.totals).toEqual({ ...zeroTotals(), events: 4 });
  });

  it('what a checkpoint lacks, or holds in another form, starts at 0', () => {
    const s = restoreState(checkpoint({ rng: 'counter-based', meta: { wallSeconds: '12', runMeter: [1, 2], epochMeter: null } }));
    expect(s).toMatchObject({ step: 7, epoch: 2, position: 0, samplesSeen: 0, lastSavedStep: 7, wallBefore: 0 });
    expect(s.meter.count).toBe(0);
    expect(s.epochMeter.meter.count).toBe(0);
  });
});
