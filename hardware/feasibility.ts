/**
 * Can the preset run this EGRU at all? Checks graded payloads, gate nonlinearities, synapse memory, fan-in, fan-out
 * and routing tables (the placement refuses a core over its synapse memory or neurons; here the fullest core is shown). Where a chip lacks a
 * feature but a workaround exists — a graded value sent as several binary spikes, the gates computed on the chip's
 * embedded CPUs — the workaround is named and its cost is charged by the emulator. Model: docs/hardware.md.
 */
import { HardwareError } from './errors.js';
import { fmtBytes, groupName, type Placement } from './placement.js';
import { packetsPerValue, pv, type Preset } from './presets.js';
import { consumerCores, route } from './routing.js';
import { linkTarget, nodeX, nodeY } from './topology.js';
import { si } from './format.js';
import type { NetworkShape } from './trace.js';

export type CheckStatus = 'ok' | 'workaround' | 'fails';

export interface FeasibilityCheck {
  check: 'graded payload' | 'gate nonlinearities' | 'memory per core' | 'fan-in' | 'fan-out' | 'router entries';
  status: CheckStatus;
  /** Why, in one sentence; for a workaround, what it is and what it costs. */
  detail: string;
}

export interface Feasibility {
  verdict: 'runs as is' | 'runs with workarounds' | 'cannot run';
  checks: FeasibilityCheck[];
  /** Bits of the graded values (event outputs y, input items) the network needs. */
  gradedBits: number;
  /** Packets (and synapses) per graded value: 1, or more with the binary-spike workaround. */
  packetsPerEvent: number;
  /** The sigmoid and tanh gates run on the chip's embedded CPUs (workaround). */
  gatesOnHost: boolean;
}

/** Thrown when a preset cannot run the network; `feasibility` says why (the message is one line). */
export class InfeasibleError extends HardwareError {
  constructor(readonly preset: string, readonly feasibility: Feasibility, message: string) {
    super(message);
  }
}

export interface FeasibilityOptions {
  /** Bits per graded value (default 8). */
  gradedBits?: number;
  /** Allow workarounds (default true); false refuses a chip that needs one. */
  workarounds?: boolean;
}

/** The graded-payload check and the packets per graded value (the placement stores as many synapses per weight). */
export function payloadPlan(preset: Preset, gradedBits: number): { packetsPerEvent: number; check: FeasibilityCheck } {
  const packets = packetsPerValue(preset, gradedBits);
  const payload = pv(preset, 'payloadBits');
  if (packets === 1) {
    return { packetsPerEvent: 1, check: { check: 'graded payload', status: 'ok', detail: `a packet carries ${payload} payload bits, the graded value needs ${gradedBits}` } };
  }
  const how = payload === 0
    ? `binary spikes only: each ${gradedBits}-bit graded value is sent as ${packets} spikes on ${packets} axons weighted 1, 2, 4, …`
    : `a packet carries ${payload} of the ${gradedBits} graded bits: each value is sent as ${packets} packets on ${packets} axons`;
  return { packetsPerEvent: packets, check: { check: 'graded payload', status: 'workaround', detail: `${how} (${packets}× packets, hops, synaptic ops and synapse memory)` } };
}

/** The gate check: the cores compute sigmoid/tanh, or the embedded CPUs do (workaround), or nothing can. */
export function gatePlan(preset: Preset): { gatesOnHost: boolean; check: FeasibilityCheck } {
  if (pv(preset, 'nativeGates') === 1) return { gatesOnHost: false, check: { check: 'gate nonlinearities', status: 'ok', detail: 'the cores compute sigmoid and tanh' } };
  const cpus = pv(preset, 'hostCoresPerChip');
  if (cpus > 0) {
    return {
      gatesOnHost: true,
      check: {
        check: 'gate nonlinearities',
        status: 'workaround',
        detail: `no sigmoid/tanh in the cores: the gates of every unit run on the chip's ${cpus} embedded CPUs (${si(pv(preset, 'timePerHostGate'), 's')}, ${si(pv(preset, 'energyPerHostGate'), 'J')} per unit update)`,
      },
    };
  }
  return { gatesOnHost: false, check: { check: 'gate nonlinearities', status: 'fails', detail: 'no sigmoid/tanh in the cores and no embedded CPU to compute them' } };
}

/**
 * Every check for a placed network. `payload` and `gates` come from payloadPlan and gatePlan (the placement was
 * made with the payload plan's synapses per weight).
 */
export function assessFeasibility(shape: NetworkShape, placement: Placement, preset: Preset, gradedBits: number): Feasibility {
  const payload = payloadPlan(preset, gradedBits);
  const gates = gatePlan(preset);
  const checks = [payload.check, gates.check, memoryCheck(placement, preset), fanInCheck(shape, preset, payload.packetsPerEvent), fanOutCheck(placement, preset), routerCheck(placement, preset)];
  const verdict = checks.some((c) => c.status === 'fails') ? 'cannot run' : checks.some((c) => c.status === 'workaround') ? 'runs with workarounds' : 'runs as is';
  return { verdict, checks, gradedBits, packetsPerEvent: payload.packetsPerEvent, gatesOnHost: gates.gatesOnHost };
}

