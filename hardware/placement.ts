/**
 * Placement: EGRU units onto cores (respecting neurons and synapse memory per core), cores onto chips.
 * Groups: g = 0..L−1 are the hidden layers, g = L is the readout. A core holds units of one group only
 * (as a SpiNNaker core holds a slice of one population). Units of a hidden layer l need
 * 3 gate blocks × (I_l + H_l) incoming weights (kernel column + recurrent_kernel column); readout units H_{L−1}.
 */
import { HardwareError } from './errors.js';
import { packetsPerValue, pv, type Preset } from './presets.js';
import { distance, nodeId, nodeX, nodeY, snakeOrder, type Grid } from './topology.js';
import { validateShape, type EventTrace, type NetworkShape } from './trace.js';

export type Strategy = 'contiguous' | 'round-robin' | 'traffic' | 'actors' | 'spread';
export const STRATEGIES: readonly Strategy[] = Object.freeze(['contiguous', 'round-robin', 'traffic', 'actors', 'spread']);

/**
 * The runtime's actors: a count per layer for all layers (split as evenly as possible, the first ones one unit
 * larger), one count per layer, or explicit `[start, end)` unit ranges per layer.
 */
export type ActorSpec = number | number[] | Array<Array<[number, number]>>;

export interface PlaceOptions {
  /** Bits per stored weight (default 8). */
  weightBits?: number;
  /** Bits per graded value (event outputs, input items) the chip must carry (default 8). */
  gradedBits?: number;
  /**
   * Synapses per incoming weight (default: the packets per graded value on the preset, see packetsPerValue). A graded
   * value sent as k binary spikes on k axons (a chip without graded payloads) needs k synapses per weight, weighted 1, 2, 4, …
   */
  axonsPerInput?: number;
  /** Strategy `spread`: chips each hidden layer is spread over (default: every chip of the preset). */
  spreadChips?: number;
  /** At most this many units per core (default: as many as neurons and synapse memory per core allow); a layer is spread evenly over the fewest cores. */
  unitsPerCore?: number;
  /** Use at most this many cores of each chip (default: all the preset has). */
  coresPerChip?: number;
  /** The recorded trace (needed by `traffic`). */
  trace?: EventTrace;
  /** Actor unit ranges (needed by `actors`). */
  actors?: ActorSpec;
  /** Chip where the input enters, by id or [x, y] (default: chip (0, 0)). */
  inputChip?: number | [number, number];
}

export interface PlacedCore {
  /** Chip id (y·chipsX + x). */
  chip: number;
  /** Core slot on the chip, 0..coresPerChip−1. */
  slot: number;
  /** On-chip router node of the slot. */
  node: number;
  /** Group: hidden layer index, or L for the readout. */
  group: number;
  units: number;
  synapseBytes: number;
}

export interface Placement {
  strategy: Strategy | 'explicit';
  preset: string;
  shape: NetworkShape;
  weightBits: number;
  axonsPerInput: number;
  chipGrid: Grid;
  nodeGrid: Grid;
  coresPerNode: number;
  inputChip: number;
  cores: PlacedCore[];
  /** groupCores[g]: indices into `cores`. */
  groupCores: number[][];
  /** unitCore[g][u]: index into `cores`. */
  unitCore: Int32Array[];
}

/** A hand-made placement: core list plus the core of every unit, per group (hidden layers, then readout). */
export interface ExplicitPlacement {
  cores: Array<{ chip: number | [number, number]; slot?: number }>;
  unitCore: ArrayLike<number>[];
}

export interface PlacementSummary {
  strategy: string;
  weightBits: number;
  /** Synapses per incoming weight (> 1: graded values sent as several binary spikes). */
  axonsPerInput: number;
  chipsUsed: number;
  coresUsed: number;
  grid: { topology: string; width: number; height: number };
  limits: { neuronsPerCore: number; memoryPerCore: number; coresPerChip: number };
  groups: Array<{ name: string; units: number; cores: number; chips: number; maxUnitsPerCore: number; maxSynapseBytesPerCore: number }>;
  chips: Array<{ chip: [number, number]; cores: number; groups: string[] }>;
}

// ---------------------------------------------------------------------------------------------------------

export const groupName = (shape: NetworkShape, g: number): string => (g === shape.layers.length ? 'readout' : `layer ${g}`);
export const groupSize = (shape: NetworkShape, g: number): number => (g === shape.layers.length ? shape.classes : shape.layers[g]!);

