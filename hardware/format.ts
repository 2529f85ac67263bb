/** Text rendering of hardware reports: one report as a table, several as a comparison. */
import type { Counts, Energy, HardwareRefusal, HardwareReport } from './emulate.js';
import type { Feasibility } from './feasibility.js';
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
  hostGates: ['energyPerHostGate', 'nativeGates'],
  packetsSent: ['energyPerPacket'],
  routingOnChip: ['energyPerOnChipHop', 'nodesX', 'nodesY'],
  routingChipToChip: ['energyPerChipHop', 'energyPerOnChipHop', 'chipsX', 'chipsY', 'coresPerChip', 'neuronsPerCore', 'memoryPerCore'],
  static: ['staticPowerPerChip', 'staticPowerPerCore', 'tick'],
  latency: ['timePerSynapticOp', 'timePerNeuronUpdate', 'timePerPacket', 'timePerHostGate', 'latencyOnChipHop', 'latencyChipHop', 'latencyBarrier', 'latencyBarrierPerDoubling', 'linkBandwidth', 'hostBandwidth', 'packetBits'],
  links: ['linkBandwidth', 'packetBits', 'tick', 'chipsX', 'chipsY'],
  host: ['hostBandwidth', 'packetBits', 'tick'],
  feasibility: ['payloadBits', 'nativeGates', 'hostCoresPerChip', 'maxFanIn', 'maxFanOut', 'routerEntries'],
};

