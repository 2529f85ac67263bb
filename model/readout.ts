/**
 * The event-driven readout (SPEC §1): logits = feat · weightᵀ + bias, weight C × H_last (row-major),
 * fed by the last layer's event items.
 *
 * - `trace`: feat = tr_{T−1}, tr_t = 0.9·tr_{t−1} + 0.1·y_t. Accumulated event by event as
 *   feat += 0.1·0.9^{T−1−t}·y_t, so a silent step costs nothing (no dense decay pass).
 * - `last`: feat = y_{T−1}.
 * - `per-step`: logits_t = y_t · weightᵀ + bias at every step, from the events of that step.
 *
 * Loss: mean softmax cross-entropy over the targeted evaluations (target −1 = ignore); targets are [B]
 * (trace, last) or [B, T] (per-step). Logits are [B, C] or [B, T, C] (as the reference's).
 * MACs (docs/math.md): C·H_last forward and 2·C·H_last backward per evaluation and batch element, in both
 * the sparse and the dense figures.
 *
 * Usage per sequence: beginSequence(T, targets); observe(t, lists) for t = 0..T−1; loss(); backward();
 * then outputGrad(t, unitStart, n, out) for any t and group (hasOutputGrad(t) says whether it is non-zero).
 * Buffers grow by doubling and are reused; steady-state use allocates nothing.
 */
import { TRACE_DECAY, type ModelConfig, type Readout as ReadoutMode } from './config.js';
import type { ItemList } from './items.js';

export interface ReadoutCounters {
  macsForward: number;
  macsBackward: number;
  macsDenseForward: number;
  macsDenseBackward: number;
}

export interface ReadoutLoss {
  /** Mean cross-entropy over the counted evaluations (0 when none). */
  loss: number;
  correct: number;
  count: number;
}

function capacityFor(current: number, need: number): number {
  let c = Math.max(current, 16);
  while (c < need) c *= 2;
  return c;
}

export class Readout {
  readonly params: { weight: Float32Array; bias: Float32Array };
  readonly grads: { weight: Float32Array; bias: Float32Array };
  readonly counters: ReadoutCounters = { macsForward: 0, macsBackward: 0, macsDenseForward: 0, macsDenseBackward: 0 };
  readonly mode: ReadoutMode;
  readonly classes: number;
  readonly hidden: number;
  readonly batch: number;

  /** [B, C] (trace, last) or [B, T, C] (per-step); valid after loss() (per-step: after observe of each step). */
  logits: Float64Array;
  private dlogits: Float64Array;
  /** B × H features (trace, last), float64. */
  private readonly feat: Float64Array;
  /** B × H gradient of the loss w.r.t. feat (trace, last), after backward(). */
  private readonly dfeat: Float64Array;
  /** 0.1·0.9^{T−1−t} per step (trace). */
  private decay: Float64Array;
  /** per-step: events of every step, per (t, b): index/value[offs[t·(B+1)+b] .. offs[t·(B+1)+b+1]). */
  private evIndex = new Int32Array(64);
  private evValue = new Float32Array(64);
  private evOffs: Int32Array;
  private evFill = 0;

  private steps = 0;
  private targets: Int32Array = new Int32Array(0);
  private result: ReadoutLoss | null = null;
  private backwardDone = false;

  constructor(cfg: ModelConfig, params: { weight: Float32Array; bias: Float32Array }, batch: number) {
    const H = cfg.hidden[cfg.hidden.length - 1]!;
    const C = cfg.classes;
    if (params.weight.length !== C * H) throw new Error(`readout weight has ${params.weight.length} values, expected C·H = ${C * H}`);
    if (params.bias.length !== C) throw new Error(`readout bias has ${params.bias.length} values, expected ${C}`);
    this.params = params;
    this.grads = { weight: new Float32Array(C * H), bias: new Float32Array(C) };
    this.mode = cfg.readout;
    this.classes = C;
    this.hidden = H;
    this.batch = batch;
    this.feat = new Float64Array(batch * H);
    this.dfeat = new Float64Array(batch * H);
    this.decay = new Float64Array(16);
    this.logits = new Float64Array(batch * C);
    this.dlogits = new Float64Array(batch * C);
    this.evOffs = new Int32Array(16 * (batch + 1));
  }

  resetCounters(): void {
    const c = this.counters;
    c.macsForward = 0;
    c.macsBackward = 0;
    c.macsDenseForward = 0;
    c.macsDenseBackward = 0;
  }

  zeroGrads(): void {
    this.grads.weight.fill(0);
    this.grads.bias.fill(0);
  }

  /** Evaluations (rows of logits) per sequence: B, or B·T for per-step. */
  evaluations(steps = this.steps): number {
    return this.mode === 'per-step' ? this.batch * steps : this.batch;
  }

