/**
 * The elementwise steps of the evnn and GRU cells in a group kernel (docs/math.md): the forward state update (the
 * gates, v_t, its events and near-threshold units) and the elementwise backward step (dv, dϑ, the gate gradients,
 * dh_{t−1}), one WebAssembly SIMD call each per batch element (model/simd.wat: gates, cellForward, cellBackward;
 * cellForward in float64 rounded to float32, cellBackward in float32). Everything around them (the history,
 * the pre-activations, the weight rows, the counters) is GroupKernel's (model/group-kernel.ts).
 */
import type { ModelConfig } from '../config.js';
import type { ItemList } from '../items.js';
import type { SimdOps } from '../simd.js';

/** The kernel's wasm views these steps read and write (by the names of GroupKernel's KERNEL_VIEWS). */
export interface EvnnGruViews {
  thr: Float32Array;
  gradThr: Float32Array;
  gradBias: Float32Array;
  gradRecurrentBias: Float32Array;
  gate: Float32Array;
  dy: Float32Array;
  carry: Float32Array;
  stateAt: Float32Array;
  stateBefore: Float32Array;
  stage: Float32Array;
  vOut: Float32Array;
  eventIndex: Float32Array;
  eventValue: Float32Array;
  nearIndex: Float32Array;
  counts: Float32Array;
  gateHistory: Float32Array;
  rgHistory: Float32Array;
}

/**
 * The staging area of cellBackward's last n mod 4 units, in floats from its start: the streams with 4 floats
 * each, [z | r | g], dw and drh with 12.
 */
const STAGE = { gate: 0, rg: 12, cur: 16, prev: 20, thr: 24, dy: 28, carry: 32, dw: 36, drh: 48, gthr: 60 } as const;
export const STAGE_FLOATS = 64;

/** dst[at..at+len) = src[from..from+len), element by element: no subarray view to allocate on the step path. */
function copyFloats(dst: Float32Array, at: number, src: Float32Array, from: number, len: number): void {
  for (let k = 0; k < len; k++) dst[at + k] = src[from + k]!;
}

export class EvnnGruCell {
  /** The activity regulariser's coefficient in the backward step (GroupKernel.setActivityGradient). */
  activityCoef = 0;

  private readonly unitStart: number;
  private readonly n: number;
  private readonly batch: number;
  private readonly gru: boolean;
  private readonly gamma: number;
  private readonly support: number;
  private readonly invSupport: number;
  private readonly simd: SimdOps;
  /** The state at step −1 of a carried sequence ([B × n], the kernel's). */
  private readonly initial: Float32Array;
  // the current sequence (beginSequence)
  private state: Float32Array;
  private activeBatch: number;
  private carried = false;
  private keepGates = false;

  private readonly thr: Float32Array;
  private readonly gradThr: Float32Array;
  private readonly pThr: number;
  private readonly pGradThr: number;
  private readonly pGradBias: number;
  private readonly pGradRecurrentBias: number;
  /** [z | r | g] of one batch element (3n), from the SIMD gates call while the gates are recomputed. */
  private readonly gate: Float32Array;
  private readonly pGate: number;
  private readonly gateHistory: Float32Array; // [gateSteps × B × 3n]: [z | r | g] of each step and batch element
  private readonly rgHistory: Float32Array; // [gateSteps × B × n]: the recurrent part of g, likewise
  // the elementwise backward step (cellBackward)
  private readonly dy: Float32Array; // B × n dL/dy_t of own units
  private readonly carry: Float32Array; // B × n dh from t+1
  private readonly stateAt: Float32Array; // B × n state history at t
  private readonly stateBefore: Float32Array; // B × n state history at t − 1
  private readonly stage: Float32Array; // STAGE_FLOATS
  // the forward state update (cellForward) of one batch element
  private readonly vOut: Float32Array; // n: v_t
  private readonly eventIndex: Int32Array; // n: the events' units
  private readonly eventValue: Float32Array; // n: their values
  private readonly nearIndex: Int32Array; // n: the near-threshold units
  private readonly counts: Int32Array; // [events, near]

