/**
 * The engine behind `emulate`: routes the multicast of every core once, then replays steps (the layers' events per
 * core) and accumulates packets, hops, synaptic operations, neuron updates, latency and per-link, per-core and
 * host-link traffic. Model and formulas: docs/hardware.md.
 */
import type { Placement } from './placement.js';
import { pv, type Preset } from './presets.js';
import { consumerCores, route, type Route } from './routing.js';

interface RouteStat {
  chipHops: number;
  onChip: number;
  onChipSrc: number;
  /** Compact link indices. */
  links: Int32Array;
  pathLatency: number;
}

/** How the network is run: the step time, and the workarounds feasibility chose. */
export interface EmulatorConfig {
  /** Fixed step time (s); default the preset's tick, none → each step lasts its computed latency. */
  stepTime?: number;
  /** Packets (and synapses) per graded value: > 1 when values travel as several binary spikes. */
  packetsPerEvent?: number;
  /** The gates of every hidden unit are computed on the chip's embedded CPUs. */
  gatesOnHost?: boolean;
}

/** Per-step sums, reset every step. */
export class StepSums {
  eventPackets = 0;
  eventPacketsOffChip = 0;
  onChip = 0;
  onChipSrc = 0;
  chipHops = 0;
  synops = 0;
  updates = 0;
  /** Unit updates whose gates ran on an embedded CPU. */
  hostGates = 0;
  events = 0;
  inputItems = 0;
  /** Packets of the input items (sent by the host, not by a core). */
  inputPackets = 0;
  latency = 0;
  /** Packets over the busiest chip link of this step, and that link (compact index, −1: none). */
  maxLinkPackets = 0;
  busiestLink = -1;
  linksUsed = 0;
  /** Serialisation of the busiest chip link and of the host input link (s). */
  linkDelay = 0;
  hostBytes = 0;
  hostDelay = 0;
  reset(): void {
    this.eventPackets = this.eventPacketsOffChip = this.onChip = this.onChipSrc = this.chipHops = 0;
    this.synops = this.updates = this.hostGates = this.events = this.inputItems = this.inputPackets = this.latency = 0;
    this.maxLinkPackets = this.linksUsed = this.linkDelay = this.hostBytes = this.hostDelay = 0;
    this.busiestLink = -1;
  }
}

/** Running totals for one run (sparse or dense). */
export class Totals {
  eventPackets = 0;
  eventPacketsOffChip = 0;
  onChip = 0;
  onChipSrc = 0;
  chipHops = 0;
  synops = 0;
  updates = 0;
  hostGates = 0;
  events = 0;
  inputItems = 0;
  inputPackets = 0;
  latencySum = 0;
  latencyMax = 0;
  /** Steps whose computed latency exceeds the fixed step time. */
  lateSteps = 0;
  time = 0;
  overflowSteps = 0;
  peakUtil = 0;
  steps = 0;
  hostBytes = 0;
  hostPeakUtil = 0;
  /** Steps in which the host link must carry more than its bandwidth × step time. */
  hostOverflowSteps = 0;
  /** Events of each hidden layer, events of the last layer that reached the readout, steps the readout integrated. */
  readonly layerEvents: Float64Array;
  readoutEvents = 0;
  readoutSteps = 0;
  readonly linkPackets: Float64Array;
  readonly linkPeakPackets: Float64Array;
  readonly linkPeakUtil: Float64Array;
  /** Steps in which the link must carry more than its bandwidth × step time. */
  readonly linkOverflowSteps: Float64Array;
  /** Packets sent per core (placement order). */
  readonly corePackets: Float64Array;
  constructor(nLinks: number, nLayers: number, nCores: number) {
    this.linkPackets = new Float64Array(nLinks);
    this.linkPeakPackets = new Float64Array(nLinks);
    this.linkPeakUtil = new Float64Array(nLinks);
    this.linkOverflowSteps = new Float64Array(nLinks);
    this.layerEvents = new Float64Array(nLayers);
    this.corePackets = new Float64Array(nCores);
  }
}

