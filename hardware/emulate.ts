/**
 * `emulate`: checks that the preset can run the network (feasibility.ts), replays a recorded event trace on a
 * placement (with the engine of emulator.ts) and counts synaptic operations, neuron updates, packets, hops, bytes,
 * static and dynamic energy and per-step latency; the same network with every unit firing every step gives the
 * dense equivalent. Model and formulas: docs/hardware.md.
 */
import { breakdownOf, busiestLinks, type Breakdown } from './breakdown.js';
import { Emulator, type Totals } from './emulator.js';
import { energyOf, pricesOf, type Energy, type Prices } from './energy.js';
import { HardwareError } from './errors.js';
import { assessFeasibility, gatePlan, InfeasibleError, payloadPlan, requireFeasible, type Feasibility } from './feasibility.js';
import { describeShape, place, sameShape } from './place.js';
import { STRATEGIES, summarisePlacement, validatePlacement, type PlaceOptions, type Placement, type PlacementSummary, type Strategy } from './placement.js';
import { presetAssumptions, pv, resolvePreset, type ParamName, type Preset, type Sourced } from './presets.js';
import { seriesRow, type SeriesRow } from './series.js';
import { traceTotals, validateTrace, type EventTrace, type NetworkShape } from './trace.js';

export type { Energy } from './energy.js';

export interface EmulateOptions extends PlaceOptions {
  /** A placement made beforehand (by `place` or `buildPlacement`); otherwise one is made with `strategy`. */
  placement?: Placement;
  /** Placement strategy when no placement is given (default `contiguous`). */
  strategy?: Strategy;
  /** Step time budget in seconds for link overflow and late steps (default: the preset tick; none → the computed latency). */
  stepTime?: number;
  /** Input items: `trace` (recorded counts), `dense` (every input non-zero every step), `none` (not counted). Default: trace if recorded, else dense. */
  input?: 'trace' | 'dense' | 'none';
  /** Include the per-step profile (mean over samples for each step index). */
  perStep?: boolean;
  /** Include the per-step series (one row per sample and step). */
  series?: boolean;
  /** Allow workarounds for missing chip features (default true); false refuses a chip that needs one. */
  workarounds?: boolean;
}

/** Counted quantities. `eventPackets` = packets of events + input items (one each, or several per value with the binary-spike workaround). */
export interface Counts {
  events: number;
  inputItems: number;
  synapticOps: number;
  neuronUpdates: number;
  /** Unit updates whose gates ran on an embedded CPU (workaround). */
  hostGateUpdates: number;
  eventPackets: number;
  /** Event packets whose multicast tree leaves the source chip. */
  eventPacketsOffChip: number;
  onChipHops: number;
  chipHops: number;
  /** Bytes injected: event packets × packet bytes. */
  bytes: number;
  /** Bytes over chip-to-chip links: chip hops × packet bytes. */
  chipLinkBytes: number;
  /** Bytes over the host input link. */
  hostBytes: number;
}

export interface BusiestLink {
  from: [number, number];
  to: [number, number];
  bytes: number;
  /** Bytes / (bandwidth × total time). */
  utilisation: number;
  /** Highest bytes-in-a-step / (bandwidth × step time) of this link. */
  peakUtilisation: number;
}

export interface Figures {
  total: Counts;
  perSample: Counts;
  perStep: Counts;
  energy: Energy;
  energyPerSample: Energy;
  energyPerStep: Energy;
  /** Seconds. `lateSteps`: steps whose computed latency exceeds a fixed step time, out of `steps`. */
  latency: { meanStep: number; maxStep: number; lateSteps: number; steps: number };
  /** Σ step times (s). */
  time: number;
  links: {
    /** Chip-to-chip links that carried anything. */
    used: number;
    busiest: BusiestLink | null;
    /** Highest per-step utilisation of any link. */
    peakUtilisation: number;
    /** Steps in which some link had to carry more than bandwidth × step time. */
    overflowSteps: number;
  };
  /** The host input link: highest per-step utilisation, steps over its bandwidth × step time (0 when not modelled). */
  host: { peakUtilisation: number; overflowSteps: number };
  /** Shares of chip-to-chip traffic: packets leaving their chip, routing energy, dynamic energy. */
  chipToChip: { eventPacketShare: number; routingEnergyShare: number; dynamicEnergyShare: number };
}

