/**
 * A learning-rate schedule reaches every actor on every transport: the actors compute the rate from their
 * optimiser's step count, so inline, threads and nats agree bit for bit and follow the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { ModelConfig } from '../model/config.js';
import { clipScale, Optimizer, sumOfSquares, type OptimizerConfig } from '../model/optim.js';
import { paramList, type Params } from '../model/params.js';
import { referenceForwardBackward } from '../model/reference.js';
import { Trainer, type SequenceBatch, type TransportKind } from '../runtime/coordinator.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';
import { relErr } from './helpers/rel-err.js';

const NATS_MISSING = natsServerMissing();
let server: Awaited<ReturnType<typeof startNatsServer>> | undefined;
beforeAll(async () => {
  if (NATS_MISSING) process.stderr.write(`test/lr-schedule-runtime.test.ts: the nats case is skipped: ${NATS_MISSING}\n`);
  else server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

// Rates 0.25, 0.5, 0.5, 0.25, 0.125: the warm-up and two drops inside five steps.
const scheduled: OptimizerConfig = { kind: 'sgd', lr: 0.5, momentum: 0.5, schedule: { kind: 'step', warmup: 2, lrMin: 0, every: 1, gamma: 0.5 } };

function referenceTrain(cfg: ModelConfig, batches: SequenceBatch[], opt: OptimizerConfig): Params<Float32Array> {
  const params = activeParams(cfg);
  const tensors = paramList(params);
  const thr = new Set(params.layers.map((l) => l.thr));
  const bias = new Set([...params.layers.flatMap((l) => [l.bias, l.recurrentBias]), params.readout.bias]);
  const optimizer = new Optimizer(opt, tensors, tensors.map((t) => thr.has(t)), tensors.map((t) => bias.has(t)));
  for (const b of batches) {
    const r = referenceForwardBackward(cfg, params, { x: b.x, batch: b.batch, steps: b.steps, inputSize: cfg.inputSize, targets: b.targets }, { dropoutStep: optimizer.stepCount });
    const grads = paramList(r.grads);
    optimizer.step(grads, clipScale(Math.sqrt(sumOfSquares(grads)), 1));
  }
  return params;
}

async function trainActors(cfg: ModelConfig, transport: TransportKind, batches: SequenceBatch[], opt: OptimizerConfig): Promise<Float32Array[]> {
  const nats = transport === 'nats' ? { servers: server!.url } : undefined;
  const trainer = await Trainer.create({ model: cfg, params: activeParams(cfg), actors: 2, transport, nats, batch: 3, maxSteps: 8, optimizer: opt, clip: 1 });
  try {
    for (const b of batches) await trainer.train(b);
    return paramList(await trainer.getParams());
  } finally {
    await trainer.close();
  }
}

describe('a learning-rate schedule in the actor runtime', () => {
  const cfg = smallModel();
  const batches = [0, 1, 2, 3, 4].map((s) => randomBatch(cfg, 3, 6, 70 + s));

  it('inline actors follow the float64 reference with the same schedule (and not the constant rate)', async () => {
    const got = await trainActors(cfg, 'inline', batches, scheduled);
    const want = paramList(referenceTrain(cfg, batches, scheduled));
    got.forEach((t, i) => expect(relErr(t, want[i]!), `tensor ${i}`).toBeLessThan(5e-6));
    const constant = paramList(referenceTrain(cfg, batches, { ...scheduled, schedule: undefined }));
    expect(Math.max(...got.map((t, i) => relErr(t, constant[i]!)))).toBeGreaterThan(1e-3);
  });

  it('threads agree with inline bit for bit', async () => {
    const inline = await trainActors(cfg, 'inline', batches, scheduled);
    const threads = await trainActors(cfg, 'threads', batches, scheduled);
    threads.forEach((t, i) => expect(Array.from(t), `tensor ${i}`).toEqual(Array.from(inline[i]!)));
  });

  it('nats agrees with inline bit for bit', async (ctx: TestContext) => {
    if (NATS_MISSING) ctx.skip(NATS_MISSING);
    const inline = await trainActors(cfg, 'inline', batches, scheduled);
    const nats = await trainActors(cfg, 'nats', batches, scheduled);
    nats.forEach((t, i) => expect(Array.from(t), `tensor ${i}`).toEqual(Array.from(inline[i]!)));
  });
});