/** Incoming weights per unit of group g. */
export function weightsPerUnit(shape: NetworkShape, g: number): number {
  const L = shape.layers.length;
  if (g === L) return shape.layers[L - 1]!;
  const I = g === 0 ? shape.inputSize : shape.layers[g - 1]!;
  return 3 * (I + shape.layers[g]!);
}

export const synapseBytes = (shape: NetworkShape, g: number, units: number, weightBits: number, axonsPerInput = 1): number =>
  Math.ceil((units * weightsPerUnit(shape, g) * axonsPerInput * weightBits) / 8);

/** "3156 weights × 8 bit", or "3156 weights × 8 axons × 1 bit" with the graded-value workaround. */
const weightText = (shape: NetworkShape, g: number, weightBits: number, axons: number): string =>
  `${weightsPerUnit(shape, g)} weights${axons > 1 ? ` × ${axons} axons` : ''} × ${weightBits} bit`;

/** Geometry shared by every strategy. */
export interface Layout {
  shape: NetworkShape;
  preset: Preset;
  weightBits: number;
  axonsPerInput: number;
  chipGrid: Grid;
  nodeGrid: Grid;
  coresPerNode: number;
  coresPerChip: number;
  inputChip: number;
  /** Units per core for each group. */
  perCore: number[];
  /** Chip ids in the order chips are filled. */
  chipOrder: number[];
}

export function makeLayout(shape: NetworkShape, preset: Preset, opts: PlaceOptions): Layout {
  validateShape(shape);
  const weightBits = opts.weightBits ?? 8;
  if (!Number.isInteger(weightBits) || weightBits < 1 || weightBits > 64) throw new HardwareError(`weight bits must be an integer in 1..64, got ${weightBits}`);
  const axonsPerInput = opts.axonsPerInput ?? packetsPerValue(preset, opts.gradedBits ?? 8);
  if (!Number.isInteger(axonsPerInput) || axonsPerInput < 1 || axonsPerInput > 64) throw new HardwareError(`axons per input must be an integer in 1..64, got ${axonsPerInput}`);
  const chipGrid: Grid = { width: pv(preset, 'chipsX'), height: pv(preset, 'chipsY'), wrap: preset.topology === 'torus' };
  const nodeGrid: Grid = { width: pv(preset, 'nodesX'), height: pv(preset, 'nodesY'), wrap: false };
  const presetCores = pv(preset, 'coresPerChip');
  const coresPerChip = opts.coresPerChip ?? presetCores;
  if (!Number.isInteger(coresPerChip) || coresPerChip < 1 || coresPerChip > presetCores) {
    throw new HardwareError(`cores per chip must be an integer in 1..${presetCores} for ${preset.name}, got ${coresPerChip}`);
  }
  const coresPerNode = Math.ceil(presetCores / (nodeGrid.width * nodeGrid.height));
  const inputChip = resolveChip(chipGrid, opts.inputChip ?? 0, 'input chip');
  const L = shape.layers.length;
  const perCore: number[] = [];
  for (let g = 0; g <= L; g++) {
    const bitsPerUnit = weightsPerUnit(shape, g) * axonsPerInput * weightBits;
    const byMemory = Math.floor((pv(preset, 'memoryPerCore') * 8) / bitsPerUnit);
    if (byMemory < 1) {
      throw new HardwareError(
        `one unit of ${groupName(shape, g)} needs ${fmtBytes(bitsPerUnit / 8)} of synapse memory (${weightText(shape, g, weightBits, axonsPerInput)}), ` +
          `more than a ${preset.name} core has (${fmtBytes(pv(preset, 'memoryPerCore'))})`,
      );
    }
    const capacity = Math.min(pv(preset, 'neuronsPerCore'), byMemory);
    if (opts.unitsPerCore !== undefined && (!Number.isInteger(opts.unitsPerCore) || opts.unitsPerCore < 1)) {
      throw new HardwareError(`units per core must be a positive integer, got ${opts.unitsPerCore}`);
    }
    perCore.push(Math.min(opts.unitsPerCore ?? capacity, groupSize(shape, g)));
  }
  const order = snakeOrder(chipGrid);
  const start = order.indexOf(inputChip);
  const chipOrder = [...order.slice(start), ...order.slice(0, start)];
  return { shape, preset, weightBits, axonsPerInput, chipGrid, nodeGrid, coresPerNode, coresPerChip, inputChip, perCore, chipOrder };
}

