/**
 * An actor host: a process on any machine that reaches the NATS server and runs the actors a coordinator
 * assigns to it (`egru actor-host --nats URL`). Assignments arrive on a queue subject, so several hosts share
 * them; every actor then answers its control calls on its own subject and exchanges its messages over NATS.
 * Only the coordinator that assigned an actor can start and call it (nats-control.ts); an actor whose
 * coordinator falls silent is freed, and so is every actor when the host stops.
 */
import type { Msg, NatsConnection, Subscription } from 'nats';
import { connectNats, type NatsEndpoint } from './nats-connect.js';
import { startNatsActor, type NatsActorApi } from './nats-actor.js';
import {
  ASSIGN_ANY,
  assignKey,
  assignmentProblem,
  claimSubject,
  controlKey,
  controlSubject,
  dataKey,
  hex,
  isClaim,
  isRequest,
  runOfAssignSubject,
  type Assignment,
  type ControlReply,
} from './nats-control.js';
import { openControl, packControl, randomKey } from './nats-seal.js';

export interface ActorHost {
  /** Actors this host runs now. */
  readonly actors: number;
  /** Settles with the reason when the connection to the server is lost for good (not by close()). */
  readonly lost: Promise<Error>;
  close(): Promise<void>;
}

export interface ActorHostOptions {
  /** The shared secret (--secret-file): assignments and calls must be sealed with keys derived from it. */
  secret?: Uint8Array;
  /** An assignment not claimed by its coordinator within this lapses. */
  claimTimeoutMs?: number;
}

interface Hosted {
  assignment: Assignment;
  actor: NatsActorApi;
  key: Uint8Array;
  sub: Subscription;
  lastSeq: number;
  lastHeard: number;
  busy: number;
}

/** Tokens of assignments seen, remembered up to this many (a replay of an older one still needs the claim). */
const SEEN_TOKENS = 10_000;