function mark(r: HardwareReport, what: string): string {
  const deps = DEPENDS[what] ?? [];
  if (what === 'dynamic') return ['synapses', 'neurons', 'hostGates', 'packetsSent', 'routingOnChip', 'routingChipToChip'].some((w) => mark(r, w) === '*') ? '*' : '';
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
      `weights ${pl.weightBits} bit${pl.axonsPerInput > 1 ? ` × ${pl.axonsPerInput} axons per input` : ''} · limits ${pl.limits.neuronsPerCore} neurons, ${memory(pl.limits.memoryPerCore)} per core`,
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
  out.push(...feasibilityLines(r.feasibility, mark(r, 'feasibility')));
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
  const bytesRow = (label: string, key: 'bytes' | 'chipLinkBytes' | 'hostBytes'): string[] => [
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
    ...(r.feasibility.gatesOnHost ? [countRow('  gates on embedded CPUs', 'hostGateUpdates')] : []),
    countRow('event packets', 'eventPackets'),
    countRow('  leaving their chip', 'eventPacketsOffChip', 'hops'),
    countRow('on-chip hops (router passes)', 'onChipHops', 'hops'),
    countRow('chip-to-chip hops', 'chipHops', 'hops'),
    bytesRow('bytes injected', 'bytes'),
    bytesRow('bytes over chip links', 'chipLinkBytes'),
    bytesRow('bytes over the host link', 'hostBytes'),
    energyRow('energy: synapses', 'synapses'),
    energyRow('energy: neurons', 'neurons'),
    ...(r.feasibility.gatesOnHost ? [energyRow('energy: gates on embedded CPUs', 'hostGates')] : []),
    ...(r.preset.parameters.energyPerPacket.value > 0 ? [energyRow('energy: packets sent', 'packetsSent')] : []),
    energyRow('energy: routing on-chip', 'routingOnChip'),
    energyRow('energy: routing chip-to-chip', 'routingChipToChip'),
    energyRow('energy: dynamic total', 'dynamic'),
    energyRow('energy: static (power × time)', 'static'),
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
      : `step time ${si(st.seconds, 's')} (${st.source}): late steps ${s.latency.lateSteps} of ${s.latency.steps} (dense: ${d.latency.lateSteps})`,
  );
  const b = s.links.busiest;
  const km = mark(r, 'links');
  out.push(
    b === null
      ? `chip-to-chip links ${km}: none used`
      : `chip-to-chip links ${km}: ${s.links.used} used; busiest (${b.from.join(',')})→(${b.to.join(',')}) carries ${si(b.bytes, 'B')}, ` +
          `${pct(b.utilisation)} of its bandwidth on average, ${pct(b.peakUtilisation)} in its busiest step; some link over its bandwidth in ${s.links.overflowSteps} steps (dense: ${d.links.overflowSteps}, peak ${pct(d.links.peakUtilisation)})`,
  );
  for (const l of r.breakdown.busiestLinks.slice(1)) {
    out.push(`  next busiest (${l.from.join(',')})→(${l.to.join(',')}): ${si(l.bytes, 'B')}, peak ${pct(l.peakUtilisation)}, over its bandwidth in ${l.overflowSteps} steps`);
  }
  const h = r.breakdown.host;
  out.push(
    h.bandwidth === 0
      ? 'host input link: not modelled'
      : `host input link ${mark(r, 'host')}: ${si(h.bytes, 'B')} at ${si(h.bandwidth, 'B/s')}, peak ${pct(h.peakUtilisation)} of a step, over its bandwidth in ${h.overflowSteps} steps`,
  );
  out.push(
    `chip-to-chip share: ${pct(s.chipToChip.eventPacketShare)} of event packets leave their chip; ${pct(s.chipToChip.routingEnergyShare)} of routing energy, ` +
      `${pct(s.chipToChip.dynamicEnergyShare)} of dynamic energy`,
  );
  out.push(
    `saving from activity sparsity (dense GRU ÷ event-driven): dynamic energy ${times(r.saving.energyDynamic)}, static ${times(r.saving.energyStatic)}, total ${times(r.saving.energyTotal)}, ` +
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
  payloadBits: 'bit',
  timePerHostGate: 's',
  energyPerHostGate: 'J',
  energyPerPacket: 'J',
  timePerPacket: 's',
  hostBandwidth: 'B/s',
};

const STATUS: Record<string, string> = { ok: 'ok', workaround: 'workaround', fails: 'FAILS' };

/** The verdict, then one line per check. */
function feasibilityLines(f: Feasibility, m: string): string[] {
  return [`feasibility ${m}: ${f.verdict}`.replace(' :', ':'), ...table(f.checks.map((c) => [`  ${c.check}`, STATUS[c.status]!, c.detail]), ['l', 'l', 'l'])];
}

/**
 * One row per preset: whether it runs the network, where it lands, static, dynamic and total energy per sample and
 * their dense ÷ event-driven ratios, latency and late steps; then each preset's feasibility reasons.
 * `*` marks figures resting on assumptions.
 */
export function formatComparison(reports: Array<HardwareReport | HardwareRefusal>): string {
  const rows: string[][] = [
    ['preset', 'runs', 'chips', 'cores', 'static/sample', 'dynamic/sample', 'total/sample', 'dense÷event dyn', 'dense÷event total', 'latency/step', 'late steps', 'chip-chip energy', 'busiest link peak'],
  ];
  const why: string[] = [];
  for (const r of reports) {
    if (r.format === 'egru-hardware-refusal') {
      rows.push([r.preset.name, 'no', ...new Array<string>(11).fill('—')]);
      why.push(`${r.preset.name}: REFUSED — ${r.reason}`);
      continue;
    }
    const s = r.sparse;
    const withMark = (text: string, what: string): string => `${text}${mark(r, what)}`;
    rows.push([
      r.preset.name,
      r.feasibility.verdict === 'runs as is' ? 'as is' : 'workarounds',
      String(r.placement.chipsUsed),
      String(r.placement.coresUsed),
      withMark(si(s.energyPerSample.static, 'J'), 'static'),
      withMark(si(s.energyPerSample.dynamic, 'J'), 'dynamic'),
      withMark(si(s.energyPerSample.total, 'J'), 'total'),
      withMark(times(r.saving.energyDynamic), 'dynamic'),
      withMark(times(r.saving.energyTotal), 'total'),
      withMark(si(s.latency.meanStep, 's'), 'latency'),
      r.stepTime.seconds === null ? 'no tick' : withMark(`${s.latency.lateSteps}/${s.latency.steps}`, 'latency'),
      withMark(pct(s.chipToChip.dynamicEnergyShare), 'routingChipToChip'),
      s.links.busiest ? withMark(pct(s.links.busiest.peakUtilisation), 'links') : '—',
    ]);
    const worked = r.feasibility.checks.filter((c) => c.status === 'workaround');
    why.push(`${r.preset.name}: ${r.feasibility.verdict}${worked.length ? ` — ${worked.map((c) => `${c.check}: ${c.detail}`).join('; ')}` : ''}`);
  }
  const out = table(rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
  out.push('total = static (power × time) + dynamic (synapses, neurons, gates on CPUs, packets, routing); dense = the same network with every unit firing every step');
  out.push('late steps: steps whose computed latency exceeds the fixed tick (no tick: a step lasts as long as it needs); * = rests on an assumed parameter');
  out.push('', ...why);
  return out.join('\n');
}
