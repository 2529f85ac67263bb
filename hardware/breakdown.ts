/**
 * Where a run's traffic and energy go: totals per chip, per core and per chip-to-chip link, the busiest links,
 * and the host input link. Cores of a group all receive the group's events (multicast), so a core's synaptic ops
 * are its units × the events reaching the group.
 */
import type { Emulator, Totals } from './emulator.js';
import { staticPower, type Prices } from './energy.js';
import { groupName } from './placement.js';
import { linkTarget, nodeX, nodeY } from './topology.js';

export interface CoreBreakdown {
  core: number;
  chip: [number, number];
  slot: number;
  group: string;
  units: number;
  synapseBytes: number;
  packetsSent: number;
  synapticOps: number;
  neuronUpdates: number;
  /** Synapses, neuron updates, gates on embedded CPUs and packets sent (J); routing is per link and chip-wide. */
  energyCompute: number;
}

export interface ChipBreakdown {
  chip: [number, number];
  cores: number;
  units: number;
  packetsSent: number;
  synapticOps: number;
  neuronUpdates: number;
  /** Bytes over the chip-to-chip links leaving and entering this chip. */
  bytesOut: number;
  bytesIn: number;
  energyStatic: number;
  energyCompute: number;
}

export interface LinkBreakdown {
  from: [number, number];
  to: [number, number];
  bytes: number;
  /** Bytes in its busiest step. */
  peakStepBytes: number;
  /** Bytes / (bandwidth × total time). */
  utilisation: number;
  /** Highest bytes-in-a-step / (bandwidth × step time). */
  peakUtilisation: number;
  /** Steps in which it had to carry more than bandwidth × step time. */
  overflowSteps: number;
}

export interface Breakdown {
  chips: ChipBreakdown[];
  cores: CoreBreakdown[];
  /** Every link that carried anything, by link id (chip, then direction +X, −X, +Y, −Y). */
  links: LinkBreakdown[];
  /** The five that carried most (ties: the lower link id first). */
  busiestLinks: LinkBreakdown[];
  host: { bytes: number; peakUtilisation: number; overflowSteps: number; bandwidth: number };
}

const BUSIEST = 5;

export function breakdownOf(t: Totals, em: Emulator, prices: Prices): Breakdown {
  const cores = coreRows(t, em, prices);
  const links = linkRows(t, em);
  return {
    chips: chipRows(cores, links, t, em),
    cores,
    links: links.map((l) => l.row),
    busiestLinks: busiest(links).map((l) => l.row),
    host: { bytes: t.hostBytes, peakUtilisation: t.hostPeakUtil, overflowSteps: t.hostOverflowSteps, bandwidth: em.hostBandwidth },
  };
}

function coreRows(t: Totals, em: Emulator, prices: Prices): CoreBreakdown[] {
  const p = em.placement;
  const L = em.L;
  const ppe = em.packetsPerEvent;
  return p.cores.map((c, k) => {
    const hidden = c.group < L;
    const arriving = hidden ? t.layerEvents[c.group]! + (c.group === 0 ? t.inputItems : t.layerEvents[c.group - 1]!) : t.readoutEvents;
    const synapticOps = c.units * (hidden ? 3 : 1) * arriving * ppe;
    const neuronUpdates = c.units * (hidden ? t.steps : t.readoutSteps);
    const hostGates = hidden && em.gatesOnHost ? c.units * t.steps : 0;
    const packetsSent = t.corePackets[k]!;
    return {
      core: k,
      chip: [nodeX(p.chipGrid, c.chip), nodeY(p.chipGrid, c.chip)],
      slot: c.slot,
      group: groupName(p.shape, c.group),
      units: c.units,
      synapseBytes: c.synapseBytes,
      packetsSent,
      synapticOps,
      neuronUpdates,
      energyCompute: synapticOps * prices.synapticOp + neuronUpdates * prices.neuronUpdate + hostGates * prices.hostGate + packetsSent * prices.packet,
    };
  });
}

interface LinkRow {
  id: number;
  fromChip: number;
  toChip: number;
  row: LinkBreakdown;
}

function linkRows(t: Totals, em: Emulator): LinkRow[] {
  const g = em.placement.chipGrid;
  const rows: LinkRow[] = [];
  for (let i = 0; i < em.linkIds.length; i++) {
    if (!(t.linkPackets[i]! > 0)) continue;
    const id = em.linkIds[i]!;
    const fromChip = Math.floor(id / 4);
    const toChip = linkTarget(g, id);
    const bytes = t.linkPackets[i]! * em.packetBytes;
    rows.push({
      id,
      fromChip,
      toChip,
      row: {
        from: [nodeX(g, fromChip), nodeY(g, fromChip)],
        to: [nodeX(g, toChip), nodeY(g, toChip)],
        bytes,
        peakStepBytes: t.linkPeakPackets[i]! * em.packetBytes,
        utilisation: t.time > 0 ? bytes / (em.bandwidth * t.time) : 0,
        peakUtilisation: t.linkPeakUtil[i]!,
        overflowSteps: t.linkOverflowSteps[i]!,
      },
    });
  }
  return rows.sort((a, b) => a.id - b.id);
}

/** The links that carried most, most bytes first; equal bytes: the lower link id first. */
export function busiestLinks(t: Totals, em: Emulator): LinkBreakdown[] {
  return busiest(linkRows(t, em)).map((l) => l.row);
}

function busiest(links: LinkRow[]): LinkRow[] {
  return [...links].sort((a, b) => b.row.bytes - a.row.bytes || a.id - b.id).slice(0, BUSIEST);
}

function chipRows(cores: CoreBreakdown[], links: LinkRow[], t: Totals, em: Emulator): ChipBreakdown[] {
  const p = em.placement;
  const ids = [...new Set(p.cores.map((c) => c.chip))].sort((a, b) => a - b);
  return ids.map((id) => {
    const on = cores.filter((_, k) => p.cores[k]!.chip === id);
    const sum = (f: (c: CoreBreakdown) => number): number => on.reduce((a, c) => a + f(c), 0);
    return {
      chip: [nodeX(p.chipGrid, id), nodeY(p.chipGrid, id)] as [number, number],
      cores: on.length,
      units: sum((c) => c.units),
      packetsSent: sum((c) => c.packetsSent),
      synapticOps: sum((c) => c.synapticOps),
      neuronUpdates: sum((c) => c.neuronUpdates),
      bytesOut: links.filter((l) => l.fromChip === id).reduce((a, l) => a + l.row.bytes, 0),
      bytesIn: links.filter((l) => l.toChip === id).reduce((a, l) => a + l.row.bytes, 0),
      energyStatic: staticPower(em.preset, 1, on.length) * t.time,
      energyCompute: sum((c) => c.energyCompute),
    };
  });
}
