/**
 * Firing rates per unit over training (docs/figures.md "Firing rates per unit"): the runtime's per-unit event
 * counts (Trainer.unitEvents), carried across --resume in the checkpoint's meta (`unitEvents`, `unitEventsSince`),
 * become summary.json's `train.firing`, which the report draws as one histogram per layer.
 */
import type { Trainer } from '../runtime/coordinator.js';
import type { LayerUnitEvents } from '../runtime/unit-events.js';

/** summary.json `train.firing`. */
export interface FiringSummary {
  /** Present when the counts start after step 0 (a resumed checkpoint that had none): the step they start at. */
  since_step?: number;
  layers: {
    units: number;
    /** The (step, sequence) pairs counted: Σ T·B over the training sequences. */
    steps: number;
    events: number;
    /** Units that never fired, and units that fired at every step. */
    dead: number;
    always_on: number;
    /** Per unit, in unit order: events / steps. */
    rates: number[];
  }[];
}

/** The checkpoint's form of the counts: per layer, plain numbers. */
interface StoredLayer {
  counts: number[];
  steps: number;
}

export class UnitFiring {
  private constructor(
    private readonly before: LayerUnitEvents[] | null,
    /** The step the counts start at. */
    readonly since: number,
  ) {}

  /**
   * A new run's tally (`meta` undefined), or a resumed run's: the checkpoint's counts when they fit the model's
   * layers; a checkpoint without them (an older version's) starts the counts at its step.
   */
  static restore(meta: Record<string, unknown> | undefined, hidden: readonly number[], step: number): UnitFiring {
    if (!meta) return new UnitFiring(null, 0);
    const stored = storedCounts(meta.unitEvents, hidden);
    const since = meta.unitEventsSince;
    return stored ? new UnitFiring(stored, typeof since === 'number' ? since : 0) : new UnitFiring(null, step);
  }

  /** The counts of the run so far: the checkpoint's plus this process's (one control call per actor). */
  async total(trainer: Trainer): Promise<LayerUnitEvents[]> {
    const now = await trainer.unitEvents();
    if (!this.before) return now;
    return now.map((layer, l) => {
      const b = this.before![l]!;
      return { counts: layer.counts.map((n, j) => n + b.counts[j]!), steps: layer.steps + b.steps };
    });
  }

  /** The fields the checkpoint's meta stores. */
  async meta(trainer: Trainer): Promise<{ unitEvents: StoredLayer[]; unitEventsSince: number }> {
    const layers = await this.total(trainer);
    return { unitEvents: layers.map((l) => ({ counts: Array.from(l.counts), steps: l.steps })), unitEventsSince: this.since };
  }

  /** summary.json's `train.firing`; null when no training step was counted. */
  async summary(trainer: Trainer): Promise<FiringSummary | null> {
    const layers = await this.total(trainer);
    if (layers.some((l) => l.steps === 0)) return null;
    return {
      ...(this.since > 0 ? { since_step: this.since } : {}),
      layers: layers.map(({ counts, steps }) => ({
        units: counts.length,
        steps,
        events: counts.reduce((s, n) => s + n, 0),
        dead: counts.filter((n) => n === 0).length,
        always_on: counts.filter((n) => n === steps).length,
        rates: Array.from(counts, (n) => n / steps),
      })),
    };
  }
}

/** Counts stored in a checkpoint's meta; null unless there for exactly the layers of `hidden`. */
function storedCounts(v: unknown, hidden: readonly number[]): LayerUnitEvents[] | null {
  if (!Array.isArray(v) || v.length !== hidden.length) return null;
  const out: LayerUnitEvents[] = [];
  for (const [l, layer] of v.entries()) {
    const { counts, steps } = (layer ?? {}) as Partial<StoredLayer>;
    if (!Array.isArray(counts) || counts.length !== hidden[l] || !isCount(steps) || !counts.every(isCount)) return null;
    out.push({ counts: Float64Array.from(counts), steps });
  }
  return out;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}
