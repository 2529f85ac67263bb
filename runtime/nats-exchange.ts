/**
 * The data path of the `nats` transport: every actor keeps a private copy of the fabric; after each phase
 * that produces messages it sends each peer one NATS message holding the slots that peer reads (nats-pieces.ts),
 * and it waits for one message from every peer. That message is also the barrier, so a phase costs one publish
 * per peer. Nothing here knows the math: which slot is written in which phase follows from the schedule.
 *
 * Anyone who reaches the server can publish on an actor's subject, so nothing is taken on trust: a message must
 * carry the tag of the run's key (nats-seal.ts), addressed to this actor by a peer, carry that peer's next sequence
 * number (numbers run on over the whole run, so an old message cannot be replayed in a later step), name this
 * phase, and hold exactly the planned, well-formed pieces. Any other message fails the run with an error naming
 * the subject, the claimed sender and what was wrong; none is ever applied.
 */
import type { NatsConnection, Subscription } from 'nats';
import type { ModelConfig } from '../model/config.js';
import type { FabricBuffers } from './fabric.js';
import { TAG_BYTES, tagInPlace, tagMatches } from './nats-seal.js';
import { PieceCodec, PiecePlan, u32 } from './nats-pieces.js';
import { Phase, phaseName } from './schedule.js';
import type { Topology } from './topology.js';

/** Header: format u8, phase u8, sub-phase u8, sealed u8, sender u32, receiver u32, sequence u32, tick u32, pieces u32. */
const HEADER = 24;
const FORMAT = 2;

export function subjectFor(run: string, actor: number): string {
  return `egru.${run}.a${actor}`;
}

export class NatsExchange {
  private readonly sub: Subscription;
  private readonly subject: string;
  private readonly peerSubjects: string[];
  private readonly macBytes: number;
  /** The tag's nonce: a message's sender, receiver and sequence number (header bytes 4–15), unique in a run. */
  private readonly iv = new Uint8Array(12);
  /** Per peer: the sequence number its next message must carry. */
  private readonly nextFrom: Uint32Array;
  /** Received, not yet applied: [sender·2 + seq parity] (a peer is at most one phase ahead). */
  private readonly held: (Uint8Array | null)[];
  /** Messages held per sequence parity. */
  private readonly heldCount = [0, 0];
  /** Outgoing messages: [receiver·2 + seq parity], reused two phases later (by then every peer has read it). */
  private readonly outgoing: Uint8Array[];
  private readonly outgoingViews: DataView[];
  private readonly plan = new PiecePlan();
  private readonly codec: PieceCodec;
  private waiter: { seq: number; resolve: (arrived: boolean) => void } | null = null;
  /** When the connection closed (no peer message can arrive any more), else 0. */
  private closedAt = 0;
  /** A phase whose peers stay silent this long has lost a peer or a message (NATS core is at-most-once). */
  static phaseTimeoutMs = Number(process.env.EGRU_NATS_PHASE_TIMEOUT_MS ?? 60_000);
  /** Exchanges so far over the whole run: the sequence number of the last one. */
  private seq = 0;
  private failure: Error | null = null;
  /** NATS-level traffic actually sent (for reports), and messages that arrived after the run had failed. */
  readonly sent = { messages: 0, bytes: 0 };
  ignoredAfterFailure = 0;

