/**
 * Hardware presets: every number carries its source; a number without a public source is marked as an
 * assumption, and reports list those marks. docs/hardware.md lists every value with its source.
 * Units: bytes, bits, joules, seconds, bytes/second, watts.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { HardwareError } from './errors.js';

/** One number with where it comes from. */
export interface Sourced {
  value: number;
  source: string;
  /** True when no public figure exists and the value is a documented guess. */
  assumption: boolean;
}

export type Topology = 'mesh' | 'torus';

interface ParamSpec {
  unit: string;
  /** `count`: positive integer; `positive`: > 0; `nonneg`: ≥ 0. */
  kind: 'count' | 'positive' | 'nonneg';
  /** Absent = required; otherwise the default taken when a preset file leaves the field out. */
  default?: number;
  what: string;
}

/** The numeric preset fields, their units and meaning. */
export const PARAMETERS = {
  chipsX: { unit: 'chips', kind: 'count', what: 'chips along X of the chip grid' },
  chipsY: { unit: 'chips', kind: 'count', what: 'chips along Y of the chip grid' },
  coresPerChip: { unit: 'cores', kind: 'count', what: 'cores per chip available to the application' },
  nodesX: { unit: 'routers', kind: 'count', default: 1, what: 'on-chip router mesh width (1 = one router per chip)' },
  nodesY: { unit: 'routers', kind: 'count', default: 1, what: 'on-chip router mesh height' },
  neuronsPerCore: { unit: 'neurons', kind: 'count', what: 'neurons (EGRU units) per core' },
  memoryPerCore: { unit: 'B', kind: 'positive', what: 'synapse memory per core' },
  packetBits: { unit: 'bit', kind: 'count', what: 'bits per event packet, graded payload included' },
  energyPerSynapticOp: { unit: 'J', kind: 'nonneg', what: 'energy per synaptic operation' },
  energyPerNeuronUpdate: { unit: 'J', kind: 'nonneg', what: 'energy per neuron update' },
  energyPerOnChipHop: { unit: 'J', kind: 'nonneg', what: 'energy per packet per on-chip router pass' },
  energyPerChipHop: { unit: 'J', kind: 'nonneg', what: 'energy per packet per chip-to-chip link traversal' },
  linkBandwidth: { unit: 'B/s', kind: 'positive', what: 'bandwidth of one chip-to-chip link, one direction' },
  timePerSynapticOp: { unit: 's', kind: 'nonneg', what: 'core time per synaptic operation' },
  timePerNeuronUpdate: { unit: 's', kind: 'nonneg', what: 'core time per neuron update' },
  latencyOnChipHop: { unit: 's', kind: 'nonneg', what: 'latency per on-chip router pass' },
  latencyChipHop: { unit: 's', kind: 'nonneg', what: 'latency per chip-to-chip hop' },
  latencyBarrier: { unit: 's', kind: 'nonneg', what: 'end-of-step barrier on one chip' },
  latencyBarrierPerDoubling: { unit: 's', kind: 'nonneg', default: 0, what: 'extra barrier latency per doubling of chips used' },
  tick: { unit: 's', kind: 'nonneg', default: 0, what: 'fixed step time (0 = none: a step lasts as long as it needs)' },
  staticPowerPerChip: { unit: 'W', kind: 'nonneg', default: 0, what: 'idle power per chip used' },
  staticPowerPerCore: { unit: 'W', kind: 'nonneg', default: 0, what: 'idle power per core used' },
} as const satisfies Record<string, ParamSpec>;

export type ParamName = keyof typeof PARAMETERS;
export const PARAMETER_NAMES = Object.keys(PARAMETERS) as ParamName[];

export interface Preset {
  name: string;
  description: string;
  topology: Topology;
  topologySource: string;
  params: Record<ParamName, Sourced>;
}

/** The value of one preset parameter. */
export function pv(preset: Preset, name: ParamName): number {
  return preset.params[name].value;
}

