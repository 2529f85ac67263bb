/**
 * Attacks on the data plane of the nats transport by another client of the same server, and malformed messages
 * from a peer: each fails the run at once with an error naming the subject, the claimed sender and what was
 * wrong; none changes a result (a run that is not attacked stays bit-identical to inline).
 */
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelConfig } from '../model/config.js';
import { paramList } from '../model/params.js';
import { ActorFailure, Trainer } from '../runtime/coordinator.js';
import { allocateFabric, SCALAR } from '../runtime/fabric.js';
import { NatsExchange } from '../runtime/nats-exchange.js';
import { randomKey } from '../runtime/nats-seal.js';
import { Phase } from '../runtime/schedule.js';
import { Topology } from '../runtime/topology.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';

const NATS_MISSING = natsServerMissing();
const needsNats = (name: string) => (NATS_MISSING ? `${name} (skipped: ${NATS_MISSING})` : name);
let server: Awaited<ReturnType<typeof startNatsServer>>;
let attacker: NatsConnection;
beforeAll(async () => {
  if (NATS_MISSING) return;
  server = await startNatsServer();
  attacker = await connect({ servers: server.url, name: 'attacker' });
});
afterAll(async () => {
  await attacker?.close();
  await server?.stop();
});

const model = smallModel();
const BATCH = 3;
const trainer = (run: string, transport: 'nats' | 'inline' = 'nats') =>
  Trainer.create({ model, params: activeParams(model), actors: 2, transport, nats: { servers: server.url, run }, batch: BATCH, maxSteps: 8, optimizer: { kind: 'sgd', lr: 0.5 } });
const batch = (s: number) => randomBatch(model, BATCH, 6, 40 + s);

/** Messages actor 1 receives, as a passive subscriber of the server sees them. */
async function tap(run: string): Promise<{ seen: Uint8Array[]; stop: () => void }> {
  const seen: Uint8Array[] = [];
  const sub = attacker.subscribe(`egru.${run}.a1`, { callback: (_e, m) => seen.push(m.data.slice()) });
  await attacker.flush();
  return { seen, stop: () => sub.unsubscribe() };
}

/** Train one step, let `inject` publish (knowing what the tap saw), then train another: the error of that step. */
async function attack(run: string, inject: (seen: Uint8Array[]) => Promise<void> | void): Promise<{ error: Error | null; seconds: number }> {
  const t = await trainer(run);
  const { seen, stop } = await tap(run);
  try {
    await t.train(batch(0));
    await inject(seen);
    await attacker.flush();
    const t0 = Date.now();
    const error = await t.train(batch(1)).then(
      () => null,
      (e: Error) => e,
    );
    return { error, seconds: (Date.now() - t0) / 1000 };
  } finally {
    stop();
    await t.close();
  }
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);

describe.skipIf(!!NATS_MISSING)(needsNats('attacks by another client of the server'), () => {
  it('a passive subscriber changes nothing: the run stays bit-identical to inline', async () => {
    const ref = await trainer('ref', 'inline');
    const t = await trainer('quiet');
    const { seen, stop } = await tap('quiet');
    try {
      for (const s of [0, 1]) expect((await t.train(batch(s))).loss).toBe((await ref.train(batch(s))).loss);
      const [a, b] = [paramList(await t.getParams()), paramList(await ref.getParams())];
      a.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(b[i]!)));
      expect(seen.length).toBeGreaterThan(0);
    } finally {
      stop();
      await Promise.all([t.close(), ref.close()]);
    }
  });

  it("the issue's forged message (8 bytes: the next sequence number, no data) fails the run, naming the subject", async () => {
    const { error } = await attack('forge8', (seen) => {
      const msg = new Uint8Array(8);
      setU32(msg, 0, seen.length / 3 + 1);
      attacker.publish('egru.forge8.a1', msg);
    });
    expect(error).toBeInstanceOf(ActorFailure);
    expect(error!.message).toMatch(/actor 1 \(layer 0.*rejected a data message on egru\.forge8\.a1 claiming to come from actor \d+: 8 bytes, shorter than a header/);
    expect(error!.message).toMatch(/training step 1/);
  });

  it('3 random bytes fail the run at once (not after the 60 s phase timeout)', async () => {
    const { error, seconds } = await attack('rand3', () => attacker.publish('egru.rand3.a1', Uint8Array.of(0x9e, 0x21, 0x7f)));
    expect(error?.message).toMatch(/rejected a data message on egru\.rand3\.a1: 3 bytes, shorter than a header/);
    expect(seconds).toBeLessThan(5);
  });

  it('a burst of 1000 empty messages fails the run with a named error (no crash)', async () => {
    const { error } = await attack('empty', () => {
      for (let i = 0; i < 1000; i++) attacker.publish('egru.empty.a1', new Uint8Array(0));
    });
    expect(error).toBeInstanceOf(ActorFailure);
    expect(error!.message).toMatch(/rejected a data message on egru\.empty\.a1: 0 bytes, shorter than a header/);
  });

  it('a message recorded in step 0 and replayed in step 1 is refused by its sequence number', async () => {
    const { error } = await attack('replay', (seen) => attacker.publish('egru.replay.a1', seen[0]!));
    expect(error?.message).toMatch(/egru\.replay\.a1 claiming to come from actor \d: it carries sequence number 1, actor \d's next is \d+ \(a replayed/);
  });

  it("a recorded message moved to the next step's sequence number with a value changed: its seal does not verify", async () => {
    const { error } = await attack('reseal', (seen) => {
      // step 0 took E exchanges; the first message of a sender is also the first of step 1, E numbers later
      const from0 = seen.filter((m) => u32(m, 4) === 0);
      const forged = from0[0]!.slice();
      setU32(forged, 12, from0.length + 1);
      forged[forged.length - 40]! ^= 0x40;
      attacker.publish('egru.reseal.a1', forged);
    });
    expect(error?.message).toMatch(/egru\.reseal\.a1 claiming to come from actor 0: its seal does not verify/);
  });
});

