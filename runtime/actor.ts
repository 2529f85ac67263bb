/**
 * An actor = state + message handler (Erlang-style), with explicit per-step phases (Lava-style).
 * It owns one group of units: their parameters, optimiser state and BPTT history (in the GroupKernel),
 * and for the last layer its columns of the readout. Every method is one phase of the schedule; the
 * driver (inline loop or worker thread) calls them in order and places a barrier between them.
 * Messages are item lists in the shared-memory fabric: written once by the sender, read by consumers.
 */
import type { ModelConfig } from '../model/config.js';
import { DropoutMask } from '../model/dropout.js';
import { GroupKernel, type GroupKernelSpec, storedGateSteps } from '../model/group-kernel.js';
import { ItemList } from '../model/items.js';
import { clipScale, Optimizer, type OptimizerConfig, type OptimizerState } from '../model/optim.js';
import type { GroupParams } from '../model/params.js';
import { ReadoutShard, softmaxCrossEntropy } from '../model/readout-shard.js';
import { SimdArena } from '../model/simd.js';
import { CTRL } from './barrier.js';
import { C, listOver, NCOUNTERS, packetBytes, PAIR_FIELDS, SCALAR, type FabricBuffers } from './fabric.js';
import { ItemRouter } from './item-router.js';
import { Topology, type ActorInfo } from './topology.js';

export const JOB = { train: 1, eval: 2 } as const;

export interface FaultSpec {
  actor: number;
  /** Job number (0-based count of train/eval jobs this actor ran) and forward tick at which to fail. */
  job: number;
  tick: number;
  kind: 'throw' | 'exit';
}

export interface ActorInit {
  model: ModelConfig;
  /** Group sizes per layer (rebuilds the same Topology in a worker). */
  split: number[][];
  id: number;
  params: GroupParams;
  /** Last layer only: own columns of readout.weight (C × n) and a copy of readout.bias. */
  readoutWeight?: Float32Array;
  readoutBias?: Float32Array;
  optimizer: OptimizerConfig;
  clip: number;
  fault?: FaultSpec;
}

/** Events of one actor during an evaluation: [t][b] → own fired units (layer-global indices). */
export interface ActorTrace {
  actor: number;
  layer: number;
  steps: number;
  batch: number;
  offsets: Int32Array; // (steps·batch + 1)
  units: Int32Array;
}

/** An actor's parts of a wasm memory: its kernel's, and its optimiser state's (so the update runs in SIMD). */
export interface ActorArenas {
  kernel: SimdArena;
  optimizer: SimdArena;
}

const EMPTY: readonly ItemList[] = [];

export class ActorCore {
  readonly info: ActorInfo;
  readonly top: Topology;
  readonly kernel: GroupKernel;
  readonly shard: ReadoutShard | null;
  readonly readoutBias: Float32Array | null;
  readonly readoutBiasGrad: Float32Array | null;
  readonly optimizer: Optimizer;
  private readonly model: ModelConfig;
  private readonly clip: number;
  private readonly fab: FabricBuffers;
  private readonly ctrl: Int32Array;
  private readonly scalars: Float64Array;
  private readonly counters: Float64Array;
  private readonly pairCounters: Float64Array;
  private readonly x: Float32Array;
  private readonly targets: Int32Array;
  private readonly B: number;

  // Mailbox views, by parity where a tick writes what the next tick reads.
  private readonly eventsOut: ItemList[];
  private readonly nearOut: ItemList[];
  private readonly layerEvents: ItemList[][];
  private readonly layerNear: ItemList[][];
  private readonly belowEvents: ItemList[][];
  private readonly belowNear: ItemList[][];
  private readonly resetOut: ItemList;
  private readonly layerReset: ItemList[];
  /** Gradient sums: destination lists (by destination actor id) and incoming lists. */
  /** Destination mailboxes indexed by actor id (sparse arrays: only this actor's destinations are set). */
  private readonly gradsOut: ItemList[][];
  private readonly gradsPOut: ItemList[];
  private readonly gradsInLayer: ItemList[][];
  private readonly gradsInAbove: ItemList[][];
  private readonly gradsPIn: ItemList[];
  private readonly inputList: ItemList;
  private readonly inputLists: ItemList[];
  /** Where the kernel writes its partial sums, split on the way into gradsOut[parity] (and gradsPOut). */
  private readonly recRoute: ItemRouter[];
  private readonly belowRoute: ItemRouter[];
  private readonly pRoute: ItemRouter | null;
  private readonly outputGradBuf: Float32Array;
  private readonly logitsOwn: Float32Array;
  private readonly logitsAll: Float32Array[];
  private readonly logitsSum: Float32Array;
  private readonly dlogits: Float32Array;
  private readonly forwardConsumers: number[];
  private readonly layerIds: number[];
  private readonly lastLayer: boolean;
  private readonly fault: FaultSpec | undefined;

