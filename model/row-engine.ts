/**
 * The sparse row engine of a group kernel (docs/math.md, "How the kernels order the work"): every received item
 * means one weight row, and these loops apply the rows of the items recorded in the history pools as
 * WebAssembly SIMD calls (model/simd.ts), one call per weight row (or per destination row) and step:
 * pre-activations (scatterRows, gatherSlots), weight-gradient rows (gradRows), partial sums of items and of
 * announced units (dotRows, announcedRows), and their emission as item lists (emit). It knows nothing of the
 * cells' math; pointers are byte offsets into the kernel's wasm memory, rows are 3n floats (12n bytes).
 */
import { capacityFor, type MaskPool, type StepPool } from './history-pools.js';
import type { ItemSink } from './items.js';
import type { SimdOps } from './simd.js';

/** Steps whose weight-gradient rows (and backward pre-activations) are handled together. */
export const GRAD_BLOCK = 4;

/** The wasm views the engine hands item lists through (capacity: max(GRAD_BLOCK·B, I, H) each). */
export interface RowLists {
  ptr: Float32Array;
  scalar: Float32Array;
  out: Float32Array;
}

export class RowEngine {
  /** Batch elements of the current sequence (a prefix of the batch); the kernel sets it per sequence. */
  activeBatch: number;
  // Items of pool slots ordered by row (weight row = input or unit), so that each weight row is fetched once
  // per step and applied to every batch element that received it: row i's items are ord*[rowStart[i] ..
  // rowStart[i+1]), by ascending batch element; ordE = the item's position in the pool.
  private readonly rowStart: Int32Array;
  private readonly rowCur: Int32Array;
  private ordE = new Int32Array(64);
  private ordB = new Int32Array(64);
  /** Partial sums of a pool slot's items (index: position − the slot's first position), before they are emitted. */
  private partial = new Float32Array(64);
  /** Partial sums of announced units, [b × announcing layer size]. */
  private readonly annVal: Float32Array;
  /** The announced units of one batch element, in the order of announcedRows' SIMD call. */
  private readonly annUnits: Int32Array;
  // The items of one SIMD call (axpyMany, gather, dotMany) in wasm memory: byte addresses, scalars, results. At
  // most GRAD_BLOCK·B items share a row in one call, and a (step, batch element) receives at most max(I, H).
  private readonly listPtr: Int32Array;
  private readonly listScalar: Float32Array;
  private readonly listOut: Float32Array;
  private readonly pListPtr: number;
  private readonly pListScalar: number;
  private readonly pListOut: number;

  /** n: the group's units; maxRows: max(I, H), the most rows (and items per destination) a pool can address. */
  constructor(
    private readonly simd: SimdOps,
    private readonly n: number,
    private readonly batch: number,
    maxRows: number,
    lists: RowLists,
  ) {
    this.activeBatch = batch;
    this.rowStart = new Int32Array(maxRows + 1);
    this.rowCur = new Int32Array(maxRows + 1);
    this.annVal = new Float32Array(batch * maxRows);
    this.annUnits = new Int32Array(maxRows);
    this.listPtr = new Int32Array(lists.ptr.buffer, lists.ptr.byteOffset, lists.ptr.length);
    this.listScalar = lists.scalar;
    this.listOut = lists.out;
    this.pListPtr = lists.ptr.byteOffset;
    this.pListScalar = lists.scalar.byteOffset;
    this.pListOut = lists.out.byteOffset;
  }

  /**
   * Order the items of pool slots t..tEnd by row (input or unit index < rows), then by step and batch element;
   * ordB = b for one slot, else the item's gradient-ring row (t mod GRAD_BLOCK)·B + b. Only the active batch
   * elements' items (a prefix of each slot) take part. Returns their count.
   */
  private byRow(pool: StepPool, t: number, rows: number, tEnd = t, ring = false): number {
    const B = this.batch;
    const BA = this.activeBatch;
    const offs = pool.offs;
    const idx = pool.index;
    let count = 0;
    for (let u = t; u <= tEnd; u++) count += offs[u * (B + 1) + BA]! - offs[u * (B + 1)]!;
    if (this.ordE.length < count) {
      const cap = capacityFor(this.ordE.length, count);
      this.ordE = new Int32Array(cap);
      this.ordB = new Int32Array(cap);
      this.partial = new Float32Array(cap);
    }
    const start = this.rowStart;
    const cur = this.rowCur;
    start.fill(0, 0, rows + 1);
    for (let u = t; u <= tEnd; u++)
      for (let e = offs[u * (B + 1)]!, hi = offs[u * (B + 1) + BA]!; e < hi; e++) {
        const i = idx[e]!;
        if (!(i >= 0 && i < rows)) throw new Error(`item address ${i} outside 0..${rows - 1}`);
        start[i + 1]!++;
      }
    for (let i = 0; i < rows; i++) {
      start[i + 1]! += start[i]!;
      cur[i] = start[i]!;
    }
    const ordE = this.ordE;
    const ordB = this.ordB;
    for (let u = t; u <= tEnd; u++) {
      const base = u * (B + 1);
      const r0 = ring ? (u % GRAD_BLOCK) * B : 0;
      for (let b = 0; b < BA; b++)
        for (let e = offs[base + b]!, end = offs[base + b + 1]!; e < end; e++) {
          const k = cur[idx[e]!]!++;
          ordE[k] = e;
          ordB[k] = r0 + b;
        }
    }
    return count;
  }