function resolveChip(grid: Grid, chip: number | [number, number], what: string): number {
  if (Array.isArray(chip)) {
    const [x, y] = chip;
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= grid.width || y >= grid.height) {
      throw new HardwareError(`${what} (${x},${y}) lies outside the ${grid.width}×${grid.height} chip grid`);
    }
    return nodeId(grid, x, y);
  }
  if (!Number.isInteger(chip) || chip < 0 || chip >= grid.width * grid.height) {
    throw new HardwareError(`${what} ${chip} lies outside the ${grid.width}×${grid.height} chip grid`);
  }
  return chip;
}

/** `size` units over the fewest cores of at most `per` units, balanced (sizes differ by at most one). */
export function packSizes(size: number, per: number): number[] {
  const n = Math.ceil(size / per);
  const base = Math.floor(size / n);
  return Array.from({ length: n }, (_, i) => base + (i < size % n ? 1 : 0));
}

/** Unit counts of the cores of group g when packed contiguously. */
export function packedCoreSizes(layout: Layout, g: number): number[] {
  return packSizes(groupSize(layout.shape, g), layout.perCore[g]!);
}

/** Writes core indices baseCore, baseCore+1, … into uc[start…], sizes[i] units each. */
export function fillUnits(uc: Int32Array, start: number, sizes: number[], baseCore: number): void {
  let u = start;
  sizes.forEach((n, i) => {
    for (let j = 0; j < n; j++) uc[u++] = baseCore + i;
  });
}

/**
 * Assembles and validates a placement from a layout, a chip and slot per core (listed group by group) and
 * the core of each unit.
 */
export function assemble(
  layout: Layout,
  strategy: Placement['strategy'],
  coreChips: Array<{ chip: number; slot: number; group: number }>,
  unitCore: Int32Array[],
): Placement {
  const L = layout.shape.layers.length;
  const groupCores: number[][] = Array.from({ length: L + 1 }, () => []);
  const cores: PlacedCore[] = coreChips.map((c, i) => {
    groupCores[c.group]!.push(i);
    return { chip: c.chip, slot: c.slot, node: Math.floor(c.slot / layout.coresPerNode), group: c.group, units: 0, synapseBytes: 0 };
  });
  const placement: Placement = {
    strategy,
    preset: layout.preset.name,
    shape: layout.shape,
    weightBits: layout.weightBits,
    axonsPerInput: layout.axonsPerInput,
    chipGrid: layout.chipGrid,
    nodeGrid: layout.nodeGrid,
    coresPerNode: layout.coresPerNode,
    inputChip: layout.inputChip,
    cores,
    groupCores,
    unitCore,
  };
  validatePlacement(placement, layout.preset, layout.coresPerChip);
  return placement;
}

/** Places cores in `chipOrder`, `coresPerChip` to a chip, in group order (contiguous cores → contiguous chips). */
function fillChips(layout: Layout, groups: number[][]): Array<{ chip: number; slot: number; group: number }> {
  const total = groups.reduce((n, sizes) => n + sizes.length, 0);
  needChips(layout, Math.ceil(total / layout.coresPerChip));
  const out: Array<{ chip: number; slot: number; group: number }> = [];
  let k = 0;
  groups.forEach((sizes, g) => {
    for (let j = 0; j < sizes.length; j++, k++) {
      out.push({ chip: layout.chipOrder[Math.floor(k / layout.coresPerChip)]!, slot: k % layout.coresPerChip, group: g });
    }
  });
  return out;
}

export function needChips(layout: Layout, chips: number): void {
  const available = layout.chipGrid.width * layout.chipGrid.height;
  if (chips > available) {
    throw new HardwareError(
      `the network needs ${chips} chips on ${layout.preset.name} but the preset has ${available} (${layout.chipGrid.width}×${layout.chipGrid.height}); ` +
        'use a preset with a larger chip grid',
    );
  }
}

/** Contiguous units → cores; cores fill chips one after another (chips in snake order from the input chip). */
export function placeContiguous(layout: Layout): Placement {
  const L = layout.shape.layers.length;
  const sizes = Array.from({ length: L + 1 }, (_, g) => packedCoreSizes(layout, g));
  const coreChips = fillChips(layout, sizes);
  return assemble(layout, 'contiguous', coreChips, contiguousUnits(layout, sizes));
}