/** Throws an InfeasibleError (one line naming every failed check) when the network cannot run as asked. */
export function requireFeasible(preset: Preset, f: Feasibility, workarounds: boolean): void {
  const failed = f.checks.filter((c) => c.status === 'fails');
  if (failed.length > 0) {
    throw new InfeasibleError(preset.name, f, `${preset.name} cannot run this EGRU: ${failed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`);
  }
  const needed = f.checks.filter((c) => c.status === 'workaround');
  if (!workarounds && needed.length > 0) {
    throw new InfeasibleError(preset.name, f, `${preset.name} runs this EGRU only with workarounds (not allowed): ${needed.map((c) => `${c.check}: ${c.detail}`).join('; ')}`);
  }
}

/** Synapse memory: the placement refuses a core over the limit, so here it is reported (the fullest core). */
function memoryCheck(placement: Placement, preset: Preset): FeasibilityCheck {
  const fullest = Math.max(...placement.cores.map((c) => c.synapseBytes));
  return { check: 'memory per core', status: 'ok', detail: `the fullest core holds ${fmtBytes(fullest)} of synapses, a core has ${fmtBytes(pv(preset, 'memoryPerCore'))}` };
}

/** Distinct inputs (axons) of a core: one per input of its units' weight columns, times the axons per value. */
function fanInCheck(shape: NetworkShape, preset: Preset, axonsPerValue: number): FeasibilityCheck {
  const limit = pv(preset, 'maxFanIn');
  const L = shape.layers.length;
  let worst = 0;
  let where = '';
  for (let g = 0; g <= L; g++) {
    const inputs = (g === L ? shape.layers[L - 1]! : (g === 0 ? shape.inputSize : shape.layers[g - 1]!) + shape.layers[g]!) * axonsPerValue;
    if (inputs > worst) [worst, where] = [inputs, groupName(shape, g)];
  }
  if (limit === 0) return { check: 'fan-in', status: 'ok', detail: `no axon limit per core (${where} needs ${worst} inputs)` };
  if (worst <= limit) return { check: 'fan-in', status: 'ok', detail: `${where} needs ${worst} input axons per core, the core has ${limit}` };
  return { check: 'fan-in', status: 'fails', detail: `a core of ${where} needs ${worst} input axons, the core has ${limit} (splitting a unit's sum over cores is not modelled)` };
}

/** Destination cores of one event against the cores one neuron can reach. */
function fanOutCheck(placement: Placement, preset: Preset): FeasibilityCheck {
  const limit = pv(preset, 'maxFanOut');
  const L = placement.shape.layers.length;
  let worst = 0;
  let layer = 0;
  for (let l = 0; l < L; l++) {
    const n = consumerCores(placement, l, true).length; // readout `last` too: it is reached at the last step
    if (n > worst) [worst, layer] = [n, l];
  }
  if (limit === 0) return { check: 'fan-out', status: 'ok', detail: `multicast: an event of layer ${layer} reaches ${worst} cores` };
  if (worst <= limit) return { check: 'fan-out', status: 'ok', detail: `an event of layer ${layer} reaches ${worst} cores, a neuron can reach ${limit}` };
  return { check: 'fan-out', status: 'fails', detail: `an event of layer ${layer} must reach ${worst} cores, a neuron reaches ${limit} (splitter neurons that copy it are not modelled)` };
}

/**
 * Routing-table entries per chip: one per source core (and one for the input) whose multicast tree visits the chip.
 * An upper bound: default routing (a packet passing straight through) needs no entry on SpiNNaker.
 */
function routerCheck(placement: Placement, preset: Preset): FeasibilityCheck {
  const limit = pv(preset, 'routerEntries');
  if (limit === 0) return { check: 'router entries', status: 'ok', detail: 'no routing-table limit modelled' };
  const L = placement.shape.layers.length;
  const perChip = new Map<number, number>();
  const count = (chips: Set<number>): void => {
    for (const c of chips) perChip.set(c, (perChip.get(c) ?? 0) + 1);
  };
  const visited = (src: number, links: number[]): Set<number> => new Set([src, ...links.map((id) => linkTarget(placement.chipGrid, id))]);
  for (let l = 0; l < L; l++) {
    const dests = consumerCores(placement, l, true);
    for (const k of placement.groupCores[l]!) count(visited(placement.cores[k]!.chip, route(placement, preset, { core: k }, dests).links));
  }
  count(visited(placement.inputChip, route(placement, preset, { chip: placement.inputChip }, placement.groupCores[0]!).links));
  let worst = 0;
  let chip = 0;
  for (const [c, n] of perChip) if (n > worst || (n === worst && c < chip)) [worst, chip] = [n, c];
  const at = `(${nodeX(placement.chipGrid, chip)},${nodeY(placement.chipGrid, chip)})`;
  if (worst <= limit) return { check: 'router entries', status: 'ok', detail: `at most ${worst} routing entries on a chip (${at}), a router has ${limit}` };
  return { check: 'router entries', status: 'fails', detail: `chip ${at} needs ${worst} routing entries, its router has ${limit}` };
}