  /** Items recorded in pool slot t. */
  slotSize(pool: StepPool, t: number): number {
    const base = t * (this.batch + 1);
    return pool.offs[base + this.batch]! - pool.offs[base]!;
  }

  /**
   * The items k0..k1 of the row order (byRow) as one SIMD call's lists: addresses pBase + (ring row)·stride,
   * scalars = the items' values.
   */
  private listItems(k0: number, k1: number, pBase: number, stride: number, value: Float32Array): void {
    const ordE = this.ordE;
    const ordB = this.ordB;
    const ptr = this.listPtr;
    const scalar = this.listScalar;
    for (let k = k0; k < k1; k++) {
      ptr[k - k0] = pBase + ordB[k]! * stride;
      scalar[k - k0] = value[ordE[k]!]!;
    }
  }

  /**
   * Weight-gradient rows of pool slots t..tEnd: G[i, off..off+len) += value·d for every item (i, step u, b), d =
   * the len floats at byte pD + ((u mod GRAD_BLOCK)·B + b)·dBytes (the δ ring), added item by item in row order.
   */
  gradRows(pool: StepPool, t: number, tEnd: number, rows: number, pG: number, off: number, pD: number, dBytes: number, len: number): void {
    this.byRow(pool, t, rows, tEnd, true);
    const { gather } = this.simd;
    const rowBytes = 12 * this.n;
    const start = this.rowStart;
    const cap = this.listPtr.length;
    for (let i = 0; i < rows; i++) {
      // in chunks of the list capacity (only repeated addresses in a list can exceed it): the same sums, in order
      for (let k0 = start[i]!, k1 = start[i + 1]!; k0 < k1; k0 += cap) {
        const kEnd = Math.min(k1, k0 + cap);
        this.listItems(k0, kEnd, pD, dBytes, pool.value);
        gather(pG + i * rowBytes + 4 * off, len, this.pListPtr, this.pListScalar, kEnd - k0, 0);
      }
    }
  }

  /**
   * For every item (i, b, value) of pool slots t..tEnd (step u): dst[0..len) += value·W[i, off..off+len), where
   * dst starts at byte pDst + ((u mod GRAD_BLOCK)·B + b)·dstBytes (a ring of per-step slots); with `pDst2`, also
   * dst2[0..len2) += value·W[i, off2..off2+len2) (second part of the same row, while it is in cache). Each
   * destination row receives its items by ascending weight row whatever tEnd is, so a block's sums equal its
   * steps' sums one by one, bit for bit. Returns the item count.
   */
  scatterRows(
    pool: StepPool, t: number, tEnd: number, rows: number, pW: number,
    off: number, pDst: number, dstBytes: number, len: number,
    off2 = 0, pDst2 = -1, dst2Bytes = 0, len2 = 0,
  ): number {
    const count = this.byRow(pool, t, rows, tEnd, true);
    const { axpyMany } = this.simd;
    const rowBytes = 12 * this.n;
    const start = this.rowStart;
    const cap = this.listPtr.length;
    for (let i = 0; i < rows; i++) {
      const w = pW + i * rowBytes;
      for (let k0 = start[i]!, k1 = start[i + 1]!; k0 < k1; k0 += cap) {
        const kEnd = Math.min(k1, k0 + cap);
        this.listItems(k0, kEnd, pDst, dstBytes, pool.value);
        axpyMany(w + 4 * off, len, this.pListPtr, this.pListScalar, kEnd - k0);
        if (pDst2 < 0) continue;
        this.listItems(k0, kEnd, pDst2, dst2Bytes, pool.value);
        axpyMany(w + 4 * off2, len2, this.pListPtr, this.pListScalar, kEnd - k0);
      }
    }
    return count;
  }

  /**
   * Partial sums scale·W[i, off..off+len)·d_b of the items (i, b) of pool slot t, d_b = the len floats at byte
   * pD + b·dBytes, into this.partial by pool position (emitted later per batch element). Returns the item count.
   */
  dotRows(pool: StepPool, t: number, rows: number, pW: number, off: number, pD: number, dBytes: number, len: number, scale: number): number {
    const count = this.byRow(pool, t, rows);
    const { dotMany } = this.simd;
    const rowBytes = 12 * this.n;
    const start = this.rowStart;
    const ordE = this.ordE;
    const ordB = this.ordB;
    const part = this.partial;
    const ptr = this.listPtr;
    const res = this.listOut;
    const lo = pool.offs[t * (this.batch + 1)]!;
    const cap = ptr.length;
    for (let i = 0; i < rows; i++) {
      for (let k0 = start[i]!, k1 = start[i + 1]!; k0 < k1; k0 += cap) {
        const kEnd = Math.min(k1, k0 + cap);
        for (let k = k0; k < kEnd; k++) ptr[k - k0] = pD + ordB[k]! * dBytes;
        dotMany(pW + i * rowBytes + 4 * off, len, this.pListPtr, this.pListOut, kEnd - k0, scale);
        for (let k = k0; k < kEnd; k++) part[ordE[k]! - lo] = res[k - k0]!;
      }
    }
    return count;
  }

