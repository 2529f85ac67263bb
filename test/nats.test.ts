import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramList } from '../model/params.js';
import { Trainer, type TrainerOptions } from '../runtime/coordinator.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';
import { startNatsServer } from './helpers/nats-server.js';

let server: Awaited<ReturnType<typeof startNatsServer>>;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

async function run(opts: Omit<TrainerOptions, 'batch' | 'maxSteps'>, steps: number) {
  const cfg = opts.model;
  const trainer = await Trainer.create({ ...opts, params: activeParams(cfg), batch: 3, maxSteps: 8, optimizer: { kind: 'sgd', lr: 0.5 }, clip: 1 });
  try {
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) losses.push((await trainer.train(randomBatch(cfg, 3, 6, 40 + s))).loss);
    const ev = await trainer.evaluate(randomBatch(cfg, 2, 6, 99), { trace: true });
    return { losses, params: paramList(await trainer.getParams()), counters: trainer.counters().totals, evalLoss: ev.loss, events: ev.trace!.map((t) => Array.from(t.units)) };
  } finally {
    await trainer.close();
  }
}

describe.each(['evnn', 'paper'] as const)('nats transport (%s): actor messages over a real NATS server', (formulation) => {
  it.each([2, 3])('%i actors per layer give bit-identical results to inline', async (actors) => {
    const model = smallModel({ formulation });
    const inline = await run({ model, actors, transport: 'inline' }, 2);
    const nats = await run({ model, actors, transport: 'nats', nats: { servers: server.url } }, 2);
    expect(nats.losses).toEqual(inline.losses);
    expect(nats.evalLoss).toEqual(inline.evalLoss);
    expect(nats.events).toEqual(inline.events);
    nats.params.forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(inline.params[i]!)));
    expect(nats.counters).toEqual(inline.counters);
  });
});

it('the nats transport refuses to start without a server URL', async () => {
  await expect(Trainer.create({ model: smallModel(), transport: 'nats', batch: 2, maxSteps: 4 })).rejects.toThrow(/server URL/);
});
