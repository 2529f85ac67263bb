/**
 * The readout split by columns: the actor owning last-layer units [start, start+n) owns readout.weight's
 * columns for them. Partial logits are summed across shards (a reduction of B×C values), then every shard
 * computes the same loss and output gradient and its own column gradients. Events never leave their actor
 * for the readout, which is where a neuromorphic mapping would put it too.
 */
import { TRACE_DECAY, type Readout } from './config.js';
import type { DropoutMask } from './dropout.js';
import type { ItemList } from './items.js';

export class ReadoutShard {
  /** C × n, own columns of readout.weight. */
  readonly weight: Float32Array;
  readonly gradWeight: Float32Array;
  /** Feature per batch element: trace (or last y); per-step mode keeps the current step's y. */
  readonly feat: Float32Array; // B × n
  /** per-step readout: y_t of own units for all t (sparse would be better; per-step targets are the rare case). */
  private yHistory: Float32Array;
  private steps = 0;
  // −0: double fields from the start, as GroupKernel.counters (set to +0 in the constructor)
  macsForward = -0;
  macsBackward = -0;

  constructor(
    readonly mode: Readout,
    readonly classes: number,
    readonly unitStart: number,
    readonly units: number,
    readonly batch: number,
    weight: Float32Array,
    /** Dropout on the last layer's outputs as readout inputs (training only); null = none. */
    private readonly dropout: DropoutMask | null = null,
  ) {
    this.weight = weight;
    this.gradWeight = new Float32Array(weight.length);
    this.feat = new Float32Array(batch * units);
    this.yHistory = new Float32Array(0);
    this.macsForward = this.macsBackward = 0;
  }

  /** Logit rows written per sequence: 1 (trace, last) or T (per-step). */
  logitRows(steps: number): number {
    return this.mode === 'per-step' ? steps : 1;
  }

  private active = 0;
  /**
   * `activeBatch`: leading batch elements that hold data (the rest are padding, skipped).
   * `dropoutStep`: the optimiser step whose dropout masks apply (training); null = no dropout.
   */
  beginSequence(steps: number, activeBatch: number = this.batch, dropoutStep: number | null = null): void {
    this.steps = steps;
    this.active = activeBatch;
    this.dropout?.begin(dropoutStep);
    this.feat.fill(0);
    if (this.mode === 'per-step' && this.yHistory.length < steps * this.batch * this.units)
      this.yHistory = new Float32Array(steps * this.batch * this.units);
  }

  /**
   * Consume own events of step t; write this shard's partial logits (no bias) into `partial`
   * ([rows × B × C]) when a row is complete.
   */
  observe(t: number, events: ItemList, partial: Float32Array): void {
    const { feat, units: n, unitStart, batch: B } = this;
    const drop = this.dropout && this.dropout.active ? this.dropout : null;
    if (this.mode === 'trace') {
      for (let i = 0; i < feat.length; i++) feat[i]! *= TRACE_DECAY;
      for (let b = 0; b < B; b++)
        for (let e = events.offsets[b]!; e < events.offsets[b + 1]!; e++) {
          const u = events.index[e]!;
          const y = drop ? events.value[e]! * drop.at(t, b, u) : events.value[e]!;
          feat[b * n + u - unitStart]! += (1 - TRACE_DECAY) * y;
        }
    } else {
      feat.fill(0);
      for (let b = 0; b < B; b++)
        for (let e = events.offsets[b]!; e < events.offsets[b + 1]!; e++) {
          const u = events.index[e]!;
          feat[b * n + u - unitStart] = drop ? events.value[e]! * drop.at(t, b, u) : events.value[e]!;
        }
      if (this.mode === 'per-step') this.yHistory.set(feat, t * B * n);
    }
    // Called at every step, with no rows to write until the features are complete (trace, last): V8
    // deoptimised observe() at every sequence's last step while this call was taken there alone.
    const rows = this.mode === 'per-step' || t === this.steps - 1 ? this.active : 0;
    this.partialLogits(feat, partial, this.mode === 'per-step' ? t * B * this.classes : 0, rows);
  }

