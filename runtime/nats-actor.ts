/**
 * One actor of the `nats` transport, wherever it runs (a worker thread of the coordinator's process, or an
 * actor host on another machine): a private fabric, the data path over NATS (nats-exchange.ts), and the
 * control calls as a plain object that a worker exposes over comlink and a host serves over NATS.
 */
import { ActorCore, type ActorInit } from './actor.js';
import { actorApi } from './actor-api.js';
import { CTRL } from './barrier.js';
import { allocateFabric, NCOUNTERS, PAIR_FIELDS, SCALAR } from './fabric.js';
import { connectNats, runInboxPrefix, type NatsAuth } from './nats-connect.js';
import { NatsExchange } from './nats-exchange.js';
import { execPhase, phaseList, phaseName } from './schedule.js';
import { Topology } from './topology.js';

export interface NatsActorSpec {
  init: ActorInit;
  servers: string;
  /** Creds and CA files, read where the actor runs. */
  auth?: NatsAuth;
  run: string;
  batch: number;
  maxSteps: number;
  /** The run's data key: every data message is sealed with it (nats-seal.ts); none only in measurements. */
  key?: Uint8Array;
}

export async function startNatsActor({ init, servers, auth, run, batch, maxSteps, key }: NatsActorSpec) {
  const top = new Topology(init.model, init.split);
  const fabric = allocateFabric(top, init.model, batch, maxSteps);
  const actor = new ActorCore(init, fabric);
  const nc = await connectNats({ servers, ...auth, inboxPrefix: runInboxPrefix(run) }, `egru-${run}-actor-${init.id}`);
  const exchange = new NatsExchange(nc, run, top, init.model, init.id, fabric, key);
  await nc.flush(); // the subscription is registered before the coordinator hears this actor is ready
  const G = top.size;
  const ctrl = new Int32Array(fabric.control);
  return {
    ...actorApi(actor),
    async run(train: boolean, trace: boolean, steps: number, x: Float32Array, targets: Int32Array, job: number[]): Promise<void> {
      new Float32Array(fabric.input).set(x);
      new Int32Array(fabric.targets).set(targets);
      Atomics.store(ctrl, CTRL.jobKind, job[0]!);
      Atomics.store(ctrl, CTRL.jobBatch, job[1]!);
      Atomics.store(ctrl, CTRL.jobSteps, job[2]!);
      Atomics.store(ctrl, CTRL.jobStep, job[3]!);
      Atomics.store(ctrl, CTRL.jobCarry, job[4] ?? 0);
      let where = 'begin';
      try {
        for (const [phase, k, p] of phaseList(top.ticks(steps), actor.forwardPhases, actor.backwardPhases, train)) {
          where = phaseName(phase, k, p);
          execPhase(actor, phase, k, p, trace);
          if (NatsExchange.exchanges(phase, job[4] === 1)) await exchange.sync(phase, k, p, steps, actor.forwardPhases, actor.backwardPhases);
        }
      } catch (e) {
        throw new Error(`${top.describe(actor.info)} failed in ${where}: ${(e as Error).message}`);
      }
    },
    /** This actor's rows of the counters, pair counters and scalars, for the coordinator's copy. */
    rows(): { counters: Float64Array; pairs: Float64Array; scalars: Float64Array; nats: { messages: number; bytes: number } } {
      try {
        exchange.throwIfFailed(); // a message rejected after the last phase still fails the step
      } catch (e) {
        throw new Error(`${top.describe(actor.info)}: ${(e as Error).message}`);
      }
      const id = init.id;
      return {
        counters: new Float64Array(fabric.counters, 8 * id * NCOUNTERS, NCOUNTERS).slice(),
        pairs: new Float64Array(fabric.pairCounters, 8 * id * G * PAIR_FIELDS, G * PAIR_FIELDS).slice(),
        scalars: new Float64Array(fabric.scalars, 8 * id * SCALAR.size, SCALAR.size).slice(),
        nats: { ...exchange.sent },
      };
    },
    async shutdown(): Promise<void> {
      await exchange.close();
      // drain waits for the server: one that is gone must not keep the actor (or its host) alive
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([nc.drain().catch(() => {}), new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      if (!nc.isClosed()) await nc.close();
    },
  };
}
export type NatsActorApi = Awaited<ReturnType<typeof startNatsActor>>;