// ---------------------------------------------------------------------------------------------------------
// Built-in presets. `a(...)` marks an assumption; "(public)" a published figure. Shared citations:
const KERAS_SPIKING = 'keras-spiking device table, citing Höppner et al. 2019 (arXiv:1903.08941)';
const SANAFE = 'SANA-FE arch/loihi.yaml, after Davies et al. 2018';
const p = (value: number, source: string): Sourced => ({ value, source, assumption: false });
const a = (value: number, source: string): Sourced => ({ value, source, assumption: true });

type PresetDef = Omit<Preset, 'params'> & { params: Record<ParamName, Sourced> };

const SPINNAKER1: PresetDef = {
  name: 'spinnaker1',
  description: 'SpiNNaker 1, one SpiNN-5 board (48 chips × 16 application ARM968 cores)',
  topology: 'mesh',
  topologySource: 'one board is not wrapped; a multi-board machine is a torus (use a custom preset with "topology": "torus")',
  params: {
    chipsX: a(8, '48 chips per SpiNN-5 board (public); laid out as an 8×6 mesh with XY routing, the hexagonal 6-link topology approximated'),
    chipsY: a(6, 'see chipsX'),
    coresPerChip: p(16, '18 ARM968 cores per chip, 16 for applications (SpiNNaker architecture)'),
    nodesX: p(1, 'one multicast router per chip (SpiNNaker architecture)'),
    nodesY: p(1, 'one multicast router per chip (SpiNNaker architecture)'),
    neuronsPerCore: p(256, 'sPyNNaker default of 256 neurons per core'),
    memoryPerCore: p(8 * 1024 * 1024, 'derived: 128 MB SDRAM per chip (synaptic matrices live in SDRAM) shared by 16 cores; 64 KB DTCM holds neuron state'),
    packetBits: p(72, '40-bit multicast packet with 32-bit payload (SpiNNaker architecture)'),
    energyPerSynapticOp: p(13.3e-9, KERAS_SPIKING),
    energyPerNeuronUpdate: p(26e-9, KERAS_SPIKING),
    energyPerOnChipHop: p(1.8e-9, '25 pJ per bit per router × 72 bit (SpiNNMachine version_spin1.py, after Painkras et al. 2013)'),
    energyPerChipHop: a(1.8e-9, 'none public; a link traversal assumed to cost as much as a router pass (the receiving router is counted as an on-chip hop)'),
    linkBandwidth: a(250e6 / 8, '≈250 Mbit/s per link, weak source'),
    timePerSynapticOp: a(50e-9, 'none public; ≈10 cycles at 200 MHz per synapse'),
    timePerNeuronUpdate: a(1e-6, 'none public; ≈200 cycles at 200 MHz for an EGRU unit (two sigmoids, one tanh in fixed point)'),
    latencyOnChipHop: a(0.1e-6, 'none public; ≈0.1 µs per router pass'),
    latencyChipHop: a(0.2e-6, 'none public; ≈0.2 µs per chip-to-chip hop'),
    latencyBarrier: p(0, 'no global barrier: every core runs on its own 1 ms timer'),
    latencyBarrierPerDoubling: p(0, 'no global barrier'),
    tick: p(1e-3, '1 ms real-time tick (public)'),
    staticPowerPerChip: p(0.35, 'idle chip 0.35 W (public)'),
    staticPowerPerCore: p(0.034, '0.034 W per active core (public)'),
  },
};