/** Serve actors; each connects with this host's own endpoint (URL and credentials), not the coordinator's. */
export async function serveActorHost(endpoint: NatsEndpoint, log: (line: string) => void = () => {}, opts: ActorHostOptions = {}): Promise<ActorHost> {
  const nc: NatsConnection = await connectNats(endpoint, 'egru-actor-host');
  const secret = opts.secret;
  const aKey = secret ? assignKey(secret) : null;
  const hostId = hex(randomKey(8));
  const seen = new Set<string>();
  const reserved = new Map<string, { assignment: Assignment; timer: NodeJS.Timeout }>();
  const hosted = new Set<Hosted>();
  let closing = false;
  const who = (a: Assignment) => `run ${a.run}: actor ${a.spec.init.id}`;
  const plain = (msg: Msg, error: string) => void msg.respond(packControl(null, { seq: 0, ok: false, error }));

  async function free(h: Hosted, why: string): Promise<void> {
    if (!hosted.delete(h)) return;
    h.sub.unsubscribe();
    await h.actor.shutdown().catch(() => {});
    log(`${who(h.assignment)} ${why}`);
  }

  function onAssign(msg: Msg): void {
    const opened = openControl(aKey, msg.data);
    const refuse = (why: string) => {
      log(`refused an assignment: ${why}`);
      plain(msg, `the actor host refused the assignment: ${why}`);
    };
    if (!opened.ok) return refuse(opened.why);
    if (!aKey && opened.sealed) return refuse('it is sealed: the coordinator has a --secret-file, give this actor host the same one');
    const problem = assignmentProblem(opened.body);
    if (problem) return refuse(`malformed (${problem})`);
    const a = opened.body as Assignment;
    // A server may permit a user the assignment subject of one run only: that user must not assign another run's actors.
    const subjectRun = runOfAssignSubject(msg.subject);
    if (subjectRun !== a.run) return refuse(`${who(a)}: sent on the assignment subject of run ${subjectRun}, not on its own`);
    const token = hex(a.token);
    if (seen.has(token)) return refuse(`${who(a)}: a replayed assignment (its token was used before)`);
    seen.add(token);
    if (seen.size > SEEN_TOKENS) seen.delete(seen.values().next().value!);
    const challenge = randomKey(16);
    const timer = setTimeout(() => reserved.delete(hex(challenge)), opts.claimTimeoutMs ?? 30_000);
    timer.unref();
    reserved.set(hex(challenge), { assignment: a, timer });
    msg.respond(packControl(aKey, { token: a.token, host: hostId, challenge }));
  }

  async function onClaim(msg: Msg): Promise<void> {
    // The key depends on the challenge: read it unverified to find the reservation, then verify with its key.
    const peek = openControl(null, msg.data);
    const r = peek.ok && isClaim(peek.body) ? reserved.get(hex(peek.body.challenge)) : undefined;
    if (!r || !peek.ok || !isClaim(peek.body)) return plain(msg, 'no such reservation on this actor host (it lapsed, or was claimed already)');
    const a = r.assignment;
    const key = controlKey(secret, a.token, peek.body.challenge);
    const opened = openControl(key, msg.data);
    if (!opened.ok) {
      log(`${who(a)}: refused a claim: ${opened.why}`);
      return plain(msg, `the actor host refused the claim: ${opened.why}`);
    }
    reserved.delete(hex(peek.body.challenge));
    clearTimeout(r.timer);
    const subject = controlSubject(a.run, a.spec.init.id);
    const reply = (body: ControlReply) => void msg.respond(packControl(key, body));
    if ([...hosted].some((h) => h.assignment.run === a.run && h.assignment.spec.init.id === a.spec.init.id))
      return reply({ seq: 0, ok: false, error: `${who(a)} already runs on this host` });
    try {
      const actor = await startNatsActor({ ...a.spec, servers: endpoint.servers, auth: { creds: endpoint.creds, tlsCa: endpoint.tlsCa }, key: dataKey(secret, a.run, a.runNonce) });
      const h: Hosted = { assignment: a, actor, key, sub: null!, lastSeq: 0, lastHeard: Date.now(), busy: 0 };
      h.sub = nc.subscribe(subject, { callback: (e, req) => void (e || onCall(h, req)) });
      hosted.add(h);
      await nc.flush();
      log(`${who(a)} started`);
      reply({ seq: 0, ok: true, value: null });
    } catch (x) {
      reply({ seq: 0, ok: false, error: (x as Error).message });
    }
  }

  async function onCall(h: Hosted, req: Msg): Promise<void> {
    const opened = openControl(h.key, req.data);
    const refuse = (why: string) => {
      log(`${who(h.assignment)}: refused a control call: ${why}`);
      if (req.reply) plain(req, `the actor host refused the call: ${why}`);
    };
    if (!opened.ok) return refuse(`${opened.why} (not from the coordinator that assigned this actor)`);
    if (!isRequest(opened.body)) return refuse('malformed');
    const { seq, method, args } = opened.body;
    if (seq <= h.lastSeq) return refuse(`a replayed call (sequence number ${seq}, the last was ${h.lastSeq})`);
    h.lastSeq = seq;
    h.lastHeard = Date.now();
    if (method === 'heartbeat') return;
    const reply = (body: ControlReply) => void req.respond(packControl(h.key, body));
    const methods = h.actor as unknown as Record<string, (...a: unknown[]) => unknown>;
    if (!Object.hasOwn(methods, method) || typeof methods[method] !== 'function') return reply({ seq, ok: false, error: `unknown control call ${method}` });
    h.busy++;
    try {
      const value = await methods[method]!(...args);
      reply({ seq, ok: true, value });
      if (method === 'shutdown') await free(h, 'done');
    } catch (x) {
      reply({ seq, ok: false, error: (x as Error).message });
    } finally {
      h.busy--;
      h.lastHeard = Date.now();
    }
  }

  // Free the actors of coordinators that went silent. A timer that fires late (a long phase blocked this
  // thread) skips its turn: heartbeats that arrived meanwhile have not been read yet.
  let lastCheck = Date.now();
  const watch = setInterval(() => {
    const now = Date.now();
    const late = now - lastCheck > 2000;
    lastCheck = now;
    if (late) return;
    for (const h of hosted) {
      const silent = now - h.lastHeard;
      if (!h.busy && silent > h.assignment.heartbeatTimeoutMs) void free(h, `freed: its coordinator sent no heartbeat for ${(silent / 1000).toFixed(1)} s`);
    }
  }, 500);
  watch.unref();

  nc.subscribe(ASSIGN_ANY, { queue: 'egru-actor-hosts', callback: (err, msg) => void (err || onAssign(msg)) });
  nc.subscribe(claimSubject(hostId), { callback: (err, msg) => void (err || onClaim(msg)) });
  await nc.flush();

  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') log(`lost the connection to the NATS server; reconnecting`);
      else if (s.type === 'reconnect') log(`reconnected to the NATS server`);
    }
  })().catch(() => {});
  const lost = nc.closed().then((err) => {
    clearInterval(watch);
    return new Error(closing ? 'closed' : `lost the connection to the NATS server${err ? `: ${err.message}` : ''} (reconnecting failed)`);
  });

  return {
    get actors() {
      return hosted.size;
    },
    lost,
    async close() {
      closing = true;
      clearInterval(watch);
      for (const r of reserved.values()) clearTimeout(r.timer);
      await Promise.all([...hosted].map((h) => free(h, 'stopped with the host')));
      await nc.close();
    },
  };
}