/** One step's record for replay with a multiplicity (dense steps repeat). */
interface StepRecord {
  sums: StepSums;
  links: Int32Array;
  linkPackets: Float64Array;
  layerEvents: Float64Array;
  readout: boolean;
  corePackets: Float64Array;
}

export class Emulator {
  readonly L: number;
  readonly H: number[];
  readonly C: number;
  readonly packetBytes: number;
  readonly bandwidth: number;
  readonly hostBandwidth: number;
  readonly fixedStepTime: number | null;
  readonly barrier: number;
  readonly packetsPerEvent: number;
  readonly gatesOnHost: boolean;
  private readonly tSyn: number;
  private readonly tUpd: number;
  private readonly tPkt: number;
  /** Per hidden layer: the embedded-CPU time of its gates on the busiest chip (0 without the workaround). */
  private readonly hostGateTime: number[];
  /** Per hidden layer: local core index of each unit; units per local core; global core index; routes without and with readout. */
  private readonly localCore: Int32Array[];
  private readonly coreUnits: Int32Array[];
  private readonly coreIds: Int32Array[];
  private readonly routes: RouteStat[][];
  private readonly routesRo: RouteStat[][];
  private readonly inputRoute: RouteStat;
  /** Max units on one core, per group (hidden layers, readout). */
  private readonly maxUnits: number[];
  /** Synaptic fan-out per event of layer l, without and with the readout. */
  private readonly fan: number[];
  private readonly fanRo: number[];
  /** Chip link ids (chip·4 + direction) of the compact link indices. */
  readonly linkIds: number[];
  // Scratch.
  private readonly cnt: Int32Array[];
  private readonly touched: Int32Array[];
  private readonly nTouched: Int32Array;
  private readonly E: Float64Array;
  private readonly pathMax: Float64Array;
  private readonly pktMax: Float64Array;
  private readonly linkStep: Float64Array;
  private readonly linkTouched: Int32Array;
  private readonly coreStep: Float64Array;
  private nLinkTouched = 0;
  private readoutNow = false;
  readonly step = new StepSums();