  /** Partial logits of the first `B` batch elements (0: none), and zeros for the padding rows after them. */
  private partialLogits(feat: Float32Array, out: Float32Array, at: number, B: number): void {
    const { weight, classes: C, units: n } = this;
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        let s = 0;
        const w = c * n;
        const f = b * n;
        for (let j = 0; j < n; j++) s += weight[w + j]! * feat[f + j]!;
        out[at + b * C + c] = s;
      }
    this.macsForward += B * C * n;
    if (B > 0) out.fill(0, at + B * C, at + this.batch * C);
  }

  /**
   * From dL/dlogits (rows × B × C), accumulate own weight gradients; after this, outputGrad(t) gives
   * dL/dy_t for own units.
   */
  private dlogits: Float32Array = new Float32Array(0);
  private dfeat: Float32Array = new Float32Array(0);
  backward(dlogits: Float32Array): void {
    const { classes: C, units: n, active: BA, batch: B } = this;
    const rows = this.logitRows(this.steps);
    this.dlogits = dlogits;
    if (this.dfeat.length < B * n) this.dfeat = new Float32Array(B * n);
    const gw = this.gradWeight;
    for (let row = 0; row < rows; row++) {
      const feat = this.mode === 'per-step' ? this.yHistory.subarray(row * B * n, (row + 1) * B * n) : this.feat;
      for (let b = 0; b < BA; b++)
        for (let c = 0; c < C; c++) {
          const d = dlogits[row * B * C + b * C + c]!;
          if (d === 0) continue;
          for (let j = 0; j < n; j++) gw[c * n + j]! += d * feat[b * n + j]!;
        }
    }
    this.macsBackward += rows * BA * C * n;
    if (this.mode !== 'per-step') this.featGrad(0, this.dfeat);
  }

  private featGrad(row: number, out: Float32Array): void {
    const { classes: C, units: n, batch: B, active: BA, weight } = this;
    out.fill(0, 0, B * n);
    for (let b = 0; b < BA; b++)
      for (let c = 0; c < C; c++) {
        const d = this.dlogits[row * B * C + b * C + c]!;
        if (d === 0) continue;
        for (let j = 0; j < n; j++) out[b * n + j]! += d * weight[c * n + j]!;
      }
    this.macsBackward += BA * C * n;
  }

  /** dL/dy_t for own units ([B × n]); null when the readout puts no gradient on step t. */
  outputGrad(t: number, out: Float32Array): Float32Array | null {
    const T = this.steps;
    const B = this.batch;
    const n = this.units;
    if (this.mode === 'last') {
      if (t !== T - 1) return null;
      out.set(this.dfeat.subarray(0, B * n));
    } else if (this.mode === 'trace') {
      const scale = (1 - TRACE_DECAY) * Math.pow(TRACE_DECAY, T - 1 - t);
      for (let i = 0; i < B * n; i++) out[i] = scale * this.dfeat[i]!;
    } else this.featGrad(t, out);
    const drop = this.dropout;
    if (drop && drop.active)
      for (let b = 0; b < this.active; b++) for (let j = 0; j < n; j++) out[b * n + j]! *= drop.at(t, b, this.unitStart + j);
    return out;
  }
}

/**
 * Mean softmax cross-entropy over targeted rows (target −1 ignored), written as dL/dlogits into `dlogits`.
 * logits and dlogits are [rows × B × C]; targets are [B] (one row) or [B × T] (per-step, row = t).
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  targets: Int32Array,
  rows: number,
  batch: number,
  classes: number,
  perStep: boolean,
  dlogits: Float32Array | null,
): { loss: number; correct: number; count: number } {
  const C = classes;
  let count = 0;
  for (let row = 0; row < rows; row++)
    for (let b = 0; b < batch; b++) if ((perStep ? targets[b * rows + row]! : targets[b]!) >= 0) count++;
  let loss = 0;
  let correct = 0;
  if (dlogits) dlogits.fill(0, 0, rows * batch * C);
  for (let row = 0; row < rows; row++)
    for (let b = 0; b < batch; b++) {
      const y = perStep ? targets[b * rows + row]! : targets[b]!;
      if (y < 0) continue;
      const at = row * batch * C + b * C;
      let max = -Infinity;
      let arg = 0;
      for (let c = 0; c < C; c++) if (logits[at + c]! > max) { max = logits[at + c]!; arg = c; }
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(logits[at + c]! - max);
      loss += Math.log(sum) + max - logits[at + y]!;
      if (arg === y) correct++;
      if (dlogits) {
        for (let c = 0; c < C; c++) dlogits[at + c] = Math.exp(logits[at + c]! - max) / sum / count;
        dlogits[at + y]! -= 1 / count;
      }
    }
  return { loss: count > 0 ? loss / count : 0, correct, count };
}