const SPINNAKER2: PresetDef = {
  name: 'spinnaker2',
  description: 'SpiNNaker 2, one 48-chip board (152 ARM Cortex-M4F PEs per chip)',
  topology: 'mesh',
  topologySource: 'one board; layout assumed',
  params: {
    chipsX: a(8, '48 chips per board (public); 8×6 mesh layout assumed'),
    chipsY: a(6, 'see chipsX'),
    coresPerChip: p(152, '152 ARM Cortex-M4F processing elements (public)'),
    nodesX: a(8, 'none public; 38 quad-PE routers assumed on an 8×5 mesh, 4 PEs each'),
    nodesY: a(5, 'see nodesX'),
    neuronsPerCore: a(256, 'set by software; the sPyNNaker default of SpiNNaker 1 assumed'),
    memoryPerCore: p(128 * 1024, '128 KB SRAM per PE (public); weights assumed in PE SRAM, DRAM not modelled'),
    packetBits: a(72, 'none public; SpiNNaker 1 value'),
    energyPerSynapticOp: p(450e-12, 'Höppner et al. 2019, 28 nm prototype, via the keras-spiking device table'),
    energyPerNeuronUpdate: p(2.19e-9, 'Höppner et al. 2019, 28 nm prototype, via the keras-spiking device table'),
    energyPerOnChipHop: a(1.8e-9, 'none public; SpiNNaker 1 value (an upper bound: older process)'),
    energyPerChipHop: a(1.8e-9, 'none public; SpiNNaker 1 value'),
    linkBandwidth: a(250e6 / 8, 'none public; SpiNNaker 1 value (likely far too low)'),
    timePerSynapticOp: a(10e-9, 'none public; ≈3 cycles at 300 MHz per synapse'),
    timePerNeuronUpdate: a(0.2e-6, 'none public; ≈60 cycles at 300 MHz with FPU'),
    latencyOnChipHop: a(0.1e-6, 'none public; SpiNNaker 1 value'),
    latencyChipHop: a(0.2e-6, 'none public; SpiNNaker 1 value'),
    latencyBarrier: p(0, 'no global barrier, a timer per PE (public)'),
    latencyBarrierPerDoubling: p(0, 'no global barrier'),
    tick: a(1e-3, 'none public; the 1 ms real-time tick of SpiNNaker 1 assumed'),
    staticPowerPerChip: a(0, 'none public; not counted'),
    staticPowerPerCore: a(0, 'none public; not counted'),
  },
};

const LOIHI1: PresetDef = {
  name: 'loihi1',
  description: 'Intel Loihi (1st generation), Nahuku board (32 chips × 128 neurocores)',
  topology: 'mesh',
  topologySource: 'Loihi chips extend the on-chip mesh across chips',
  params: {
    chipsX: a(8, 'Nahuku: 8–32 chips (public); 8×4 layout assumed'),
    chipsY: a(4, 'see chipsX'),
    coresPerChip: p(128, '128 neurocores (public)'),
    nodesX: p(8, `8×4 tiles of 4 cores (${SANAFE})`),
    nodesY: p(4, `8×4 tiles of 4 cores (${SANAFE})`),
    neuronsPerCore: p(1024, '1,024 compartments per core (public)'),
    memoryPerCore: p(128 * 1024, 'derived: 16 MB synaptic memory per chip / 128 cores'),
    packetBits: a(64, 'none public; 32-bit spike message (4 bytes) + 32-bit payload — Loihi 1 spikes carry no graded value'),
    energyPerSynapticOp: p(23.6e-12, 'Davies et al. 2018, pre-silicon (SANA-FE fits 35.5 pJ to a board)'),
    energyPerNeuronUpdate: p(81e-12, 'Davies et al. 2018, active neuron update'),
    energyPerOnChipHop: p(3.6e-12, `derived: mean of 3.0 pJ east-west and 4.2 pJ north-south per hop; 1.7 pJ within a tile (${SANAFE})`),
    energyPerChipHop: a(100e-12, 'none public; ≈1.6 pJ/bit for a 64-bit packet, typical short-reach chip-to-chip I/O'),
    linkBandwidth: a(4.3e9 / 4, 'none public; the Loihi 2 per-link figure assumed'),
    timePerSynapticOp: p(4.0e-9, SANAFE),
    timePerNeuronUpdate: p(9.7e-9, SANAFE),
    latencyOnChipHop: p(5.3e-9, `derived: mean of 4.1 ns east-west and 6.5 ns north-south (${SANAFE})`),
    latencyChipHop: a(100e-9, 'none public'),
    latencyBarrier: p(0.6e-6, 'SANA-FE: 0.6 µs on one chip'),
    latencyBarrierPerDoubling: p(0.4e-6, 'derived: SANA-FE 0.6/1.0/1.4/1.8 µs on 1/2/4/29 chips (fit exact to 4 chips, over-estimates beyond)'),
    tick: p(0, 'none: Loihi steps are barrier-synchronised, a step lasts as long as it needs'),
    staticPowerPerChip: a(0, 'none public; not counted'),
    staticPowerPerCore: a(0, 'none public; not counted'),
  },
};