export interface StepProfile {
  t: number;
  events: number;
  eventPackets: number;
  chipHops: number;
  energy: number;
  latency: number;
}

export interface HardwareReport {
  format: 'egru-hardware-report';
  version: 2;
  preset: { name: string; description: string; topology: string; parameters: Record<ParamName, Sourced> };
  network: NetworkShape;
  /** Whether the preset runs the network as is, with workarounds (their costs are in the figures), and why. */
  feasibility: Feasibility;
  placement: PlacementSummary;
  trace: { samples: number; steps: number; events: number; unitSteps: number; activitySparsity: number; input: 'recorded' | 'dense (assumed)' | 'none' };
  stepTime: { seconds: number | null; source: 'option' | 'tick' | 'computed latency' };
  /** The recorded (event-driven) run. */
  sparse: Figures;
  /** The same network with every hidden unit firing every step (same input): the dense GRU on this chip. */
  dense: Figures;
  /** dense ÷ sparse (null where sparse is 0): the saving from activity sparsity. */
  saving: { synapticOps: number | null; eventPackets: number | null; chipHops: number | null; energyDynamic: number | null; energyStatic: number | null; energyTotal: number | null };
  /** Per chip, core and chip-to-chip link of the recorded run; the busiest links; the host link. */
  breakdown: Breakdown;
  /** Preset parameters without a public figure. */
  assumptions: Array<{ parameter: ParamName; value: number; source: string }>;
  notes: string[];
  perStep?: StepProfile[];
  /** With option `series`: one row per sample and step of the recorded run. */
  series?: SeriesRow[];
}

/** A preset that cannot run the network, in place of its report (compare). */
export interface HardwareRefusal {
  format: 'egru-hardware-refusal';
  version: 2;
  preset: { name: string; description: string };
  /** Absent when the refusal came before the feasibility checks (e.g. synapse memory, chips). */
  feasibility: Feasibility | null;
  reason: string;
}

// ---------------------------------------------------------------------------------------------------------

/** Emulates the recorded trace on the preset; returns a JSON-serialisable report. Refuses (InfeasibleError) a preset that cannot run it. */
export function emulate(trace: EventTrace, presetIn: Preset | string, opts: EmulateOptions = {}): HardwareReport {
  const preset = resolvePreset(presetIn);
  validateTrace(trace);
  checkStepTime(opts.stepTime);
  const inputMode = inputModeOf(trace, opts.input);
  const gradedBits = opts.gradedBits ?? 8;
  const { packetsPerEvent } = payloadPlan(preset, gradedBits);
  const placement = placeOrRefuse(trace, preset, gradedBits, packetsPerEvent, opts);
  const feasibility = assessFeasibility(trace.shape, placement, preset, gradedBits);
  requireFeasible(preset, feasibility, opts.workarounds ?? true);
  const em = new Emulator(placement, preset, { stepTime: opts.stepTime, packetsPerEvent, gatesOnHost: feasibility.gatesOnHost }); // routes the events of every core
  const prices = pricesOf(preset, placement);
  const recorded = replayTrace(em, trace, inputMode, prices, { perStep: !!opts.perStep, series: !!opts.series });
  const sparse = figuresOf(recorded.totals, em, prices, trace);
  const dense = figuresOf(replayDense(em, trace, inputMode), em, prices, trace);
  const shape = trace.shape;
  const report: HardwareReport = {
    format: 'egru-hardware-report',
    version: 2,
    preset: { name: preset.name, description: preset.description, topology: preset.topology, parameters: structuredClone(preset.params) },
    network: { inputSize: shape.inputSize, layers: [...shape.layers], classes: shape.classes, readout: shape.readout },
    feasibility,
    placement: summarisePlacement(placement, preset),
    trace: traceSummary(trace, inputMode),
    stepTime: {
      seconds: em.fixedStepTime,
      source: opts.stepTime !== undefined ? 'option' : em.fixedStepTime !== null ? 'tick' : 'computed latency',
    },
    sparse,
    dense,
    saving: {
      synapticOps: ratio(dense.total.synapticOps, sparse.total.synapticOps),
      eventPackets: ratio(dense.total.eventPackets, sparse.total.eventPackets),
      chipHops: ratio(dense.total.chipHops, sparse.total.chipHops),
      energyDynamic: ratio(dense.energy.dynamic, sparse.energy.dynamic),
      energyStatic: ratio(dense.energy.static, sparse.energy.static),
      energyTotal: ratio(dense.energy.total, sparse.energy.total),
    },
    breakdown: breakdownOf(recorded.totals, em, prices),
    assumptions: presetAssumptions(preset),
    notes: reportNotes(trace, inputMode, preset, em, sparse, feasibility),
  };
  if (recorded.profile) report.perStep = meanPerSample(recorded.profile, trace.samples);
  if (recorded.series) report.series = recorded.series;
  return report;
}