  /** `initial`: the kernel's state at step −1 of a carried sequence, read at t = 0. */
  constructor(cfg: ModelConfig, group: { unitStart: number; units: number; batch: number }, views: EvnnGruViews, simd: SimdOps, initial: Float32Array) {
    const n = group.units;
    this.unitStart = group.unitStart;
    this.n = n;
    this.batch = group.batch;
    this.activeBatch = group.batch;
    this.gru = cfg.cell === 'gru';
    this.gamma = cfg.dampening;
    this.support = cfg.support;
    this.invSupport = 1 / cfg.support;
    this.simd = simd;
    this.initial = initial;
    this.state = initial;
    this.thr = views.thr;
    this.gradThr = views.gradThr;
    this.pThr = views.thr.byteOffset;
    this.pGradThr = views.gradThr.byteOffset;
    this.pGradBias = views.gradBias.byteOffset;
    this.pGradRecurrentBias = views.gradRecurrentBias.byteOffset;
    this.gate = views.gate;
    this.pGate = views.gate.byteOffset;
    this.gateHistory = views.gateHistory;
    this.rgHistory = views.rgHistory;
    this.dy = views.dy;
    this.carry = views.carry;
    this.stateAt = views.stateAt;
    this.stateBefore = views.stateBefore;
    this.stage = views.stage;
    this.vOut = views.vOut;
    this.eventIndex = new Int32Array(views.eventIndex.buffer, views.eventIndex.byteOffset, n);
    this.eventValue = views.eventValue;
    this.nearIndex = new Int32Array(views.nearIndex.buffer, views.nearIndex.byteOffset, n);
    this.counts = new Int32Array(views.counts.buffer, views.counts.byteOffset, 2);
  }

  /**
   * A new sequence: `state`, the state history v [T × B × n] (in wasm memory while the gates are kept: the SIMD
   * calls then read and write it in place); `carried`: whether it carries on from `initial`.
   */
  beginSequence(state: Float32Array, activeBatch: number, carried: boolean, keepGates: boolean): void {
    this.state = state;
    this.activeBatch = activeBatch;
    this.carried = carried;
    this.keepGates = keepGates;
  }

