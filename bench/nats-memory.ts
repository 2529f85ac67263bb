/**
 * Memory of a long `--transport nats` training (issue #17): trains a small network over a NATS server and samples
 * the process's memory after a forced GC every few hundred steps, then reports how RSS and the coordinator's
 * heap changed between the end of the warm-up and the last sample. RSS covers the actor threads too (their heaps
 * and the NATS clients' buffers) but moves by ~15 MB either way without a trend: V8 grows and shrinks each actor
 * thread's young generation with its allocation rate (`node --trace-gc`: committed 13.5–27 MB per actor thread, live
 * 9.0–9.2 MB throughout), so the verdict rests on heapUsed + external, the coordinator thread's memory after a GC,
 * which is steady to ~0.5 MB.
 * test/nats-memory.test.ts is the short check in `npm test`.
 *
 * Usage (after `npm run build`, with a nats-server running):
 *   node --expose-gc dist/bench/nats-memory.js [--nats URL] [--steps 3000] [--warmup 3000] [--every 500]
 *     [--hidden 32] [--actors 2] [--batch 8] [--max-growth 0.2]
 * Exits 1 when heapUsed + external grew by more than --max-growth KB per step after the warm-up (the leak of
 * issue #17 grew it by ~2.5 KB per step at these settings).
 */
import { parseArgs } from 'node:util';
import { defaultModelConfig } from '../model/config.js';
import { Trainer } from '../runtime/coordinator.js';
import { randomInputs } from './runtime.js';

const { values: o } = parseArgs({
  options: {
    nats: { type: 'string', default: 'nats://127.0.0.1:4222' },
    steps: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '3000' },
    every: { type: 'string', default: '500' },
    hidden: { type: 'string', default: '32' },
    actors: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    'max-growth': { type: 'string', default: '0.2' },
  },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('bench/nats-memory: run it with `node --expose-gc` (it samples memory after a full GC)\n');
  process.exit(2);
}
const [steps, warmup, every, hidden, actors, batch, maxGrowth] = [o.steps, o.warmup, o.every, o.hidden, o.actors, o.batch, o['max-growth']].map(Number) as number[];

const MB = 1e6;
const model = defaultModelConfig({ inputSize: 28, hidden: [hidden!], classes: 10 });
const T = 28;
const data = randomInputs(model, batch!, T, 5);
const trainer = await Trainer.create({ model, actors, transport: 'nats', nats: { servers: o.nats! }, batch: batch!, maxSteps: T, optimizer: { kind: 'adam', lr: 1e-3 } });

interface Sample {
  step: number;
  rss: number;
  heap: number;
}
function sample(step: number): Sample {
  gc!();
  const m = process.memoryUsage();
  const s = { step, rss: m.rss / MB, heap: (m.heapUsed + m.external) / MB };
  process.stdout.write(`step ${String(step).padStart(6)}  RSS ${s.rss.toFixed(1)} MB  heapUsed+external ${s.heap.toFixed(1)} MB  (arrayBuffers ${(m.arrayBuffers / MB).toFixed(1)} MB)\n`);
  return s;
}

const t0 = Date.now();
const samples: Sample[] = [];
try {
  for (let s = 1; s <= warmup! + steps!; s++) {
    await trainer.train(data);
    if (s === warmup || (s > warmup! && (s - warmup!) % every! === 0)) samples.push(sample(s));
  }
} finally {
  await trainer.close();
}
const first = samples[0]!;
const last = samples.at(-1)!;
const pct = (mb: number) => `${((100 * (mb - first.rss)) / first.rss).toFixed(1)} %`;
const rss = samples.map((x) => x.rss);
const growth = (1e3 * (last.heap - first.heap)) / steps!; // KB per step
process.stdout.write(
  `${steps} steps after ${warmup} warm-up steps (${((Date.now() - t0) / 1000).toFixed(0)} s; hidden ${hidden}, ${actors} actors, batch ${batch}): ` +
    `RSS ${first.rss.toFixed(1)} → ${last.rss.toFixed(1)} MB (${pct(last.rss)}; samples ${pct(Math.min(...rss))} to ${pct(Math.max(...rss))}), ` +
    `heapUsed+external ${first.heap.toFixed(1)} → ${last.heap.toFixed(1)} MB (${growth.toFixed(2)} KB per step)\n`,
);
if (growth > maxGrowth!) {
  process.stdout.write(`the coordinator's memory grew by more than ${maxGrowth} KB per step: a leak\n`);
  process.exitCode = 1;
}