  beginSequence(steps: number, targets: Int32Array): void {
    if (!(Number.isInteger(steps) && steps > 0)) throw new Error(`steps must be a positive integer, got ${steps}`);
    const B = this.batch;
    const C = this.classes;
    const E = this.mode === 'per-step' ? B * steps : B;
    if (targets.length !== E) throw new Error(`targets have length ${targets.length}, expected ${E}`);
    this.steps = steps;
    this.targets = targets;
    this.result = null;
    this.backwardDone = false;
    if (this.logits.length < E * C) {
      this.logits = new Float64Array(capacityFor(this.logits.length, E * C));
      this.dlogits = new Float64Array(this.logits.length);
    }
    this.feat.fill(0);
    if (this.mode === 'trace') {
      if (this.decay.length < steps) this.decay = new Float64Array(capacityFor(this.decay.length, steps));
      for (let t = 0; t < steps; t++) this.decay[t] = (1 - TRACE_DECAY) * TRACE_DECAY ** (steps - 1 - t);
    }
    if (this.mode === 'per-step') {
      const need = steps * (B + 1);
      if (this.evOffs.length < need) this.evOffs = new Int32Array(capacityFor(this.evOffs.length, need));
      this.evFill = 0;
    }
  }

  /** Events of the last layer at step t (layer-global unit addresses, any number of lists). */
  observe(t: number, lists: readonly ItemList[]): void {
    if (!(t >= 0 && t < this.steps)) throw new Error(`step ${t} outside the sequence (0..${this.steps - 1})`);
    const B = this.batch;
    const H = this.hidden;
    const feat = this.feat;
    if (this.mode === 'trace') {
      const k = this.decay[t]!;
      for (let li = 0; li < lists.length; li++) {
        const L = lists[li]!;
        const idx = L.index;
        const val = L.value;
        for (let b = 0; b < B; b++) {
          const hi = L.offsets[b + 1]!;
          const o = b * H;
          for (let e = L.offsets[b]!; e < hi; e++) feat[o + idx[e]!] += k * val[e]!;
        }
      }
    } else if (this.mode === 'last') {
      if (t !== this.steps - 1) return;
      for (let li = 0; li < lists.length; li++) {
        const L = lists[li]!;
        const idx = L.index;
        const val = L.value;
        for (let b = 0; b < B; b++) {
          const hi = L.offsets[b + 1]!;
          const o = b * H;
          for (let e = L.offsets[b]!; e < hi; e++) feat[o + idx[e]!] = val[e]!;
        }
      }
    } else this.observePerStep(t, lists);
  }

  private observePerStep(t: number, lists: readonly ItemList[]): void {
    const B = this.batch;
    const C = this.classes;
    const H = this.hidden;
    const T = this.steps;
    let total = 0;
    for (const L of lists) total += L.offsets[B]! - L.offsets[0]!;
    const need = this.evFill + total;
    if (need > this.evIndex.length) {
      const cap = capacityFor(this.evIndex.length, need);
      const idx = new Int32Array(cap);
      idx.set(this.evIndex.subarray(0, this.evFill));
      const val = new Float32Array(cap);
      val.set(this.evValue.subarray(0, this.evFill));
      this.evIndex = idx;
      this.evValue = val;
    }
    const eIdx = this.evIndex;
    const eVal = this.evValue;
    const offs = this.evOffs;
    const W = this.params.weight;
    const bias = this.params.bias;
    const logits = this.logits;
    let f = this.evFill;
    const base = t * (B + 1);
    for (let b = 0; b < B; b++) {
      offs[base + b] = f;
      const row = (b * T + t) * C;
      for (let c = 0; c < C; c++) logits[row + c] = bias[c]!;
      for (let li = 0; li < lists.length; li++) {
        const L = lists[li]!;
        const idx = L.index;
        const val = L.value;
        const hi = L.offsets[b + 1]!;
        for (let e = L.offsets[b]!; e < hi; e++) {
          const j = idx[e]!;
          const y = val[e]!;
          eIdx[f] = j;
          eVal[f] = y;
          f++;
          for (let c = 0; c < C; c++) logits[row + c] += W[c * H + j]! * y;
        }
      }
    }
    offs[base + B] = f;
    this.evFill = f;
    const macs = B * C * H;
    this.counters.macsForward += macs;
    this.counters.macsDenseForward += macs;
  }

