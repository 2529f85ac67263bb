/**
 * The data path of the `nats` transport: every actor keeps a private copy of the fabric; after each phase
 * that produces messages it sends each peer one NATS message holding the slots that peer reads (events and
 * announcements to consumers, partial sums to owners, partial logits and reduction scalars), and it waits
 * for one message from every peer. That message is also the barrier, so a phase costs one publish per peer.
 * Nothing here knows the math: which slot is written in which phase follows from the schedule (runtime/schedule.ts).
 */
import type { NatsConnection, Subscription } from 'nats';
import type { ModelConfig } from '../model/config.js';
import type { FabricBuffers } from './fabric.js';
import { Phase } from './schedule.js';
import type { Topology } from './topology.js';

/** Region kinds in a message. */
const R = { events: 1, near: 2, reset: 3, grads: 4, gradsP: 5, logits: 6, scalars: 7 } as const;

interface Piece {
  kind: number;
  /** Actor id (events, near, reset, logits, scalars) or pair index (grads, gradsP). */
  index: number;
  parity: number;
  /** Byte ranges of the region's buffer to copy: [start, end) pairs. */
  ranges: number[];
}

export function subjectFor(run: string, actor: number): string {
  return `egru.${run}.a${actor}`;
}

export class NatsExchange {
  private readonly sub: Subscription;
  /** Messages received, by sequence number, not yet applied. */
  private readonly pending = new Map<number, Uint8Array[]>();
  private waiter: { seq: number; resolve: (arrived: boolean) => void } | null = null;
  /** Set once the connection has closed: no peer message can arrive any more. */
  private connectionClosed = false;
  /** A phase whose peers stay silent this long has lost a peer or a message (NATS core is at-most-once). */
  static phaseTimeoutMs = Number(process.env.EGRU_NATS_PHASE_TIMEOUT_MS ?? 60_000);
  private seq = 0;
  private failure: Error | null = null;
  /** NATS-level traffic actually sent (for reports). */
  readonly sent = { messages: 0, bytes: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly run: string,
    private readonly top: Topology,
    private readonly model: ModelConfig,
    private readonly me: number,
    private readonly fab: FabricBuffers,
  ) {
    this.sub = nc.subscribe(subjectFor(run, me), {
      callback: (err, msg) => {
        if (err) {
          this.failure = err;
          this.waiter?.resolve(true);
          return;
        }
        const seq = new DataView(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).getUint32(0, true);
        let list = this.pending.get(seq);
        if (!list) this.pending.set(seq, (list = []));
        list.push(msg.data);
        if (this.waiter && this.waiter.seq === seq && list.length === this.top.size - 1) this.waiter.resolve(true);
      },
    });
    // Once per connection, not per phase: closed() never settles while the connection is up, so a callback
    // chained on it every phase would pile up for the whole run (a leak of ~85 KB per training step).
    void nc.closed().then(() => {
      this.connectionClosed = true;
      this.waiter?.resolve(false);
    });
  }

  /** Start of a sequence: sequence numbers restart with every run call on every actor. */
  reset(): void {
    this.seq = 0;
  }

  /** Does this phase produce data that peers read in a later phase? `carry`: the job carries a state on (begin sends its events). */
  static exchanges(phase: Phase, carry = false): boolean {
    return phase === Phase.Forward || phase === Phase.Backward || phase === Phase.Norm || (phase === Phase.Begin && carry);
  }

  /** Publish what this actor wrote in the phase, then wait for every peer's message of the same phase. */
  async sync(phase: Phase, k: number, p: number, steps: number, forwardPhases: number, backwardPhases: number): Promise<void> {
    const seq = ++this.seq;
    const G = this.top.size;
    for (let dst = 0; dst < G; dst++) {
      if (dst === this.me) continue;
      const pieces = this.piecesFor(dst, phase, k, p, steps, forwardPhases, backwardPhases);
      const msg = this.encode(seq, pieces);
      this.nc.publish(subjectFor(this.run, dst), msg);
      this.sent.messages++;
      this.sent.bytes += msg.byteLength;
    }
    if (G > 1) {
      if (this.failure) throw this.failure;
      if ((this.pending.get(seq)?.length ?? 0) < G - 1) {
        let timer: NodeJS.Timeout | undefined;
        const arrived =
          !this.connectionClosed &&
          (await new Promise<boolean>((resolve) => {
            this.waiter = { seq, resolve };
            timer = setTimeout(() => resolve(false), NatsExchange.phaseTimeoutMs);
          }));
        clearTimeout(timer);
        this.waiter = null;
        if (!arrived) {
          const got = this.pending.get(seq)?.length ?? 0;
          throw new Error(`phase ${seq}: heard from ${got} of ${G - 1} peers within ${NatsExchange.phaseTimeoutMs} ms (a peer or a NATS message was lost)`);
        }
      }
      this.waiter = null;
      if (this.failure) throw this.failure;
      for (const m of this.pending.get(seq)!) this.apply(m);
      this.pending.delete(seq);
    }
  }