  private steps = 0;
  private batchActive = 0;
  private jobKind = 0;
  /** Whether this job carries on from the state of the previous job of its kind (truncated BPTT). */
  private carry = false;
  /**
   * The state each kind of job carries on from ([B × n], v or c of own units at the last step of the previous job
   * of that kind): training and evaluation each keep their own, so an evaluation between two training segments
   * leaves the training streams alone.
   */
  private readonly carried: Record<'train' | 'eval', Float32Array>;
  private jobs = 0;
  private eventsAtStart = 0;
  private tracing = false;
  private traceOffsets: number[] = [];
  private traceUnits: number[] = [];

  /** The group kernel an actor of `init` runs, for a batch capacity of `batch` and sequences of up to maxSteps steps. */
  static kernelSpec(init: ActorInit, batch: number, maxSteps: number): GroupKernelSpec {
    const me = new Topology(init.model, init.split).actors[init.id]!;
    const gateSteps = storedGateSteps(init.model, me.layer, batch, maxSteps);
    return { cfg: init.model, layer: me.layer, unitStart: me.unitStart, units: me.units, batch, gateSteps };
  }

  /** Lengths of the trainable tensors of an actor of `init`, in paramTensors order. */
  private static paramLengths(init: ActorInit): number[] {
    const p = init.params;
    const lengths = [p.kernel.length, p.recurrentKernel.length, p.bias.length, p.recurrentBias.length, p.thr.length];
    const top = new Topology(init.model, init.split);
    if (top.actors[init.id]!.layer === top.depth - 1) lengths.push(init.readoutWeight?.length ?? 0, init.readoutBias?.length ?? 0);
    return lengths;
  }

  /** The arena sizes of an actor's kernel, then of its optimiser state (in the same memory, for its SIMD update). */
  private static arenaSizes(init: ActorInit, batch: number, maxSteps: number): number[][] {
    return [GroupKernel.arenaSizes(ActorCore.kernelSpec(init, batch, maxSteps)), Optimizer.arenaSizes(init.optimizer, ActorCore.paramLengths(init))];
  }

  /** One wasm memory for an actor's kernel and optimiser state. */
  private static ownArenas(init: ActorInit, batch: number, maxSteps: number): ActorArenas {
    const [kernel, optimizer] = SimdArena.group(ActorCore.arenaSizes(init, batch, maxSteps)) as [SimdArena, SimdArena];
    return { kernel, optimizer };
  }

  /**
   * Memories for actors that share a thread (the inline transport): one wasm memory and instance for all,
   * so their SIMD call sites stay monomorphic; null when they would not fit one memory together.
   */
  static sharedArenas(inits: readonly ActorInit[], batch: number, maxSteps: number): ActorArenas[] | null {
    const sizes = inits.flatMap((init) => ActorCore.arenaSizes(init, batch, maxSteps));
    if (!SimdArena.fitTogether(sizes)) return null;
    let arenas: SimdArena[];
    try {
      arenas = SimdArena.group(sizes);
    } catch {
      return null; // one large memory could not be had: one memory per actor (each may still fail, clearly)
    }
    return inits.map((_, i) => ({ kernel: arenas[2 * i]!, optimizer: arenas[2 * i + 1]! }));
  }