  /** Cross-entropy, correct and count of the sequence (computes the logits for trace/last). Call after the last observe. */
  loss(): ReadoutLoss {
    if (this.result) return this.result;
    const B = this.batch;
    const C = this.classes;
    const H = this.hidden;
    const E = this.evaluations();
    const logits = this.logits;
    if (this.mode !== 'per-step') {
      const W = this.params.weight;
      const bias = this.params.bias;
      const feat = this.feat;
      for (let b = 0; b < B; b++)
        for (let c = 0; c < C; c++) {
          let s = bias[c]!;
          const w = c * H;
          const f = b * H;
          for (let j = 0; j < H; j++) s += W[w + j]! * feat[f + j]!;
          logits[b * C + c] = s;
        }
      const macs = B * C * H;
      this.counters.macsForward += macs;
      this.counters.macsDenseForward += macs;
    }
    const targets = this.targets;
    const dl = this.dlogits;
    let count = 0;
    for (let e = 0; e < E; e++) if (targets[e]! >= 0) count++;
    let ce = 0;
    let correct = 0;
    dl.fill(0, 0, E * C);
    for (let e = 0; e < E; e++) {
      const y = targets[e]!;
      if (y < 0) continue;
      if (y >= C) throw new Error(`target ${y} outside [0, ${C})`);
      const at = e * C;
      let max = -Infinity;
      let arg = 0;
      for (let c = 0; c < C; c++)
        if (logits[at + c]! > max) {
          max = logits[at + c]!;
          arg = c;
        }
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(logits[at + c]! - max);
      ce += Math.log(sum) + max - logits[at + y]!;
      if (arg === y) correct++;
      for (let c = 0; c < C; c++) dl[at + c] = Math.exp(logits[at + c]! - max) / sum / count;
      dl[at + y] -= 1 / count;
    }
    this.result = { loss: count > 0 ? ce / count : 0, correct, count };
    return this.result;
  }

  /** Accumulate weight/bias gradients and prepare the output gradients. */
  backward(): void {
    if (!this.result) this.loss();
    if (this.backwardDone) throw new Error('readout backward called twice for one sequence');
    this.backwardDone = true;
    const B = this.batch;
    const C = this.classes;
    const H = this.hidden;
    const T = this.steps;
    const E = this.evaluations();
    const dl = this.dlogits;
    const gW = this.grads.weight;
    const gb = this.grads.bias;
    for (let e = 0; e < E; e++) for (let c = 0; c < C; c++) gb[c] += dl[e * C + c]!;
    if (this.mode !== 'per-step') {
      const W = this.params.weight;
      const feat = this.feat;
      const dfeat = this.dfeat;
      dfeat.fill(0);
      for (let b = 0; b < B; b++)
        for (let c = 0; c < C; c++) {
          const d = dl[b * C + c]!;
          if (d === 0) continue;
          const w = c * H;
          const f = b * H;
          for (let j = 0; j < H; j++) {
            gW[w + j] += d * feat[f + j]!;
            dfeat[f + j] += d * W[w + j]!;
          }
        }
    } else {
      const eIdx = this.evIndex;
      const eVal = this.evValue;
      const offs = this.evOffs;
      for (let t = 0; t < T; t++)
        for (let b = 0; b < B; b++) {
          const s = t * (B + 1) + b;
          const row = (b * T + t) * C;
          const hi = offs[s + 1]!;
          for (let e = offs[s]!; e < hi; e++) {
            const j = eIdx[e]!;
            const y = eVal[e]!;
            for (let c = 0; c < C; c++) gW[c * H + j] += dl[row + c]! * y;
          }
        }
    }
    const macs = E * 2 * C * H;
    this.counters.macsBackward += macs;
    this.counters.macsDenseBackward += macs;
  }

  /** Whether dL/dy_t can be non-zero (false for `last` before the last step). */
  hasOutputGrad(t: number): boolean {
    return this.mode !== 'last' || t === this.steps - 1;
  }

  /** Dense dL/dy_t for units [unitStart, unitStart+n) of the last layer into out[B × n]. After backward(). */
  outputGrad(t: number, unitStart: number, n: number, out: Float32Array): void {
    if (!this.backwardDone) throw new Error('outputGrad before backward()');
    if (!(t >= 0 && t < this.steps)) throw new Error(`step ${t} outside the sequence (0..${this.steps - 1})`);
    const B = this.batch;
    const H = this.hidden;
    const C = this.classes;
    if (!(unitStart >= 0 && n > 0 && unitStart + n <= H)) throw new Error(`units ${unitStart}+${n} outside the last layer (${H})`);
    if (out.length < B * n) throw new Error(`output gradient buffer has ${out.length} values, expected ${B * n}`);
    if (this.mode === 'per-step') {
      const W = this.params.weight;
      const dl = this.dlogits;
      const T = this.steps;
      for (let b = 0; b < B; b++) {
        const row = (b * T + t) * C;
        const o = b * n;
        for (let jj = 0; jj < n; jj++) {
          let s = 0;
          const w = unitStart + jj;
          for (let c = 0; c < C; c++) s += dl[row + c]! * W[c * H + w]!;
          out[o + jj] = s;
        }
      }
      return;
    }
    const scale = this.mode === 'trace' ? this.decay[t]! : t === this.steps - 1 ? 1 : 0;
    const dfeat = this.dfeat;
    for (let b = 0; b < B; b++) {
      const f = b * H + unitStart;
      const o = b * n;
      for (let jj = 0; jj < n; jj++) out[o + jj] = scale * dfeat[f + jj]!;
    }
  }
}
