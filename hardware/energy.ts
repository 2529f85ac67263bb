/**
 * The one energy model of every preset: static power × time plus dynamic energy per counted operation.
 * The same function prices a whole run and a single step, so the per-step series sums to the totals.
 */
import type { Placement } from './placement.js';
import { pv, type Preset } from './presets.js';

/** Joules. routingChipToChip = chip-link hops + router passes on chips reached over a link. */
export interface Energy {
  synapses: number;
  neurons: number;
  /** Gates computed on embedded CPUs (workaround). */
  hostGates: number;
  /** Packets sent by cores (axon out); the host's input packets are not charged. */
  packetsSent: number;
  routingOnChip: number;
  routingChipToChip: number;
  routing: number;
  dynamic: number;
  static: number;
  total: number;
}

/** Joules per operation, and the static power (W) of the chips and cores the placement uses. */
export interface Prices {
  synapticOp: number;
  neuronUpdate: number;
  hostGate: number;
  packet: number;
  onChipHop: number;
  chipHop: number;
  staticPower: number;
}

/** The operation counts energy depends on (a step's sums or a run's totals). */
export interface Priced {
  synops: number;
  updates: number;
  hostGates: number;
  eventPackets: number;
  inputPackets: number;
  onChip: number;
  onChipSrc: number;
  chipHops: number;
}

export function pricesOf(preset: Preset, placement: Placement): Prices {
  const chipsUsed = new Set(placement.cores.map((c) => c.chip)).size;
  return {
    synapticOp: pv(preset, 'energyPerSynapticOp'),
    neuronUpdate: pv(preset, 'energyPerNeuronUpdate'),
    hostGate: pv(preset, 'energyPerHostGate'),
    packet: pv(preset, 'energyPerPacket'),
    onChipHop: pv(preset, 'energyPerOnChipHop'),
    chipHop: pv(preset, 'energyPerChipHop'),
    staticPower: staticPower(preset, chipsUsed, placement.cores.length),
  };
}

/** Static power (W) of `chips` chips holding `cores` cores. */
export function staticPower(preset: Preset, chips: number, cores: number): number {
  return pv(preset, 'staticPowerPerChip') * chips + pv(preset, 'staticPowerPerCore') * cores;
}

/**
 * Energy of the counted operations over `time` seconds. The dynamic sum is taken in this order — synapses, neurons,
 * host gates, packets, routing on-chip, routing chip-to-chip — everywhere (totals and per step alike).
 */
export function energyOf(q: Priced, prices: Prices, time: number): Energy {
  const synapses = q.synops * prices.synapticOp;
  const neurons = q.updates * prices.neuronUpdate;
  const hostGates = q.hostGates * prices.hostGate;
  const packetsSent = (q.eventPackets - q.inputPackets) * prices.packet;
  const routingOnChip = q.onChipSrc * prices.onChipHop;
  const routingChipToChip = (q.onChip - q.onChipSrc) * prices.onChipHop + q.chipHops * prices.chipHop;
  const dynamic = synapses + neurons + hostGates + packetsSent + routingOnChip + routingChipToChip;
  const stat = prices.staticPower * time;
  return { synapses, neurons, hostGates, packetsSent, routingOnChip, routingChipToChip, routing: routingOnChip + routingChipToChip, dynamic, static: stat, total: dynamic + stat };
}