  /** `key`: the run's data key; every message is sealed with it and must carry its seal (none: unsealed). */
  constructor(
    private readonly nc: NatsConnection,
    run: string,
    private readonly top: Topology,
    private readonly model: ModelConfig,
    private readonly me: number,
    private readonly fab: FabricBuffers,
    private readonly key?: Uint8Array,
  ) {
    const G = top.size;
    this.subject = subjectFor(run, me);
    this.peerSubjects = top.actors.map((a) => subjectFor(run, a.id));
    this.macBytes = key ? TAG_BYTES : 0;
    this.nextFrom = new Uint32Array(G).fill(1);
    this.held = new Array<Uint8Array | null>(2 * G).fill(null);
    this.outgoing = Array.from({ length: 2 * G }, () => new Uint8Array(256));
    this.outgoingViews = this.outgoing.map((o) => new DataView(o.buffer));
    this.codec = new PieceCodec(fab);
    this.sub = nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) this.fail(err);
        else this.receive(msg.data);
      },
    });
    // Once per connection, not per phase: closed() never settles while the connection is up, so a callback
    // chained on it every phase would pile up for the whole run (a leak of ~85 KB per training step).
    void nc.closed().then(() => {
      this.closedAt = Date.now();
      this.waiter?.resolve(false);
    });
  }

  /** Does this phase produce data that peers read in a later phase? `carry`: the job carries a state on (begin sends its events). */
  static exchanges(phase: Phase, carry = false): boolean {
    return phase === Phase.Forward || phase === Phase.Backward || phase === Phase.Norm || (phase === Phase.Begin && carry);
  }

  /** Throw the reason a message was rejected, if one was (between phases, e.g. before reporting a step). */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.waiter?.resolve(true);
  }

  /** Check a message as it arrives (framing, seal, sender, sequence) and hold it for its phase. */
  private receive(data: Uint8Array): void {
    if (this.failure) {
      this.ignoredAfterFailure++;
      return;
    }
    const n = data.byteLength;
    if (n < HEADER + this.macBytes) return this.reject(data, `${n} bytes, shorter than a header (${HEADER + this.macBytes} bytes)`);
    if (this.key && !tagMatches(this.key, this.ivOf(data), data, n - TAG_BYTES))
      return this.reject(data, "its seal does not verify: not sent by this run's actors (forged, corrupted, or sealed with another --secret-file)");
    if (data[0] !== FORMAT) return this.reject(data, `unknown format ${data[0]} (expected ${FORMAT})`);
    if (data[3] !== (this.key ? 1 : 0)) return this.reject(data, this.key ? 'it is not sealed' : 'it is sealed, this run sends unsealed messages');
    const from = u32(data, 4);
    const to = u32(data, 8);
    const seq = u32(data, 12);
    if (to !== this.me) return this.reject(data, `it is addressed to actor ${to}`);
    if (from >= this.top.size || from === this.me) return this.reject(data, `its sender ${from} is not a peer (the run has actors 0–${this.top.size - 1})`);
    const expected = this.nextFrom[from]!;
    if (seq !== expected) return this.reject(data, `it carries sequence number ${seq}, actor ${from}'s next is ${expected} (a replayed, duplicated or lost message)`);
    if (seq > this.seq + 1) return this.reject(data, `sequence number ${seq} is ahead of this actor's ${this.seq}`);
    this.nextFrom[from] = seq + 1;
    this.held[2 * from + (seq & 1)] = data;
    const count = ++this.heldCount[seq & 1]!;
    if (this.waiter && this.waiter.seq === seq && count === this.top.size - 1) this.waiter.resolve(true);
  }

  private ivOf(msg: Uint8Array): Uint8Array {
    for (let i = 0; i < 12; i++) this.iv[i] = msg[4 + i]!;
    return this.iv;
  }

  private reject(data: Uint8Array, why: string): void {
    const claimed = data.byteLength >= 8 ? ` claiming to come from actor ${u32(data, 4)}` : '';
    this.fail(new Error(`rejected a data message on ${this.subject}${claimed}: ${why}`));
  }

  /** Publish what this actor wrote in the phase, then wait for every peer's message of the same phase. */
  async sync(phase: Phase, k: number, p: number, steps: number, forwardPhases: number, backwardPhases: number): Promise<void> {
    const seq = ++this.seq;
    const G = this.top.size;
    if (G === 1) return;
    if (this.failure) throw this.failure;
    const me = this.top.actors[this.me]!;
    for (let dst = 0; dst < G; dst++) {
      if (dst === this.me) continue;
      this.plan.fill(this.top, this.model, this.fab, me, this.top.actors[dst]!, phase, k, p, steps, forwardPhases, backwardPhases);
      const size = HEADER + this.codec.size(this.plan) + this.macBytes;
      const slot = 2 * dst + (seq & 1);
      if (this.outgoing[slot]!.byteLength < size) {
        this.outgoing[slot] = new Uint8Array(Math.max(size, 2 * this.outgoing[slot]!.byteLength));
        this.outgoingViews[slot] = new DataView(this.outgoing[slot]!.buffer);
      }
      const out = this.outgoing[slot]!;
      const dv = this.outgoingViews[slot]!;
      dv.setUint8(0, FORMAT);
      dv.setUint8(1, phase);
      dv.setUint8(2, p);
      dv.setUint8(3, this.key ? 1 : 0);
      dv.setUint32(4, this.me, true);
      dv.setUint32(8, dst, true);
      dv.setUint32(12, seq, true);
      dv.setUint32(16, k, true);
      dv.setUint32(20, this.plan.count, true);
      const end = this.codec.write(this.plan, out, dv, HEADER);
      if (this.key) tagInPlace(this.key, this.ivOf(out), out, end);
      this.nc.publish(this.peerSubjects[dst]!, out.subarray(0, end + this.macBytes));
      this.sent.messages++;
      this.sent.bytes += end + this.macBytes;
    }
    if (this.heldCount[seq & 1]! < G - 1) await this.waitFor(seq);
    if (this.failure) throw this.failure;
    for (let src = 0; src < G; src++) {
      if (src === this.me) continue;
      const slot = 2 * src + (seq & 1);
      const why = this.apply(this.held[slot]!, src, phase, k, p, steps, forwardPhases, backwardPhases);
      this.held[slot] = null;
      if (why) {
        this.fail(new Error(`rejected a data message on ${this.subject} from actor ${src} (sequence number ${seq}): ${why}`));
        throw this.failure;
      }
    }
    this.heldCount[seq & 1] = 0;
  }

  private async waitFor(seq: number): Promise<void> {
    const G = this.top.size;
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const arrived =
      !this.closedAt &&
      (await new Promise<boolean>((resolve) => {
        this.waiter = { seq, resolve };
        timer = setTimeout(() => resolve(false), NatsExchange.phaseTimeoutMs);
      }));
    clearTimeout(timer);
    this.waiter = null;
    if (arrived) return;
    const got = this.heldCount[seq & 1]!;
    const waited = ((Date.now() - t0) / 1000).toFixed(1);
    if (this.closedAt)
      throw new Error(`phase ${seq}: heard from ${got} of ${G - 1} peers when the connection to the NATS server closed (after ${waited} s of waiting)`);
    throw new Error(`phase ${seq}: heard from ${got} of ${G - 1} peers within ${waited} s (a peer or a NATS message was lost)`);
  }

  /** Check a held message against this phase's plan and copy it into the fabric; null, or what was wrong. */
  private apply(msg: Uint8Array, src: number, phase: Phase, k: number, p: number, steps: number, fp: number, bp: number): string | null {
    if (msg[1] !== phase || msg[2] !== p || u32(msg, 16) !== k)
      return `it belongs to ${phaseName(msg[1] as Phase, u32(msg, 16), msg[2]!)}, this phase is ${phaseName(phase, k, p)}`;
    const from = this.top.actors[src]!;
    const me = this.top.actors[this.me]!;
    this.plan.fill(this.top, this.model, this.fab, from, me, phase, k, p, steps, fp, bp);
    const pieces = u32(msg, 20);
    if (pieces !== this.plan.count) return `it holds ${pieces} pieces, ${this.plan.count} planned`;
    return this.codec.read(this.plan, from, me, msg, HEADER, msg.byteLength - this.macBytes);
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
  }
}