  /** `arenas`: this actor's memory from sharedArenas (actors in one thread); default: its own. */
  constructor(init: ActorInit, fab: FabricBuffers, arenas?: ActorArenas) {
    this.model = init.model;
    this.top = new Topology(init.model, init.split);
    this.info = this.top.actors[init.id]!;
    this.fab = fab;
    this.clip = init.clip;
    this.fault = init.fault && init.fault.actor === init.id ? init.fault : undefined;
    const B = (this.B = fab.batch);
    const me = this.info;
    const G = this.top.size;
    const memory = arenas ?? ActorCore.ownArenas(init, B, fab.maxSteps);
    this.kernel = new GroupKernel(ActorCore.kernelSpec(init, B, fab.maxSteps), init.params, memory.kernel);
    this.lastLayer = me.layer === this.top.depth - 1;
    this.ctrl = new Int32Array(fab.control);
    this.scalars = new Float64Array(fab.scalars, 8 * me.id * SCALAR.size, SCALAR.size);
    this.counters = new Float64Array(fab.counters, 8 * me.id * NCOUNTERS, NCOUNTERS);
    this.pairCounters = new Float64Array(fab.pairCounters, 8 * me.id * G * PAIR_FIELDS, G * PAIR_FIELDS);
    this.x = new Float32Array(fab.input);
    this.targets = new Int32Array(fab.targets);

    const sameLayer = this.top.layers[me.layer]!;
    const below = me.layer > 0 ? this.top.layers[me.layer - 1]! : [];
    const above = this.lastLayer ? [] : this.top.layers[me.layer + 1]!;
    const parity = [0, 1];
    this.eventsOut = parity.map((p) => listOver(fab.events[me.id]![p]!, B));
    this.nearOut = parity.map((p) => listOver(fab.near[me.id]![p]!, B));
    this.layerEvents = parity.map((p) => sameLayer.map((a) => listOver(fab.events[a.id]![p]!, B)));
    this.layerNear = parity.map((p) => sameLayer.map((a) => listOver(fab.near[a.id]![p]!, B)));
    this.belowEvents = parity.map((p) => below.map((a) => listOver(fab.events[a.id]![p]!, B)));
    this.belowNear = parity.map((p) => below.map((a) => listOver(fab.near[a.id]![p]!, B)));
    this.resetOut = listOver(fab.reset[me.id]!, B);
    this.layerReset = sameLayer.map((a) => listOver(fab.reset[a.id]!, B));
    const pair = (src: number, dst: number) => fab.pairIndex[src * G + dst]!;
    this.gradsOut = parity.map((p) => {
      const m: ItemList[] = [];
      for (const a of [...sameLayer, ...below]) m[a.id] = listOver(fab.grads[pair(me.id, a.id)]![p]!, B);
      return m;
    });
    this.gradsPOut = [];
    const paper = init.model.cell === 'egru' && init.model.formulation === 'paper';
    if (paper) for (const a of sameLayer) this.gradsPOut[a.id] = listOver(fab.gradsP[pair(me.id, a.id)]!, B);
    this.gradsInLayer = parity.map((p) => sameLayer.map((a) => listOver(fab.grads[pair(a.id, me.id)]![p]!, B)));
    this.gradsInAbove = parity.map((p) => above.map((a) => listOver(fab.grads[pair(a.id, me.id)]![p]!, B)));
    this.gradsPIn = paper ? sameLayer.map((a) => listOver(fab.gradsP[pair(a.id, me.id)]!, B)) : [];
    this.forwardConsumers = [...sameLayer, ...above].map((a) => a.id).filter((id) => id !== me.id);
    this.layerIds = sameLayer.map((a) => a.id);

    this.inputList = new ItemList(B, B * init.model.inputSize);
    this.inputLists = [this.inputList];
    const belowIds = below.map((a) => a.id);
    this.recRoute = parity.map((p) => new ItemRouter(this.gradsOut[p]!, this.top.owner[me.layer]!, this.layerIds));
    // layer 0 has no layer below: its kernel leaves that list empty, so the router has no destination
    this.belowRoute = parity.map((p) => new ItemRouter(this.gradsOut[p]!, me.layer > 0 ? this.top.owner[me.layer - 1]! : new Int32Array(0), belowIds));
    this.pRoute = paper ? new ItemRouter(this.gradsPOut, this.top.owner[me.layer]!, this.layerIds) : null;
    this.outputGradBuf = new Float32Array(B * me.units);
    this.carried = { train: new Float32Array(B * me.units), eval: new Float32Array(B * me.units) };

    const Cn = init.model.classes;
    const rows = init.model.readout === 'per-step' ? fab.maxSteps : 1;
    if (this.lastLayer) {
      if (!init.readoutWeight || !init.readoutBias) throw new Error(`${this.top.describe(me)}: readout columns missing`);
      const dropout = init.model.dropout > 0 ? new DropoutMask(init.model.dropout, init.model.seed, me.layer) : null;
      this.shard = new ReadoutShard(init.model.readout, Cn, me.unitStart, me.units, B, init.readoutWeight, dropout);
      this.readoutBias = init.readoutBias;
      this.readoutBiasGrad = new Float32Array(Cn);
      this.logitsOwn = new Float32Array(fab.logits[me.id]!);
      this.logitsAll = sameLayer.map((a) => new Float32Array(fab.logits[a.id]!));
      this.logitsSum = new Float32Array(rows * B * Cn);
      this.dlogits = new Float32Array(rows * B * Cn);
    } else {
      this.shard = null;
      this.readoutBias = this.readoutBiasGrad = null;
      this.logitsOwn = this.logitsSum = this.dlogits = new Float32Array(0);
      this.logitsAll = [];
    }
    const tensors = this.paramTensors();
    this.optimizer = new Optimizer(
      init.optimizer,
      tensors,
      tensors.map((t) => t === this.kernel.params.thr),
      tensors.map((t) => t === this.kernel.params.bias || t === this.kernel.params.recurrentBias || t === this.readoutBias),
      memory.optimizer,
    );
  }