/** Units of each group in order over its cores (cores numbered group by group). */
export function contiguousUnits(layout: Layout, sizes: number[][]): Int32Array[] {
  let base = 0;
  return sizes.map((s, g) => {
    const uc = new Int32Array(groupSize(layout.shape, g));
    fillUnits(uc, 0, s, base);
    base += s.length;
    return uc;
  });
}

/** Units dealt round-robin over their group's cores; cores dealt round-robin over the chips needed. */
export function placeRoundRobin(layout: Layout): Placement {
  const L = layout.shape.layers.length;
  const counts = Array.from({ length: L + 1 }, (_, g) => packedCoreSizes(layout, g).length);
  const total = counts.reduce((a, b) => a + b, 0);
  const nChips = Math.ceil(total / layout.coresPerChip);
  needChips(layout, nChips);
  const coreChips: Array<{ chip: number; slot: number; group: number }> = [];
  const unitCore: Int32Array[] = [];
  let k = 0;
  for (let g = 0; g <= L; g++) {
    const base = k;
    for (let j = 0; j < counts[g]!; j++, k++) {
      coreChips.push({ chip: layout.chipOrder[k % nChips]!, slot: Math.floor(k / nChips), group: g });
    }
    const uc = new Int32Array(groupSize(layout.shape, g));
    for (let u = 0; u < uc.length; u++) uc[u] = base + (u % counts[g]!);
    unitCore.push(uc);
  }
  return assemble(layout, 'round-robin', coreChips, unitCore);
}

/** Unit ranges of the actors of every hidden layer. */
export function actorRanges(shape: NetworkShape, spec: ActorSpec | undefined): Array<Array<[number, number]>> {
  if (spec === undefined) throw new HardwareError('strategy "actors" needs the actor unit ranges (option actors)');
  const L = shape.layers.length;
  if (typeof spec === 'number' || (Array.isArray(spec) && spec.every((v) => typeof v === 'number'))) {
    const counts = typeof spec === 'number' ? new Array<number>(L).fill(spec) : (spec as number[]);
    if (counts.length !== L) throw new HardwareError(`actors: need one actor count per layer (${L}), got ${counts.length}`);
    return counts.map((G, l) => {
      const H = shape.layers[l]!;
      if (!Number.isInteger(G) || G < 1 || G > H) throw new HardwareError(`actors: layer ${l} (${H} units) cannot be split into ${G} actors`);
      const ranges: Array<[number, number]> = [];
      const base = Math.floor(H / G);
      let start = 0;
      for (let i = 0; i < G; i++) {
        const n = base + (i < H % G ? 1 : 0);
        ranges.push([start, start + n]);
        start += n;
      }
      return ranges;
    });
  }
  const ranges = spec as Array<Array<[number, number]>>;
  if (ranges.length !== L) throw new HardwareError(`actors: need unit ranges for each of the ${L} layers, got ${ranges.length}`);
  ranges.forEach((list, l) => {
    let next = 0;
    for (const r of list) {
      if (!Array.isArray(r) || r.length !== 2 || r[0] !== next || !(r[1] > r[0])) {
        throw new HardwareError(`actors: layer ${l} ranges must be consecutive [start, end) pairs covering 0..${shape.layers[l]}, got ${JSON.stringify(list)}`);
      }
      next = r[1];
    }
    if (next !== shape.layers[l]) throw new HardwareError(`actors: layer ${l} ranges cover 0..${next}, the layer has ${shape.layers[l]} units`);
  });
  return ranges;
}

/** One chip per runtime actor (in chip order); the readout joins the last actor's chip when it has room. */
export function placeActors(layout: Layout, spec: ActorSpec | undefined): Placement {
  const shape = layout.shape;
  const L = shape.layers.length;
  const ranges = actorRanges(shape, spec);
  const nActors = ranges.reduce((n, r) => n + r.length, 0);
  const coreChips: Array<{ chip: number; slot: number; group: number }> = [];
  const unitCore: Int32Array[] = [];
  let chipIndex = 0;
  let slot = 0;
  for (let l = 0; l < L; l++) {
    const uc = new Int32Array(shape.layers[l]!);
    const per = layout.perCore[l]!;
    for (const [start, end] of ranges[l]!) {
      needChips(layout, chipIndex + 1);
      const chip = layout.chipOrder[chipIndex]!;
      const sizes = packSizes(end - start, per);
      if (sizes.length > layout.coresPerChip) {
        throw new HardwareError(`actor with units ${start}..${end - 1} of layer ${l} needs ${sizes.length} cores, a ${layout.preset.name} chip has ${layout.coresPerChip}`);
      }
      fillUnits(uc, start, sizes, coreChips.length);
      sizes.forEach((_, j) => coreChips.push({ chip, slot: j, group: l }));
      slot = sizes.length;
      chipIndex++;
    }
    unitCore.push(uc);
  }
  // Readout: the last actor's chip if its cores fit there, else the next chip.
  const roSizes = packedCoreSizes(layout, L);
  let chip = layout.chipOrder[chipIndex - 1]!;
  if (slot + roSizes.length > layout.coresPerChip) {
    needChips(layout, nActors + 1);
    chip = layout.chipOrder[chipIndex]!;
    slot = 0;
  }
  const uc = new Int32Array(shape.classes);
  fillUnits(uc, 0, roSizes, coreChips.length);
  roSizes.forEach((_, j) => coreChips.push({ chip, slot: slot + j, group: L }));
  unitCore.push(uc);
  return assemble(layout, 'actors', coreChips, unitCore);
}