const LOIHI2: PresetDef = {
  name: 'loihi2',
  description: 'Intel Loihi 2, Kapoho Point board (8 chips × 128 neurocores)',
  topology: 'mesh',
  topologySource: 'layout assumed',
  params: {
    chipsX: a(4, 'Kapoho Point: 8 chips (public); 4×2 layout assumed'),
    chipsY: a(2, 'see chipsX'),
    coresPerChip: p(128, '128 neurocores + 6 Lakemont cores (public)'),
    nodesX: a(8, 'none public; the 8×4 tile mesh of Loihi 1 assumed'),
    nodesY: a(4, 'see nodesX'),
    neuronsPerCore: p(8192, 'up to 8,192 neurons per core (public)'),
    memoryPerCore: p(192 * 1024, '192 KB per core (public); all counted as synapse memory'),
    packetBits: a(64, 'graded spikes carry up to a 32-bit payload (public); 32-bit header assumed'),
    energyPerSynapticOp: a(23.6e-12, 'none public; Loihi 1 value'),
    energyPerNeuronUpdate: a(81e-12, 'none public; Loihi 1 value'),
    energyPerOnChipHop: a(3.6e-12, 'none public; Loihi 1 value'),
    energyPerChipHop: a(100e-12, 'none public; as for Loihi 1'),
    linkBandwidth: a(4.3e9 / 4, 'derived: Hala Point 5 TB/s chip-to-chip over 1,152 chips ≈ 4.3 GB/s per chip, split evenly over 4 links (assumed)'),
    timePerSynapticOp: a(4.0e-9, 'none public; Loihi 1 value'),
    timePerNeuronUpdate: a(9.7e-9, 'none public; Loihi 1 value'),
    latencyOnChipHop: a(5.3e-9, 'none public; Loihi 1 value'),
    latencyChipHop: a(100e-9, 'none public'),
    latencyBarrier: a(0.6e-6, 'none public; Loihi 1 value'),
    latencyBarrierPerDoubling: a(0.4e-6, 'none public; Loihi 1 value'),
    tick: p(0, 'none: barrier-synchronised steps'),
    staticPowerPerChip: a(0, 'none public; not counted'),
    staticPowerPerCore: a(0, 'none public; not counted'),
  },
};

const TRUENORTH: PresetDef = {
  name: 'truenorth',
  description: 'IBM TrueNorth, 16-chip board (4,096 cores of 256 neurons per chip)',
  topology: 'mesh',
  topologySource: 'chips tile into one larger mesh',
  params: {
    chipsX: a(4, '16-chip board (public); 4×4 layout assumed'),
    chipsY: a(4, 'see chipsX'),
    coresPerChip: p(4096, '64×64 cores (Merolla et al. 2014)'),
    nodesX: p(64, 'one router per core, 64×64 mesh (Merolla et al. 2014)'),
    nodesY: p(64, 'one router per core, 64×64 mesh (Merolla et al. 2014)'),
    neuronsPerCore: p(256, '256 neurons, 256×256 crossbar (Merolla et al. 2014)'),
    memoryPerCore: p(8192, 'derived: 256×256 binary crossbar = 64 Kbit per core, here filled at the configured weight bits'),
    packetBits: a(64, 'none public; spikes carry no payload — 32-bit address + 32-bit graded value assumed'),
    energyPerSynapticOp: p(26e-12, 'Merolla et al. 2014: whole-chip power over synaptic events (includes static power and routing)'),
    energyPerNeuronUpdate: a(0, 'included in the 26 pJ per synaptic event figure'),
    energyPerOnChipHop: a(0, 'included in the 26 pJ per synaptic event figure'),
    energyPerChipHop: a(0, 'none public; not counted (under-counts multi-chip traffic)'),
    linkBandwidth: a(1e9 / 8, 'none public; 1 Gbit/s assumed'),
    timePerSynapticOp: a(15e-9, 'none public; 1 ms tick ÷ 256×256 crossbar (a fully loaded core)'),
    timePerNeuronUpdate: a(10e-9, 'none public'),
    latencyOnChipHop: a(10e-9, 'none public'),
    latencyChipHop: a(100e-9, 'none public'),
    latencyBarrier: p(0, 'global 1 kHz tick, no barrier messages'),
    latencyBarrierPerDoubling: p(0, 'global tick'),
    tick: p(1e-3, '1 ms tick (Merolla et al. 2014)'),
    staticPowerPerChip: a(0, '65 mW per chip already inside the 26 pJ per synaptic event figure'),
    staticPowerPerCore: a(0, 'included in the 26 pJ per synaptic event figure'),
  },
};

