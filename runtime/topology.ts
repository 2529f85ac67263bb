/** Which actor owns which units, and who consumes whose messages (docs/architecture.md). */
import { boundaries, evenSplit } from '../model/params.js';
import type { ModelConfig } from '../model/config.js';

export interface ActorInfo {
  id: number;
  layer: number;
  /** Position of this actor among its layer's actors. */
  rank: number;
  unitStart: number;
  units: number;
}

export class Topology {
  readonly actors: ActorInfo[] = [];
  readonly layers: ActorInfo[][] = [];
  /** Per layer: unit index → owning actor id. */
  readonly owner: Int32Array[] = [];

  /**
   * @param split per layer: number of actors (even split) or explicit group sizes (uneven splits).
   */
  constructor(readonly model: ModelConfig, split: number | (number | number[])[]) {
    model.hidden.forEach((h, l) => {
      const s = typeof split === 'number' ? split : split[l] ?? split[split.length - 1]!;
      const sizes = typeof s === 'number' ? evenSplit(h, Math.min(s, h)) : s;
      if (sizes.reduce((a, b) => a + b, 0) !== h || sizes.some((n) => !Number.isInteger(n) || n < 1))
        throw new Error(`group sizes ${sizes.join('+')} do not split layer ${l} of ${h} units`);
      const bounds = boundaries(sizes);
      const own = new Int32Array(h);
      const layer: ActorInfo[] = sizes.map((n, rank) => {
        const a = { id: this.actors.length + rank, layer: l, rank, unitStart: bounds[rank]!, units: n };
        own.fill(a.id, a.unitStart, a.unitStart + n);
        return a;
      });
      this.actors.push(...layer);
      this.layers.push(layer);
      this.owner.push(own);
    });
  }

  get size(): number {
    return this.actors.length;
  }
  get depth(): number {
    return this.layers.length;
  }

  /** Wavefront schedule: layer l handles step t = tick − l, so T + L − 1 ticks cover a sequence. */
  ticks(steps: number): number {
    return steps + this.depth - 1;
  }

  describe(a: ActorInfo): string {
    return `actor ${a.id} (layer ${a.layer}, units ${a.unitStart}–${a.unitStart + a.units - 1})`;
  }
}