  /** Own trainable tensors, in a fixed order (optimiser state follows it). */
  paramTensors(): Float32Array[] {
    const p = this.kernel.params;
    const t = [p.kernel, p.recurrentKernel, p.bias, p.recurrentBias, p.thr];
    if (this.shard) t.push(this.shard.weight, this.readoutBias!);
    return t;
  }
  private gradTensors(): Float32Array[] {
    const g = this.kernel.grads;
    const t = [g.kernel, g.recurrentKernel, g.bias, g.recurrentBias, g.thr];
    if (this.shard) t.push(this.shard.gradWeight, this.readoutBiasGrad!);
    return t;
  }

  get forwardPhases(): number {
    return this.kernel.forwardPhases;
  }
  get backwardPhases(): number {
    return this.kernel.backwardPhases;
  }

  // ---- phase: begin ---------------------------------------------------------------------------
  begin(trace: boolean): void {
    this.jobKind = Atomics.load(this.ctrl, CTRL.jobKind);
    this.batchActive = Atomics.load(this.ctrl, CTRL.jobBatch);
    this.steps = Atomics.load(this.ctrl, CTRL.jobSteps);
    // Dropout masks are keyed by the optimiser step, which every actor (and a resumed run) agrees on.
    const dropoutStep = this.jobKind === JOB.train ? this.optimizer.stepCount : null;
    this.kernel.countUnitEvents = this.jobKind === JOB.train; // per-unit counts: training only
    this.carry = Atomics.load(this.ctrl, CTRL.jobCarry) === 1;
    this.kernel.beginSequence(this.steps, this.batchActive, dropoutStep, this.carry ? this.carried[this.carriedKind()] : null);
    if (this.carry) {
      // The layer's events of step −1 are step 0's recurrent input: where the peers read them at tick `layer`.
      const out = this.eventsOut[(this.info.layer + 1) & 1]!;
      this.kernel.carriedEvents(out);
      this.countForward(out, this.layerIds);
    }
    if (this.jobKind === JOB.train) {
      this.kernel.zeroGrads();
      this.shard?.gradWeight.fill(0);
      this.readoutBiasGrad?.fill(0);
    }
    this.shard?.beginSequence(this.steps, this.batchActive, dropoutStep);
    this.eventsAtStart = this.kernel.counters.events;
    this.tracing = trace;
    this.traceOffsets = [0];
    this.traceUnits = [];
  }

