/**
 * The coordinator's side of the actor-host protocol (nats-control.ts): assigns and claims each actor, makes
 * sealed control calls with rising sequence numbers, checks the seal and sequence number of every reply, and
 * sends the heartbeat that keeps its actors on their hosts. Errors name what failed, after how long, and why.
 */
import type { NatsConnection } from 'nats';
import {
  assignKey,
  assignSubject,
  claimSubject,
  controlKey,
  controlSubject,
  dataKey,
  isOffer,
  isReply,
  type ActorSpec,
  type Assignment,
} from './nats-control.js';
import { openControl, packControl, randomKey } from './nats-seal.js';

interface Assigned {
  subject: string;
  key: Uint8Array;
  seq: number;
}

export interface HostedActorsOptions {
  run: string;
  secret?: Uint8Array;
  callTimeoutMs: number;
  /** Heartbeat interval; hosts free an actor after 10 intervals of silence. */
  heartbeatMs: number;
}

/** A failed control call: `what` failed `why`. */
export class HostCallError extends Error {}

export class HostedActors {
  private readonly actors: Assigned[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private lostAt = 0;
  /** The run's data key (what its actors seal data messages with). */
  readonly dataKey: Uint8Array;
  private readonly runNonce = randomKey(16);

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: HostedActorsOptions,
  ) {
    this.dataKey = dataKey(opts.secret, opts.run, this.runNonce);
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' && !this.lostAt) this.lostAt = Date.now();
        else if (s.type === 'reconnect') this.lostAt = 0;
      }
    })().catch(() => {});
  }

  /** Assign the actor `spec.init.id` to a host and claim it; `what` names it in errors. */
  async assign(spec: ActorSpec, what: string): Promise<void> {
    const { secret, callTimeoutMs, heartbeatMs } = this.opts;
    const token = randomKey(16);
    const assignment: Assignment = { run: this.opts.run, token, runNonce: this.runNonce, heartbeatMs, heartbeatTimeoutMs: 10 * heartbeatMs, spec };
    const aKey = secret ? assignKey(secret) : null;
    const offer = await this.exchange(assignSubject(this.opts.run), packControl(aKey, assignment), aKey, callTimeoutMs, `assigning ${what} to an actor host`);
    if (!isOffer(offer) || Buffer.compare(offer.token, token) !== 0) throw new HostCallError(`assigning ${what} to an actor host: the answer is not an offer for this assignment`);
    const key = controlKey(secret, token, offer.challenge);
    const started = await this.exchange(claimSubject(offer.host), packControl(key, { challenge: offer.challenge }), key, callTimeoutMs, `starting ${what} on actor host ${offer.host}`);
    this.checkReply(started, 0, `starting ${what} on actor host ${offer.host}`);
    this.actors[spec.init.id] = { subject: controlSubject(this.opts.run, spec.init.id), key, seq: 0 };
    this.startHeartbeat();
  }

  /** A control call; its result. */
  async call(actor: number, method: string, args: unknown[], timeout: number, what: string): Promise<unknown> {
    const a = this.actors[actor]!;
    const seq = ++a.seq;
    const reply = await this.exchange(a.subject, packControl(a.key, { seq, method, args }), a.key, timeout, what);
    return this.checkReply(reply, seq, what);
  }

  private checkReply(reply: unknown, seq: number, what: string): unknown {
    if (!isReply(reply)) throw new HostCallError(`${what}: a malformed reply`);
    if (reply.seq !== seq) throw new HostCallError(`${what}: the reply answers call ${reply.seq}, not ${seq} (a replayed reply)`);
    if (!reply.ok) throw new HostCallError(`${what}: ${reply.error}`);
    return reply.value;
  }

  /** One request and its opened reply (sealed with `key` when there is one); errors say after how long and why. */
  private async exchange(subject: string, data: Uint8Array, key: Uint8Array | null, timeout: number, what: string): Promise<unknown> {
    const t0 = Date.now();
    let msg;
    try {
      msg = await this.nc.request(subject, data, { timeout });
    } catch (e) {
      throw new HostCallError(`${what}: ${this.why(e as Error, subject, t0)}`);
    }
    const opened = openControl(key, msg.data);
    if (opened.ok) {
      if (key === null && isReply(opened.body) && !opened.body.ok) throw new HostCallError(`${what}: ${opened.body.error}`);
      return opened.body;
    }
    // A refusal from a host is unsealed: show its reason, marked as such.
    const plain = openControl(null, msg.data);
    if (plain.ok && isReply(plain.body) && !plain.body.ok) throw new HostCallError(`${what}: ${plain.body.error} (an unsealed answer)`);
    throw new HostCallError(`${what}: the answer was rejected: ${opened.why}`);
  }

  private why(e: Error & { code?: string }, subject: string, t0: number): string {
    const after = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    const m = `${e.code ?? ''} ${e.message}`;
    if (this.nc.isClosed() || /CONNECTION_CLOSED|closed/i.test(m)) {
      const lost = this.lostAt ? `, ${((Date.now() - this.lostAt) / 1000).toFixed(1)} s after it was lost` : '';
      return `the connection to the NATS server closed after ${after}${lost}`;
    }
    if (/no responders|503/i.test(m))
      return subject === assignSubject(this.opts.run) ? 'no actor host is listening (start `egru actor-host --nats <url>` on each host)' : `its host is gone (no responder after ${after})`;
    if (/timeout/i.test(m)) {
      const lost = this.lostAt ? ` (the connection to the NATS server was lost ${((Date.now() - this.lostAt) / 1000).toFixed(1)} s ago)` : '';
      return `no answer within ${after}${lost}`;
    }
    return `${e.message} (after ${after})`;
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      if (this.nc.isClosed()) return;
      for (const a of this.actors) if (a) this.nc.publish(a.subject, packControl(a.key, { seq: ++a.seq, method: 'heartbeat', args: [] }));
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  close(): void {
    clearInterval(this.heartbeat);
  }
}
