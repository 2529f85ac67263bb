/**
 * Firing rates per unit (`egru report --firing-rates`): the run's final checkpoint evaluated (forward only,
 * traced) on validation samples; each unit's rate = its events / (steps × samples). Stored as
 * RUN_DIR/firing.json, which the report draws next to the rates over training (summary.json train.firing,
 * cli/unit-firing.ts): these are the final network's alone.
 */
import { join } from 'node:path';
import { Trainer } from '../../runtime/coordinator.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { trainRunOf } from '../run-config.js';
import { Batcher } from '../train-loop.js';
import { resolveEvalData } from '../commands/eval-data.js';
import { FIRING_FILE } from './run-data.js';

export interface FiringRates {
  format: 'egru-firing-rates';
  version: 1;
  /** What the rates were measured on, e.g. "row-mnist (test)". */
  source: string;
  samples: number;
  steps: number;
  /** Per layer, the firing rate of each unit (events per step), in unit order. */
  layers: { units: number; rates: number[] }[];
}

/** Measures the firing rates of the run in `dir` on `samples` validation samples and writes firing.json. */
export async function measureFiringRates(dir: string, samples: number): Promise<FiringRates> {
  const file = join(dir, 'checkpoint.egru');
  const ck = loadCheckpoint(file);
  const run = trainRunOf(ck.config);
  const model = ck.config.model;
  const heldOut = run?.data ? (run.val ?? run.data) : undefined;
  const { ds, source } = resolveEvalData(file, ck, { data: heldOut ?? undefined, split: 'test', limit: samples });
  const batch = Math.min(run?.batch ?? 32, ds.n);
  const counts = model.hidden.map((h) => new Float64Array(h));
  const trainer = await Trainer.create({ model, params: ck.params, actors: run?.actors ?? 1, transport: 'inline', batch, maxSteps: ds.steps });
  try {
    const batcher = new Batcher(ds, batch);
    for (let from = 0; from < ds.n; from += batch) {
      const b = batcher.batch(null, from, Math.min(ds.n, from + batch));
      const { trace } = await trainer.evaluate(b, { trace: true });
      for (const tr of trace!) {
        const c = counts[tr.layer]!;
        // Rows are (step, batch slot); slots past this batch's sequences are padding.
        for (let t = 0; t < b.steps; t++)
          for (let s = 0; s < b.batch; s++) {
            const row = t * tr.batch + s;
            for (let e = tr.offsets[row]!; e < tr.offsets[row + 1]!; e++) c[tr.units[e]!]!++;
          }
      }
    }
  } finally {
    await trainer.close();
  }
  const rates: FiringRates = {
    format: 'egru-firing-rates',
    version: 1,
    source,
    samples: ds.n,
    steps: ds.steps,
    layers: counts.map((c) => ({ units: c.length, rates: Array.from(c, (n) => n / (ds.steps * ds.n)) })),
  };
  writeFileAtomic(join(dir, FIRING_FILE), JSON.stringify(rates) + '\n');
  return rates;
}