  // ---- phase: forward tick k, phase p ------------------------------------------------------------
  forward(k: number, p: number): void {
    this.control(1);
    const t = k - this.info.layer;
    if (t < 0 || t >= this.steps) return;
    if (this.fault && this.fault.job === this.jobs && this.fault.tick === k && p === 0) this.injectFault();
    const pin = (k + 1) & 1; // parity written at tick k − 1
    const pout = k & 1;
    const kernel = this.kernel;
    const inputs: readonly ItemList[] = this.info.layer === 0 ? this.buildInput(t) : this.belowEvents[pin]!;
    const training = this.jobKind === JOB.train;
    if (p === 0) {
      // Announcements of backward-active units serve only the backward pass.
      if (training && t >= 1) kernel.receiveActive('layer', t - 1, this.layerNear[pin]!);
      if (training && this.info.layer > 0) kernel.receiveActive('below', t, this.belowNear[pin]!);
      const recurrent = t >= 1 || this.carry ? this.layerEvents[pin]! : EMPTY;
      if (kernel.forwardPhases === 1) {
        kernel.forward(0, t, inputs, recurrent, this.eventsOut[pout]!);
        this.afterStep(t, pout);
      } else {
        kernel.forward(0, t, inputs, recurrent, this.resetOut);
        this.countForward(this.resetOut, this.layerIds);
      }
    } else {
      kernel.forward(1, t, inputs, this.layerReset, this.eventsOut[pout]!);
      this.afterStep(t, pout);
    }
  }

  private afterStep(t: number, pout: number): void {
    const events = this.eventsOut[pout]!;
    this.countForward(events, this.forwardConsumers);
    if (this.jobKind === JOB.train) {
      // Announcements of backward-active units serve the backward pass: counted there.
      const near = this.nearOut[pout]!;
      this.kernel.nearThreshold(t, near);
      for (const dst of this.forwardConsumers) this.countPair(dst, 3, near, 4);
    }
    if (this.shard) this.shard.observe(t, events, this.logitsOwn);
    if (this.tracing) {
      for (let b = 0; b < this.B; b++) {
        for (let e = events.offsets[b]!; e < events.offsets[b + 1]!; e++) this.traceUnits.push(events.index[e]!);
        this.traceOffsets.push(this.traceUnits.length);
      }
    }
    if (t === this.steps - 1) {
      this.scalars[SCALAR.events] = this.kernel.counters.events - this.eventsAtStart;
      this.kernel.finalState(this.carried[this.carriedKind()]);
    }
  }

  private buildInput(t: number): readonly ItemList[] {
    const list = this.inputList;
    const I = this.model.inputSize;
    const T = this.steps;
    const x = this.x;
    list.clear();
    for (let b = 0; b < this.batchActive; b++) {
      list.begin(b);
      const row = (b * T + t) * I;
      for (let i = 0; i < I; i++) {
        const v = x[row + i]!;
        if (v !== 0) list.push(i, v);
      }
    }
    list.end();
    return this.inputLists;
  }

  private countForward(list: ItemList, consumers: readonly number[]): void {
    for (const dst of consumers) if (dst !== this.info.id) this.countPair(dst, 0, list, 8);
  }

  /** Count one logical packet to `dst` (field 0: forward, 3: backward) unless it carries nothing. */
  private countPair(dst: number, field: 0 | 3, list: ItemList, bytesPerItem: number): void {
    const items = list.size;
    if (items === 0 || dst === this.info.id) return;
    const bytes = packetBytes(list, bytesPerItem);
    const pc = this.pairCounters;
    const at = dst * PAIR_FIELDS + field;
    pc[at]! += 1;
    pc[at + 1]! += items;
    pc[at + 2]! += bytes;
    const base = field === 0 ? C['messages.forward.packets'] : C['messages.backward.packets'];
    this.counters[base]! += 1;
    this.counters[base + 1]! += items;
    this.counters[base + 2]! += bytes;
  }

  /** One barrier arrival (or reduction value) = one control packet. */
  private control(items: number): void {
    this.counters[C['messages.control.packets']]! += 1;
    this.counters[C['messages.control.items']]! += items;
    this.counters[C['messages.control.bytes']]! += 4 + 8 * items;
  }

