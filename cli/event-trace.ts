/** Turns the runtime's per-actor event traces of an evaluated batch into the hardware emulator's EventTrace rows. */
import type { TraceBuilder } from '../hardware/index.js';
import type { ActorTrace } from '../runtime/actor.js';
import type { SequenceBatch } from '../runtime/coordinator.js';

/** Append every sequence of `batch` to `builder`: per step, each layer's fired units and the non-zero input count. */
export function appendBatchTrace(builder: TraceBuilder, traces: ActorTrace[], layers: number, batch: SequenceBatch, inputSize: number): void {
  const byLayer: ActorTrace[][] = Array.from({ length: layers }, () => []);
  for (const tr of [...traces].sort((a, b) => a.actor - b.actor)) byLayer[tr.layer]!.push(tr);
  const fired: number[][] = Array.from({ length: layers }, () => []);
  for (let b = 0; b < batch.batch; b++) {
    for (let t = 0; t < batch.steps; t++) {
      for (let l = 0; l < layers; l++) {
        const out = fired[l]!;
        out.length = 0;
        for (const tr of byLayer[l]!) {
          const row = t * tr.batch + b;
          for (let e = tr.offsets[row]!; e < tr.offsets[row + 1]!; e++) out.push(tr.units[e]!);
        }
      }
      let inputs = 0;
      const at = (b * batch.steps + t) * inputSize;
      for (let i = 0; i < inputSize; i++) if (batch.x[at + i] !== 0) inputs++;
      builder.addStep(fired, inputs);
    }
    builder.endSample();
  }
}
