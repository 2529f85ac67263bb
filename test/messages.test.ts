/**
 * Message counters (docs/figures.md) against the wire format of runtime/fabric.ts and runtime/actor.ts, exactly, per
 * (source, destination) pair, for several actor counts and a short batch:
 *
 *   item packet   8-byte header + 4 bytes per batch element with items + per item 8 bytes (address and value:
 *                 events, reset messages, partial gradient sums) or 4 (address only: backward-active announcements);
 *                 a packet that would carry no item is not sent
 *   logits        8-byte header + 4 bytes per value (rows × active sequences × classes), to every other last-layer actor
 *   control       one packet per barrier arrival of an actor (every forward and backward tick and phase, the loss
 *                 and the gradient norm), 4 + 8 bytes for its one item
 *
 * Who sends what is derived from the events each actor recorded (an evaluation trace) and from the reference's
 * unit states (which units are within 1/s of their threshold without firing), not from the runtime's counters.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../model/config.js';
import { referenceForward } from '../model/reference.js';
import { Trainer, type RuntimeCounters, type SequenceBatch } from '../runtime/coordinator.js';
import type { Topology } from '../runtime/topology.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';

const CAPACITY = 4;
const STEPS = 5;
const HEADER = 8;
const PER_ELEMENT = 4;
const CONTROL_BYTES = 4 + 8;

interface Flow {
  packets: number;
  items: number;
  bytes: number;
}
type Pairs = { forward: Flow; backward: Flow }[][];

/** counts[a][t][b]: how many of actor a's units do something (fire, are announced) at step t in sequence b. */
type PerActor = number[][][];

class Expected {
  readonly pairs: Pairs;
  constructor(size: number) {
    const flow = () => ({ packets: 0, items: 0, bytes: 0 });
    this.pairs = Array.from({ length: size }, () => Array.from({ length: size }, () => ({ forward: flow(), backward: flow() })));
  }
  /** One item packet with perElement[b] items of batch element b, unless it is empty. */
  items(src: number, dst: number, dir: 'forward' | 'backward', perElement: number[], bytesPerItem: number): void {
    const items = perElement.reduce((s, n) => s + n, 0);
    if (items === 0) return;
    const f = this.pairs[src]![dst]![dir];
    f.packets++;
    f.items += items;
    f.bytes += HEADER + PER_ELEMENT * perElement.filter((n) => n > 0).length + bytesPerItem * items;
  }
  dense(src: number, dst: number, values: number): void {
    const f = this.pairs[src]![dst]!.forward;
    f.packets++;
    f.items += values;
    f.bytes += HEADER + 4 * values;
  }
}

/** Per actor, step and sequence: events (from the evaluation trace) and announced units (from the reference). */
function activity(cfg: ModelConfig, top: Topology, trace: { actor: number; offsets: Int32Array }[], batch: SequenceBatch, params: ReturnType<typeof activeParams>) {
  const zeros = (): PerActor => top.actors.map(() => Array.from({ length: batch.steps }, () => new Array<number>(batch.batch).fill(0)));
  const events = zeros();
  for (const tr of trace)
    for (let t = 0; t < batch.steps; t++)
      for (let b = 0; b < batch.batch; b++) events[tr.actor]![t]![b] = tr.offsets[t * CAPACITY + b + 1]! - tr.offsets[t * CAPACITY + b]!;
  const fired = zeros();
  const near = zeros();
  const data = { x: batch.x, batch: batch.batch, steps: batch.steps, inputSize: cfg.inputSize, targets: batch.targets };
  referenceForward(cfg, params, data, {
    probe: (l, t, b, j, d) => {
      const a = top.owner[l]![j]!;
      if (d > 0) fired[a]![t]![b]!++;
      else if (Math.abs(d) < 1 / cfg.support) near[a]![t]![b]!++;
    },
  });
  // the reference fires where the actors did, so its announcements are theirs
  expect(fired).toEqual(events);
  const active = events.map((perT, a) => perT.map((perB, t) => perB.map((n, b) => n + near[a]![t]![b]!)));
  return { events, near, active };
}

function forwardFlows(cfg: ModelConfig, top: Topology, events: PerActor, batch: SequenceBatch, e: Expected): void {
  const paper = cfg.formulation === 'paper';
  const last = top.depth - 1;
  for (const a of top.actors) {
    const same = top.layers[a.layer]!.filter((p) => p.id !== a.id);
    const consumers = [...same, ...(a.layer < last ? top.layers[a.layer + 1]! : [])];
    for (let t = 0; t < batch.steps; t++) {
      for (const d of consumers) e.items(a.id, d.id, 'forward', events[a.id]![t]!, 8);
      // paper: the reset messages r_j·y_{t−1,j} of the own units that fired at t − 1
      if (paper && t > 0) for (const d of same) e.items(a.id, d.id, 'forward', events[a.id]![t - 1]!, 8);
    }
    const rows = cfg.readout === 'per-step' ? batch.steps : 1;
    if (a.layer === last) for (const d of same) e.dense(a.id, d.id, rows * batch.batch * cfg.classes);
  }
}