  private injectFault(): never {
    if (this.fault!.kind === 'exit' && typeof process !== 'undefined' && !isMainThreadSafe()) process.exit(70);
    throw new Error(`injected fault at job ${this.jobs}, tick ${this.fault!.tick}`);
  }

  // ---- phase: loss (after the last forward tick) ------------------------------------------------
  loss(): void {
    this.control(1);
    const model = this.model;
    const T = this.steps;
    const B = this.B;
    // Activity regularisation needs each layer's global event count: read every actor's scalar.
    let penalty = 0;
    if (model.activityReg > 0 && model.cell === 'egru') {
      for (let l = 0; l < this.top.depth; l++) {
        let ev = 0;
        for (const a of this.top.layers[l]!) ev += new Float64Array(this.fab.scalars, 8 * a.id * SCALAR.size, SCALAR.size)[SCALAR.events]!;
        const denom = T * this.batchActive * model.hidden[l]!;
        const mean = ev / denom;
        penalty += model.activityReg * (mean - model.activityTarget) ** 2;
        if (l === this.info.layer) this.kernel.setActivityGradient((2 * model.activityReg * (mean - model.activityTarget)) / denom);
      }
    } else this.kernel.setActivityGradient(0);
    if (!this.shard) return;
    const Cn = model.classes;
    const rows = this.shard.logitRows(T);
    const n = rows * B * Cn;
    const sent = rows * this.batchActive * Cn; // padding rows are never sent
    const sum = this.logitsSum;
    sum.fill(0, 0, n);
    for (const part of this.logitsAll) for (let i = 0; i < n; i++) sum[i]! += part[i]!;
    for (let r = 0; r < rows * B; r++) for (let c = 0; c < Cn; c++) sum[r * Cn + c]! += this.readoutBias![c]!;
    // Partial logits are all-gathered among the last layer's actors.
    const peers = this.top.layers[this.info.layer]!;
    for (const a of peers)
      if (a.id !== this.info.id) {
        const at = a.id * PAIR_FIELDS;
        // Dense rows of logits: values only (4 bytes each), no addresses.
        this.pairCounters[at]! += 1;
        this.pairCounters[at + 1]! += sent;
        this.pairCounters[at + 2]! += 8 + 4 * sent;
        this.counters[C['messages.forward.packets']]! += 1;
        this.counters[C['messages.forward.items']]! += sent;
        this.counters[C['messages.forward.bytes']]! += 8 + 4 * sent;
      }
    const train = this.jobKind === JOB.train;
    const ce = softmaxCrossEntropy(sum, this.targets, rows, B, Cn, model.readout === 'per-step', train ? this.dlogits : null);
    if (this.info.rank === 0) {
      this.scalars[SCALAR.crossEntropy] = ce.loss;
      this.scalars[SCALAR.penalty] = penalty;
      this.scalars[SCALAR.loss] = ce.loss + penalty;
      this.scalars[SCALAR.correct] = ce.correct;
      this.scalars[SCALAR.count] = ce.count;
    }
    if (train) {
      this.shard.backward(this.dlogits);
      const gb = this.readoutBiasGrad!;
      for (let r = 0; r < rows * B; r++) for (let c = 0; c < Cn; c++) gb[c]! += this.dlogits[r * Cn + c]!;
    }
  }

  /** The logits of the whole network after loss() (last-layer actors only). */
  logits(): Float32Array {
    return this.logitsSum.subarray(0, this.shard ? this.shard.logitRows(this.steps) * this.B * this.model.classes : 0);
  }