  constructor(readonly placement: Placement, readonly preset: Preset, config: EmulatorConfig = {}) {
    const shape = placement.shape;
    this.L = shape.layers.length;
    this.H = shape.layers;
    this.C = shape.classes;
    this.packetBytes = pv(preset, 'packetBits') / 8;
    this.bandwidth = pv(preset, 'linkBandwidth');
    this.hostBandwidth = pv(preset, 'hostBandwidth');
    const tick = pv(preset, 'tick');
    this.fixedStepTime = config.stepTime ?? (tick > 0 ? tick : null);
    this.packetsPerEvent = config.packetsPerEvent ?? 1;
    this.gatesOnHost = config.gatesOnHost ?? false;
    const chipsUsed = new Set(placement.cores.map((c) => c.chip)).size;
    this.barrier = pv(preset, 'latencyBarrier') + pv(preset, 'latencyBarrierPerDoubling') * Math.log2(chipsUsed);
    this.tSyn = pv(preset, 'timePerSynapticOp');
    this.tUpd = pv(preset, 'timePerNeuronUpdate');
    this.tPkt = pv(preset, 'timePerPacket');

    const linkIndex = new Map<number, number>();
    this.linkIds = [];
    const cache = new Map<string, RouteStat>();
    const stat = (r: Route): RouteStat => ({
      chipHops: r.chipHops,
      onChip: r.onChipHops,
      onChipSrc: r.onChipHopsSourceChip,
      links: Int32Array.from(r.links, (id) => {
        let i = linkIndex.get(id);
        if (i === undefined) {
          linkIndex.set(id, (i = this.linkIds.length));
          this.linkIds.push(id);
        }
        return i;
      }),
      pathLatency: r.pathLatency,
    });
    const routeOf = (core: number, l: number, ro: boolean): RouteStat => {
      const c = placement.cores[core]!;
      const key = `${l}:${ro ? 1 : 0}:${c.chip}:${c.node}`;
      let s = cache.get(key);
      if (!s) cache.set(key, (s = stat(route(placement, preset, { core }, consumerCores(placement, l, ro)))));
      return s;
    };
    this.localCore = [];
    this.coreUnits = [];
    this.coreIds = [];
    this.routes = [];
    this.routesRo = [];
    this.fan = [];
    this.fanRo = [];
    for (let l = 0; l < this.L; l++) {
      const list = placement.groupCores[l]!;
      const local = new Map(list.map((k, i) => [k, i]));
      const uc = placement.unitCore[l]!;
      this.localCore.push(Int32Array.from(uc, (k) => local.get(k)!));
      this.coreUnits.push(Int32Array.from(list, (k) => placement.cores[k]!.units));
      this.coreIds.push(Int32Array.from(list));
      this.routes.push(list.map((k) => routeOf(k, l, false)));
      this.routesRo.push(l === this.L - 1 ? list.map((k) => routeOf(k, l, true)) : this.routes[l]!);
      const own = 3 * this.H[l]!;
      this.fan.push(own + (l + 1 < this.L ? 3 * this.H[l + 1]! : 0));
      this.fanRo.push(own + (l + 1 < this.L ? 3 * this.H[l + 1]! : this.C));
    }
    this.inputRoute = stat(route(placement, preset, { chip: placement.inputChip }, placement.groupCores[0]!));
    this.maxUnits = placement.groupCores.map((list) => Math.max(...list.map((k) => placement.cores[k]!.units)));
    this.hostGateTime = this.H.map((_, l) => (this.gatesOnHost ? hostGateTime(placement, preset, l) : 0));
    this.cnt = this.coreUnits.map((u) => new Int32Array(u.length));
    this.touched = this.coreUnits.map((u) => new Int32Array(u.length));
    this.nTouched = new Int32Array(this.L);
    this.E = new Float64Array(this.L);
    this.pathMax = new Float64Array(this.L);
    this.pktMax = new Float64Array(this.L);
    this.linkStep = new Float64Array(this.linkIds.length);
    this.linkTouched = new Int32Array(this.linkIds.length);
    this.coreStep = new Float64Array(placement.cores.length);
  }

  newTotals(): Totals {
    return new Totals(this.linkIds.length, this.L, this.placement.cores.length);
  }

  /** Counts the events of layer l of the current step into per-core counters. */
  fillFromEvents(l: number, units: ArrayLike<number>, a: number, b: number): void {
    const lc = this.localCore[l]!;
    const c = this.cnt[l]!;
    const tt = this.touched[l]!;
    let nt = 0;
    for (let i = a; i < b; i++) {
      const k = lc[units[i]!]!;
      if (c[k]!++ === 0) tt[nt++] = k;
    }
    this.nTouched[l] = nt;
    this.E[l] = b - a;
  }

  /** Every unit of layer l fires. */
  fillDense(l: number): void {
    const units = this.coreUnits[l]!;
    const c = this.cnt[l]!;
    const tt = this.touched[l]!;
    for (let k = 0; k < units.length; k++) {
      c[k] = units[k]!;
      tt[k] = k;
    }
    this.nTouched[l] = units.length;
    this.E[l] = this.H[l]!;
  }

  private addRoute(r: RouteStat, n: number): void {
    const s = this.step;
    s.eventPackets += n;
    if (r.chipHops > 0) s.eventPacketsOffChip += n;
    s.onChip += n * r.onChip;
    s.onChipSrc += n * r.onChipSrc;
    s.chipHops += n * r.chipHops;
    const links = r.links;
    for (let j = 0; j < links.length; j++) {
      const li = links[j]!;
      if (this.linkStep[li] === 0) this.linkTouched[this.nLinkTouched++] = li;
      this.linkStep[li]! += n;
    }
  }