describe.skipIf(!!NATS_MISSING)(needsNats('malformed messages from a peer that holds the run key'), () => {
  // One layer of 8 units in two actors: units 0–3 and 4–7; both read each other's events and scalars.
  const cfg = defaultModelConfig({ inputSize: 3, hidden: [8], classes: 2, seed: 1 });
  const top = new Topology(cfg, 2);

  async function pair(run: string) {
    const key = randomKey();
    const ncs = await Promise.all([0, 1].map(() => connect({ servers: server.url })));
    const fabs = [0, 1].map(() => allocateFabric(top, cfg, 2, 4));
    const ex = [0, 1].map((k) => new NatsExchange(ncs[k]!, run, top, cfg, k, fabs[k]!, key));
    await Promise.all(ncs.map((nc) => nc.flush()));
    const close = async () => {
      await Promise.all(ex.map((x) => x.close()));
      await Promise.all(ncs.map((nc) => nc.close()));
    };
    return { fabs, ex, close };
  }
  /** Actor 0 sends after phase (phase, k, 0), actor 1 receives it: actor 1's error. */
  async function receive(run: string, spoil: (fab: ReturnType<typeof allocateFabric>) => void, phases: [Phase, Phase] = [Phase.Forward, Phase.Forward]): Promise<string> {
    const { fabs, ex, close } = await pair(run);
    try {
      spoil(fabs[0]!);
      const [, r1] = await Promise.allSettled([ex[0]!.sync(phases[0], 0, 0, 4, 1, 1), ex[1]!.sync(phases[1], 0, 0, 4, 1, 1)]);
      expect(r1.status).toBe('rejected');
      return ((r1 as PromiseRejectedResult).reason as Error).message;
    } finally {
      await close();
    }
  }
  /** Actor 0's events at tick 0: one item (unit, value) for batch element 0. */
  const oneEvent = (unit: number, value: number) => (fab: ReturnType<typeof allocateFabric>) => {
    const buf = fab.events[0]![0]!;
    const off = new Int32Array(buf, 0, 3);
    off.set([0, 1, 1]);
    new Int32Array(buf, 12, 1)[0] = unit;
    const cap = (buf.byteLength - 12) / 8;
    new Float32Array(buf, 12 + 4 * cap, 1)[0] = value;
  };

  it('a well-formed event of its own unit passes', async () => {
    const { fabs, ex, close } = await pair('ok');
    try {
      oneEvent(2, 0.5)(fabs[0]!);
      await Promise.all([ex[0]!.sync(Phase.Forward, 0, 0, 4, 1, 1), ex[1]!.sync(Phase.Forward, 0, 0, 4, 1, 1)]);
      expect(new Int32Array(fabs[1]!.events[0]![0]!, 0, 3)).toEqual(Int32Array.of(0, 1, 1));
    } finally {
      await close();
    }
  });
  it("an event addressed to a unit outside the sender's group", async () => {
    expect(await receive('unit', oneEvent(5, 0.5))).toMatch(/from actor 0 \(sequence number 1\): piece 1 \(events\): item 0 addresses unit 5, outside the group's units 0–3/);
  });
  it('a value that is not finite', async () => {
    expect(await receive('nan', oneEvent(1, Number.NaN))).toMatch(/piece 1 \(events\): item 0 has the value NaN, not finite/);
    expect(await receive('inf', (f) => (new Float64Array(f.scalars)[SCALAR.loss] = Infinity), [Phase.Norm, Phase.Norm])).toMatch(/piece 1 \(scalars\): value 2 is not finite/);
  });
  it('offsets that fall', async () => {
    const falling = (f: ReturnType<typeof allocateFabric>) => {
      oneEvent(1, 1)(f);
      new Int32Array(f.events[0]![0]!, 0, 3).set([0, 2, 1]);
    };
    expect(await receive('offsets', falling)).toMatch(/its offsets fall at batch element 1/);
  });
  it('a message of another phase', async () => {
    expect(await receive('phase', () => {}, [Phase.Norm, Phase.Forward])).toMatch(/it belongs to gradient norm, this phase is forward tick 0/);
  });
});
