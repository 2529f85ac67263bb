/**
 * Inverted dropout on what a layer sends upward: the events of layer l as the inputs of layer l+1, and the last
 * layer's outputs as the readout's inputs. The recurrence inside a layer sees undropped outputs (non-recurrent
 * dropout, as in Zaremba et al. 2014 and the EGRU language models).
 *
 * The mask is a pure function of (seed, optimiser step, layer, t, b, unit) — counter-based like every other draw
 * (rng.ts) — so every receiving actor computes the same mask for any split of the layers, and a resumed run draws
 * the masks an uninterrupted one would. Kept values are scaled by 1/(1 − p), dropped ones are 0.
 */
import { hash3, hashKey, Stream } from './rng.js';

export class DropoutMask {
  /** 1/(1 − p): the factor of a kept value. */
  readonly keepScale: number;
  private readonly cut: number;
  private base = 0;
  private on = false;

  /** `rate` p ∈ [0, 1); `layer`: the layer whose outputs are dropped. */
  constructor(
    readonly rate: number,
    private readonly seed: number,
    readonly layer: number,
  ) {
    if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must lie in [0, 1), got ${rate}`);
    this.keepScale = 1 / (1 - rate);
    // keep iff a uniform uint32 hash ≥ cut, so P(keep) = 1 − cut/2³² = 1 − p to 2⁻³²
    this.cut = Math.floor(rate * 4294967296);
  }

  /** Masks for one training sequence of optimiser step `step`; null (evaluation) or p = 0 switches it off. */
  begin(step: number | null): void {
    this.on = step !== null && this.rate > 0;
    if (this.on) this.base = hashKey(this.seed, Stream.dropout, step!, this.layer);
  }

  get active(): boolean {
    return this.on;
  }

  /** The factor for unit `unit` (layer-global) of batch element b at step t: 0 or 1/(1 − p); 1 when off. */
  at(t: number, b: number, unit: number): number {
    if (!this.on) return 1;
    return hash3(this.base, t, b, unit) >= this.cut ? this.keepScale : 0;
  }
}