const BUILTIN: Record<string, PresetDef> = {
  spinnaker1: SPINNAKER1,
  spinnaker2: SPINNAKER2,
  loihi1: LOIHI1,
  loihi2: LOIHI2,
  truenorth: TRUENORTH,
};

/** Names of the built-in presets. */
export const PRESETS: readonly string[] = Object.freeze(Object.keys(BUILTIN));

function clonePreset(def: PresetDef): Preset {
  const params = {} as Record<ParamName, Sourced>;
  for (const k of PARAMETER_NAMES) params[k] = { ...def.params[k] };
  return { name: def.name, description: def.description, topology: def.topology, topologySource: def.topologySource, params };
}

/** A built-in preset by name (a fresh copy). */
export function loadPreset(name: string): Preset {
  const def = Object.hasOwn(BUILTIN, name) ? BUILTIN[name] : undefined; // not `toString` & co. of the prototype
  if (!def) throw new HardwareError(`unknown hardware preset "${name}"; known: ${PRESETS.join(', ')} (or a JSON preset file)`);
  return clonePreset(def);
}

const TOP_KEYS = new Set(['name', 'description', 'extends', 'topology']);
/** Bounds that keep the emulator's per-chip and per-router tables allocatable (no real system comes close). */
const MAX_COUNT = 1 << 24;
const MAX_ROUTERS = 1 << 24;
/** Defaults that describe a plain design (one router per chip, no fixed tick) rather than a guessed figure. */
const NEUTRAL_DEFAULTS = new Set<ParamName>(['nodesX', 'nodesY', 'tick']);

/**
 * A preset from a parsed JSON object. Each numeric field is a number or `{ "value": n, "source": "…",
 * "assumption": true|false }` (a source starting with "assumption" also marks one); `"extends": "loihi2"`
 * takes the fields left out from a built-in preset. `origin` names the object in messages and plain sources.
 */
export function parsePreset(obj: unknown, origin = 'custom preset'): Preset {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new HardwareError(`${origin}: a preset must be a JSON object`);
  const o = obj as Record<string, unknown>;
  const name = o.name === undefined ? origin : o.name;
  if (typeof name !== 'string' || name === '') throw new HardwareError(`${origin}: "name" must be a non-empty string`);
  const where = `preset "${name}"`;
  for (const k of Object.keys(o)) {
    if (!TOP_KEYS.has(k) && !Object.hasOwn(PARAMETERS, k)) throw new HardwareError(`${where}: unknown field "${k}"`);
  }
  let base: Preset | undefined;
  if (o.extends !== undefined) {
    if (typeof o.extends !== 'string' || !Object.hasOwn(BUILTIN, o.extends)) {
      throw new HardwareError(`${where}: "extends" must name a built-in preset (${PRESETS.join(', ')}), got ${JSON.stringify(o.extends)}`);
    }
    base = loadPreset(o.extends);
  }
  if (o.description !== undefined && typeof o.description !== 'string') throw new HardwareError(`${where}: "description" must be a string`);

  let topology: Topology;
  let topologySource: string;
  const topo = o.topology;
  if (topo === undefined) {
    if (!base) throw new HardwareError(`${where}: field "topology" is missing (mesh or torus)`);
    topology = base.topology;
    topologySource = base.topologySource;
  } else {
    const t = typeof topo === 'object' && topo !== null ? (topo as Record<string, unknown>).value : topo;
    if (t !== 'mesh' && t !== 'torus') throw new HardwareError(`${where}: "topology" must be "mesh" or "torus", got ${JSON.stringify(t)}`);
    topology = t;
    const src = typeof topo === 'object' && topo !== null ? (topo as Record<string, unknown>).source : undefined;
    topologySource = typeof src === 'string' ? src : origin;
  }

  const params = {} as Record<ParamName, Sourced>;
  for (const k of PARAMETER_NAMES) {
    const spec: ParamSpec = PARAMETERS[k];
    const raw = o[k];
    if (raw === undefined) {
      if (base) params[k] = base.params[k];
      else if (spec.default !== undefined) params[k] = { value: spec.default, source: `default ${spec.default} (not given)`, assumption: !NEUTRAL_DEFAULTS.has(k) };
      else throw new HardwareError(`${where}: field "${k}" is missing (${spec.what}, in ${spec.unit})`);
      continue;
    }
    params[k] = parseSourced(raw, k, spec, where, origin);
  }
  const routers = params.chipsX.value * params.chipsY.value * params.nodesX.value * params.nodesY.value;
  if (routers > MAX_ROUTERS)
    throw new HardwareError(`${where}: chipsX × chipsY × nodesX × nodesY = ${routers} routers, more than the ${MAX_ROUTERS} the emulator models`);
  return {
    name,
    description: typeof o.description === 'string' ? o.description : base ? `${base.description} (modified by ${origin})` : origin,
    topology,
    topologySource,
    params,
  };
}

