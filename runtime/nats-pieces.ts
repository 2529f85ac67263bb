/**
 * The body of a `nats` data message: the slots of the fabric that one actor wrote in a phase and one peer reads
 * (events and announcements to consumers, partial sums to owners, partial logits and reduction scalars).
 * Which slots travel follows from the schedule alone, so the receiver plans the same pieces as the sender and
 * accepts nothing else: each piece must be the planned slot, lists must be well formed (offsets rising to the
 * item count, within capacity), addresses must be units of the group they belong to, and values finite.
 */
import type { ModelConfig } from '../model/config.js';
import type { FabricBuffers } from './fabric.js';
import { Phase } from './schedule.js';
import type { ActorInfo, Topology } from './topology.js';

/** Region kinds in a message. */
const R = { events: 1, near: 2, reset: 3, grads: 4, gradsP: 5, logits: 6, scalars: 7 } as const;
const KIND_NAMES = ['', 'events', 'announcements', 'resets', 'gradient sums', 'first-phase gradient sums', 'partial logits', 'scalars'];
/** The most pieces one message holds (events, announcements, resets, logits, scalars). */
const MAX_PIECES = 8;
/** Piece header: kind u8, parity u8, 2 spare bytes, index u32, then the item count (lists) or byte start (others). */
export const PIECE_HEADER = 12;

interface ListViews {
  bytes: Uint8Array;
  offsets: Int32Array;
  index: Int32Array;
  value: Float32Array;
  capacity: number;
}

/** The pieces one sender sends one receiver in one phase; filled in place (no allocation per message). */
export class PiecePlan {
  count = 0;
  readonly kind = new Uint8Array(MAX_PIECES);
  readonly parity = new Uint8Array(MAX_PIECES);
  /** Actor id (events, near, reset, logits, scalars) or pair index (grads, gradsP). */
  readonly index = new Int32Array(MAX_PIECES);
  /** Byte range of the fixed-size pieces (logits, scalars). */
  readonly start = new Int32Array(MAX_PIECES);
  readonly end = new Int32Array(MAX_PIECES);

  private push(kind: number, index: number, parity: number, start = 0, end = 0): void {
    const i = this.count++;
    this.kind[i] = kind;
    this.index[i] = index;
    this.parity[i] = parity;
    this.start[i] = start;
    this.end[i] = end;
  }

  /** Plan what `src` sends `dst` after phase (phase, k, p) of a sequence of `steps`. */
  fill(top: Topology, model: ModelConfig, fab: FabricBuffers, src: ActorInfo, dst: ActorInfo, phase: Phase, k: number, p: number, steps: number, fp: number, bp: number): void {
    this.count = 0;
    const last = top.depth - 1;
    if (phase === Phase.Begin) {
      // a carrying job: the events of step −1, which the layer's peers read at tick `layer` (actor.ts begin)
      if (dst.layer === src.layer) this.push(R.events, src.id, (src.layer + 1) & 1);
    } else if (phase === Phase.Forward) {
      const t = k - src.layer;
      if (t < 0 || t >= steps) return;
      const pout = k & 1;
      const consumer = dst.layer === src.layer || dst.layer === src.layer + 1;
      if (p === fp - 1 && consumer) {
        this.push(R.events, src.id, pout);
        this.push(R.near, src.id, pout);
      }
      if (fp === 2 && p === 0 && dst.layer === src.layer) this.push(R.reset, src.id, 0);
      if (p === fp - 1 && src.layer === last && dst.layer === last && (model.readout === 'per-step' || t === steps - 1)) {
        // One row of partial logits (B × C) per step: row t for per-step readouts, row 0 otherwise.
        const row = 4 * fab.batch * model.classes;
        const r = model.readout === 'per-step' ? t : 0;
        this.push(R.logits, src.id, 0, r * row, (r + 1) * row);
      }
      if (p === fp - 1 && t === steps - 1) this.pushScalars(top, fab, src.id);
    } else if (phase === Phase.Backward) {
      const t = steps - 1 - k + (top.depth - 1 - src.layer);
      if (t < 0 || t >= steps) return;
      const pair = fab.pairIndex[src.id * top.size + dst.id]!;
      if (pair < 0) return;
      if (bp === 2 && p === 0) {
        if (dst.layer === src.layer) this.push(R.gradsP, pair, 0);
      } else this.push(R.grads, pair, k & 1);
    } else if (phase === Phase.Norm) this.pushScalars(top, fab, src.id);
  }