/** A placement given core by core and unit by unit (validated like every other). */
export function buildPlacement(shape: NetworkShape, preset: Preset, spec: ExplicitPlacement, opts: PlaceOptions = {}): Placement {
  const layout = makeLayout(shape, preset, opts);
  const L = shape.layers.length;
  if (!Array.isArray(spec.cores) || spec.cores.length === 0) throw new HardwareError('explicit placement: no cores given');
  if (!Array.isArray(spec.unitCore) || spec.unitCore.length !== L + 1) {
    throw new HardwareError(`explicit placement: unitCore needs ${L + 1} lists (hidden layers, then readout), got ${spec.unitCore?.length}`);
  }
  const unitCore = spec.unitCore.map((list, g) => {
    if (list.length !== groupSize(shape, g)) throw new HardwareError(`explicit placement: ${groupName(shape, g)} has ${groupSize(shape, g)} units, unitCore lists ${list.length}`);
    const uc = Int32Array.from(list);
    for (let u = 0; u < uc.length; u++) {
      if (uc[u]! < 0 || uc[u]! >= spec.cores.length || uc[u] !== list[u]) throw new HardwareError(`explicit placement: unit ${u} of ${groupName(shape, g)} names core ${list[u]}, which does not exist`);
    }
    return uc;
  });
  // Each core's group is the group of the units on it; a core without units is refused.
  const coreGroup = new Int32Array(spec.cores.length).fill(-1);
  unitCore.forEach((uc, g) => {
    for (let u = 0; u < uc.length; u++) {
      const k = uc[u]!;
      if (coreGroup[k] !== -1 && coreGroup[k] !== g) {
        throw new HardwareError(`explicit placement: core ${k} holds units of ${groupName(shape, coreGroup[k]!)} and ${groupName(shape, g)}; a core holds one layer`);
      }
      coreGroup[k] = g;
    }
  });
  const nextSlot = new Map<number, number>();
  const coreChips = spec.cores.map((c, k) => {
    if (coreGroup[k] === -1) throw new HardwareError(`explicit placement: core ${k} holds no units`);
    const chip = resolveChip(layout.chipGrid, c.chip, `core ${k}'s chip`);
    // Without a slot, a core takes the next free-numbered slot of its chip.
    const slot = c.slot ?? nextSlot.get(chip) ?? 0;
    nextSlot.set(chip, Math.max(nextSlot.get(chip) ?? 0, slot + 1));
    return { chip, slot, group: coreGroup[k]! };
  });
  return assemble(layout, 'explicit', coreChips, unitCore);
}

/**
 * Throws a HardwareError naming the first violated constraint: units per core ≤ neurons per core, synapse bytes
 * ≤ memory per core, slot < cores per chip, one core per (chip, slot), every unit on an existing core of its group.
 * Fills in `units` and `synapseBytes` of each core.
 */
