/**
 * The engine behind `emulate`: routes the multicast of every core once, then replays steps (the layers' events per
 * core) and accumulates packets, hops, synaptic operations, neuron updates, latency and per-link traffic.
 * Model and formulas: docs/hardware.md.
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

/** Per-step sums, reset every step. */
export class StepSums {
  eventPackets = 0;
  eventPacketsOffChip = 0;
  onChip = 0;
  onChipSrc = 0;
  chipHops = 0;
  synops = 0;
  updates = 0;
  events = 0;
  inputItems = 0;
  latency = 0;
  maxLinkPackets = 0;
  reset(): void {
    this.eventPackets = this.eventPacketsOffChip = this.onChip = this.onChipSrc = this.chipHops = 0;
    this.synops = this.updates = this.events = this.inputItems = this.latency = this.maxLinkPackets = 0;
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
  events = 0;
  inputItems = 0;
  latencySum = 0;
  latencyMax = 0;
  stepsOverBudget = 0;
  time = 0;
  overflowSteps = 0;
  peakUtil = 0;
  steps = 0;
  readonly linkPackets: Float64Array;
  readonly linkPeakUtil: Float64Array;
  constructor(nLinks: number) {
    this.linkPackets = new Float64Array(nLinks);
    this.linkPeakUtil = new Float64Array(nLinks);
  }
}

/** One step's record for replay with a multiplicity (dense steps repeat). */
interface StepRecord {
  sums: StepSums;
  links: Int32Array;
  linkPackets: Float64Array;
}

export class Emulator {
  readonly L: number;
  readonly H: number[];
  readonly C: number;
  readonly packetBytes: number;
  readonly bandwidth: number;
  readonly fixedStepTime: number | null;
  readonly barrier: number;
  private readonly tSyn: number;
  private readonly tUpd: number;
  /** Per hidden layer: local core index of each unit; units per local core; routes without and with readout. */
  private readonly localCore: Int32Array[];
  private readonly coreUnits: Int32Array[];
  private readonly routes: RouteStat[][];
  private readonly routesRo: RouteStat[][];
  private readonly inputRoute: RouteStat;
  /** Max units on one core, per group (hidden layers, readout). */
  private readonly maxUnits: number[];
  /** Synaptic fan-out per event of layer l, without and with the readout. */
  private readonly fan: number[];
  private readonly fanRo: number[];
  readonly linkIds: number[];
  // Scratch.
  private readonly cnt: Int32Array[];
  private readonly touched: Int32Array[];
  private readonly nTouched: Int32Array;
  private readonly E: Float64Array;
  private readonly pathMax: Float64Array;
  private readonly linkStep: Float64Array;
  private readonly linkTouched: Int32Array;
  private nLinkTouched = 0;
  readonly step = new StepSums();