  // ---- phase: backward tick k, phase p ----------------------------------------------------------
  backward(k: number, p: number): void {
    this.control(1);
    const L = this.top.depth;
    const t = this.steps - 1 - k + (L - 1 - this.info.layer);
    if (t < 0 || t >= this.steps) return;
    const pin = (k + 1) & 1;
    const pout = k & 1;
    const kernel = this.kernel;
    if (p === 0) {
      const incoming = this.incoming(t, pin);
      const outputGrad = this.shard ? this.shard.outputGrad(t, this.outputGradBuf) : null;
      if (kernel.backwardPhases === 1) {
        kernel.backward(0, t, incoming, outputGrad, this.recRoute[pout]!, this.belowRoute[pout]!);
        this.countRouted(this.recRoute[pout]!);
        this.countRouted(this.belowRoute[pout]!);
      } else {
        kernel.backward(0, t, incoming, outputGrad, this.pRoute!, this.belowRoute[pout]!);
        this.countRouted(this.pRoute!);
      }
    } else {
      kernel.backward(1, t, this.gradsPIn, null, this.recRoute[pout]!, this.belowRoute[pout]!);
      this.countRouted(this.recRoute[pout]!);
      this.countRouted(this.belowRoute[pout]!);
    }
  }

  private incomingLists: ItemList[] = [];
  private incoming(t: number, pin: number): ItemList[] {
    const lists = this.incomingLists;
    lists.length = 0;
    if (t + 1 < this.steps) for (const l of this.gradsInLayer[pin]!) lists.push(l);
    for (const l of this.gradsInAbove[pin]!) lists.push(l);
    return lists;
  }

  /** Count the packets a router's destinations received (the actor's own mailbox is not a message). */
  private countRouted(route: ItemRouter): void {
    for (const d of route.dests) this.countPair(d, 3, route.outs[d]!, 8);
  }

  // ---- phases: gradient norm, then update -------------------------------------------------------
  norm(): void {
    this.control(1);
    const g = this.gradTensors();
    // The readout bias is replicated on every last-layer actor: count it once.
    if (this.shard && this.info.rank !== 0) g.pop();
    this.scalars[SCALAR.sumSquares] = this.optimizer.sumOfSquares(g);
  }

  update(): void {
    let total = 0;
    const all = new Float64Array(this.fab.scalars);
    for (let a = 0; a < this.top.size; a++) total += all[a * SCALAR.size + SCALAR.sumSquares]!;
    this.optimizer.step(this.gradTensors(), clipScale(Math.sqrt(total), this.clip));
  }

  end(): void {
    const c = this.counters;
    const k = this.kernel.counters;
    c[C.events] = k.events;
    c[C.unit_steps] = k.unitSteps;
    c[C.backward_active] = k.backwardActive;
    c[C['macs.forward']] = k.macsForward + (this.shard?.macsForward ?? 0);
    c[C['macs.backward']] = k.macsBackward + (this.shard?.macsBackward ?? 0);
    c[C['macs.dense_forward']] = k.macsDenseForward + (this.shard?.macsForward ?? 0);
    c[C['macs.dense_backward']] = k.macsDenseBackward + (this.shard?.macsBackward ?? 0);
    this.jobs++;
  }

  takeTrace(): ActorTrace {
    return {
      actor: this.info.id,
      layer: this.info.layer,
      steps: this.steps,
      batch: this.B,
      offsets: Int32Array.from(this.traceOffsets),
      units: Int32Array.from(this.traceUnits),
    };
  }

  private carriedKind(): 'train' | 'eval' {
    return this.jobKind === JOB.train ? 'train' : 'eval';
  }

  /** The state a job of `kind` would carry on from ([B × n], own units). */
  carriedState(kind: 'train' | 'eval'): Float32Array {
    return this.carried[kind].slice();
  }
  loadCarriedState(kind: 'train' | 'eval', state: Float32Array): void {
    const own = this.carried[kind];
    if (state.length !== own.length) throw new Error(`carried state has ${state.length} values, this actor holds ${own.length}`);
    own.set(state);
  }

  optimizerState(): OptimizerState {
    return this.optimizer.state();
  }
  loadOptimizerState(s: OptimizerState): void {
    this.optimizer.loadState(s);
  }
  resetCounters(): void {
    this.kernel.resetCounters();
    if (this.shard) this.shard.macsForward = this.shard.macsBackward = 0;
    this.counters.fill(0);
    this.pairCounters.fill(0);
  }
}

function isMainThreadSafe(): boolean {
  // In the inline transport the actor runs on the main thread, where exiting would kill the user's process.
  return globalThis.process?.env?.EGRU_ACTOR_THREAD !== '1';
}