  private pushScalars(top: Topology, fab: FabricBuffers, actor: number): void {
    const per = fab.scalars.byteLength / top.size;
    this.push(R.scalars, actor, 0, actor * per, (actor + 1) * per);
  }
}

/** Writes planned pieces from a fabric into a message, and reads and checks them into one. */
export class PieceCodec {
  private readonly lists = new Map<SharedArrayBuffer, ListViews>();
  private readonly bytes = new Map<SharedArrayBuffer, Uint8Array>();
  private readonly logits: Float32Array[];
  private readonly scalars: Float64Array;

  constructor(private readonly fab: FabricBuffers) {
    this.logits = fab.logits.map((b) => new Float32Array(b));
    this.scalars = new Float64Array(fab.scalars);
  }

  private isList(kind: number): boolean {
    return kind <= R.gradsP;
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
      default:
        return f.scalars;
    }
  }

  private listViews(buf: SharedArrayBuffer): ListViews {
    let v = this.lists.get(buf);
    if (!v) {
      const B = this.fab.batch;
      const capacity = (buf.byteLength - 4 * (B + 1)) / 8;
      v = {
        bytes: new Uint8Array(buf),
        offsets: new Int32Array(buf, 0, B + 1),
        index: new Int32Array(buf, 4 * (B + 1), capacity),
        value: new Float32Array(buf, 4 * (B + 1) + 4 * capacity, capacity),
        capacity,
      };
      this.lists.set(buf, v);
    }
    return v;
  }

  private byteView(buf: SharedArrayBuffer): Uint8Array {
    let v = this.bytes.get(buf);
    if (!v) this.bytes.set(buf, (v = new Uint8Array(buf)));
    return v;
  }

  /** Bytes the planned pieces take, as the sender's fabric holds them now. */
  size(plan: PiecePlan): number {
    let size = 0;
    for (let i = 0; i < plan.count; i++) {
      const kind = plan.kind[i]!;
      if (this.isList(kind)) {
        const n = this.listViews(this.buffer(kind, plan.index[i]!, plan.parity[i]!)).offsets[this.fab.batch]!;
        size += PIECE_HEADER + 4 * (this.fab.batch + 1) + 8 * n;
      } else size += PIECE_HEADER + plan.end[i]! - plan.start[i]!;
    }
    return size;
  }

  /** Write the planned pieces at `at`; the new end. */
  write(plan: PiecePlan, out: Uint8Array, dv: DataView, at: number): number {
    const B = this.fab.batch;
    for (let i = 0; i < plan.count; i++) {
      const kind = plan.kind[i]!;
      const buf = this.buffer(kind, plan.index[i]!, plan.parity[i]!);
      dv.setUint8(at, kind);
      dv.setUint8(at + 1, plan.parity[i]!);
      dv.setUint16(at + 2, 0, true);
      dv.setUint32(at + 4, plan.index[i]!, true);
      if (this.isList(kind)) {
        const v = this.listViews(buf);
        const n = v.offsets[B]!;
        dv.setUint32(at + 8, n, true);
        at += PIECE_HEADER;
        // the offsets and the used prefix of the addresses, then the used prefix of the values
        const head = 4 * (B + 1) + 4 * n;
        copyBytes(out, at, v.bytes, 0, head);
        at += head;
        const values = 4 * (B + 1) + 4 * v.capacity;
        copyBytes(out, at, v.bytes, values, values + 4 * n);
        at += 4 * n;
      } else {
        const s = plan.start[i]!;
        const e = plan.end[i]!;
        dv.setUint32(at + 8, s, true);
        at += PIECE_HEADER;
        copyBytes(out, at, this.byteView(buf), s, e);
        at += e - s;
      }
    }
    return at;
  }

  /**
   * Copy the planned pieces of `src`'s message (bytes [at, end)) into the fabric and check them; null when they
   * are exactly what was planned and well formed, otherwise what is wrong. A message that fails leaves slots
   * half written: the caller fails the run, so nothing reads them.
   */
  read(plan: PiecePlan, src: ActorInfo, me: ActorInfo, msg: Uint8Array, at: number, end: number): string | null {
    const B = this.fab.batch;
    for (let i = 0; i < plan.count; i++) {
      const kind = plan.kind[i]!;
      const what = `piece ${i + 1} (${KIND_NAMES[kind]})`;
      if (at + PIECE_HEADER > end) return `it ends inside ${what}`;
      const gotKind = msg[at]!;
      const gotIndex = u32(msg, at + 4);
      if (gotKind !== kind || msg[at + 1] !== plan.parity[i] || gotIndex !== plan.index[i])
        return `${what} should be slot ${plan.index[i]}/${plan.parity[i]}, it holds ${KIND_NAMES[gotKind] ?? `kind ${gotKind}`} slot ${gotIndex}/${msg[at + 1]}`;
      const buf = this.buffer(kind, plan.index[i]!, plan.parity[i]!);
      if (this.isList(kind)) {
        const v = this.listViews(buf);
        const n = u32(msg, at + 8);
        at += PIECE_HEADER;
        if (n > v.capacity) return `${what} holds ${n} items, more than the ${v.capacity} the slot has room for`;
        const head = 4 * (B + 1) + 4 * n;
        if (at + head + 4 * n > end) return `it ends inside ${what} (${n} items announced)`;
        copyBytes(v.bytes, 0, msg, at, at + head);
        at += head;
        copyBytes(v.bytes, 4 * (B + 1) + 4 * v.capacity, msg, at, at + 4 * n);
        at += 4 * n;
        // events, announcements and resets address the sender's units; gradient sums the receiver's
        const owner = kind <= R.reset ? src : me;
        const bad = this.checkList(v, n, owner.unitStart, owner.unitStart + owner.units);
        if (bad) return `${what}: ${bad}`;
      } else {
        const s = plan.start[i]!;
        const e = plan.end[i]!;
        if (u32(msg, at + 8) !== s) return `${what} starts at byte ${u32(msg, at + 8)}, expected ${s}`;
        at += PIECE_HEADER;
        if (at + e - s > end) return `it ends inside ${what}`;
        copyBytes(this.byteView(buf), s, msg, at, at + e - s);
        at += e - s;
        const bad = kind === R.logits ? nonFinite(this.logits[plan.index[i]!]!, s / 4, e / 4) : nonFinite(this.scalars, s / 8, e / 8);
        if (bad >= 0) return `${what}: value ${bad - (kind === R.logits ? s / 4 : s / 8)} is not finite`;
      }
    }
    return at === end ? null : `${end - at} bytes follow the planned pieces`;
  }

  private checkList(v: ListViews, n: number, lo: number, hi: number): string | null {
    const B = this.fab.batch;
    if (v.offsets[0] !== 0 || v.offsets[B] !== n) return `its offsets run from ${v.offsets[0]} to ${v.offsets[B]}, not 0 to ${n}`;
    for (let b = 0; b < B; b++) if (v.offsets[b + 1]! < v.offsets[b]!) return `its offsets fall at batch element ${b}`;
    for (let e = 0; e < n; e++) {
      const u = v.index[e]!;
      if (u < lo || u >= hi) return `item ${e} addresses unit ${u}, outside the group's units ${lo}–${hi - 1}`;
    }
    const bad = nonFinite(v.value, 0, n);
    return bad >= 0 ? `item ${bad} has the value ${v.value[bad]}, not finite` : null;
  }
}

/** The little-endian u32 at `at` (without a DataView per message). */
export function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** dst[at…] = src[from, to): short runs element by element, long ones through one view (memcpy). */
function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, from: number, to: number): void {
  if (to - from < 256) for (let b = from; b < to; b++) dst[at++] = src[b]!;
  else dst.set(src.subarray(from, to), at);
}

/** The first position in [from, to) whose value is NaN or infinite, or −1. */
function nonFinite(a: Float32Array | Float64Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}