  constructor(readonly placement: Placement, readonly preset: Preset, stepTime: number | undefined) {
    const shape = placement.shape;
    this.L = shape.layers.length;
    this.H = shape.layers;
    this.C = shape.classes;
    this.packetBytes = pv(preset, 'packetBits') / 8;
    this.bandwidth = pv(preset, 'linkBandwidth');
    const tick = pv(preset, 'tick');
    this.fixedStepTime = stepTime ?? (tick > 0 ? tick : null);
    const chipsUsed = new Set(placement.cores.map((c) => c.chip)).size;
    this.barrier = pv(preset, 'latencyBarrier') + pv(preset, 'latencyBarrierPerDoubling') * Math.log2(chipsUsed);
    this.tSyn = pv(preset, 'timePerSynapticOp');
    this.tUpd = pv(preset, 'timePerNeuronUpdate');

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
      this.routes.push(list.map((k) => routeOf(k, l, false)));
      this.routesRo.push(l === this.L - 1 ? list.map((k) => routeOf(k, l, true)) : this.routes[l]!);
      const own = 3 * this.H[l]!;
      this.fan.push(own + (l + 1 < this.L ? 3 * this.H[l + 1]! : 0));
      this.fanRo.push(own + (l + 1 < this.L ? 3 * this.H[l + 1]! : this.C));
    }
    this.inputRoute = stat(route(placement, preset, { chip: placement.inputChip }, placement.groupCores[0]!));
    this.maxUnits = placement.groupCores.map((list) => Math.max(...list.map((k) => placement.cores[k]!.units)));
    this.cnt = this.coreUnits.map((u) => new Int32Array(u.length));
    this.touched = this.coreUnits.map((u) => new Int32Array(u.length));
    this.nTouched = new Int32Array(this.L);
    this.E = new Float64Array(this.L);
    this.pathMax = new Float64Array(this.L);
    this.linkStep = new Float64Array(this.linkIds.length);
    this.linkTouched = new Int32Array(this.linkIds.length);
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
    s.inputItems = inputItems;
    if (inputItems > 0) {
      this.addRoute(this.inputRoute, inputItems);
      s.synops += inputItems * 3 * this.H[0]!;
    }
    let updates = 0;
    for (let l = 0; l < L; l++) {
      const ro = readoutNow && l === L - 1;
      const R = ro ? this.routesRo[l]! : this.routes[l]!;
      const c = this.cnt[l]!;
      const tt = this.touched[l]!;
      let pm = 0;
      for (let i = 0, n = this.nTouched[l]!; i < n; i++) {
        const k = tt[i]!;
        const r = R[k]!;
        this.addRoute(r, c[k]!);
        c[k] = 0;
        if (r.pathLatency > pm) pm = r.pathLatency;
      }
      this.pathMax[l] = pm;
      const e = this.E[l]!;
      s.events += e;
      s.synops += e * (ro ? this.fanRo[l]! : this.fan[l]!);
      updates += this.H[l]!;
    }
    if (readoutNow) updates += this.C;
    s.updates = updates;
    // Latency: input routing, then per layer its slowest core and the routing of its events, the readout,
    // the serialisation of the busiest link, and the barrier.
    let lat = this.barrier + (inputItems > 0 ? this.inputRoute.pathLatency : 0);
    for (let l = 0; l < L; l++) {
      const incoming = (l === 0 ? inputItems : this.E[l - 1]!) + this.E[l]!;
      lat += this.maxUnits[l]! * (this.tUpd + this.tSyn * 3 * incoming) + this.pathMax[l]!;
    }
    if (readoutNow) lat += this.maxUnits[L]! * (this.tUpd + this.tSyn * this.E[L - 1]!);
    let maxLink = 0;
    for (let i = 0; i < this.nLinkTouched; i++) maxLink = Math.max(maxLink, this.linkStep[this.linkTouched[i]!]!);
    s.maxLinkPackets = maxLink;
    lat += (maxLink * this.packetBytes) / this.bandwidth;
    s.latency = lat;
  }

  /** Adds the closed step `times` times to the totals and clears the link scratch. */
  commit(t: Totals, times = 1): void {
    const s = this.step;
    this.commitSums(t, s, times, this.linkTouched.subarray(0, this.nLinkTouched), this.linkStep);
    for (let i = 0; i < this.nLinkTouched; i++) this.linkStep[this.linkTouched[i]!] = 0;
    this.nLinkTouched = 0;
  }

  /** A copy of the closed step (and clears the link scratch). */
  record(): StepRecord {
    const links = this.linkTouched.slice(0, this.nLinkTouched);
    const linkPackets = Float64Array.from(links, (li) => this.linkStep[li]!);
    for (const li of links) this.linkStep[li] = 0;
    this.nLinkTouched = 0;
    const sums = Object.assign(new StepSums(), this.step);
    return { sums, links, linkPackets };
  }

  replay(t: Totals, rec: StepRecord, times: number): void {
    const full = new Float64Array(this.linkIds.length);
    rec.links.forEach((li, i) => (full[li] = rec.linkPackets[i]!));
    this.commitSums(t, rec.sums, times, rec.links, full);
  }

  private commitSums(t: Totals, s: StepSums, times: number, links: Int32Array, linkPk: Float64Array): void {
    t.eventPackets += times * s.eventPackets;
    t.eventPacketsOffChip += times * s.eventPacketsOffChip;
    t.onChip += times * s.onChip;
    t.onChipSrc += times * s.onChipSrc;
    t.chipHops += times * s.chipHops;
    t.synops += times * s.synops;
    t.updates += times * s.updates;
    t.events += times * s.events;
    t.inputItems += times * s.inputItems;
    t.latencySum += times * s.latency;
    if (s.latency > t.latencyMax) t.latencyMax = s.latency;
    const st = this.fixedStepTime ?? s.latency;
    if (this.fixedStepTime !== null && s.latency > this.fixedStepTime) t.stepsOverBudget += times;
    t.time += times * st;
    t.steps += times;
    const capacity = this.bandwidth * st;
    const maxBytes = s.maxLinkPackets * this.packetBytes;
    if (maxBytes > capacity) t.overflowSteps += times;
    if (maxBytes > 0) t.peakUtil = Math.max(t.peakUtil, maxBytes / capacity);
    for (let i = 0; i < links.length; i++) {
      const li = links[i]!;
      const pk = linkPk[li]!;
      t.linkPackets[li]! += times * pk;
      const u = (pk * this.packetBytes) / capacity;
      if (u > t.linkPeakUtil[li]!) t.linkPeakUtil[li] = u;
    }
  }
}