  /** Closes a step whose layers were filled: routes, synaptic ops, updates, latency. */
  closeStep(inputItems: number, readoutNow: boolean): void {
    const s = this.step;
    const L = this.L;
    const ppe = this.packetsPerEvent;
    this.readoutNow = readoutNow;
    s.inputItems = inputItems;
    s.inputPackets = inputItems * ppe;
    if (inputItems > 0) {
      this.addRoute(this.inputRoute, inputItems * ppe);
      s.synops += inputItems * ppe * 3 * this.H[0]!;
    }
    s.hostBytes = inputItems * ppe * this.packetBytes;
    let updates = 0;
    for (let l = 0; l < L; l++) {
      const ro = readoutNow && l === L - 1;
      const R = ro ? this.routesRo[l]! : this.routes[l]!;
      const c = this.cnt[l]!;
      const tt = this.touched[l]!;
      const ids = this.coreIds[l]!;
      let pm = 0;
      let km = 0;
      for (let i = 0, n = this.nTouched[l]!; i < n; i++) {
        const k = tt[i]!;
        const r = R[k]!;
        const packets = c[k]! * ppe;
        this.addRoute(r, packets);
        this.coreStep[ids[k]!] = packets;
        c[k] = 0;
        if (r.pathLatency > pm) pm = r.pathLatency;
        if (packets > km) km = packets;
      }
      this.pathMax[l] = pm;
      this.pktMax[l] = km;
      const e = this.E[l]!;
      s.events += e;
      s.synops += e * ppe * (ro ? this.fanRo[l]! : this.fan[l]!);
      updates += this.H[l]!;
    }
    if (this.gatesOnHost) s.hostGates = updates;
    if (readoutNow) updates += this.C;
    s.updates = updates;
    this.closeLinks();
    s.latency = this.latencyOf(inputItems, readoutNow);
  }

  /** The busiest chip link of the step (most packets; ties: the lowest link id) and its serialisation. */
  private closeLinks(): void {
    const s = this.step;
    let best = -1;
    for (let i = 0; i < this.nLinkTouched; i++) {
      const li = this.linkTouched[i]!;
      const pk = this.linkStep[li]!;
      if (best < 0 || pk > this.linkStep[best]! || (pk === this.linkStep[best]! && this.linkIds[li]! < this.linkIds[best]!)) best = li;
    }
    s.linksUsed = this.nLinkTouched;
    s.busiestLink = best;
    s.maxLinkPackets = best < 0 ? 0 : this.linkStep[best]!;
    s.linkDelay = (s.maxLinkPackets * this.packetBytes) / this.bandwidth;
    s.hostDelay = this.hostBandwidth > 0 ? s.hostBytes / this.hostBandwidth : 0;
  }

  /**
   * Latency: host input serialisation and routing, then per layer its gates on the embedded CPUs (workaround), its
   * slowest core (updates, synaptic ops, packets sent) and the routing of its events; the readout; the serialisation
   * of the busiest chip link; the barrier.
   */
  private latencyOf(inputItems: number, readoutNow: boolean): number {
    const s = this.step;
    const L = this.L;
    const ppe = this.packetsPerEvent;
    let lat = this.barrier + s.hostDelay + (inputItems > 0 ? this.inputRoute.pathLatency : 0);
    for (let l = 0; l < L; l++) {
      const incoming = ((l === 0 ? inputItems : this.E[l - 1]!) + this.E[l]!) * ppe;
      lat += this.hostGateTime[l]! + this.maxUnits[l]! * (this.tUpd + this.tSyn * 3 * incoming) + this.pktMax[l]! * this.tPkt + this.pathMax[l]!;
    }
    if (readoutNow) lat += this.maxUnits[L]! * (this.tUpd + this.tSyn * this.E[L - 1]! * ppe);
    return lat + s.linkDelay;
  }

