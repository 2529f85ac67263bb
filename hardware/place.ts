/**
 * `place()`: the strategies behind one call, including `traffic`, which uses the recorded trace to keep
 * events on their source chip.
 */
import { HardwareError } from './errors.js';
import {
  assemble,
  contiguousUnits,
  makeLayout,
  nearestChips,
  needChips,
  packSizes,
  packedCoreSizes,
  placeActors,
  placeContiguous,
  placeRoundRobin,
  STRATEGIES,
  type Layout,
  type PlaceOptions,
  type Placement,
  type Strategy,
} from './placement.js';
import { resolvePreset, type Preset } from './presets.js';
import { consumerCores, route } from './routing.js';
import { distance } from './topology.js';
import { traceTotals, unitEventCounts, type EventTrace, type NetworkShape } from './trace.js';

/** Places the network's units onto cores and cores onto chips of the preset. */
export function place(shape: NetworkShape, preset: Preset | string, strategy: Strategy = 'contiguous', opts: PlaceOptions = {}): Placement {
  const p = resolvePreset(preset);
  if (!STRATEGIES.includes(strategy)) throw new HardwareError(`unknown placement strategy "${String(strategy)}"; known: ${STRATEGIES.join(', ')}`);
  const layout = makeLayout(shape, p, opts);
  switch (strategy) {
    case 'contiguous':
      return placeContiguous(layout);
    case 'round-robin':
      return placeRoundRobin(layout);
    case 'actors':
      return placeActors(layout, opts.actors);
    case 'spread':
      return placeSpread(layout, opts.spreadChips);
    case 'traffic':
      if (!opts.trace) throw new HardwareError('strategy "traffic" needs the recorded event trace (option trace)');
      return placeTraffic(layout, opts.trace);
  }
}

/**
 * `spread`: every hidden layer split over `chips` chips (default: all of the preset's), one core or more per
 * chip, so that its recurrence and its events to the next layer cross chip-to-chip links; the readout's cores
 * are dealt over the same chips. Core j of a group sits on chip j mod chips (chips in snake order from the input chip).
 */
export function placeSpread(layout: Layout, chips: number | undefined): Placement {
  const shape = layout.shape;
  const L = shape.layers.length;
  const available = layout.chipGrid.width * layout.chipGrid.height;
  const n = chips ?? available;
  if (!Number.isInteger(n) || n < 1) throw new HardwareError(`spread: chips must be a positive integer, got ${n}`);
  needChips(layout, n);
  const free = new Array<number>(n).fill(0);
  const coreChips: Array<{ chip: number; slot: number; group: number }> = [];
  const sizes: number[][] = [];
  for (let g = 0; g <= L; g++) {
    const size = g === L ? shape.classes : shape.layers[g]!;
    const per = g === L ? layout.perCore[g]! : Math.min(layout.perCore[g]!, Math.ceil(size / Math.min(n, size)));
    const s = packSizes(size, per);
    s.forEach((_, j) => {
      const i = j % n;
      if (free[i]! >= layout.coresPerChip) {
        throw new HardwareError(`spread: chip ${i} of ${n} has no free core for ${g === L ? 'the readout' : `layer ${g}`} (${layout.coresPerChip} cores per chip)`);
      }
      coreChips.push({ chip: layout.chipOrder[i]!, slot: free[i]!++, group: g });
    });
    sizes.push(s);
  }
  return assemble(layout, 'spread', coreChips, contiguousUnits(layout, sizes));
}

export function sameShape(a: NetworkShape, b: NetworkShape): boolean {
  return a.inputSize === b.inputSize && a.classes === b.classes && a.readout === b.readout &&
    a.layers.length === b.layers.length && a.layers.every((h, i) => h === b.layers[i]);
}

export const describeShape = (s: NetworkShape): string => `${s.inputSize}→${s.layers.join('→')}→${s.classes} (readout ${s.readout})`;

/**
 * `traffic`: a greedy embedding, then a unit refinement, both driven by the recorded events.
 * 1. Groups (layers, readout) get their packed cores; the chips are the ones nearest the input chip.
 * 2. Cores are placed one by one, layer order, each on the chip that minimises
 *    Σ_h affinity(g, h) · distance(chip, nearest chip already holding h) + input items · distance(chip, input chip),
 *    where affinity(g, h) counts the events g sends to h or h to g (recurrence: g to itself).
 * 3. Within a layer spread over several chips, the busiest units move to the cores whose multicast tree has
 *    the fewest chip-to-chip hops.
 * The result of 2+3 is compared with contiguous+3 by the exact chip-to-chip hops the trace would cause; the
 * smaller wins, so `traffic` is never worse than `contiguous` on its own trace.
 */
