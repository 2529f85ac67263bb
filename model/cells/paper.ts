/**
 * The elementwise steps of the paper formulation's cell in a group kernel (docs/math.md), in JavaScript: forward,
 * the reset messages r·y_{t−1} of phase 0 and the state c_t and its events of phase 1; backward, dc, dϑ and the
 * u and g gate gradients of phase 0 and the r gate gradients of phase 1. The gates come from the SIMD gates call
 * (model/simd.wat). Everything around them (the history, the pre-activations, the weight rows, the counters) is
 * GroupKernel's (model/group-kernel.ts).
 */
import type { ModelConfig } from '../config.js';
import type { ItemList } from '../items.js';
import type { SimdOps } from '../simd.js';

/** The kernel's wasm views these steps read and write (by the names of GroupKernel's KERNEL_VIEWS). */
export interface PaperViews {
  thr: Float32Array;
  gradThr: Float32Array;
  gradBias: Float32Array;
  gradRecurrentBias: Float32Array;
  gate: Float32Array;
  dy: Float32Array;
  carry: Float32Array;
}

export class PaperCell {
  /** The activity regulariser's coefficient in the backward step (GroupKernel.setActivityGradient). */
  activityCoef = 0;
  /** B × n own contributions to dy_{t−1}, from backward phase 1 of step t (GroupKernel adds them to dy). */
  readonly dyLocal: Float64Array;

  private readonly unitStart: number;
  private readonly n: number;
  private readonly batch: number;
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

  private readonly thr: Float32Array;
  private readonly gradThr: Float32Array;
  private readonly pGradBias: number;
  private readonly pGradRecurrentBias: number;
  /** [u | r | g] of one batch element (3n), from the SIMD gates call. */
  private readonly gate: Float32Array;
  private readonly pGate: number;
  private readonly dy: Float32Array; // B × n dL/dy_t of own units (phase 0), the P sums of own units (phase 1)
  private readonly carry: Float32Array; // B × n dc from t+1
  private readonly rsave: Float64Array; // B × n reset gate, from backward phase 0 to phase 1

  /** `initial`: the kernel's state at step −1 of a carried sequence, read at t = 0. */
  constructor(cfg: ModelConfig, group: { unitStart: number; units: number; batch: number }, views: PaperViews, simd: SimdOps, initial: Float32Array) {
    const { unitStart, units, batch } = group;
    this.unitStart = unitStart;
    this.n = units;
    this.batch = batch;
    this.activeBatch = batch;
    this.gamma = cfg.dampening;
    this.support = cfg.support;
    this.invSupport = 1 / cfg.support;
    this.simd = simd;
    this.initial = initial;
    this.state = initial;
    this.thr = views.thr;
    this.gradThr = views.gradThr;
    this.pGradBias = views.gradBias.byteOffset;
    this.pGradRecurrentBias = views.gradRecurrentBias.byteOffset;
    this.gate = views.gate;
    this.pGate = views.gate.byteOffset;
    this.dy = views.dy;
    this.carry = views.carry;
    this.rsave = new Float64Array(batch * units);
    this.dyLocal = new Float64Array(batch * units);
  }

  /** A new sequence: `state`, the state history c [T × B × n]; `carried`: whether it carries on from `initial`. */
  beginSequence(state: Float32Array, activeBatch: number, carried: boolean): void {
    this.state = state;
    this.activeBatch = activeBatch;
    this.carried = carried;
    this.dyLocal.fill(0);
  }

