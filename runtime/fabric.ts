/**
 * The shared-memory message fabric: every mailbox, reduction slot and counter of a run lives in
 * SharedArrayBuffers allocated once, so a step allocates nothing and no message crosses an event loop.
 * The same layout serves the inline transport (one thread) and the threads transport (one worker per actor).
 */
import { ItemList } from '../model/items.js';
import type { ModelConfig } from '../model/config.js';
import { CTRL } from './barrier.js';
import type { Topology } from './topology.js';

/** Per-actor scalar slots used for reductions (Float64). */
export const SCALAR = { sumSquares: 0, events: 1, loss: 2, correct: 3, count: 4, crossEntropy: 5, penalty: 6, size: 8 } as const;

/** Per-actor counters (Float64), named as in docs/figures.md. */
export const COUNTER_NAMES = [
  'events',
  'unit_steps',
  'backward_active',
  'macs.forward',
  'macs.backward',
  'macs.dense_forward',
  'macs.dense_backward',
  'messages.forward.packets',
  'messages.forward.items',
  'messages.forward.bytes',
  'messages.backward.packets',
  'messages.backward.items',
  'messages.backward.bytes',
  'messages.control.packets',
  'messages.control.items',
  'messages.control.bytes',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export const C = Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, i])) as Record<CounterName, number>;
export const NCOUNTERS = COUNTER_NAMES.length;
/** Per (source, destination) pair: forward and backward packets, items, bytes. */
export const PAIR_FIELDS = 6;

export interface FabricBuffers {
  batch: number;
  maxSteps: number;
  control: SharedArrayBuffer;
  input: SharedArrayBuffer;
  targets: SharedArrayBuffer;
  /** [actor][parity]: events of the actor's units at one step (capacity B·n). */
  events: SharedArrayBuffer[][];
  /** [actor][parity]: backward-active units without an event (announcements). */
  near: SharedArrayBuffer[][];
  /** [actor]: `paper` reset messages r_j·y_j. */
  reset: SharedArrayBuffer[];
  /** [pair][parity]: partial gradient sums from src to dst (capacity B·n_dst). */
  grads: SharedArrayBuffer[][];
  /** [pair]: `paper` first backward phase sums P_m. */
  gradsP: SharedArrayBuffer[];
  /** src·G + dst → pair index, −1 when src sends dst no gradients. */
  pairIndex: Int32Array;
  /** [actor]: partial logits of last-layer actors ([rows × B × C]); empty for others. */
  logits: SharedArrayBuffer[];
  scalars: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  pairCounters: SharedArrayBuffer;
}

function listBytes(batch: number, cap: number): number {
  return 4 * (batch + 1) + 8 * cap;
}

export function listOver(buf: SharedArrayBuffer, batch: number): ItemList {
  const cap = (buf.byteLength - 4 * (batch + 1)) / 8;
  const offsets = new Int32Array(buf, 0, batch + 1);
  const index = new Int32Array(buf, 4 * (batch + 1), cap);
  const value = new Float32Array(buf, 4 * (batch + 1) + 4 * cap, cap);
  return ItemList.over(batch, offsets, index, value);
}

export function allocateFabric(top: Topology, model: ModelConfig, batch: number, maxSteps: number): FabricBuffers {
  const G = top.size;
  const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
  const list = (cap: number) => sab(listBytes(batch, cap));
  const pairIndex = new Int32Array(G * G).fill(-1);
  const grads: SharedArrayBuffer[][] = [];
  const gradsP: SharedArrayBuffer[] = [];
  for (const src of top.actors)
    for (const dst of top.actors) {
      if (dst.layer !== src.layer && dst.layer !== src.layer - 1) continue;
      pairIndex[src.id * G + dst.id] = grads.length;
      grads.push([list(batch * dst.units), list(batch * dst.units)]);
      gradsP.push(model.formulation === 'paper' && model.cell === 'egru' && dst.layer === src.layer ? list(batch * dst.units) : sab(0));
    }
  const last = top.depth - 1;
  const rows = model.readout === 'per-step' ? maxSteps : 1;
  return {
    batch,
    maxSteps,
    control: sab(4 * CTRL.size),
    input: sab(4 * batch * maxSteps * model.inputSize),
    targets: sab(4 * batch * maxSteps),
    events: top.actors.map((a) => [list(batch * a.units), list(batch * a.units)]),
    near: top.actors.map((a) => [list(batch * a.units), list(batch * a.units)]),
    reset: top.actors.map((a) => list(batch * a.units)),
    grads,
    gradsP,
    pairIndex,
    logits: top.actors.map((a) => sab(a.layer === last ? 4 * rows * batch * model.classes : 0)),
    scalars: sab(8 * G * SCALAR.size),
    counters: sab(8 * G * NCOUNTERS),
    pairCounters: sab(8 * G * G * PAIR_FIELDS),
  };
}

/** Wire size of a packet: a small header, then per non-empty batch element (b, count), then items. */
export function packetBytes(list: ItemList, bytesPerItem: number): number {
  let nonEmpty = 0;
  for (let b = 0; b < list.batch; b++) if (list.offsets[b + 1]! > list.offsets[b]!) nonEmpty++;
  return 8 + 4 * nonEmpty + bytesPerItem * list.size;
}
