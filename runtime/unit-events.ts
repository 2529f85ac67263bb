/**
 * Per-unit event counts of training (GroupKernel.unitEvents): every actor counts the events of its own units
 * over the training sequences it runs; the coordinator gathers them per layer, in unit order, by one control
 * call per actor (at the log interval or the end of a run, never per step).
 */
import type { Topology } from './topology.js';

/** One actor's counts: its units from unitStart on, and the (step, batch element) pairs they cover. */
export interface ActorUnitEvents {
  unitStart: number;
  counts: Float64Array;
  steps: number;
}

/** One layer's counts: events of unit j in counts[j]; a unit's firing rate is counts[j] / steps. */
export interface LayerUnitEvents {
  counts: Float64Array;
  /** The (step, batch element) pairs of the counted sequences: Σ T·B over training sequences. */
  steps: number;
}

/** The actors' counts (indexed by actor id) as one array per layer in unit order. */
export function gatherUnitEvents(top: Topology, replies: readonly ActorUnitEvents[]): LayerUnitEvents[] {
  return top.layers.map((actors, l) => {
    const counts = new Float64Array(top.model.hidden[l]!);
    const steps = replies[actors[0]!.id]!.steps;
    for (const a of actors) {
      const r = replies[a.id]!;
      // Every actor of a layer runs the same sequences: differing step counts mean lost or doubled counts.
      if (r.steps !== steps) throw new Error(`${top.describe(a)} counted ${r.steps} unit-steps, its layer's first actor ${steps}`);
      counts.set(r.counts, r.unitStart);
    }
    return { counts, steps };
  });
}