export function placeTraffic(layout: Layout, trace: EventTrace): Placement {
  const shape = layout.shape;
  if (!sameShape(shape, trace.shape)) throw new HardwareError(`the trace is of network ${describeShape(trace.shape)}, the placement of ${describeShape(shape)}`);
  const L = shape.layers.length;
  const unitEv = unitEventCounts(trace);
  const ev = unitEv.map((c) => c.reduce((a, b) => a + b, 0));
  const totals = traceTotals(trace);
  const inputItems = totals.inputItems >= 0 ? totals.inputItems : trace.samples * trace.steps * shape.inputSize;

  const sizes = Array.from({ length: L + 1 }, (_, g) => packedCoreSizes(layout, g));
  const totalCores = sizes.reduce((n, s) => n + s.length, 0);
  const nChips = Math.ceil(totalCores / layout.coresPerChip);
  needChips(layout, nChips);
  const candidates = nearestChips(layout, layout.inputChip, nChips);

  const affinity = Array.from({ length: L + 1 }, () => new Float64Array(L + 1));
  for (let l = 0; l < L; l++) {
    affinity[l]![l]! += ev[l]!;
    affinity[l]![l + 1]! += ev[l]!;
    affinity[l + 1]![l]! += ev[l]!;
  }
  const grid = layout.chipGrid;
  const present = Array.from({ length: L + 1 }, () => new Set<number>());
  const free = new Map(candidates.map((c) => [c, layout.coresPerChip]));
  const minDist = (chip: number, set: Set<number>): number => {
    let d = Infinity;
    for (const c of set) d = Math.min(d, distance(grid, chip, c));
    return d;
  };
  const coreChips: Array<{ chip: number; slot: number; group: number }> = [];
  for (let g = 0; g <= L; g++) {
    for (let j = 0; j < sizes[g]!.length; j++) {
      let best = -1;
      let bestKey: [number, number, number] = [Infinity, 0, 0];
      candidates.forEach((chip, rank) => {
        if (free.get(chip)! === 0) return;
        let cost = g === 0 ? inputItems * distance(grid, chip, layout.inputChip) : 0;
        for (let h = 0; h <= L; h++) if (affinity[g]![h]! > 0 && present[h]!.size > 0) cost += affinity[g]![h]! * minDist(chip, present[h]!);
        const key: [number, number, number] = [cost, present[g]!.has(chip) ? 0 : 1, rank];
        if (key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
          best = chip;
          bestKey = key;
        }
      });
      const slot = layout.coresPerChip - free.get(best)!;
      free.set(best, free.get(best)! - 1);
      present[g]!.add(best);
      coreChips.push({ chip: best, slot, group: g });
    }
  }
  const greedy = refineUnits(layout, assemble(layout, 'traffic', coreChips, contiguousUnits(layout, sizes)), unitEv);
  const contiguous = refineUnits(layout, placeContiguous(layout), unitEv);
  contiguous.strategy = 'traffic';
  const cg = trafficCost(layout, greedy, unitEv, inputItems);
  const cc = trafficCost(layout, contiguous, unitEv, inputItems);
  return cg[0] < cc[0] || (cg[0] === cc[0] && cg[1] <= cc[1]) ? greedy : contiguous;
}

/** Route cost (chip hops, on-chip hops) of each core of hidden layer l. */
function coreCosts(layout: Layout, p: Placement, l: number): Array<[number, number]> {
  const withReadout = layout.shape.readout !== 'last';
  const dests = consumerCores(p, l, withReadout);
  return p.groupCores[l]!.map((k) => {
    const r = route(p, layout.preset, { core: k }, dests);
    return [r.chipHops, r.onChipHops];
  });
}

/** Busiest units onto the cores with the cheapest multicast trees (rearrangement; core sizes unchanged). */
function refineUnits(layout: Layout, p: Placement, unitEv: Float64Array[]): Placement {
  const L = layout.shape.layers.length;
  const unitCore = p.unitCore.map((uc) => uc.slice());
  let changed = false;
  for (let l = 0; l < L; l++) {
    const costs = coreCosts(layout, p, l);
    if (costs.every((c) => c[0] === costs[0]![0] && c[1] === costs[0]![1])) continue;
    const cores = p.groupCores[l]!.map((k, i) => ({ k, cost: costs[i]!, units: p.cores[k]!.units }));
    cores.sort((a, b) => a.cost[0] - b.cost[0] || a.cost[1] - b.cost[1]);
    const ev = unitEv[l]!;
    const order = Array.from({ length: ev.length }, (_, u) => u).sort((a, b) => ev[b]! - ev[a]! || a - b);
    let i = 0;
    for (const c of cores) for (let n = 0; n < c.units; n++) unitCore[l]![order[i++]!] = c.k;
    changed = true;
  }
  if (!changed) return p;
  const coreChips = p.cores.map((c) => ({ chip: c.chip, slot: c.slot, group: c.group }));
  return assemble(layout, p.strategy, coreChips, unitCore);
}

/** Chip-to-chip and on-chip hops the trace would cause (readout `last`: counted without the readout). */
function trafficCost(layout: Layout, p: Placement, unitEv: Float64Array[], inputItems: number): [number, number] {
  const L = layout.shape.layers.length;
  let chip = 0;
  let on = 0;
  for (let l = 0; l < L; l++) {
    const costs = coreCosts(layout, p, l);
    const idx = new Map(p.groupCores[l]!.map((k, i) => [k, i]));
    const uc = p.unitCore[l]!;
    const ev = unitEv[l]!;
    for (let u = 0; u < uc.length; u++) {
      const c = costs[idx.get(uc[u]!)!]!;
      chip += ev[u]! * c[0];
      on += ev[u]! * c[1];
    }
  }
  const r = route(p, layout.preset, { chip: p.inputChip }, p.groupCores[0]!);
  return [chip + inputItems * r.chipHops, on + inputItems * r.onChipHops];
}
