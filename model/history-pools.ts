/**
 * The BPTT history of a group kernel, kept sparse (docs/math.md, "What the backward pass stores"): the item lists
 * a group received at each step (StepPool) and the near-threshold announcements as bitmasks (MaskPool). Buffers
 * grow by doubling and are kept between sequences, so steady-state use allocates nothing.
 */
import type { DropoutMask } from './dropout.js';
import type { ItemList } from './items.js';

/** A capacity ≥ need, doubling from the current one (at least 16). */
export function capacityFor(current: number, need: number): number {
  let c = Math.max(current, 16);
  while (c < need) c *= 2;
  return c;
}

/**
 * Item lists received at each step, merged per batch element: step t, element b owns
 * index/value[offs[t·(B+1)+b] .. offs[t·(B+1)+b+1]). Steps may be recorded in any order (announcements).
 */
export class StepPool {
  index = new Int32Array(64);
  value = new Float32Array(64);
  offs: Int32Array;
  present = new Uint8Array(16);
  fill = 0;
  private steps = 0;

  constructor(readonly batch: number) {
    this.offs = new Int32Array(16 * (batch + 1));
  }

  reset(steps: number): void {
    const need = steps * (this.batch + 1);
    if (this.offs.length < need) this.offs = new Int32Array(capacityFor(this.offs.length, need));
    if (this.present.length < steps) this.present = new Uint8Array(capacityFor(this.present.length, steps));
    this.present.fill(0, 0, steps);
    this.fill = 0;
    this.steps = steps;
  }

  private reserve(extra: number): void {
    const need = this.fill + extra;
    if (need <= this.index.length) return;
    const cap = capacityFor(this.index.length, need);
    const idx = new Int32Array(cap);
    idx.set(this.index.subarray(0, this.fill));
    const val = new Float32Array(cap);
    val.set(this.value.subarray(0, this.fill));
    this.index = idx;
    this.value = val;
  }

  /** Copy `lists` (each CSR per batch element) into step t, merged per batch element in list order. Returns the item count. */
  record(t: number, lists: readonly ItemList[]): number {
    if (!(t >= 0 && t < this.steps)) throw new Error(`step ${t} outside the sequence (0..${this.steps - 1}); call beginSequence first`);
    const B = this.batch;
    let total = 0;
    for (let li = 0; li < lists.length; li++) {
      const L = lists[li]!;
      if (L.batch !== B) throw new Error(`item list has batch ${L.batch}, kernel batch is ${B}`);
      total += L.offsets[B]! - L.offsets[0]!;
    }
    this.reserve(total);
    const idx = this.index;
    const val = this.value;
    const offs = this.offs;
    const base = t * (B + 1);
    let f = this.fill;
    const start = f;
    for (let b = 0; b < B; b++) {
      offs[base + b] = f;
      for (let li = 0; li < lists.length; li++) {
        const L = lists[li]!;
        const li_ = L.index;
        const lv = L.value;
        const hi = L.offsets[b + 1]!;
        for (let e = L.offsets[b]!; e < hi; e++) {
          idx[f] = li_[e]!;
          val[f] = lv[e]!;
          f++;
        }
      }
    }
    offs[base + B] = f;
    this.fill = f;
    this.present[t] = 1;
    return f - start;
  }

  /**
   * Apply dropout to step t, which must be the last one recorded: drop the items whose factor is 0, scale the
   * others (in place, order kept). Returns the items left at step t.
   */
  dropLast(t: number, mask: DropoutMask): number {
    const B = this.batch;
    const idx = this.index;
    const val = this.value;
    const offs = this.offs;
    const base = t * (B + 1);
    let f = offs[base]!;
    const start = f;
    for (let b = 0; b < B; b++) {
      const lo = offs[base + b]!;
      const hi = offs[base + b + 1]!;
      offs[base + b] = f;
      for (let e = lo; e < hi; e++) {
        const d = mask.at(t, b, idx[e]!);
        if (d === 0) continue;
        idx[f] = idx[e]!;
        val[f] = val[e]! * d;
        f++;
      }
    }
    offs[base + B] = f;
    this.fill = f;
    return f - start;
  }
}

/**
 * Backward-active announcements as a bitmask: step t, element b, unit m is bit m of row (t·B + b). With the
 * default support most units are backward-active, so one bit per unit-step beats an 8-byte item per unit.
 */
export class MaskPool {
  bits = new Uint32Array(0);
  present = new Uint8Array(16);
  readonly words: number;
  private steps = 0;

  constructor(
    readonly batch: number,
    readonly size: number,
  ) {
    this.words = (size + 31) >>> 5;
  }

  reset(steps: number): void {
    const need = steps * this.batch * this.words;
    if (this.bits.length < need) this.bits = new Uint32Array(capacityFor(this.bits.length, need));
    if (this.present.length < steps) this.present = new Uint8Array(capacityFor(this.present.length, steps));
    this.present.fill(0, 0, steps);
    this.steps = steps;
  }

  record(t: number, lists: readonly ItemList[]): void {
    if (!(t >= 0 && t < this.steps)) throw new Error(`step ${t} outside the sequence (0..${this.steps - 1}); call beginSequence first`);
    const B = this.batch;
    const W = this.words;
    const bits = this.bits;
    bits.fill(0, t * B * W, (t + 1) * B * W);
    for (let li = 0; li < lists.length; li++) {
      const L = lists[li]!;
      if (L.batch !== B) throw new Error(`item list has batch ${L.batch}, kernel batch is ${B}`);
      const idx = L.index;
      for (let b = 0; b < B; b++) {
        const r0 = (t * B + b) * W;
        const hi = L.offsets[b + 1]!;
        for (let e = L.offsets[b]!; e < hi; e++) {
          const m = idx[e]!;
          if (!(m >= 0 && m < this.size)) throw new Error(`announced unit ${m} outside the layer (0..${this.size - 1})`);
          bits[r0 + (m >>> 5)]! |= 1 << (m & 31);
        }
      }
    }
    this.present[t] = 1;
  }

  /** Clear the bits of step t whose dropout factor is 0 (announcements of units the layer above never sees). */
  drop(t: number, mask: DropoutMask): void {
    const B = this.batch;
    const W = this.words;
    const bits = this.bits;
    for (let b = 0; b < B; b++) {
      const r0 = (t * B + b) * W;
      for (let w = 0; w < W; w++) {
        let x = bits[r0 + w]!;
        let keep = x;
        while (x !== 0) {
          const low = x & -x;
          x ^= low;
          if (mask.at(t, b, (w << 5) + 31 - Math.clz32(low)) === 0) keep ^= low;
        }
        bits[r0 + w] = keep;
      }
    }
  }

  /** Bytes the current sequence uses. */
  inUse(): number {
    let recorded = 0;
    for (let t = 0; t < this.steps; t++) recorded += this.present[t]!;
    return recorded * (this.batch * this.words * 4 + 1);
  }
}