  private piecesFor(dst: number, phase: Phase, k: number, p: number, steps: number, fp: number, bp: number): Piece[] {
    const me = this.top.actors[this.me]!;
    const d = this.top.actors[dst]!;
    const out: Piece[] = [];
    const B = this.fab.batch;
    const listRanges = (buf: SharedArrayBuffer) => {
      // offsets, then the used prefix of index and of value
      const off = new Int32Array(buf, 0, B + 1);
      const n = off[B]!;
      const cap = (buf.byteLength - 4 * (B + 1)) / 8;
      const base = 4 * (B + 1);
      return [0, base + 4 * n, base + 4 * cap, base + 4 * cap + 4 * n];
    };
    const last = this.top.depth - 1;
    if (phase === Phase.Begin) {
      // a carrying job: the events of step −1, which the layer's peers read at tick `layer` (actor.ts begin)
      const parity = (me.layer + 1) & 1;
      if (d.layer === me.layer) out.push({ kind: R.events, index: me.id, parity, ranges: listRanges(this.fab.events[me.id]![parity]!) });
    } else if (phase === Phase.Forward) {
      const t = k - me.layer;
      if (t < 0 || t >= steps) return out;
      const pout = k & 1;
      const consumer = d.layer === me.layer || d.layer === me.layer + 1;
      if (p === fp - 1 && consumer) {
        out.push({ kind: R.events, index: me.id, parity: pout, ranges: listRanges(this.fab.events[me.id]![pout]!) });
        out.push({ kind: R.near, index: me.id, parity: pout, ranges: listRanges(this.fab.near[me.id]![pout]!) });
      }
      if (fp === 2 && p === 0 && d.layer === me.layer)
        out.push({ kind: R.reset, index: me.id, parity: 0, ranges: listRanges(this.fab.reset[me.id]!) });
      if (p === fp - 1 && me.layer === last && d.layer === last && (this.model.readout === 'per-step' || t === steps - 1)) {
        // One row of partial logits (B × C) per step: row t for per-step readouts, row 0 otherwise.
        const row = 4 * B * this.model.classes;
        const r = this.model.readout === 'per-step' ? t : 0;
        out.push({ kind: R.logits, index: me.id, parity: 0, ranges: [r * row, (r + 1) * row] });
      }
      if (p === fp - 1 && t === steps - 1) out.push({ kind: R.scalars, index: me.id, parity: 0, ranges: this.scalarRange(me.id) });
    } else if (phase === Phase.Backward) {
      const L = this.top.depth;
      const t = steps - 1 - k + (L - 1 - me.layer);
      if (t < 0 || t >= steps) return out;
      const pair = this.fab.pairIndex[me.id * this.top.size + dst]!;
      if (pair < 0) return out;
      if (bp === 2 && p === 0) {
        if (d.layer === me.layer) out.push({ kind: R.gradsP, index: pair, parity: 0, ranges: listRanges(this.fab.gradsP[pair]!) });
      } else out.push({ kind: R.grads, index: pair, parity: k & 1, ranges: listRanges(this.fab.grads[pair]![k & 1]!) });
    } else if (phase === Phase.Norm) {
      out.push({ kind: R.scalars, index: me.id, parity: 0, ranges: this.scalarRange(me.id) });
    }
    return out;
  }

  private scalarRange(actor: number): number[] {
    const per = this.fab.scalars.byteLength / this.top.size;
    return [actor * per, (actor + 1) * per];
  }

  private buffer(kind: number, index: number, parity: number): SharedArrayBuffer {
    const f = this.fab;
    switch (kind) {
      case R.events:
        return f.events[index]![parity]!;
      case R.near:
        return f.near[index]![parity]!;
      case R.reset:
        return f.reset[index]!;
      case R.grads:
        return f.grads[index]![parity]!;
      case R.gradsP:
        return f.gradsP[index]!;
      case R.logits:
        return f.logits[index]!;
      case R.scalars:
        return f.scalars;
      default:
        throw new Error(`unknown region kind ${kind}`);
    }
  }

  /** [seq u32][pieces u32] then per piece [kind u8][parity u8][index u32][ranges u32][start u32, end u32]… bytes… */
  private encode(seq: number, pieces: Piece[]): Uint8Array {
    let size = 8;
    for (const pc of pieces) {
      size += 10 + 8 * (pc.ranges.length / 2);
      for (let r = 0; r < pc.ranges.length; r += 2) size += pc.ranges[r + 1]! - pc.ranges[r]!;
    }
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, seq, true);
    dv.setUint32(4, pieces.length, true);
    let at = 8;
    for (const pc of pieces) {
      dv.setUint8(at, pc.kind);
      dv.setUint8(at + 1, pc.parity);
      dv.setUint32(at + 2, pc.index, true);
      dv.setUint32(at + 6, pc.ranges.length / 2, true);
      at += 10;
      const src = new Uint8Array(this.buffer(pc.kind, pc.index, pc.parity));
      for (let r = 0; r < pc.ranges.length; r += 2) {
        const s = pc.ranges[r]!;
        const e = pc.ranges[r + 1]!;
        dv.setUint32(at, s, true);
        dv.setUint32(at + 4, e, true);
        at += 8;
        out.set(src.subarray(s, e), at);
        at += e - s;
      }
    }
    return out;
  }

  private apply(msg: Uint8Array): void {
    const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    const pieces = dv.getUint32(4, true);
    let at = 8;
    for (let i = 0; i < pieces; i++) {
      const kind = dv.getUint8(at);
      const parity = dv.getUint8(at + 1);
      const index = dv.getUint32(at + 2, true);
      const ranges = dv.getUint32(at + 6, true);
      at += 10;
      const dst = new Uint8Array(this.buffer(kind, index, parity));
      for (let r = 0; r < ranges; r++) {
        const s = dv.getUint32(at, true);
        const e = dv.getUint32(at + 4, true);
        at += 8;
        dst.set(msg.subarray(at, at + e - s), s);
        at += e - s;
      }
    }
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
  }
}