type InputMode = NonNullable<EmulateOptions['input']>;

function checkStepTime(stepTime: number | undefined): void {
  if (stepTime !== undefined && !(typeof stepTime === 'number' && stepTime > 0 && Number.isFinite(stepTime))) {
    throw new HardwareError(`step time must be a positive number of seconds, got ${stepTime}`);
  }
}

/** The input items counted: as asked, else the recorded counts when the trace has them, else every input. */
function inputModeOf(trace: EventTrace, asked: InputMode | undefined): InputMode {
  const mode = asked ?? (trace.inputCounts ? 'trace' : 'dense');
  if (mode !== 'trace' && mode !== 'dense' && mode !== 'none') throw new HardwareError(`input must be trace, dense or none, got ${String(mode)}`);
  if (mode === 'trace' && !trace.inputCounts) throw new HardwareError('input "trace" asked for, but the trace has no input activity recorded');
  return mode;
}

/**
 * The placement; when it fails (e.g. synapse memory) on a chip that could not run the network anyway (no gates),
 * the refusal names that reason first.
 */
function placeOrRefuse(trace: EventTrace, preset: Preset, gradedBits: number, packetsPerEvent: number, opts: EmulateOptions): Placement {
  try {
    return placementFor(trace, preset, packetsPerEvent, opts);
  } catch (e) {
    const gates = gatePlan(preset);
    if (!(e instanceof HardwareError) || gates.check.status !== 'fails') throw e;
    const f: Feasibility = { verdict: 'cannot run', checks: [payloadPlan(preset, gradedBits).check, gates.check], gradedBits, packetsPerEvent, gatesOnHost: false };
    throw new InfeasibleError(preset.name, f, `${preset.name} cannot run this EGRU: gate nonlinearities: ${gates.check.detail}; and ${e.message}`);
  }
}

/** The placement given (checked against the preset and the trace), or a new one by the strategy asked for. */
function placementFor(trace: EventTrace, preset: Preset, packetsPerEvent: number, opts: EmulateOptions): Placement {
  const placement = opts.placement;
  if (!placement) return place(trace.shape, preset, opts.strategy ?? 'contiguous', { ...opts, axonsPerInput: packetsPerEvent, trace });
  if (placement.preset !== preset.name) throw new HardwareError(`the placement was made for preset ${placement.preset}, not ${preset.name}`);
  if (!sameShape(placement.shape, trace.shape)) throw new HardwareError(`the placement is of network ${describeShape(placement.shape)}, the trace of ${describeShape(trace.shape)}`);
  if (placement.chipGrid.width !== pv(preset, 'chipsX') || placement.chipGrid.height !== pv(preset, 'chipsY')) {
    throw new HardwareError(`the placement's chip grid does not match preset ${preset.name}`);
  }
  if (placement.axonsPerInput !== packetsPerEvent) {
    throw new HardwareError(`the placement stores ${placement.axonsPerInput} synapses per weight, ${preset.name} needs ${packetsPerEvent} (one per packet of a graded value): make it with axonsPerInput ${packetsPerEvent}`);
  }
  validatePlacement(placement, preset, opts.coresPerChip ?? pv(preset, 'coresPerChip'));
  return placement;
}

function inputCountAt(trace: EventTrace, mode: InputMode, s: number, t: number): number {
  if (mode === 'none') return 0;
  if (mode === 'dense') return trace.shape.inputSize;
  return trace.inputCounts![s * trace.steps + t]!;
}

/** Whether the readout integrates the last layer's events at step t (every step, or the last one for `last`). */
function readoutAt(trace: EventTrace, t: number): boolean {
  return trace.shape.readout !== 'last' || t === trace.steps - 1;
}

interface Recorded {
  totals: Totals;
  profile: StepProfile[] | null;
  series: SeriesRow[] | null;
}