export function validatePlacement(placement: Placement, preset: Preset, coresPerChip = pv(preset, 'coresPerChip')): void {
  const { shape, cores, unitCore, chipGrid } = placement;
  const L = shape.layers.length;
  if (unitCore.length !== L + 1) throw new HardwareError(`placement has ${unitCore.length} unit groups, the network ${L + 1}`);
  const nChips = chipGrid.width * chipGrid.height;
  const used = new Set<number>();
  cores.forEach((c, k) => {
    if (!Number.isInteger(c.chip) || c.chip < 0 || c.chip >= nChips) throw new HardwareError(`core ${k} sits on chip ${c.chip}, outside the ${chipGrid.width}×${chipGrid.height} grid`);
    if (!Number.isInteger(c.slot) || c.slot < 0 || c.slot >= coresPerChip) {
      throw new HardwareError(`core ${k} uses slot ${c.slot} of chip ${chipLabel(placement, c.chip)}; a ${preset.name} chip has ${coresPerChip} cores`);
    }
    const key = c.chip * coresPerChip + c.slot;
    if (used.has(key)) throw new HardwareError(`two cores share slot ${c.slot} of chip ${chipLabel(placement, c.chip)}`);
    used.add(key);
    c.units = 0;
  });
  unitCore.forEach((uc, g) => {
    if (uc.length !== groupSize(shape, g)) throw new HardwareError(`placement lists ${uc.length} units for ${groupName(shape, g)}, which has ${groupSize(shape, g)}`);
    for (let u = 0; u < uc.length; u++) {
      const c = cores[uc[u]!];
      if (!c || c.group !== g) throw new HardwareError(`unit ${u} of ${groupName(shape, g)} is placed on core ${uc[u]}, which is not a core of that layer`);
      c.units++;
    }
  });
  const neurons = pv(preset, 'neuronsPerCore');
  const memory = pv(preset, 'memoryPerCore');
  cores.forEach((c, k) => {
    const where = `core ${k} (chip ${chipLabel(placement, c.chip)}, slot ${c.slot}, ${groupName(shape, c.group)})`;
    if (c.units > neurons) throw new HardwareError(`${where} holds ${c.units} units; ${preset.name} allows ${neurons} neurons per core`);
    c.synapseBytes = synapseBytes(shape, c.group, c.units, placement.weightBits, placement.axonsPerInput);
    if (c.synapseBytes > memory) {
      throw new HardwareError(
        `${where} needs ${fmtBytes(c.synapseBytes)} of synapse memory (${c.units} units × ${weightText(shape, c.group, placement.weightBits, placement.axonsPerInput)}); ` +
          `${preset.name} has ${fmtBytes(memory)} per core`,
      );
    }
  });
}

export const chipLabel = (p: { chipGrid: Grid }, chip: number): string => `(${nodeX(p.chipGrid, chip)},${nodeY(p.chipGrid, chip)})`;

/** A JSON-friendly description of a placement. */
export function summarisePlacement(placement: Placement, preset: Preset): PlacementSummary {
  const { shape, cores, groupCores, chipGrid } = placement;
  const chipIds = [...new Set(cores.map((c) => c.chip))].sort((a, b) => a - b);
  return {
    strategy: placement.strategy,
    weightBits: placement.weightBits,
    axonsPerInput: placement.axonsPerInput,
    chipsUsed: chipIds.length,
    coresUsed: cores.length,
    grid: { topology: preset.topology, width: chipGrid.width, height: chipGrid.height },
    limits: { neuronsPerCore: pv(preset, 'neuronsPerCore'), memoryPerCore: pv(preset, 'memoryPerCore'), coresPerChip: pv(preset, 'coresPerChip') },
    groups: groupCores.map((list, g) => ({
      name: groupName(shape, g),
      units: groupSize(shape, g),
      cores: list.length,
      chips: new Set(list.map((k) => cores[k]!.chip)).size,
      maxUnitsPerCore: Math.max(0, ...list.map((k) => cores[k]!.units)),
      maxSynapseBytesPerCore: Math.max(0, ...list.map((k) => cores[k]!.synapseBytes)),
    })),
    chips: chipIds.map((id) => {
      const on = cores.filter((c) => c.chip === id);
      return {
        chip: [nodeX(chipGrid, id), nodeY(chipGrid, id)] as [number, number],
        cores: on.length,
        groups: [...new Set(on.map((c) => c.group))].sort((a, b) => a - b).map((g) => groupName(shape, g)),
      };
    }),
  };
}

/** Chips of the grid nearest to `from` (ties: chip order), `n` of them. */
export function nearestChips(layout: Layout, from: number, n: number): number[] {
  const rank = new Map(layout.chipOrder.map((c, i) => [c, i]));
  return [...layout.chipOrder]
    .sort((a, b) => distance(layout.chipGrid, from, a) - distance(layout.chipGrid, from, b) || rank.get(a)! - rank.get(b)!)
    .slice(0, n);
}

export function fmtBytes(b: number): string {
  if (b < 1024) return `${Math.round(b * 10) / 10} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(1)} MiB`;
}