/**
 * Announcements forward in time, then in the backward pass partial sums for the backward-active units of the same
 * layer at t − 1 (paper: two, the P sums of the first backward phase and the u, r sums of the second) and of the
 * layer below at t.
 */
function backwardFlows(cfg: ModelConfig, top: Topology, near: PerActor, active: PerActor, batch: SequenceBatch, e: Expected): void {
  const last = top.depth - 1;
  const recurrentSums = cfg.formulation === 'paper' ? 2 : 1;
  for (const a of top.actors) {
    const same = top.layers[a.layer]!.filter((p) => p.id !== a.id);
    const consumers = [...same, ...(a.layer < last ? top.layers[a.layer + 1]! : [])];
    const below = a.layer > 0 ? top.layers[a.layer - 1]! : [];
    for (let t = 0; t < batch.steps; t++) {
      for (const d of consumers) e.items(a.id, d.id, 'backward', near[a.id]![t]!, 4);
      for (let k = 0; k < recurrentSums && t > 0; k++) for (const d of same) e.items(a.id, d.id, 'backward', active[d.id]![t - 1]!, 8);
      for (const d of below) e.items(a.id, d.id, 'backward', active[d.id]![t]!, 8);
    }
  }
}

function controlPackets(top: Topology, cfg: ModelConfig, steps: number, train: boolean): number {
  const phases = cfg.cell === 'egru' && cfg.formulation === 'paper' ? 2 : 1;
  const ticks = steps + top.depth - 1;
  const perActor = ticks * phases + 1 + (train ? ticks * phases + 1 : 0); // forward ticks, loss; backward ticks, norm
  return top.size * perActor;
}

function expectPairs(got: RuntimeCounters, want: Pairs, dirs: ('forward' | 'backward')[], what: string): void {
  got.pairs.forEach((row, s) =>
    row.forEach((p, d) => {
      for (const dir of dirs) expect(p[dir], `${what}: ${dir} ${s} → ${d}`).toEqual(want[s]![d]![dir]);
    }),
  );
  for (const dir of dirs)
    for (const f of ['packets', 'items', 'bytes'] as const)
      expect(got.totals[`messages.${dir}.${f}`], `${what}: total ${dir} ${f}`).toBe(want.flat().reduce((sum, p) => sum + p[dir][f], 0));
}

function expectControl(got: RuntimeCounters, packets: number, what: string): void {
  expect(got.totals['messages.control.packets'], what).toBe(packets);
  expect(got.totals['messages.control.items'], what).toBe(packets);
  expect(got.totals['messages.control.bytes'], what).toBe(CONTROL_BYTES * packets);
}

const SPLITS: [string, number | number[][]][] = [
  ['1 actor', 1],
  ['2 actors', 2],
  ['3 uneven actors', [[3, 1, 7], [2, 4, 1]]],
];

describe.each([
  ['evnn', 'trace'],
  ['paper', 'per-step'],
] as const)('message counters follow the wire format: %s, %s readout, 3 of 4 sequences', (formulation, readout) => {
  const cfg = smallModel({ formulation, readout });
  const batch = randomBatch(cfg, 3, STEPS, 21);

  it.each(SPLITS)('%s: evaluation and training, per pair', async (_name, actors) => {
    const params = activeParams(cfg);
    const trainer = await Trainer.create({ model: cfg, params, actors, transport: 'inline', batch: CAPACITY, maxSteps: STEPS, optimizer: { kind: 'sgd', lr: 0.1 } });
    try {
      const top = trainer.topology;
      const ev = await trainer.evaluate(batch, { trace: true });
      const { events, near, active } = activity(cfg, top, ev.trace!, batch, params);
      expect(events.flat(2).reduce((s, n) => s + n, 0)).toBeGreaterThan(0);
      expect(near.flat(2).reduce((s, n) => s + n, 0)).toBeGreaterThan(0);
      const forward = new Expected(top.size);
      forwardFlows(cfg, top, events, batch, forward);
      const evaluation = trainer.counters();
      expectPairs(evaluation, forward.pairs, ['forward', 'backward'], 'evaluation');
      expectControl(evaluation, controlPackets(top, cfg, STEPS, false), 'evaluation control');

      // training runs the same forward pass (the update comes after it), then the backward messages
      await trainer.resetCounters();
      await trainer.train(batch);
      const training = trainer.counters();
      expectPairs(training, forward.pairs, ['forward'], 'training');
      const backward = new Expected(top.size);
      backwardFlows(cfg, top, near, active, batch, backward);
      expectPairs(training, backward.pairs, ['backward'], 'training');
      if (top.size > 1) expect(training.totals['messages.backward.bytes']).toBeGreaterThan(0);
      expectControl(training, controlPackets(top, cfg, STEPS, true), 'training control');
    } finally {
      await trainer.close();
    }
  });
});
