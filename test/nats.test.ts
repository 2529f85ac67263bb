import { afterAll, beforeAll, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { paramList } from '../model/params.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { ActorFailure, Trainer, type TrainerOptions } from '../runtime/coordinator.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';
import { connect } from 'nats';
import { allocateFabric } from '../runtime/fabric.js';
import { NatsExchange } from '../runtime/nats-exchange.js';
import { Phase } from '../runtime/schedule.js';
import { Topology } from '../runtime/topology.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import { BIN, hostServing } from './helpers/egru-cli.js';

// Without a nats-server (and outside CI) the server tests are skipped with the reason; the rest still run.
const NATS_MISSING = natsServerMissing();
let server: Awaited<ReturnType<typeof startNatsServer>>;
beforeAll(async () => {
  if (NATS_MISSING) process.stderr.write(`test/nats.test.ts: the tests over a real NATS server are skipped: ${NATS_MISSING}\n`);
  else server = await startNatsServer();
});
function needsServer(ctx: TestContext): void {
  if (NATS_MISSING) ctx.skip(NATS_MISSING);
}
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
    const unitEvents = await trainer.unitEvents();
    return { losses, params: paramList(await trainer.getParams()), counters: trainer.counters().totals, unitEvents, evalLoss: ev.loss, events: ev.trace!.map((t) => Array.from(t.units)) };
  } finally {
    await trainer.close();
  }
}

describe.each(['evnn', 'paper'] as const)('nats transport (%s): actor messages over a real NATS server', (formulation) => {
  beforeEach(needsServer);
  it.each([2, 3])('%i actors per layer give bit-identical results to inline (3: with dropout)', async (actors) => {
    const model = smallModel({ formulation, dropout: actors === 3 ? 0.2 : 0 });
    const inline = await run({ model, actors, transport: 'inline' }, 2);
    const nats = await run({ model, actors, transport: 'nats', nats: { servers: server.url } }, 2);
    expect(nats.losses).toEqual(inline.losses);
    expect(nats.evalLoss).toEqual(inline.evalLoss);
    expect(nats.events).toEqual(inline.events);
    nats.params.forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(inline.params[i]!)));
    expect(nats.counters).toEqual(inline.counters);
    expect(nats.unitEvents).toEqual(inline.unitEvents); // gathered by a control call over comlink from the actor threads
  });
});

it('an exchange chains nothing per phase on the connection: hundreds of phases add no callbacks (no leak)', async () => {
  const model = smallModel();
  const top = new Topology(model, 2);
  expect(top.size).toBeGreaterThanOrEqual(2);
  const ncs = await Promise.all(Array.from({ length: top.size }, () => connect({ servers: server.url })));
  // Count the callbacks chained on each connection's closed() promise, which settles only when it closes.
  const chained = ncs.map(() => 0);
  ncs.forEach((nc, k) => {
    const closed = nc.closed();
    const then = closed.then.bind(closed);
    closed.then = ((...a: Parameters<typeof then>) => (chained[k]!++, then(...a))) as typeof closed.then;
    nc.closed = () => closed;
  });
  const exchanges = ncs.map((nc, k) => new NatsExchange(nc, 'leak', top, model, k, allocateFabric(top, model, 2, 4)));
  try {
    await Promise.all(ncs.map((nc) => nc.flush()));
    const phases = 300;
    for (let k = 0; k < phases; k++) await Promise.all(exchanges.map((x) => x.sync(Phase.Norm, 0, 0, 4, 1, 1)));
    for (const n of chained) expect(n).toBeLessThanOrEqual(1);
  } finally {
    await Promise.all(exchanges.map((x) => x.close()));
    await Promise.all(ncs.map((nc) => nc.close()));
  }
});

it('the nats transport refuses to start without a server URL', async () => {
  await expect(Trainer.create({ model: smallModel(), transport: 'nats', batch: 2, maxSteps: 4 })).rejects.toThrow(/server URL/);
});

describe('nats transport with actor hosts: separate processes that reach the server (egru actor-host)', () => {
  beforeEach(needsServer);
  const hosts: ChildProcess[] = [];
  const startHost = async () => {
    const child = spawn(process.execPath, [BIN, 'actor-host', '--nats', server.url], { stdio: ['ignore', 'ignore', 'pipe'] });
    hosts.push(child);
    // ready when it says so on stderr
    await hostServing(child);
    return child;
  };
  afterAll(() => {
    for (const h of hosts) h.kill('SIGKILL');
  });

  it('SIGTERM stops an actor host like Ctrl-C: it closes its connection and exits 0', async () => {
    const host = await startHost();
    const exited = new Promise<number | null>((res) => host.once('exit', (code) => res(code)));
    host.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('two hosts train bit-identically to inline (with dropout)', async () => {
    await startHost();
    await startHost();
    const model = smallModel({ dropout: 0.2 });
    const inline = await run({ model, actors: 2, transport: 'inline' }, 2);
    const remote = await run({ model, actors: 2, transport: 'nats', nats: { servers: server.url, hosts: true } }, 2);
    expect(remote.losses).toEqual(inline.losses);
    remote.params.forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(inline.params[i]!)));
    expect(remote.counters).toEqual(inline.counters);
    expect(remote.unitEvents).toEqual(inline.unitEvents); // gathered by a control call over NATS from the hosts

  });

  it('a host that dies mid-run ends the run with an error naming the actor, without a hang', async () => {
    const model = smallModel();
    const trainer = await Trainer.create({ model, params: activeParams(model), actors: 2, transport: 'nats', nats: { servers: server.url, hosts: true }, batch: 3, maxSteps: 8, callTimeoutMs: 3000 });
    await trainer.train(randomBatch(model, 3, 6, 1));
    for (const h of hosts) h.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const err = await trainer.train(randomBatch(model, 3, 6, 2)).then(() => null, (e: Error) => e);
    await trainer.close();
    expect(err).toBeInstanceOf(ActorFailure);
    expect(err!.message).toMatch(/actor \d \(layer 0, units \d+–\d+\).*host is gone|no answer/);
    expect(err!.message).toMatch(/training step 1/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('without any actor host the run refuses to start with a clear message', async () => {
    await expect(Trainer.create({ model: smallModel(), actors: 2, transport: 'nats', nats: { servers: server.url, hosts: true }, batch: 2, maxSteps: 4, callTimeoutMs: 2000 })).rejects.toThrow(
      /no actor host is listening|no answer/,
    );
  });
});