  /**
   * The forward state update of step t for every active batch element, from its pre-activations (acc: B × 3n,
   * rg: B × n, the step's ring slots): v_t into the state history, the events into `out`, the near-threshold units
   * into `near`, the events per own unit into `perUnit` (when given); kept gates into their histories. Returns
   * the events.
   */
  forwardState(t: number, acc: Float32Array, rg: Float32Array, out: ItemList, near: ItemList, perUnit: Float64Array | null): number {
    const B = this.batch;
    const n = this.n;
    out.clear();
    near.clear();
    const { gates, cellForward } = this.simd;
    const state = this.state;
    const gru = this.gru ? 1 : 0;
    const pThr = this.pThr;
    const pAcc = acc.byteOffset;
    const pRg = rg.byteOffset;
    const keep = this.keepGates;
    // v_t and v_{t−1}: in place in the history while it lives in wasm memory (keep), else through vOut and stateAt
    const pCur = keep ? state.byteOffset + 4 * t * B * n : this.vOut.byteOffset;
    const pPrev = keep && t > 0 ? pCur - 4 * B * n : this.stateAt.byteOffset;
    const hasPrev = t > 0 || this.carried;
    let events = 0;
    const eventIndex = this.eventIndex;
    const us = this.unitStart;
    const pGateAt = this.gateHistory.byteOffset + 12 * t * B * n; // step t's gates, when kept
    if (keep) this.simd.copy(this.rgHistory.byteOffset + 4 * t * B * n, pRg, this.activeBatch * n);
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      out.begin(b);
      near.begin(b);
      const cur = (t * B + b) * n;
      if (t > 0 && !keep) copyFloats(this.stateAt, 0, state, cur - B * n, n);
      else if (t === 0 && hasPrev) copyFloats(this.stateAt, 0, this.initial, b * n, n);
      const pGate = keep ? pGateAt + 12 * n * b : this.pGate;
      gates(pGate, pAcc + 12 * n * b, pRg + 4 * n * b, n, 1);
      const ev = cellForward(
        pGate, hasPrev ? (keep && t > 0 ? pPrev + 4 * n * b : pPrev) : -1, pThr, keep ? pCur + 4 * n * b : pCur, n, gru, this.invSupport, this.unitStart,
        this.eventIndex.byteOffset, this.eventValue.byteOffset,
        this.nearIndex.byteOffset, this.counts.byteOffset,
      );
      if (!keep) state.set(this.vOut, cur);
      out.pushMany(this.eventIndex, this.eventValue, ev);
      near.pushMany(this.nearIndex, null, this.counts[1]!);
      events += ev;
      if (perUnit) for (let e = 0; e < ev; e++) perUnit[eventIndex[e]! - us]!++;
    }
    out.end();
    near.end();
    return events;
  }

  /**
   * The elementwise backward step of step t for every active batch element, from dy (dL/dy_t) and carry (dh from
   * t + 1): dv, dϑ (into the threshold gradient), the gate gradients dwx into dw and drh (B × 3n, the step's ring
   * slots) and into the bias gradients, dh_{t−1} into carry. The gates are the kept ones or recomputed from acc
   * and rg (the step's ring slots). Returns the backward-active units.
   */
  backwardElementwise(t: number, acc: Float32Array, rg: Float32Array, dw: Float32Array, drh: Float32Array): number {
    const B = this.batch;
    const n = this.n;
    const n3 = 3 * n;
    const BA = this.activeBatch;
    const keep = this.keepGates;
    // the state at t and t − 1 in wasm memory, for the SIMD elementwise step: in place while the gates are kept
    // (the history is then in wasm memory), else copied in
    const hasPrev = t > 0 || this.carried;
    if (!keep) copyFloats(this.stateAt, 0, this.state, t * B * n, BA * n);
    if (t > 0 && !keep) copyFloats(this.stateBefore, 0, this.state, (t - 1) * B * n, BA * n);
    else if (t === 0 && hasPrev) copyFloats(this.stateBefore, 0, this.initial, 0, BA * n);
    const { axpy, gates, cellBackward } = this.simd;
    const pThr = this.pThr;
    const pGthr = this.pGradThr;
    const pAt = keep ? this.state.byteOffset + 4 * t * B * n : this.stateAt.byteOffset;
    const pBefore = keep && t > 0 ? pAt - 4 * B * n : this.stateBefore.byteOffset;
    const pDy = this.dy.byteOffset;
    const pCarry = this.carry.byteOffset;
    const pAcc = acc.byteOffset;
    const pRg = rg.byteOffset;
    const pDw = dw.byteOffset;
    const pDrh = drh.byteOffset;
    const gru = this.gru ? 1 : 0;
    // the forward's gates: kept (step t's block of the histories) or recomputed (the gate buffer, one b at a time)
    const pGateAt = this.gateHistory.byteOffset + 12 * t * B * n;
    const pRgAt = keep ? this.rgHistory.byteOffset + 4 * t * B * n : pRg;
    let active = 0;
    for (let b = 0; b < BA; b++) {
      const a0 = 4 * b * n3;
      const r0 = 4 * b * n;
      const pGate = keep ? pGateAt + a0 : this.pGate;
      if (!keep) gates(pGate, pAcc + a0, pRg + r0, n, 1);
      // elementwise: dv, dϑ, gate gradients; dwx → dw, drh; dh_{t−1} → carry
      active += cellBackward(
        pGate, pRgAt + r0, pAt + r0, hasPrev ? pBefore + r0 : -1, pThr, pDy + r0, pCarry + r0, pDw + a0, pDrh + a0, pGthr,
        n, this.gamma, this.support, this.invSupport, this.activityCoef, gru,
      );
      if ((n & 3) !== 0) active += this.cellBackwardTail(t, b, rg, dw, drh);
      axpy(this.pGradBias, 1, pDw + a0, n3);
      axpy(this.pGradRecurrentBias, 1, pDrh + a0, n3);
    }
    return active;
  }

  /**
   * The last n mod 4 units of batch element b through the same SIMD code as the others (cellBackward), staged as
   * a group of 4 whose unused lanes cannot be active (ϑ = 10³⁰). Returns the backward-active units among them.
   */
  private cellBackwardTail(t: number, b: number, rgSlot: Float32Array, dw: Float32Array, drh: Float32Array): number {
    const n = this.n;
    const q0 = n & ~3;
    const r = n - q0;
    const kept = this.keepGates;
    const st = this.stage;
    const thr = this.thr;
    const gthr = this.gradThr;
    const r0 = b * n;
    const a0 = 3 * r0;
    // the gates of (t, b): kept in the histories, or recomputed into the gate buffer
    const gate = kept ? this.gateHistory : this.gate;
    const g0 = kept ? 3 * (t * this.batch + b) * n : 0;
    const rg = kept ? this.rgHistory : rgSlot;
    const rg0 = kept ? (t * this.batch + b) * n : r0;
    // the state at t and t − 1: in the history (kept gates: it is in wasm memory) or copied into stateAt/stateBefore
    const at = kept ? this.state : this.stateAt;
    const at0 = kept ? rg0 : r0;
    const before = kept && t > 0 ? this.state : this.stateBefore;
    const before0 = kept && t > 0 ? rg0 - this.batch * n : r0;
    st.fill(0);
    st.fill(1e30, STAGE.thr, STAGE.thr + 4);
    for (let q = 0; q < r; q++) {
      const j = q0 + q;
      st[STAGE.gate + q] = gate[g0 + j]!;
      st[STAGE.gate + 4 + q] = gate[g0 + n + j]!;
      st[STAGE.gate + 8 + q] = gate[g0 + 2 * n + j]!;
      st[STAGE.rg + q] = rg[rg0 + j]!;
      st[STAGE.cur + q] = at[at0 + j]!;
      st[STAGE.prev + q] = before[before0 + j]!;
      st[STAGE.thr + q] = thr[j]!;
      st[STAGE.dy + q] = this.dy[r0 + j]!;
      st[STAGE.carry + q] = this.carry[r0 + j]!;
      st[STAGE.gthr + q] = gthr[j]!;
    }
    const p = st.byteOffset;
    const active = this.simd.cellBackward(
      p + 4 * STAGE.gate, p + 4 * STAGE.rg, p + 4 * STAGE.cur, t > 0 || this.carried ? p + 4 * STAGE.prev : -1, p + 4 * STAGE.thr, p + 4 * STAGE.dy,
      p + 4 * STAGE.carry, p + 4 * STAGE.dw, p + 4 * STAGE.drh, p + 4 * STAGE.gthr,
      4, this.gamma, this.support, this.invSupport, this.activityCoef, this.gru ? 1 : 0,
    );
    for (let q = 0; q < r; q++) {
      const j = q0 + q;
      this.carry[r0 + j] = st[STAGE.carry + q]!;
      for (let blk = 0; blk < 3; blk++) {
        dw[a0 + blk * n + j] = st[STAGE.dw + 4 * blk + q]!;
        drh[a0 + blk * n + j] = st[STAGE.drh + 4 * blk + q]!;
      }
      gthr[j] = st[STAGE.gthr + q]!;
    }
    return this.gru ? r : active;
  }
}