  /**
   * Partial sums scale·W[m, off..off+len)·d_b for the units m announced in mask row (step, b), into
   * annVal[b·size + m]: one SIMD call per batch element over its announced units' rows (the dot product is
   * symmetric, so d_b against each row gives the same bits as each row against d_b), so the work follows the
   * announced items rather than units × batch elements. Returns the count.
   */
  announcedRows(mask: MaskPool, step: number, size: number, pW: number, off: number, pD: number, dBytes: number, len: number, scale: number): number {
    const { dotMany } = this.simd;
    const rowBytes = 12 * this.n;
    const pRows = pW + 4 * off;
    const B = this.batch;
    const W = mask.words;
    const bits = mask.bits;
    const ann = this.annVal;
    const units = this.annUnits;
    const ptr = this.listPtr;
    const res = this.listOut;
    let count = 0;
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      const r0 = (step * B + b) * W;
      let k = 0;
      for (let w = 0; w < W; w++) {
        let x = bits[r0 + w]!;
        while (x !== 0) {
          const low = x & -x;
          x ^= low;
          const m = (w << 5) + 31 - Math.clz32(low);
          units[k] = m;
          ptr[k++] = pRows + m * rowBytes;
        }
      }
      if (k === 0) continue;
      dotMany(pD + b * dBytes, len, this.pListPtr, this.pListOut, k, scale);
      for (let q = 0; q < k; q++) ann[b * size + units[q]!] = res[q]!;
      count += k;
    }
    return count;
  }

  /**
   * Emit, per batch element: the items of pool slot t with their partial sums (pool order), then, with a mask,
   * the announced units of mask row (step, b) in ascending order with theirs.
   */
  emit(out: ItemSink, pool: StepPool, t: number, mask: MaskPool | null, step: number, size: number): void {
    const B = this.batch;
    const base = t * (B + 1);
    const offs = pool.offs;
    const idx = pool.index;
    const part = this.partial;
    const lo = offs[base]!;
    const ann = this.annVal;
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      out.begin(b);
      for (let e = offs[base + b]!, end = offs[base + b + 1]!; e < end; e++) out.push(idx[e]!, part[e - lo]!);
      if (!mask) continue;
      const W = mask.words;
      const bits = mask.bits;
      const r0 = (step * B + b) * W;
      for (let w = 0; w < W; w++) {
        let x = bits[r0 + w]!;
        while (x !== 0) {
          const low = x & -x;
          x ^= low;
          const m = (w << 5) + 31 - Math.clz32(low);
          out.push(m, ann[b * size + m]!);
        }
      }
    }
  }

  /**
   * The destination-stationary twin of scatterRows, for weights that fit the caches: for every active (step u,
   * batch element b) of slots t..tEnd, dst += Σ value·W[i, off..off+len) over its items in pool order (ascending
   * row, as scatterRows adds them), the destination row held in registers (one SIMD gather call). The same bits
   * while an address appears at most once per step and batch element (the runtime's lists); repeated addresses
   * are added in list order here, row by row there.
   */
  gatherSlots(pool: StepPool, t: number, tEnd: number, rows: number, pW: number, off: number, pDst: number, dstBytes: number, len: number): void {
    const B = this.batch;
    const cap = this.listPtr.length;
    const rowBytes = 12 * this.n;
    const offs = pool.offs;
    const idx = pool.index;
    const val = pool.value;
    const ptr = this.listPtr;
    const scalar = this.listScalar;
    const { gather } = this.simd;
    for (let u = t; u <= tEnd; u++) {
      const base = u * (B + 1);
      const d0 = pDst + (u % GRAD_BLOCK) * B * dstBytes;
      for (let b = 0, BA = this.activeBatch; b < BA; b++) {
        // in chunks of the list capacity (only repeated addresses in a list can exceed it): the same sums, in order
        for (let lo = offs[base + b]!, hi = offs[base + b + 1]!; lo < hi; lo += cap) {
          const end = Math.min(hi, lo + cap);
          for (let e = lo; e < end; e++) {
            const i = idx[e]!;
            if (!(i >= 0 && i < rows)) throw new Error(`item address ${i} outside 0..${rows - 1}`);
            ptr[e - lo] = pW + i * rowBytes;
            scalar[e - lo] = val[e]!;
          }
          gather(d0 + b * dstBytes, len, this.pListPtr, this.pListScalar, end - lo, 4 * off);
        }
      }
    }
  }
}
