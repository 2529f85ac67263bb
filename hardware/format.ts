/** Text rendering of hardware reports: one report as a table, several as a comparison. */
import type { Counts, Energy, HardwareReport } from './emulate.js';
import type { ParamName } from './presets.js';

const PREFIXES: Record<number, string> = { [-15]: 'f', [-12]: 'p', [-9]: 'n', [-6]: 'µ', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P' };

/** 3 significant digits with an SI prefix: 1.23 µJ, 45.6 kB, 0 s. */
export function si(v: number, unit: string): string {
  if (v === 0 || !Number.isFinite(v)) return `${v === 0 ? 0 : String(v)} ${unit}`.trimEnd();
  const e = Math.max(-15, Math.min(15, Math.floor(Math.log10(Math.abs(v)) / 3) * 3));
  let m = v / 10 ** e;
  let text = m.toPrecision(3);
  if (Math.abs(Number(text)) >= 1000 && e < 15) {
    m /= 1000;
    return `${m.toPrecision(3)} ${PREFIXES[e + 3]}${unit}`.trimEnd();
  }
  text = String(Number(text));
  return `${text} ${PREFIXES[e]}${unit}`.trimEnd();
}

/** Memory sizes in binary units: 128 KiB, 8 MiB, 300 B. */
export function memory(b: number): string {
  if (b < 1024) return `${Math.round(b)} B`;
  if (b < 1024 ** 2) return `${Number((b / 1024).toFixed(1))} KiB`;
  if (b < 1024 ** 3) return `${Number((b / 1024 ** 2).toFixed(1))} MiB`;
  return `${Number((b / 1024 ** 3).toFixed(1))} GiB`;
}

/** Counts: exact below 10,000 (up to 2 decimals for means), SI above. */
export function count(v: number): string {
  if (Math.abs(v) < 1e4) return String(Math.round(v * 100) / 100);
  return si(v, '');
}

const pct = (v: number): string => `${(100 * v).toFixed(v < 0.001 && v > 0 ? 3 : 1)} %`;
const times = (v: number | null): string => (v === null ? '—' : `${v >= 100 ? v.toFixed(0) : v.toPrecision(3)}×`);

/** Which preset parameters each figure depends on (a row is marked * when one of them is an assumption). */
const DEPENDS: Record<string, ParamName[]> = {
  hops: ['chipsX', 'chipsY', 'nodesX', 'nodesY', 'coresPerChip', 'neuronsPerCore', 'memoryPerCore'],
  bytes: ['packetBits'],
  synapses: ['energyPerSynapticOp'],
  neurons: ['energyPerNeuronUpdate'],
  routingOnChip: ['energyPerOnChipHop', 'nodesX', 'nodesY'],
  routingChipToChip: ['energyPerChipHop', 'energyPerOnChipHop', 'chipsX', 'chipsY', 'coresPerChip', 'neuronsPerCore', 'memoryPerCore'],
  static: ['staticPowerPerChip', 'staticPowerPerCore', 'tick'],
  latency: ['timePerSynapticOp', 'timePerNeuronUpdate', 'latencyOnChipHop', 'latencyChipHop', 'latencyBarrier', 'latencyBarrierPerDoubling', 'linkBandwidth', 'packetBits'],
  links: ['linkBandwidth', 'packetBits', 'tick', 'chipsX', 'chipsY'],
};

function mark(r: HardwareReport, what: string): string {
  const deps = DEPENDS[what] ?? [];
  if (what === 'dynamic') return ['synapses', 'neurons', 'routingOnChip', 'routingChipToChip'].some((w) => mark(r, w) === '*') ? '*' : '';
  if (what === 'total') return mark(r, 'dynamic') || mark(r, 'static');
  return deps.some((p) => r.preset.parameters[p].assumption) ? '*' : '';
}

function table(rows: string[][], align: Array<'l' | 'r'>): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (align[c] === 'l' ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
}

/** A readable multi-line table of one report; rows resting on an assumed parameter are marked `*`. */
export function formatReport(r: HardwareReport): string {
  const out: string[] = [];
  const n = r.network;
  const pl = r.placement;
  out.push(`EGRU on ${r.preset.name} — ${r.preset.description}`);
  out.push(
    `network ${n.inputSize}→${n.layers.join('→')}→${n.classes} (readout ${n.readout}) · trace ${r.trace.samples} samples × ${r.trace.steps} steps · ` +
      `${count(r.trace.events)} events · activity sparsity ${pct(r.trace.activitySparsity)} · input ${r.trace.input}`,
  );
  out.push(
    `placement ${pl.strategy} · ${pl.coresUsed} cores on ${pl.chipsUsed} of ${pl.grid.width * pl.grid.height} chips (${pl.grid.topology} ${pl.grid.width}×${pl.grid.height}) · ` +
      `weights ${pl.weightBits} bit · limits ${pl.limits.neuronsPerCore} neurons, ${memory(pl.limits.memoryPerCore)} per core`,
  );
  out.push(
    ...table(
      pl.groups.map((g) => [
        `  ${g.name}`,
        `${g.units} units`,
        `${g.cores} core${g.cores === 1 ? '' : 's'}`,
        `on ${g.chips} chip${g.chips === 1 ? '' : 's'}`,
        `≤ ${g.maxUnitsPerCore} units, ${memory(g.maxSynapseBytesPerCore)} of synapses per core`,
      ]),
      ['l', 'r', 'r', 'l', 'l'],
    ),
  );
  out.push('');
  const s = r.sparse;
  const d = r.dense;
  const countRow = (label: string, key: keyof Counts, dep = ''): string[] => [
    label + (dep ? ` ${mark(r, dep)}` : ''),
    count(s.perStep[key]),
    count(s.perSample[key]),
    count(s.total[key]),
    count(d.perStep[key]),
    times(s.total[key] > 0 ? d.total[key] / s.total[key] : null),
  ];
  const bytesRow = (label: string, key: 'bytes' | 'chipLinkBytes'): string[] => [
    `${label} ${mark(r, 'bytes')}`,
    si(s.perStep[key], 'B'),
    si(s.perSample[key], 'B'),
    si(s.total[key], 'B'),
    si(d.perStep[key], 'B'),
    times(s.total[key] > 0 ? d.total[key] / s.total[key] : null),
  ];
  const energyRow = (label: string, key: keyof Energy): string[] => [
    `${label} ${mark(r, key)}`,
    si(s.energyPerStep[key], 'J'),
    si(s.energyPerSample[key], 'J'),
    si(s.energy[key], 'J'),
    si(d.energyPerStep[key], 'J'),
    times(s.energy[key] > 0 ? d.energy[key] / s.energy[key] : null),
  ];
  const rows: string[][] = [
    ['', 'per step', 'per sample', 'total', 'dense/step', 'dense÷event'],
    countRow('events', 'events'),
    countRow('input items', 'inputItems'),
    countRow('synaptic ops', 'synapticOps'),
    countRow('neuron updates', 'neuronUpdates'),
    countRow('event packets', 'eventPackets'),
    countRow('  leaving their chip', 'eventPacketsOffChip', 'hops'),
    countRow('on-chip hops (router passes)', 'onChipHops', 'hops'),
    countRow('chip-to-chip hops', 'chipHops', 'hops'),
    bytesRow('bytes injected', 'bytes'),
    bytesRow('bytes over chip links', 'chipLinkBytes'),
    energyRow('energy: synapses', 'synapses'),
    energyRow('energy: neurons', 'neurons'),
    energyRow('energy: routing on-chip', 'routingOnChip'),
    energyRow('energy: routing chip-to-chip', 'routingChipToChip'),
    energyRow('energy: dynamic total', 'dynamic'),
    energyRow('energy: static (idle power)', 'static'),
    energyRow('energy: total', 'total'),
  ];
  out.push(...table(rows, ['l', 'r', 'r', 'r', 'r', 'r']));
  out.push('');
  const lm = mark(r, 'latency');
  out.push(
    `latency per step ${lm}: mean ${si(s.latency.meanStep, 's')}, max ${si(s.latency.maxStep, 's')} (dense: mean ${si(d.latency.meanStep, 's')}, max ${si(d.latency.maxStep, 's')})`,
  );
  const st = r.stepTime;
  out.push(
    st.seconds === null
      ? 'step time: none fixed — each step lasts its computed latency'
      : `step time ${si(st.seconds, 's')} (${st.source}): ${s.latency.stepsOverBudget} of ${r.trace.samples * r.trace.steps} steps need longer (dense: ${d.latency.stepsOverBudget})`,
  );
  const b = s.links.busiest;
  const km = mark(r, 'links');
  out.push(
    b === null
      ? `chip-to-chip links ${km}: none used`
      : `chip-to-chip links ${km}: ${s.links.used} used; busiest (${b.from.join(',')})→(${b.to.join(',')}) carries ${si(b.bytes, 'B')}, ` +
          `${pct(b.utilisation)} of its bandwidth on average, ${pct(b.peakUtilisation)} in its busiest step; overflow in ${s.links.overflowSteps} steps (dense: ${d.links.overflowSteps}, peak ${pct(d.links.peakUtilisation)})`,
  );
  out.push(
    `chip-to-chip share: ${pct(s.chipToChip.eventPacketShare)} of event packets leave their chip; ${pct(s.chipToChip.routingEnergyShare)} of routing energy, ` +
      `${pct(s.chipToChip.dynamicEnergyShare)} of dynamic energy`,
  );
  out.push(
    `saving from activity sparsity (dense ÷ event-driven): dynamic energy ${times(r.saving.energyDynamic)}, total energy ${times(r.saving.energyTotal)}, ` +
      `synaptic ops ${times(r.saving.synapticOps)}, event packets ${times(r.saving.eventPackets)}`,
  );
  for (const note of r.notes) out.push(`note: ${note}`);
  if (r.assumptions.length > 0) {
    out.push('');
    out.push('* rests on assumed parameters (no public figure):');
    for (const a of r.assumptions) {
      const value = a.parameter === 'memoryPerCore' ? memory(a.value) : si(a.value, UNITS[a.parameter] ?? '');
      out.push(`  ${a.parameter} = ${value} — ${a.source}`);
    }
  }
  return out.join('\n');
}

const UNITS: Partial<Record<ParamName, string>> = {
  memoryPerCore: 'B',
  packetBits: 'bit',
  energyPerSynapticOp: 'J',
  energyPerNeuronUpdate: 'J',
  energyPerOnChipHop: 'J',
  energyPerChipHop: 'J',
  linkBandwidth: 'B/s',
  timePerSynapticOp: 's',
  timePerNeuronUpdate: 's',
  latencyOnChipHop: 's',
  latencyChipHop: 's',
  latencyBarrier: 's',
  latencyBarrierPerDoubling: 's',
  tick: 's',
  staticPowerPerChip: 'W',
  staticPowerPerCore: 'W',
};

/** One row per preset: where the network lands and what it costs; `*` marks figures resting on assumptions. */
export function formatComparison(reports: HardwareReport[]): string {
  const rows: string[][] = [
    ['preset', 'chips', 'cores', 'energy/sample', 'static/sample', 'chip-chip energy', 'event packets off chip', 'latency/step', 'busiest link', 'overflow steps', 'dense÷event'],
  ];
  for (const r of reports) {
    const s = r.sparse;
    const withMark = (text: string, what: string): string => `${text}${mark(r, what)}`;
    rows.push([
      r.preset.name,
      String(r.placement.chipsUsed),
      String(r.placement.coresUsed),
      withMark(si(s.energyPerSample.dynamic, 'J'), 'dynamic'),
      withMark(si(s.energyPerSample.static, 'J'), 'static'),
      withMark(pct(s.chipToChip.dynamicEnergyShare), 'routingChipToChip'),
      withMark(pct(s.chipToChip.eventPacketShare), 'hops'),
      withMark(si(s.latency.meanStep, 's'), 'latency'),
      s.links.busiest ? withMark(pct(s.links.busiest.utilisation), 'links') : '—',
      withMark(String(s.links.overflowSteps), 'links'),
      withMark(times(r.saving.energyDynamic), 'dynamic'),
    ]);
  }
  const out = table(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
  out.push('energy = dynamic (synapses + neurons + routing); * = rests on an assumed parameter (see each preset\'s report)');
  return out.join('\n');
}
