/**
 * Routing of one event packet. Model (see docs/hardware.md):
 * - one packet per event, multicast to every core that holds a consumer;
 * - between chips: the union of the X-then-Y routes from the source chip to every destination chip (a tree;
 *   the packet is replicated at branch points, so each tree link carries one copy: `chipHops` = tree links);
 * - on each chip the tree visits: the union of X-then-Y routes on the chip's router mesh, from the entry node
 *   (the source core's router on the source chip, the I/O router node 0 elsewhere) to the routers of the
 *   destination cores and, when the packet continues to other chips, to node 0. `onChipHops` counts router
 *   passes: links of that on-chip tree + 1 on every chip visited (a single-router chip: 1 pass per chip).
 */
import { HardwareError } from './errors.js';
import type { Placement } from './placement.js';
import { pv, type Preset } from './presets.js';
import { distance, linkTarget, multicastTree } from './topology.js';

/** I/O router node of every chip: where chip-to-chip links and the host input attach. */
export const PORT_NODE = 0;

export interface Route {
  /** Destination cores. */
  destinations: number;
  /** Chip-to-chip links of the tree (one packet copy each). */
  chipHops: number;
  /** On-chip router passes over all chips visited. */
  onChipHops: number;
  /** Of which on the source chip. */
  onChipHopsSourceChip: number;
  /** Directed chip link ids (chip·4 + direction) of the tree. */
  links: number[];
  /** Router passes and chip hops on the slowest source→destination path, and its latency. */
  pathOnChipHops: number;
  pathChipHops: number;
  pathLatency: number;
}

/** Where a packet starts: at a core, or injected by the host at a chip's I/O node. */
export type RouteSource = { core: number } | { chip: number };

export function route(placement: Placement, preset: Preset, source: RouteSource, destCores: ArrayLike<number>): Route {
  const { cores, chipGrid, nodeGrid } = placement;
  let srcChip: number;
  let entry: number;
  if ('core' in source) {
    const c = cores[source.core];
    if (!c) throw new HardwareError(`route: no core ${source.core}`);
    srcChip = c.chip;
    entry = c.node;
  } else {
    srcChip = source.chip;
    entry = PORT_NODE;
  }
  const destNodes = new Map<number, Set<number>>();
  for (let i = 0; i < destCores.length; i++) {
    const c = cores[destCores[i]!];
    if (!c) throw new HardwareError(`route: no core ${destCores[i]}`);
    let set = destNodes.get(c.chip);
    if (!set) destNodes.set(c.chip, (set = new Set()));
    set.add(c.node);
  }
  const tree = multicastTree(chipGrid, srcChip, destNodes.keys());
  const visited = new Set<number>([srcChip]);
  const branching = new Set<number>();
  for (const l of tree) {
    visited.add(linkTarget(chipGrid, l));
    branching.add(Math.floor(l / 4));
  }
  let onChip = 0;
  let onChipSrc = 0;
  for (const chip of visited) {
    const from = chip === srcChip ? entry : PORT_NODE;
    const targets = new Set(destNodes.get(chip) ?? []);
    if (branching.has(chip)) targets.add(PORT_NODE);
    const passes = multicastTree(nodeGrid, from, targets).size + 1;
    onChip += passes;
    if (chip === srcChip) onChipSrc = passes;
  }
  const latOn = pv(preset, 'latencyOnChipHop');
  const latChip = pv(preset, 'latencyChipHop');
  let best = { on: 0, chip: 0, latency: -1 };
  for (const [chip, nodes] of destNodes) {
    for (const node of nodes) {
      let on: number;
      let hops = 0;
      if (chip === srcChip) on = distance(nodeGrid, entry, node) + 1;
      else {
        hops = distance(chipGrid, srcChip, chip);
        on = distance(nodeGrid, entry, PORT_NODE) + 1 + (hops - 1) + distance(nodeGrid, PORT_NODE, node) + 1;
      }
      const latency = on * latOn + hops * latChip;
      // Slowest path; among equally slow ones (e.g. zero latencies) the one with the most hops.
      if (latency > best.latency || (latency === best.latency && on + hops > best.on + best.chip)) best = { on, chip: hops, latency };
    }
  }
  return {
    destinations: destCores.length,
    chipHops: tree.size,
    onChipHops: onChip,
    onChipHopsSourceChip: onChipSrc,
    links: [...tree].sort((a, b) => a - b),
    pathOnChipHops: best.on,
    pathChipHops: best.chip,
    pathLatency: Math.max(0, best.latency),
  };
}

/**
 * Cores that consume an event of hidden layer g: its own layer (recurrence), the next layer, and for the last
 * layer the readout when it integrates events at this step.
 */
export function consumerCores(placement: Placement, g: number, withReadout: boolean): number[] {
  const L = placement.shape.layers.length;
  if (!(Number.isInteger(g) && g >= 0 && g < L)) throw new HardwareError(`consumerCores: ${g} is not a hidden layer`);
  const out = [...placement.groupCores[g]!];
  if (g + 1 < L || withReadout) out.push(...placement.groupCores[g + 1]!);
  return out;
}