/** The recorded events, step by step; optionally the sums over samples for each step index, and the series. */
function replayTrace(em: Emulator, trace: EventTrace, inputMode: InputMode, prices: Prices, want: { perStep: boolean; series: boolean }): Recorded {
  const { samples, steps, offsets, units } = trace;
  const L = em.L;
  const totals = em.newTotals();
  const profile = want.perStep ? Array.from({ length: steps }, (_, t) => ({ t, events: 0, eventPackets: 0, chipHops: 0, energy: 0, latency: 0 })) : null;
  const series: SeriesRow[] | null = want.series ? [] : null;
  for (let s = 0; s < samples; s++) {
    for (let t = 0; t < steps; t++) {
      const row = (s * steps + t) * L;
      em.step.reset();
      for (let l = 0; l < L; l++) em.fillFromEvents(l, units, offsets[row + l]!, offsets[row + l + 1]!);
      em.closeStep(inputCountAt(trace, inputMode, s, t), readoutAt(trace, t));
      if (profile || series) {
        const r = seriesRow(em, em.step, prices, s, t);
        if (series) series.push(r);
        if (profile) addToProfile(profile[t]!, r);
      }
      em.commit(totals);
    }
  }
  return { totals, profile, series };
}

function addToProfile(p: StepProfile, r: SeriesRow): void {
  p.events += r.events;
  p.eventPackets += r.eventPackets;
  p.chipHops += r.chipHops;
  p.energy += r.energyDynamic;
  p.latency += r.latency;
}

/**
 * Every hidden unit firing at every step, input as in the recorded run. Steps differ only by their input count and
 * by whether the readout integrates, so each distinct kind of step is computed once and replayed.
 */
function replayDense(em: Emulator, trace: EventTrace, inputMode: InputMode): Totals {
  const dense = em.newTotals();
  const kinds = new Map<number, number>(); // inputs × 2 + readout → steps of that kind
  for (let s = 0; s < trace.samples; s++) {
    for (let t = 0; t < trace.steps; t++) {
      const key = inputCountAt(trace, inputMode, s, t) * 2 + (readoutAt(trace, t) ? 1 : 0);
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    }
  }
  for (const [key, times] of kinds) {
    em.step.reset();
    for (let l = 0; l < em.L; l++) em.fillDense(l);
    em.closeStep(Math.floor(key / 2), key % 2 === 1);
    em.commitRecord(dense, em.record(), times);
  }
  return dense;
}

/** The figures of one run (sparse or dense): counts and energy in total, per sample and per step; latency; links. */
function figuresOf(t: Totals, em: Emulator, prices: Prices, trace: EventTrace): Figures {
  const total = countsOf(t, em.packetBytes);
  const energy = energyOf(t, prices, t.time);
  const n = Math.max(1, trace.samples);
  const ns = Math.max(1, trace.samples * trace.steps);
  return {
    total,
    perSample: scale(total, 1 / n),
    perStep: scale(total, 1 / ns),
    energy,
    energyPerSample: scale(energy, 1 / n),
    energyPerStep: scale(energy, 1 / ns),
    latency: { meanStep: t.steps > 0 ? t.latencySum / t.steps : 0, maxStep: t.latencyMax, lateSteps: t.lateSteps, steps: t.steps },
    time: t.time,
    links: { ...linkUse(t, em), peakUtilisation: t.peakUtil, overflowSteps: t.overflowSteps },
    host: { peakUtilisation: t.hostPeakUtil, overflowSteps: t.hostOverflowSteps },
    chipToChip: {
      eventPacketShare: ratio(t.eventPacketsOffChip, t.eventPackets) ?? 0,
      routingEnergyShare: ratio(energy.routingChipToChip, energy.routing) ?? 0,
      dynamicEnergyShare: ratio(energy.routingChipToChip, energy.dynamic) ?? 0,
    },
  };
}

function countsOf(t: Totals, packetBytes: number): Counts {
  return {
    events: t.events,
    inputItems: t.inputItems,
    synapticOps: t.synops,
    neuronUpdates: t.updates,
    hostGateUpdates: t.hostGates,
    eventPackets: t.eventPackets,
    eventPacketsOffChip: t.eventPacketsOffChip,
    onChipHops: t.onChip,
    chipHops: t.chipHops,
    bytes: t.eventPackets * packetBytes,
    chipLinkBytes: t.chipHops * packetBytes,
    hostBytes: t.hostBytes,
  };
}

