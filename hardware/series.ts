/**
 * The per-step series of an emulated run: one row per (sample, step) with its packets, hops, synaptic ops, static and
 * dynamic energy, latency, link and host-link load and whether it was late. Its rows sum to the run's totals.
 */
import type { Emulator, StepSums } from './emulator.js';
import { energyOf, type Prices } from './energy.js';

export interface SeriesRow {
  sample: number;
  step: number;
  events: number;
  inputItems: number;
  eventPackets: number;
  onChipHops: number;
  chipHops: number;
  synapticOps: number;
  neuronUpdates: number;
  /** Joules. */
  energyStatic: number;
  energyDynamic: number;
  /** Seconds: the computed latency, the step time used (fixed, or the latency), the busiest link's and the host link's serialisation. */
  latency: number;
  stepTime: number;
  /** Latency above a fixed step time. */
  late: boolean;
  linksUsed: number;
  busiestLinkBytes: number;
  linkDelay: number;
  hostBytes: number;
  hostDelay: number;
}

export const SERIES_COLUMNS: ReadonlyArray<keyof SeriesRow> = [
  'sample', 'step', 'events', 'inputItems', 'eventPackets', 'onChipHops', 'chipHops', 'synapticOps', 'neuronUpdates',
  'energyStatic', 'energyDynamic', 'latency', 'stepTime', 'late', 'linksUsed', 'busiestLinkBytes', 'linkDelay', 'hostBytes', 'hostDelay',
];

/** The row of the step just closed by the emulator. */
export function seriesRow(em: Emulator, s: StepSums, prices: Prices, sample: number, step: number): SeriesRow {
  const stepTime = em.stepTimeOf(s);
  const e = energyOf(s, prices, stepTime);
  return {
    sample,
    step,
    events: s.events,
    inputItems: s.inputItems,
    eventPackets: s.eventPackets,
    onChipHops: s.onChip,
    chipHops: s.chipHops,
    synapticOps: s.synops,
    neuronUpdates: s.updates,
    energyStatic: e.static,
    energyDynamic: e.dynamic,
    latency: s.latency,
    stepTime,
    late: em.fixedStepTime !== null && s.latency > em.fixedStepTime,
    linksUsed: s.linksUsed,
    busiestLinkBytes: s.maxLinkPackets * em.packetBytes,
    linkDelay: s.linkDelay,
    hostBytes: s.hostBytes,
    hostDelay: s.hostDelay,
  };
}

/** CSV text of the series of one or more runs: a header, then one row per step with the preset first (`late` as 0/1). */
export function seriesCsv(runs: ReadonlyArray<{ preset: string; rows: readonly SeriesRow[] }>): string {
  const lines = [['preset', ...SERIES_COLUMNS].join(',')];
  for (const run of runs) {
    for (const r of run.rows) lines.push([run.preset, ...SERIES_COLUMNS.map((k) => (k === 'late' ? (r.late ? '1' : '0') : String(r[k])))].join(','));
  }
  return lines.join('\n') + '\n';
}