function parseSourced(raw: unknown, k: ParamName, spec: ParamSpec, where: string, origin: string): Sourced {
  let value: unknown = raw;
  let source = origin;
  let assumption = false;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (key !== 'value' && key !== 'source' && key !== 'assumption') throw new HardwareError(`${where}: field "${k}" has an unknown key "${key}"`);
    }
    if (!('value' in r)) throw new HardwareError(`${where}: field "${k}" has no "value"`);
    value = r.value;
    if (r.source !== undefined) {
      if (typeof r.source !== 'string') throw new HardwareError(`${where}: field "${k}": "source" must be a string`);
      source = r.source;
    }
    if (r.assumption !== undefined) {
      if (typeof r.assumption !== 'boolean') throw new HardwareError(`${where}: field "${k}": "assumption" must be true or false`);
      assumption = r.assumption;
    }
    if (/^assum/i.test(source)) assumption = true;
  }
  if (value === null && k === 'tick') value = 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new HardwareError(`${where}: field "${k}" must be a number (${spec.unit}), got ${JSON.stringify(value)}`);
  }
  if (value < 0) throw new HardwareError(`${where}: field "${k}" must not be negative, got ${value}`);
  if (spec.kind === 'count' && (!Number.isInteger(value) || value < 1)) {
    throw new HardwareError(`${where}: field "${k}" must be a positive integer, got ${value}`);
  }
  if (spec.kind === 'count' && value > MAX_COUNT) throw new HardwareError(`${where}: field "${k}" must be at most ${MAX_COUNT}, got ${value}`);
  if (spec.kind === 'positive' && value === 0) throw new HardwareError(`${where}: field "${k}" must be greater than 0`);
  return { value, source, assumption };
}

/** Reads and parses a JSON preset file (the only file I/O of the hardware package). */
export function loadPresetFile(path: string): Preset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HardwareError(`cannot read preset file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new HardwareError(`preset file ${path} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return parsePreset(obj, basename(path));
}

/** A preset given by object or name: names of built-ins are looked up; anything else is refused. */
export function resolvePreset(preset: Preset | string): Preset {
  return typeof preset === 'string' ? loadPreset(preset) : preset;
}

/** The parameters marked as assumptions. */
export function presetAssumptions(preset: Preset): Array<{ parameter: ParamName; value: number; source: string }> {
  return PARAMETER_NAMES.filter((k) => preset.params[k].assumption).map((k) => ({ parameter: k, value: preset.params[k].value, source: preset.params[k].source }));
}

/** The preset as a plain JSON object in the file format (round-trips through parsePreset). */
export function presetToJSON(preset: Preset): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: preset.name,
    description: preset.description,
    topology: { value: preset.topology, source: preset.topologySource },
  };
  for (const k of PARAMETER_NAMES) out[k] = { ...preset.params[k] };
  return out;
}