/** Chip-to-chip links that carried anything, and the one that carried most (ties: the lower link id). */
function linkUse(t: Totals, em: Emulator): { used: number; busiest: BusiestLink | null } {
  let used = 0;
  for (let i = 0; i < t.linkPackets.length; i++) if (t.linkPackets[i]! > 0) used++;
  const top = busiestLinks(t, em)[0];
  if (!top) return { used, busiest: null };
  const { from, to, bytes, utilisation, peakUtilisation } = top;
  return { used, busiest: { from, to, bytes, utilisation, peakUtilisation } };
}

function traceSummary(trace: EventTrace, inputMode: InputMode): HardwareReport['trace'] {
  const { samples, steps } = trace;
  const events = traceTotals(trace).events;
  const unitSteps = samples * steps * trace.shape.layers.reduce((a, b) => a + b, 0);
  return {
    samples,
    steps,
    events,
    unitSteps,
    activitySparsity: unitSteps > 0 ? 1 - events / unitSteps : 0,
    input: inputMode === 'trace' ? 'recorded' : inputMode === 'dense' ? 'dense (assumed)' : 'none',
  };
}

function reportNotes(trace: EventTrace, inputMode: InputMode, preset: Preset, em: Emulator, sparse: Figures, f: Feasibility): string[] {
  const notes: string[] = [];
  for (const c of f.checks) if (c.status === 'workaround') notes.push(`workaround (${c.check}): ${c.detail}; its cost is in the figures`);
  if (inputMode === 'dense') notes.push('input activity not recorded: every input item counted as non-zero at every step');
  if (inputMode === 'none') notes.push('input items not counted');
  if (trace.shape.readout === 'last') notes.push('readout "last": only the last step\'s events of the last layer reach the readout');
  if (em.fixedStepTime === null) notes.push('no fixed step time: each step lasts its computed latency, so links cannot overflow (utilisation shows how link-bound steps are)');
  if (sparse.latency.lateSteps > 0) notes.push(`${sparse.latency.lateSteps} of ${sparse.latency.steps} steps take longer than the step time (late steps)`);
  if (pv(preset, 'hostBandwidth') === 0) notes.push('host input link not modelled (hostBandwidth 0)');
  if (preset.params.chipsX.assumption || preset.params.chipsY.assumption) notes.push('chip grid layout is an assumption; hop counts depend on it');
  notes.push('static energy counts the chips used, not the idle chips of the rest of the board');
  return notes;
}

/** The per-step sums over samples as means per sample. */
function meanPerSample(profile: StepProfile[], samples: number): StepProfile[] {
  return profile.map((p) => ({
    t: p.t,
    events: p.events / samples,
    eventPackets: p.eventPackets / samples,
    chipHops: p.chipHops / samples,
    energy: p.energy / samples,
    latency: p.latency / samples,
  }));
}

/**
 * The same trace on several presets (same strategy and options for each). A preset that cannot run the network
 * (infeasible, or a placement that does not fit) gives a refusal with its reason instead of a report; options
 * that are wrong for every preset are refused at once.
 */
export function compare(trace: EventTrace, presets: Array<Preset | string>, opts: Omit<EmulateOptions, 'placement'> = {}): Array<HardwareReport | HardwareRefusal> {
  if (presets.length === 0) throw new HardwareError('compare needs at least one preset');
  validateTrace(trace);
  checkStepTime(opts.stepTime);
  inputModeOf(trace, opts.input);
  if (opts.strategy !== undefined && !STRATEGIES.includes(opts.strategy)) throw new HardwareError(`unknown placement strategy "${String(opts.strategy)}"; known: ${STRATEGIES.join(', ')}`);
  return presets.map((p) => {
    const preset = resolvePreset(p);
    try {
      return emulate(trace, preset, opts);
    } catch (e) {
      if (!(e instanceof HardwareError)) throw e;
      const reason = e.message.startsWith(preset.name) ? e.message : `${preset.name}: ${e.message}`;
      return { format: 'egru-hardware-refusal', version: 2, preset: { name: preset.name, description: preset.description }, feasibility: e instanceof InfeasibleError ? e.feasibility : null, reason };
    }
  });
}

/** Whether a compare entry is a refusal. */
export const isRefusal = (r: HardwareReport | HardwareRefusal): r is HardwareRefusal => r.format === 'egru-hardware-refusal';

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

function scale<T extends object>(o: T, f: number): T {
  const out = {} as Record<string, number>;
  for (const [k, v] of Object.entries(o)) out[k] = (v as number) * f;
  return out as T;
}