  /** The step time of the closed step: the fixed one, or its latency. */
  stepTimeOf(s: StepSums): number {
    return this.fixedStepTime ?? s.latency;
  }

  /** Adds the closed step to the totals (per link, core and layer too) and clears the scratch. */
  commit(t: Totals): void {
    this.commitRecord(t, this.record(), 1);
  }

  /** A copy of the closed step (and clears the scratch). */
  record(): StepRecord {
    const links = this.linkTouched.slice(0, this.nLinkTouched);
    const linkPackets = Float64Array.from(links, (li) => this.linkStep[li]!);
    for (const li of links) this.linkStep[li] = 0;
    this.nLinkTouched = 0;
    const corePackets = this.coreStep.slice();
    this.coreStep.fill(0);
    const sums = Object.assign(new StepSums(), this.step);
    return { sums, links, linkPackets, layerEvents: this.E.slice(), readout: this.readoutNow, corePackets };
  }

  /** Adds a recorded step `times` times. */
  commitRecord(t: Totals, rec: StepRecord, times: number): void {
    const s = rec.sums;
    t.eventPackets += times * s.eventPackets;
    t.eventPacketsOffChip += times * s.eventPacketsOffChip;
    t.onChip += times * s.onChip;
    t.onChipSrc += times * s.onChipSrc;
    t.chipHops += times * s.chipHops;
    t.synops += times * s.synops;
    t.updates += times * s.updates;
    t.hostGates += times * s.hostGates;
    t.events += times * s.events;
    t.inputItems += times * s.inputItems;
    t.inputPackets += times * s.inputPackets;
    t.latencySum += times * s.latency;
    if (s.latency > t.latencyMax) t.latencyMax = s.latency;
    const st = this.stepTimeOf(s);
    if (this.fixedStepTime !== null && s.latency > this.fixedStepTime) t.lateSteps += times;
    t.time += times * st;
    t.steps += times;
    for (let l = 0; l < this.L; l++) t.layerEvents[l]! += times * rec.layerEvents[l]!;
    if (rec.readout) {
      t.readoutSteps += times;
      t.readoutEvents += times * rec.layerEvents[this.L - 1]!;
    }
    for (let k = 0; k < rec.corePackets.length; k++) t.corePackets[k]! += times * rec.corePackets[k]!;
    const capacity = this.bandwidth * st;
    const maxBytes = s.maxLinkPackets * this.packetBytes;
    if (maxBytes > capacity) t.overflowSteps += times;
    if (maxBytes > 0) t.peakUtil = Math.max(t.peakUtil, maxBytes / capacity);
    rec.links.forEach((li, i) => {
      const pk = rec.linkPackets[i]!;
      t.linkPackets[li]! += times * pk;
      if (pk > t.linkPeakPackets[li]!) t.linkPeakPackets[li] = pk;
      const u = (pk * this.packetBytes) / capacity;
      if (u > t.linkPeakUtil[li]!) t.linkPeakUtil[li] = u;
      if (u > 1) t.linkOverflowSteps[li]! += times;
    });
    t.hostBytes += times * s.hostBytes;
    if (this.hostBandwidth > 0 && s.hostBytes > 0) {
      const u = s.hostBytes / (this.hostBandwidth * st);
      if (u > t.hostPeakUtil) t.hostPeakUtil = u;
      if (u > 1) t.hostOverflowSteps += times;
    }
  }
}

/** Embedded-CPU time of layer l's gates on its busiest chip: ⌈units there / CPUs⌉ × time per unit. */
function hostGateTime(placement: Placement, preset: Preset, l: number): number {
  const perChip = new Map<number, number>();
  for (const k of placement.groupCores[l]!) {
    const c = placement.cores[k]!;
    perChip.set(c.chip, (perChip.get(c.chip) ?? 0) + c.units);
  }
  const cpus = pv(preset, 'hostCoresPerChip');
  return Math.ceil(Math.max(...perChip.values()) / cpus) * pv(preset, 'timePerHostGate');
}
