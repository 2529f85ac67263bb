/**
 * An actor host: a process on any machine that reaches the NATS server and runs the actors a coordinator
 * assigns to it (`egru actor-host --nats URL`). Assignments arrive on a queue subject, so several hosts share
 * them; every actor then answers its control calls on its own subject and exchanges its messages over NATS.
 */
import type { Msg, NatsConnection } from 'nats';
import { Packr } from 'msgpackr';
import { connectNats, type NatsEndpoint } from './nats-connect.js';
import { startNatsActor, type NatsActorApi, type NatsActorSpec } from './nats-actor.js';

/** Control-plane encoding: msgpack with typed arrays kept as typed arrays. */
export const controlCodec = new Packr({ moreTypes: true, structuredClone: true, useRecords: false });

export const HOSTS_SUBJECT = 'egru.hosts.assign';
export function controlSubject(run: string, actor: number): string {
  return `egru.${run}.ctl.a${actor}`;
}

export interface ControlRequest {
  method: string;
  args: unknown[];
}
export type ControlReply = { ok: true; value: unknown } | { ok: false; error: string };

export interface ActorHost {
  /** Actors this host runs now. */
  readonly actors: number;
  close(): Promise<void>;
}

/** Serve actors; each connects with this host's own endpoint (URL and credentials), not the coordinator's. */
export async function serveActorHost(endpoint: NatsEndpoint, log: (line: string) => void = () => {}): Promise<ActorHost> {
  const nc: NatsConnection = await connectNats(endpoint, 'egru-actor-host');
  let running = 0;
  const respond = (msg: Msg, reply: ControlReply) => msg.respond(controlCodec.pack(reply));
  nc.subscribe(HOSTS_SUBJECT, {
    queue: 'egru-actor-hosts',
    callback: async (err, msg) => {
      if (err) return;
      let spec: NatsActorSpec;
      try {
        spec = controlCodec.unpack(msg.data) as NatsActorSpec;
        const actor: NatsActorApi = await startNatsActor({ ...spec, servers: endpoint.servers, auth: { creds: endpoint.creds, tlsCa: endpoint.tlsCa } });
        const methods = actor as unknown as Record<string, (...a: unknown[]) => unknown>;
        const sub = nc.subscribe(controlSubject(spec.run, spec.init.id), {
          callback: async (e, req) => {
            if (e) return;
            try {
              const { method, args } = controlCodec.unpack(req.data) as ControlRequest;
              if (typeof methods[method] !== 'function') throw new Error(`unknown control call ${method}`);
              const value = await methods[method]!(...args);
              respond(req, { ok: true, value });
              if (method === 'shutdown') {
                sub.unsubscribe();
                running--;
                log(`run ${spec.run}: actor ${spec.init.id} done`);
              }
            } catch (x) {
              respond(req, { ok: false, error: (x as Error).message });
            }
          },
        });
        await nc.flush();
        running++;
        log(`run ${spec.run}: actor ${spec.init.id} started`);
        respond(msg, { ok: true, value: null });
      } catch (x) {
        respond(msg, { ok: false, error: (x as Error).message });
      }
    },
  });
  await nc.flush();
  return {
    get actors() {
      return running;
    },
    async close() {
      await nc.drain();
    },
  };
}
