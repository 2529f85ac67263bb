/**
 * Hardware presets: every number carries its source; a number without a public source is marked as an
 * assumption, and reports list those marks. docs/hardware.md lists every value with its source.
 * Units: bytes, bits, joules, seconds, bytes/second, watts.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BUILTIN, type PresetDef } from './builtin-presets.js';
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
  /** `count`: positive integer; `int`: integer ≥ 0; `flag`: 0 or 1; `positive`: > 0; `nonneg`: ≥ 0. */
  kind: 'count' | 'int' | 'flag' | 'positive' | 'nonneg';
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
  energyPerPacket: { unit: 'J', kind: 'nonneg', default: 0, what: 'energy per event packet sent, at the source core (axon out)' },
  timePerPacket: { unit: 's', kind: 'nonneg', default: 0, what: 'source-core time per event packet sent' },
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
  staticPowerPerChip: { unit: 'W', kind: 'nonneg', default: 0, what: 'static (idle) power per chip used' },
  staticPowerPerCore: { unit: 'W', kind: 'nonneg', default: 0, what: 'static power per core used (on top of the chip\'s)' },
  payloadBits: { unit: 'bit', kind: 'int', default: 32, what: 'graded payload an event packet can carry (0 = binary spikes only)' },
  nativeGates: { unit: 'flag', kind: 'flag', default: 1, what: '1 when the cores compute the sigmoid and tanh gates themselves' },
  hostCoresPerChip: { unit: 'cores', kind: 'int', default: 0, what: 'embedded CPU cores per chip that can compute the gates instead' },
  timePerHostGate: { unit: 's', kind: 'nonneg', default: 0, what: 'embedded-CPU time per EGRU unit update (gates on the CPU)' },
  energyPerHostGate: { unit: 'J', kind: 'nonneg', default: 0, what: 'embedded-CPU energy per EGRU unit update (gates on the CPU)' },
  maxFanIn: { unit: 'axons', kind: 'int', default: 0, what: 'distinct inputs (axons) per core (0 = limited by synapse memory only)' },
  maxFanOut: { unit: 'cores', kind: 'int', default: 0, what: 'destination cores one neuron can reach (0 = multicast to any number)' },
  routerEntries: { unit: 'entries', kind: 'int', default: 0, what: 'routing-table entries per chip (0 = not limited)' },
  hostBandwidth: { unit: 'B/s', kind: 'nonneg', default: 0, what: 'host-to-board input link bandwidth (0 = not modelled)' },
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
const NEUTRAL_DEFAULTS = new Set<ParamName>(['nodesX', 'nodesY', 'tick', 'energyPerPacket', 'timePerPacket', 'payloadBits', 'nativeGates', 'hostCoresPerChip', 'maxFanIn', 'maxFanOut', 'routerEntries', 'hostBandwidth']);

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
  if (spec.kind === 'int' && !Number.isInteger(value)) throw new HardwareError(`${where}: field "${k}" must be a whole number, got ${value}`);
  if (spec.kind === 'flag' && value !== 0 && value !== 1) throw new HardwareError(`${where}: field "${k}" must be 0 or 1, got ${value}`);
  if ((spec.kind === 'count' || spec.kind === 'int') && value > MAX_COUNT) throw new HardwareError(`${where}: field "${k}" must be at most ${MAX_COUNT}, got ${value}`);
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

/**
 * Packets (and synapses per weight) one graded value of `gradedBits` needs on the preset: 1 when a packet's payload
 * holds it, one per bit on binary-spike chips, ⌈bits / payload⌉ otherwise.
 */
export function packetsPerValue(preset: Preset, gradedBits: number): number {
  if (!Number.isInteger(gradedBits) || gradedBits < 1 || gradedBits > 32) throw new HardwareError(`graded bits must be an integer in 1..32, got ${gradedBits}`);
  const payload = pv(preset, 'payloadBits');
  if (payload >= gradedBits) return 1;
  return payload === 0 ? gradedBits : Math.ceil(gradedBits / payload);
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