  /**
   * Forward phase 0 of step t: u and r from the step's pre-activations (acc: B × 3n, rg: B × n, its ring slots);
   * the reset messages (j, r_j·y_{t−1,j}) of own units with an event at t − 1 into `out`.
   */
  resetMessages(t: number, acc: Float32Array, rg: Float32Array, out: ItemList): void {
    const B = this.batch;
    const n = this.n;
    out.clear();
    const gate = this.gate;
    const { gates } = this.simd;
    const thr = this.thr;
    const state = this.state;
    const us = this.unitStart;
    const pAcc = acc.byteOffset;
    const pRg = rg.byteOffset;
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      out.begin(b);
      if (t === 0 && !this.carried) continue;
      const before = t > 0 ? state : this.initial;
      const prev = t > 0 ? ((t - 1) * B + b) * n : b * n;
      // σ only: the g block is not complete before the messages, and only r is used here
      gates(this.pGate, pAcc + 12 * n * b, pRg + 4 * n * b, n, 2);
      for (let j = 0; j < n; j++) {
        const cp = before[prev + j]!;
        if (cp > thr[j]!) {
          const r = gate[n + j]!;
          out.push(us + j, r * cp);
        }
      }
    }
    out.end();
  }

  /**
   * Forward phase 1 of step t: g (rg now holds the reset messages' sums), c_t into the state history, its events
   * into `out`, the events per own unit into `perUnit` (when given). Returns the events.
   */
  forwardState(t: number, acc: Float32Array, rg: Float32Array, out: ItemList, perUnit: Float64Array | null): number {
    const B = this.batch;
    const n = this.n;
    const n3 = 3 * n;
    out.clear();
    const gate = this.gate;
    const { gates } = this.simd;
    const thr = this.thr;
    const state = this.state;
    const us = this.unitStart;
    const n2 = 2 * n;
    const hasPrev = t > 0 || this.carried;
    const pAcc = acc.byteOffset;
    const pRg = rg.byteOffset;
    let events = 0;
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      out.begin(b);
      const cur = (t * B + b) * n;
      const before = t > 0 ? state : this.initial;
      const prev = t > 0 ? cur - B * n : b * n;
      gates(this.pGate, pAcc + 4 * n3 * b, pRg + 4 * n * b, n, 0);
      for (let j = 0; j < n; j++) {
        const u = gate[j]!;
        const g = gate[n2 + j]!;
        let cp = 0;
        let yp = 0;
        if (hasPrev) {
          cp = before[prev + j]!;
          if (cp > thr[j]!) yp = cp;
        }
        const cv = Math.fround(u * g + (1 - u) * cp - yp);
        state[cur + j] = cv;
        if (cv > thr[j]!) {
          out.push(us + j, cv);
          events++;
          if (perUnit) perUnit[j]!++;
        }
      }
    }
    out.end();
    return events;
  }

  /**
   * Backward phase 0 of step t, from dy (dL/dy_t) and carry (dc from t + 1), with the forward's gates recomputed
   * from acc and rg (the step's ring slots): dc, dϑ (into the threshold gradient), da_u and da_g into dw (B × 3n,
   * the step's ring slot), −dc into dyLocal, dc·(1 − u) into carry; r is kept for phase 1. Returns the
   * backward-active units.
   */
  backwardGates(t: number, acc: Float32Array, rg: Float32Array, dw: Float32Array): number {
    const B = this.batch;
    const n = this.n;
    const n2 = 2 * n;
    const n3 = 3 * n;
    const thr = this.thr;
    const gthr = this.gradThr;
    const { gates } = this.simd;
    const gate = this.gate;
    const rsave = this.rsave;
    const dy = this.dy;
    const carry = this.carry;
    const dyLocal = this.dyLocal;
    const state = this.state;
    const gamma = this.gamma;
    const sup = this.support;
    const w = this.invSupport;
    const coef = this.activityCoef;
    const pAcc = acc.byteOffset;
    const pRg = rg.byteOffset;
    let active = 0;
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      const a0 = b * n3;
      const r0 = b * n;
      const cur = (t * B + b) * n;
      const prev = cur - B * n;
      gates(this.pGate, pAcc + 4 * a0, pRg + 4 * r0, n, 0); // the forward's gates, recomputed
      for (let j = 0; j < n; j++) {
        const u = gate[j]!;
        const r = gate[n + j]!;
        const g = gate[n2 + j]!;
        const th = thr[j]!;
        const cv = state[cur + j]!;
        const cp = t > 0 ? state[prev + j]! : this.carried ? this.initial[r0 + j]! : 0;
        const o = cv > th ? 1 : 0;
        const dist = Math.abs(cv - th);
        const hp = dist < w ? gamma * (1 - sup * dist) : 0;
        if (o === 1 || dist < w) active++;
        const dyj = dy[r0 + j]!;
        const dc = dyj * (o + cv * hp) + carry[r0 + j]! + coef * hp;
        gthr[j]! += -dyj * cv * hp - coef * hp;
        carry[r0 + j] = dc * (1 - u);
        dyLocal[r0 + j] = -dc;
        dw[a0 + j] = dc * (g - cp) * u * (1 - u);
        dw[a0 + n2 + j] = dc * u * (1 - g * g);
        rsave[r0 + j] = r;
      }
    }
    return active;
  }

  /**
   * Backward phase 1 of step t, with the P sums of own units in dy: da_r into dw (the step's ring slot, whose u
   * and g blocks phase 0 wrote), r·P into dyLocal, the gate gradients into the bias gradients.
   */
  backwardRest(t: number, dw: Float32Array): void {
    const B = this.batch;
    const n = this.n;
    const n3 = 3 * n;
    const P = this.dy;
    const thr = this.thr;
    const { axpy } = this.simd;
    const pDw = dw.byteOffset;
    const rsave = this.rsave;
    const dyLocal = this.dyLocal;
    const state = this.state;
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      const a0 = b * n3;
      const r0 = b * n;
      const prev = ((t - 1) * B + b) * n;
      for (let j = 0; j < n; j++) {
        const p = P[r0 + j]!;
        const r = rsave[r0 + j]!;
        let yp = 0;
        if (t > 0 || this.carried) {
          const cp = t > 0 ? state[prev + j]! : this.initial[r0 + j]!;
          if (cp > thr[j]!) yp = cp;
        }
        dw[a0 + n + j] = p * yp * r * (1 - r);
        dyLocal[r0 + j]! += r * p;
      }
      axpy(this.pGradBias, 1, pDw + 4 * a0, n3);
      axpy(this.pGradRecurrentBias, 1, pDw + 4 * a0, n3);
    }
  }
}
