/**
 * The event-driven float32 kernels one actor runs for its group of units (docs/math.md, docs/architecture.md).
 * GroupKernel orchestrates a step: the sequence state and its BPTT history, the pre-activations and weight rows
 * (RowEngine, model/row-engine.ts, over the item pools of model/history-pools.ts), the rings of GRAD_BLOCK steps,
 * the counters and MAC counts. The cell's elementwise forward and backward math is in model/cells/ (evnn-gru.ts,
 * paper.ts); it reads and writes the kernel's wasm memory through the named views of KERNEL_VIEWS.
 *
 * Layout: the group's parameters come from `sliceGroup` (params.ts): an incoming item from input/unit i reads
 * row i of `kernel`/`recurrentKernel`, 3n contiguous floats (own columns of the z|u, r, g blocks).
 *
 * Storage for BPTT (docs/math.md, "What the backward pass stores"): per step, the own state before the reset
 * (v for `evnn`/`gru`, c for `paper`; 1 float per unit-step — h = v − o·ϑ and o = [v > ϑ] follow from it and ϑ)
 * and the item lists received (inputs, recurrent events, reset messages, backward-active announcements) in pooled
 * growable buffers with per-(step, batch element) offsets. Sequences of up to spec.gateSteps steps also keep the
 * forward step's gates (4 floats per unit-step) for the backward step; longer ones recompute them from those
 * lists, in exactly the order the forward step used, so the recomputation is bit-identical to the forward pass.
 *
 * Every buffer is preallocated or grows by doubling; steady-state use (same or smaller T, same batch) allocates
 * nothing. The row operations (one weight row per received item: scatter into the pre-activations, weight
 * gradients, partial sums) run as WebAssembly SIMD calls on float32 (model/simd.ts) over weights, gradients and
 * pre-activation buffers that live in the kernel's wasm memory. The gate nonlinearities (σ, tanh) are one SIMD
 * call per batch element in float32 (≤ 3 ulp, model/simd.wat), and so are the elementwise steps of the evnn and
 * GRU cells (model/cells/evnn-gru.ts); the paper formulation's run in JavaScript (model/cells/paper.ts).
 * Parameters, gradients, the state history and message values are float32.
 */
import { EvnnGruCell, STAGE_FLOATS } from './cells/evnn-gru.js';
import { PaperCell } from './cells/paper.js';
import type { ModelConfig } from './config.js';
import { layerInputSize } from './config.js';
import { DropoutMask } from './dropout.js';
import { capacityFor, MaskPool, StepPool } from './history-pools.js';
import { ItemList, type ItemSink } from './items.js';
import { GRAD_BLOCK, RowEngine } from './row-engine.js';
import type { GroupParams } from './params.js';
import { SimdArena } from './simd.js';

export interface GroupKernelSpec {
  cfg: ModelConfig;
  layer: number;
  unitStart: number;
  units: number;
  batch: number;
  /**
   * How the pre-activations are summed (the same bits either way while an address appears at most once per step
   * and batch element, as in the runtime's lists): 'destination' (one SIMD gather per step and
   * batch element, the row in registers; fast while the weights fit the caches) or 'row' (each weight row read
   * once per step for all batch elements). Default: 'destination' up to 1 MiB of weights per kernel.
   */
  preactivationOrder?: 'destination' | 'row';
  /**
   * Sequences of up to this many steps keep the forward step's gates (and the recurrent part of g) for the
   * backward step instead of recomputing them from the recorded lists: 4 floats per unit-step more memory, no
   * recompute of pre-activations and gates. 0 (default): always recompute; `storedGateSteps` picks it by a memory
   * budget. The paper formulation always recomputes.
   */
  gateSteps?: number;
}

/** Bytes of kept gates a layer may hold (over all its groups) for the gates to be kept rather than recomputed. */
export const STORED_GATES_MAX_BYTES = 64 * 2 ** 20;

/**
 * The gateSteps of a layer's kernels for sequences of up to maxSteps steps: maxSteps when keeping the gates of
 * the whole layer (4 floats per unit-step) fits STORED_GATES_MAX_BYTES, else 0 (recompute). The same for every
 * group of the layer, so the work and the MAC counts do not depend on how the layer is split into actors.
 */
export function storedGateSteps(cfg: ModelConfig, layer: number, batch: number, maxSteps: number): number {
  const H = cfg.hidden[layer] ?? 0;
  if (cfg.cell !== 'gru' && cfg.formulation === 'paper') return 0;
  return maxSteps * batch * 4 * H * 4 <= STORED_GATES_MAX_BYTES ? maxSteps : 0;
}

export interface KernelCounters {
  events: number;
  unitSteps: number;
  backwardActive: number;
  macsForward: number;
  macsBackward: number;
  macsDenseForward: number;
  macsDenseBackward: number;
}

/** Sum of dense-list items into a [B × n] float32 buffer (addresses layer-global, own range only). */
function scatterAdd(lists: readonly ItemList[], dst: Float32Array, B: number, n: number, unitStart: number): void {
  for (let li = 0; li < lists.length; li++) {
    const L = lists[li]!;
    const idx = L.index;
    const val = L.value;
    if (L.batch !== B) throw new Error(`item list has batch ${L.batch}, kernel batch is ${B}`);
    for (let b = 0; b < B; b++) {
      const hi = L.offsets[b + 1]!;
      const o = b * n;
      for (let e = L.offsets[b]!; e < hi; e++) {
        const j = idx[e]! - unitStart;
        if (j < 0 || j >= n) throw new Error(`gradient item for unit ${idx[e]} sent to the group of units ${unitStart}..${unitStart + n - 1}`);
        dst[o + j]! += val[e]!;
      }
    }
  }
}

/** The kernel's views in its wasm memory, in their order there (GroupKernel.arenaSizes); the cells take theirs by name. */
const KERNEL_VIEWS = [
  // parameters and their gradients
  'kernel', 'recurrentKernel', 'bias', 'recurrentBias', 'thr',
  'gradKernel', 'gradRecurrentKernel', 'gradBias', 'gradRecurrentBias', 'gradThr',
  // rings of GRAD_BLOCK steps: pre-activations (acc: z|u, r, g; rg: the recurrent part of g) and their gradients
  'accRing', 'rgRing', 'dwRing', 'drhRing',
  // the gates of one batch element; the item lists of one SIMD call (pointers, scalars, results)
  'gate', 'listPtr', 'listScalar', 'listOut',
  // the elementwise backward step: dy, carry, the state at t and t − 1 (copied from the history), the staged tail
  'dy', 'carry', 'stateAt', 'stateBefore', 'stage',
  // the forward state update of one batch element: v, its events (unit, value), its near-threshold units, counts
  'vOut', 'eventIndex', 'eventValue', 'nearIndex', 'counts',
  // the kept gates [T × B × 3n], recurrent parts of g [T × B × n] and the state history then [T × B × n]
  // (GroupKernelSpec.gateSteps)
  'gateHistory', 'rgHistory', 'stateHistory',
] as const;
type KernelView = (typeof KERNEL_VIEWS)[number];

/** Floats per view, for a group of n units with I inputs in a layer of H units, batch B. */
function kernelViewSizes(I: number, H: number, n: number, B: number, gateSteps: number): Record<KernelView, number> {
  const n3 = 3 * n;
  const list = Math.max(GRAD_BLOCK * B, I, H);
  return {
    kernel: I * n3, recurrentKernel: H * n3, bias: n3, recurrentBias: n3, thr: n,
    gradKernel: I * n3, gradRecurrentKernel: H * n3, gradBias: n3, gradRecurrentBias: n3, gradThr: n,
    accRing: GRAD_BLOCK * B * n3, rgRing: GRAD_BLOCK * B * n, dwRing: GRAD_BLOCK * B * n3, drhRing: GRAD_BLOCK * B * n3,
    gate: n3, listPtr: list, listScalar: list, listOut: list,
    dy: B * n, carry: B * n, stateAt: B * n, stateBefore: B * n, stage: STAGE_FLOATS,
    vOut: n, eventIndex: n, eventValue: n, nearIndex: n, counts: 2,
    gateHistory: gateSteps * B * n3, rgHistory: gateSteps * B * n, stateHistory: gateSteps * B * n,
  };
}

/** The arena's views by name (they come in KERNEL_VIEWS order). */
function namedViews(views: readonly Float32Array[]): Record<KernelView, Float32Array> {
  return Object.fromEntries(KERNEL_VIEWS.map((name, i) => [name, views[i]!])) as Record<KernelView, Float32Array>;
}

/** Weights (bytes, per kernel) up to which the pre-activations are summed by destination (RowEngine.gatherSlots). */
const GATHER_MAX_WEIGHT_BYTES = 1 << 20;

export class GroupKernel {
  /** Views on the kernel's own copy (wasm memory). Change them between sequences only: beginSequence reads the biases. */
  readonly params: GroupParams;
  readonly grads: { kernel: Float32Array; recurrentKernel: Float32Array; bias: Float32Array; recurrentBias: Float32Array; thr: Float32Array };
  readonly forwardPhases: 1 | 2;
  readonly backwardPhases: 1 | 2;
  // −0, not 0: the fields start out as doubles (the constructor then sets them to +0). They outgrow small
  // integers within a run, and V8 deoptimised forward() and backward() at their updates on every step while
  // the fields started as small integers (seen with --trace-deopt: ~1.3 ms each, and boxed numbers to collect).
  readonly counters: KernelCounters = {
    events: -0,
    unitSteps: -0,
    backwardActive: -0,
    macsForward: -0,
    macsBackward: -0,
    macsDenseForward: -0,
    macsDenseBackward: -0,
  };
  /**
   * Events per own unit (index j: unit unitStart + j) in the sequences run while countUnitEvents was on, since
   * construction or resetCounters; unitEventSteps: the (step, batch element) pairs those sequences had, so unit
   * j's firing rate is unitEvents[j] / unitEventSteps. Float64: exact counts up to 2^53.
   */
  readonly unitEvents: Float64Array;
  unitEventSteps = -0; // −0: a double from the start (see counters)
  /** Whether forward steps count into unitEvents (the runtime turns it off for evaluation). */
  countUnitEvents = true;

  private readonly layer: number;
  private readonly unitStart: number;
  private readonly n: number;
  private readonly batch: number;
  private activeBatch: number;
  private readonly inputSize: number;
  private readonly layerSize: number;
  private readonly gru: boolean;
  private readonly paper: boolean;
  private readonly invSupport: number;
  private steps = 0;
  /** Dropout on this layer's inputs (the outputs of the layer below), training only; null for layer 0 or p = 0. */
  private readonly inputDropout: DropoutMask | null;
  /** The factor of every kept input in this sequence: 1/(1 − p) while dropout is on, else 1. */
  private inputScale = 1;

  /**
   * State history [T × B × n]: v (evnn, gru) or c (paper), float32, before the reset: stateKept (in wasm memory,
   * where the SIMD calls read and write it in place) while the gates are kept, else stateGrown.
   */
  private state: Float32Array;
  private stateGrown: Float32Array; // grows by doubling, for any T
  private readonly stateKept: Float32Array; // [gateSteps × B × n]
  /**
   * Truncated BPTT: the state at step −1 ([B × n], v or c) when the sequence carries on from an earlier one
   * (beginSequence's `initial`); o, y and h of step −1 follow from it with the current thresholds. Gradients stop
   * there: nothing flows into it.
   */
  private readonly initial: Float32Array;
  private carried = false;
  private readonly poolX: StepPool; // inputs at t
  private readonly poolE: StepPool; // recurrent events at t−1, recorded at t
  private readonly poolM: StepPool; // paper: reset messages r_m·y_{t−1,m}, recorded at t
  private readonly poolAL: MaskPool; // near-threshold announcements of this layer at t
  private readonly poolAB: MaskPool; // near-threshold announcements of the layer below at t

  // scratch, all preallocated
  // in the wasm arena (byte offsets p* for the SIMD calls)
  // Pre-activations, kept for the last GRAD_BLOCK steps (ring slot t mod GRAD_BLOCK): the backward step
  // recomputes those of a whole block of steps in one pass over the weight rows (recomputeBlock), so a row is
  // read once per block there instead of once per step. acc/rg = the current step's slot.
  private acc: Float32Array; // B × 3n pre-activations (wx + rh for z|u, r; wx for g)
  private rg: Float32Array; // B × n recurrent part of the g pre-activation
  private readonly accSlots: Float32Array[];
  private readonly rgSlots: Float32Array[];
  private readonly pAccRing: number;
  private readonly pRgRing: number;
  /** First step of the block whose recomputed pre-activations the rings hold; −1: none (a forward step ran since). */
  private recomputed = -1;
  /** Steps 0..forwarded−1 of this sequence have run their whole forward step (their lists are recorded). */
  private forwarded = 0;
  /** The starting pre-activations of every batch element: (b + rb) for z|u and r, b for g; rg starts at rb_g. */
  private readonly accBias: Float32Array;
  private readonly rgBias: Float32Array;
  /** Sequences of up to gateSteps steps keep their gates (gateHistory, rgHistory) instead of recomputing them. */
  private readonly gateSteps: number;
  /** Whether the current sequence keeps its gates (beginSequence). */
  private keepGates = false;
  private readonly gateHistory: Float32Array; // [gateSteps × B × 3n]: [z | r | g] of each step and batch element
  private readonly rgHistory: Float32Array; // [gateSteps × B × n]: the recurrent part of g, likewise
  // Gradients of the pre-activations, dw (dwx) and drh (evnn/gru: of rh), B × 3n per step, kept for the last
  // GRAD_BLOCK steps: the weight-gradient rows are updated once per block of steps (flushGrads), so a gradient
  // row is read and written once per block instead of once per step. dw/drh/pDw/pDrh = the current step's slot.
  private dw: Float32Array;
  private drh: Float32Array;
  private readonly dwSlots: Float32Array[];
  private readonly drhSlots: Float32Array[];
  private readonly pDwRing: number;
  private readonly pDrhRing: number;
  private readonly pK: number;
  private readonly pR: number;
  private readonly pdK: number;
  private readonly pdR: number;
  private pDw: number;
  private pDrh: number;
  /** The row loops over the recorded items (model/row-engine.ts). */
  private readonly rows: RowEngine;
  /**
   * Pre-activations by destination (gatherSlots) rather than by weight row (scatterRows): the same sums, faster
   * while the weights fit the caches (a row is then read once per destination instead of once per step).
   */
  private readonly gatherRows: boolean;
  // in the wasm arena, read by the cell's backward step
  private readonly dy: Float32Array; // B × n dL/dy_t of own units
  private readonly carry: Float32Array; // B × n dh (evnn/gru) or dc (paper) from t+1
  /** The near-threshold units of step nearStep (evnn), found by the forward step for nearThreshold. */
  private readonly nearList: ItemList;
  private nearStep = -1;
  /**
   * The cell's elementwise forward and backward math (model/cells/): evnn/GRU (SIMD) or the paper formulation
   * (JavaScript); the other is null. Two fields, not one of either type: each call site then sees one class.
   */
  private readonly evnnCell: EvnnGruCell | null;
  private readonly paperCell: PaperCell | null;

  /**
   * The float counts of the kernel's wasm views (parameters, their gradients, rings, scratch), in order: what
   * SimdArena.group needs to place several kernels in one memory.
   */
  static arenaSizes(spec: GroupKernelSpec): number[] {
    const { cfg, layer, units, batch } = spec;
    const H = cfg.hidden[layer];
    if (H === undefined) throw new Error(`layer ${layer} does not exist`);
    const gateSteps = spec.gateSteps ?? 0;
    if (!(Number.isInteger(gateSteps) && gateSteps >= 0)) throw new Error(`gateSteps must be a non-negative integer, got ${gateSteps}`);
    const sizes = kernelViewSizes(layerInputSize(cfg, layer), H, units, batch, gateSteps);
    return KERNEL_VIEWS.map((name) => sizes[name]);
  }

  /** `arena`: the kernel's part of a memory shared with other kernels (SimdArena.group); default: its own. */
  constructor(spec: GroupKernelSpec, params: GroupParams, arena?: SimdArena) {
    const { cfg, layer, unitStart, units, batch } = spec;
    const H = cfg.hidden[layer];
    if (H === undefined) throw new Error(`layer ${layer} does not exist`);
    const I = layerInputSize(cfg, layer);
    if (!(units > 0 && unitStart >= 0 && unitStart + units <= H)) throw new Error(`group ${unitStart}+${units} outside layer of ${H} units`);
    if (params.units !== units || params.unitStart !== unitStart || params.inputSize !== I || params.layerSize !== H)
      throw new Error('group parameters do not match the kernel spec');
    if (!(batch > 0)) throw new Error(`batch must be positive, got ${batch}`);
    const n3 = 3 * units;
    // Everything the SIMD row operations touch lives in wasm memory; the parameters are copied in.
    const sizes = GroupKernel.arenaSizes(spec);
    if (arena && !(arena.views.length === sizes.length && arena.views.every((view, i) => view.length === sizes[i])))
      throw new Error('the arena given to the kernel does not have its sizes (GroupKernel.arenaSizes)');
    const mem = arena ?? new SimdArena(sizes);
    const v = namedViews(mem.views);
    v.kernel.set(params.kernel);
    v.recurrentKernel.set(params.recurrentKernel);
    v.bias.set(params.bias);
    v.recurrentBias.set(params.recurrentBias);
    v.thr.set(params.thr);
    this.params = { ...params, kernel: v.kernel, recurrentKernel: v.recurrentKernel, bias: v.bias, recurrentBias: v.recurrentBias, thr: v.thr };
    this.grads = { kernel: v.gradKernel, recurrentKernel: v.gradRecurrentKernel, bias: v.gradBias, recurrentBias: v.gradRecurrentBias, thr: v.gradThr };
    const slot = batch * n3;
    this.accSlots = Array.from({ length: GRAD_BLOCK }, (_, k) => v.accRing.subarray(k * slot, (k + 1) * slot));
    this.rgSlots = Array.from({ length: GRAD_BLOCK }, (_, k) => v.rgRing.subarray(k * batch * units, (k + 1) * batch * units));
    this.acc = this.accSlots[0]!;
    this.rg = this.rgSlots[0]!;
    this.pAccRing = v.accRing.byteOffset;
    this.pRgRing = v.rgRing.byteOffset;
    this.dwSlots = Array.from({ length: GRAD_BLOCK }, (_, k) => v.dwRing.subarray(k * slot, (k + 1) * slot));
    this.drhSlots = Array.from({ length: GRAD_BLOCK }, (_, k) => v.drhRing.subarray(k * slot, (k + 1) * slot));
    this.dw = this.dwSlots[0]!;
    this.drh = this.drhSlots[0]!;
    this.pDwRing = v.dwRing.byteOffset;
    this.pDrhRing = v.drhRing.byteOffset;
    this.pK = v.kernel.byteOffset;
    this.pR = v.recurrentKernel.byteOffset;
    this.pdK = v.gradKernel.byteOffset;
    this.pdR = v.gradRecurrentKernel.byteOffset;
    this.pDw = this.dw.byteOffset;
    this.pDrh = this.drh.byteOffset;
    this.rows = new RowEngine(mem.ops, units, batch, Math.max(I, H), { ptr: v.listPtr, scalar: v.listScalar, out: v.listOut });
    this.dy = v.dy;
    this.carry = v.carry;
    this.nearList = new ItemList(batch, batch * units);
    this.gatherRows = (spec.preactivationOrder ?? ((I + H) * n3 * 4 <= GATHER_MAX_WEIGHT_BYTES ? 'destination' : 'row')) === 'destination';
    this.accBias = new Float32Array(n3);
    this.rgBias = new Float32Array(units);
    this.gateSteps = cfg.cell !== 'gru' && cfg.formulation === 'paper' ? 0 : (spec.gateSteps ?? 0);
    this.gateHistory = v.gateHistory;
    this.rgHistory = v.rgHistory;
    this.stateKept = v.stateHistory;
    this.layer = layer;
    this.unitStart = unitStart;
    this.n = units;
    this.batch = batch;
    this.activeBatch = batch;
    this.inputSize = I;
    this.layerSize = H;
    this.gru = cfg.cell === 'gru';
    this.paper = !this.gru && cfg.formulation === 'paper';
    this.forwardPhases = this.paper ? 2 : 1;
    this.backwardPhases = this.paper ? 2 : 1;
    this.invSupport = 1 / cfg.support;
    this.inputDropout = layer > 0 && cfg.dropout > 0 ? new DropoutMask(cfg.dropout, cfg.seed, layer - 1) : null;
    this.stateGrown = new Float32Array(16 * batch * units);
    this.state = this.stateGrown;
    this.initial = new Float32Array(batch * units);
    this.evnnCell = this.paper ? null : new EvnnGruCell(cfg, spec, v, mem.ops, this.initial);
    this.paperCell = this.paper ? new PaperCell(cfg, spec, v, mem.ops, this.initial) : null;
    this.poolX = new StepPool(batch);
    this.poolE = new StepPool(batch);
    this.poolM = new StepPool(batch);
    this.poolAL = new MaskPool(batch, this.layerSize);
    this.poolAB = new MaskPool(batch, layer > 0 ? this.inputSize : 1);
    this.unitEvents = new Float64Array(units);
    this.resetCounters();
  }

  resetCounters(): void {
    const c = this.counters;
    c.events = 0;
    c.unitSteps = 0;
    c.backwardActive = 0;
    c.macsForward = 0;
    c.macsBackward = 0;
    c.macsDenseForward = 0;
    c.macsDenseBackward = 0;
    this.unitEvents.fill(0);
    this.unitEventSteps = 0;
  }

  zeroGrads(): void {
    const g = this.grads;
    g.kernel.fill(0);
    g.recurrentKernel.fill(0);
    g.bias.fill(0);
    g.recurrentBias.fill(0);
    g.thr.fill(0);
  }

  /**
   * Start a sequence of `steps` steps. `activeBatch` (≤ the batch capacity) leaves the trailing batch
   * elements out of all work and counts: a short last batch costs and counts only what it holds.
   * `dropoutStep`: the optimiser step whose dropout masks apply to the inputs (training); null = no dropout.
   * `initial`: the state at step −1 ([B × n], from finalState of an earlier sequence; null = zeros). With it, the
   * recurrent lists of step 0 must hold the layer's events of step −1 (carriedEvents of every group).
   */
  beginSequence(steps: number, activeBatch: number = this.batch, dropoutStep: number | null = null, initial: Float32Array | null = null): void {
    if (!(Number.isInteger(steps) && steps > 0)) throw new Error(`steps must be a positive integer, got ${steps}`);
    if (!(Number.isInteger(activeBatch) && activeBatch >= 1 && activeBatch <= this.batch))
      throw new Error(`active batch must lie in 1..${this.batch}, got ${activeBatch}`);
    if (initial && initial.length < activeBatch * this.n) throw new Error(`initial state has ${initial.length} values, expected ${activeBatch * this.n}`);
    this.steps = steps;
    this.activeBatch = activeBatch;
    this.rows.activeBatch = activeBatch;
    this.carried = initial !== null;
    if (initial) this.initial.set(initial.subarray(0, activeBatch * this.n));
    this.recomputed = -1;
    this.forwarded = 0;
    this.nearStep = -1;
    this.keepGates = steps <= this.gateSteps;
    // the parameters change between sequences only (optimiser step, loads)
    const { bias, recurrentBias: rb } = this.params;
    const n = this.n;
    for (let k = 0; k < 3 * n; k++) this.accBias[k] = k < 2 * n ? bias[k]! + rb[k]! : bias[k]!;
    for (let k = 0; k < n; k++) this.rgBias[k] = rb[2 * n + k]!;
    const need = steps * this.batch * this.n;
    if (!this.keepGates && this.stateGrown.length < need) this.stateGrown = new Float32Array(capacityFor(this.stateGrown.length, need));
    this.state = this.keepGates ? this.stateKept : this.stateGrown;
    this.poolX.reset(steps);
    this.poolE.reset(steps);
    this.poolM.reset(steps);
    this.poolAL.reset(steps);
    this.poolAB.reset(steps);
    this.carry.fill(0);
    this.evnnCell?.beginSequence(this.state, activeBatch, this.carried, this.keepGates);
    this.paperCell?.beginSequence(this.state, activeBatch, this.carried);
    const drop = this.inputDropout;
    if (drop) drop.begin(dropoutStep);
    this.inputScale = drop && drop.active ? drop.keepScale : 1;
  }

  /** The state at the last step of the sequence (v or c, [activeBatch × n]) into `out`: what a next sequence carries on from. */
  finalState(out: Float32Array): void {
    if (this.forwarded < this.steps) throw new Error(`the final state needs all ${this.steps} forward steps (${this.forwarded} ran)`);
    const len = this.activeBatch * this.n;
    if (out.length < len) throw new Error(`final state needs ${len} values, got ${out.length}`);
    const from = (this.steps - 1) * this.batch * this.n;
    out.set(this.state.subarray(from, from + len));
  }

  /**
   * The events of step −1 of a carried sequence (after beginSequence with `initial`), as the forward step emits
   * them: (unit, v) where v > ϑ (GRU: every unit). Other groups of the layer read them as step 0's recurrent input.
   */
  carriedEvents(out: ItemList): void {
    out.clear();
    const n = this.n;
    const thr = this.params.thr;
    const v = this.initial;
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      out.begin(b);
      if (!this.carried) continue;
      for (let j = 0; j < n; j++) if (this.gru || v[b * n + j]! > thr[j]!) out.push(this.unitStart + j, v[b * n + j]!);
    }
    out.end();
  }

  /** Record the inputs of step t (after dropout, if on); returns the item count. */
  private recordInputs(t: number, inputs: readonly ItemList[]): number {
    const n = this.poolX.record(t, inputs);
    const drop = this.inputDropout;
    return drop && drop.active ? this.poolX.dropLast(t, drop) : n;
  }

  /**
   * Bytes of the BPTT history (read-only; for reports and benchmarks). `inUse`: what the current (or last)
   * sequence actually holds — the state, T·activeBatch·n float32, the kept gates (4 floats per unit-step, when
   * kept), plus, per item pool, 8 bytes per recorded
   * item (int32 address + float32 value), B+1 int32 offsets and a flag per recorded step, and per announcement
   * mask one bit per unit of the announcing layer per step and batch element; `capacity`: the byte
   * length of the allocated buffers (they grow by doubling and are kept between sequences).
   */
  historyBytes(): { inUse: number; capacity: number; parts: Record<string, { inUse: number; capacity: number }> } {
    const T = this.steps;
    const B1 = this.batch + 1;
    const pool = (p: StepPool) => {
      let recorded = 0;
      for (let t = 0; t < T; t++) recorded += p.present[t]!;
      return {
        inUse: p.fill * 8 + recorded * (B1 * 4 + 1),
        capacity: p.index.byteLength + p.value.byteLength + p.offs.byteLength + p.present.byteLength,
      };
    };
    const parts: Record<string, { inUse: number; capacity: number }> = {
      state: { inUse: T * this.activeBatch * this.n * 4, capacity: this.stateGrown.byteLength + this.stateKept.byteLength },
      gates: { inUse: this.keepGates ? T * this.activeBatch * this.n * 16 : 0, capacity: this.gateHistory.byteLength + this.rgHistory.byteLength },
      inputs: pool(this.poolX),
      recurrentEvents: pool(this.poolE),
      resetMessages: pool(this.poolM),
      announcementsLayer: { inUse: this.poolAL.inUse(), capacity: this.poolAL.bits.byteLength + this.poolAL.present.byteLength },
      announcementsBelow: { inUse: this.poolAB.inUse(), capacity: this.poolAB.bits.byteLength + this.poolAB.present.byteLength },
    };
    let inUse = 0;
    let capacity = 0;
    for (const k in parts) {
      inUse += parts[k]!.inUse;
      capacity += parts[k]!.capacity;
    }
    return { inUse, capacity, parts };
  }

  setActivityGradient(coef: number): void {
    if (this.evnnCell) this.evnnCell.activityCoef = coef;
    if (this.paperCell) this.paperCell.activityCoef = coef;
  }

  // ---------------------------------------------------------------------------------------------------------
  // row loops: every weight row is read once per step and applied to each batch element that received its item

  /** Point acc, rg, dw, drh (and their byte offsets) at step t's slot of the rings. */
  private useSlot(t: number): void {
    const k = t % GRAD_BLOCK;
    this.acc = this.accSlots[k]!;
    this.rg = this.rgSlots[k]!;
    this.dw = this.dwSlots[k]!;
    this.drh = this.drhSlots[k]!;
    this.pDw = this.dw.byteOffset;
    this.pDrh = this.drh.byteOffset;
  }

  /**
   * Weight-gradient rows of the steps t..t+GRAD_BLOCK−1 (clipped to the sequence), whose dw/drh are in the rings:
   * G[i, off..off+len) += value·d for every item, where d = len floats of the ring row of the item's (step, b).
   * Called once step t is done, when t is a multiple of GRAD_BLOCK (so at t = 0, last of all).
   */
  private flushGrads(t: number): void {
    const n = this.n;
    const n2 = 2 * n;
    const n3 = 3 * n;
    const tEnd = Math.min(t + GRAD_BLOCK - 1, this.steps - 1);
    const dBytes = 4 * n3;
    this.rows.gradRows(this.poolX, t, tEnd, this.inputSize, this.pdK, 0, this.pDwRing, dBytes, n3);
    if (!this.paper) this.rows.gradRows(this.poolE, t, tEnd, this.layerSize, this.pdR, 0, this.pDrhRing, dBytes, n3);
    else {
      this.rows.gradRows(this.poolE, t, tEnd, this.layerSize, this.pdR, 0, this.pDwRing, dBytes, n2);
      this.rows.gradRows(this.poolM, t, tEnd, this.layerSize, this.pdR, n2, this.pDwRing + 4 * n2, dBytes, n);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // forward

  forward(phase: number, t: number, inputs: readonly ItemList[], recurrent: readonly ItemList[], out: ItemList): void {
    if (!(t >= 0 && t < this.steps)) throw new Error(`forward step ${t} outside the sequence (0..${this.steps - 1})`);
    if (this.paper) {
      if (phase === 0) this.forwardPaperGates(t, inputs, recurrent, out);
      else if (phase === 1) this.forwardPaperState(t, recurrent, out);
      else throw new Error(`forward phase ${phase} does not exist (paper: 0, 1)`);
      return;
    }
    if (phase !== 0) throw new Error(`forward phase ${phase} does not exist (one phase)`);
    const n = this.n;
    const nx = this.recordInputs(t, inputs);
    const ne = this.poolE.record(t, recurrent);
    const c = this.counters;
    c.macsForward += (nx + ne) * 3 * n;
    c.macsDenseForward += this.activeBatch * (this.inputSize + this.layerSize) * 3 * n;
    c.unitSteps += this.activeBatch * n;
    this.forwardPreactivations(t);
    const perUnit = this.countUnitEvents ? this.unitEvents : null;
    const events = this.evnnCell!.forwardState(t, this.acc, this.rg, out, this.nearList, perUnit);
    this.nearStep = t;
    c.events += events;
    if (perUnit) this.unitEventSteps += this.activeBatch;
    this.forwarded = Math.max(this.forwarded, t + 1);
  }

  /**
   * Pre-activations of every active batch element at steps t..tEnd from the recorded lists, into their ring slots
   * of acc (B × 3n) and rg (B × n): evnn/gru: acc = wx + (rh_z, rh_r, 0), rg = rh_g; paper (withMessages: also
   * the reset messages): acc = wx + (rh_u, rh_r, 0), rg = rb_g + Σ (r_m y_m)·R_g[m,:]. One code path for the
   * forward step (one step) and the backward recompute (a block of steps).
   */
  private preactivations(t: number, tEnd: number, withMessages: boolean): void {
    const n = this.n;
    const n2 = 2 * n;
    const n3 = 3 * n;
    const accBias = this.accBias;
    const rgBias = this.rgBias;
    for (let u = t; u <= tEnd; u++) {
      const acc = this.accSlots[u % GRAD_BLOCK]!;
      const rg = this.rgSlots[u % GRAD_BLOCK]!;
      for (let b = 0, BA = this.activeBatch; b < BA; b++) {
        acc.set(accBias, b * n3);
        rg.set(rgBias, b * n);
      }
    }
    const accRow = 4 * n3;
    const pAcc = this.pAccRing;
    const pRg = this.pRgRing;
    if (this.gatherRows) {
      this.rows.gatherSlots(this.poolX, t, tEnd, this.inputSize, this.pK, 0, pAcc, accRow, n3);
      if (this.paper) this.rows.gatherSlots(this.poolE, t, tEnd, this.layerSize, this.pR, 0, pAcc, accRow, n2);
      else {
        this.rows.gatherSlots(this.poolE, t, tEnd, this.layerSize, this.pR, 0, pAcc, accRow, n2);
        this.rows.gatherSlots(this.poolE, t, tEnd, this.layerSize, this.pR, n2, pRg, 4 * n, n);
      }
      if (withMessages) this.rows.gatherSlots(this.poolM, t, tEnd, this.layerSize, this.pR, n2, pRg, 4 * n, n);
      return;
    }
    this.rows.scatterRows(this.poolX, t, tEnd, this.inputSize, this.pK, 0, pAcc, accRow, n3);
    if (this.paper) this.rows.scatterRows(this.poolE, t, tEnd, this.layerSize, this.pR, 0, pAcc, accRow, n2);
    else this.rows.scatterRows(this.poolE, t, tEnd, this.layerSize, this.pR, 0, pAcc, accRow, n2, n2, pRg, 4 * n, n);
    if (withMessages) this.rows.scatterRows(this.poolM, t, tEnd, this.layerSize, this.pR, n2, pRg, 4 * n, n);
  }

  /** The forward step's pre-activations of step t, into its ring slot (which becomes the current one). */
  private forwardPreactivations(t: number): void {
    this.recomputed = -1;
    this.useSlot(t);
    this.preactivations(t, t, false);
  }

  /**
   * The backward step's pre-activations of step t, recomputed from the recorded lists: on the first backward
   * step of a block (its last step), those of the whole block t0..t1 in one pass over the weight rows; later
   * steps of the block find theirs in the ring. Bit-identical to the forward step's.
   */
  private recomputeBlock(t: number, withMessages: boolean): void {
    if (t >= this.forwarded) throw new Error(`backward step ${t} before its forward step (steps 0..${this.forwarded - 1} are forwarded)`);
    const t0 = t - (t % GRAD_BLOCK);
    if (this.recomputed !== t0) {
      this.preactivations(t0, Math.min(t0 + GRAD_BLOCK - 1, this.forwarded - 1), withMessages);
      this.recomputed = t0;
    }
    this.useSlot(t);
  }

  /** The backward step of step t with kept gates: its gradient slots; nothing to recompute. */
  private keptGates(t: number): void {
    if (t >= this.forwarded) throw new Error(`backward step ${t} before its forward step (steps 0..${this.forwarded - 1} are forwarded)`);
    this.useSlot(t);
  }

  /** paper, phase 0: u and r from inputs and events at t−1; reset messages (j, r_j·y_{t−1,j}) of own event units. */
  private forwardPaperGates(t: number, inputs: readonly ItemList[], recurrent: readonly ItemList[], out: ItemList): void {
    const n = this.n;
    const nx = this.recordInputs(t, inputs);
    const ne = this.poolE.record(t, recurrent);
    const c = this.counters;
    c.macsForward += nx * 3 * n + ne * 2 * n;
    c.macsDenseForward += this.activeBatch * (this.inputSize + this.layerSize) * 3 * n;
    c.unitSteps += this.activeBatch * n;
    this.forwardPreactivations(t);
    this.paperCell!.resetMessages(t, this.acc, this.rg, out);
  }

  /** paper, phase 1: g from the reset messages of all groups, c_t, events. */
  private forwardPaperState(t: number, messages: readonly ItemList[], out: ItemList): void {
    const n = this.n;
    const nm = this.poolM.record(t, messages);
    this.counters.macsForward += nm * n;
    // the same accumulation as preactivations(…, withMessages = true), whose rg starts from rb_g
    this.useSlot(t);
    this.rows.scatterRows(this.poolM, t, t, this.layerSize, this.pR, 2 * n, this.pRgRing, 4 * n, n);
    const perUnit = this.countUnitEvents ? this.unitEvents : null;
    this.counters.events += this.paperCell!.forwardState(t, this.acc, this.rg, out, perUnit);
    if (perUnit) this.unitEventSteps += this.activeBatch;
    this.forwarded = Math.max(this.forwarded, t + 1);
  }

  // ---------------------------------------------------------------------------------------------------------
  // announcements

  nearThreshold(t: number, out: ItemList): void {
    if (!(t >= 0 && t < this.steps)) throw new Error(`step ${t} outside the sequence (0..${this.steps - 1})`);
    out.clear();
    if (this.gru) {
      out.end();
      return;
    }
    if (t === this.nearStep) {
      out.copyFrom(this.nearList); // found by the forward step
      return;
    }
    const B = this.batch;
    const n = this.n;
    const thr = this.params.thr;
    const state = this.state;
    const w = this.invSupport;
    const us = this.unitStart;
    for (let b = 0, BA = this.activeBatch; b < BA; b++) {
      out.begin(b);
      const cur = (t * B + b) * n;
      for (let j = 0; j < n; j++) {
        const v = state[cur + j]!;
        const th = thr[j]!;
        if (!(v > th) && Math.abs(v - th) < w) out.push(us + j, 0);
      }
    }
    out.end();
  }

  receiveActive(source: 'layer' | 'below', t: number, lists: readonly ItemList[]): void {
    if (source === 'layer') this.poolAL.record(t, lists);
    else if (source === 'below') {
      if (this.layer === 0) throw new Error('layer 0 has no layer below');
      this.poolAB.record(t, lists);
      const drop = this.inputDropout;
      if (drop && drop.active) this.poolAB.drop(t, drop);
    } else throw new Error(`unknown announcement source ${String(source)}`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // backward

  backward(phase: number, t: number, incoming: readonly ItemList[], outputGrad: Float32Array | null, outRecurrent: ItemSink, outBelow: ItemSink): void {
    if (!(t >= 0 && t < this.steps)) throw new Error(`backward step ${t} outside the sequence (0..${this.steps - 1})`);
    if (this.paper) {
      if (phase === 0) this.backwardPaperGates(t, incoming, outputGrad, outRecurrent, outBelow);
      else if (phase === 1) this.backwardPaperRest(t, incoming, outRecurrent, outBelow);
      else throw new Error(`backward phase ${phase} does not exist (paper: 0, 1)`);
      return;
    }
    if (phase !== 0) throw new Error(`backward phase ${phase} does not exist (one phase)`);
    this.backwardEvnn(t, incoming, outputGrad, outRecurrent, outBelow);
  }

  /** dy := outputGrad + Σ incoming (+ dyLocal for paper, which is then consumed). */
  private gatherDy(incoming: readonly ItemList[], outputGrad: Float32Array | null): void {
    const Bn = this.batch * this.n;
    const dy = this.dy;
    if (outputGrad) {
      if (outputGrad.length < Bn) throw new Error(`output gradient has ${outputGrad.length} values, expected ${Bn}`);
      for (let i = 0; i < Bn; i++) dy[i] = outputGrad[i]!;
    } else dy.fill(0);
    if (this.paperCell) {
      const dl = this.paperCell.dyLocal;
      for (let i = 0; i < Bn; i++) dy[i]! += dl[i]!;
    }
    scatterAdd(incoming, dy, this.batch, this.n, this.unitStart);
  }

  /**
   * Inputs at t (da in dw): above layer 0, their partial sums to the layer below and those of the layer below's
   * announced units, scaled back by dropout's factor, emitted into outBelow. Returns the MACs.
   */
  private inputRows(t: number, outBelow: ItemSink, recompute: 0 | 1): number {
    const I = this.inputSize;
    const n3 = 3 * this.n;
    const dBytes = 4 * n3;
    outBelow.clear();
    // (the dK rows follow in flushGrads; their MACs are counted here, with the step)
    if (this.layer === 0) {
      outBelow.end();
      return (recompute + 1) * n3 * this.rows.slotSize(this.poolX, t); // recompute + dK
    }
    const scale = this.inputScale;
    let macs = (recompute + 2) * n3 * this.rows.dotRows(this.poolX, t, I, this.pK, 0, this.pDw, dBytes, n3, scale); // recompute + dK + partial sum
    const announced = this.poolAB.present[t] === 1;
    if (announced) macs += n3 * this.rows.announcedRows(this.poolAB, t, I, this.pK, 0, this.pDw, dBytes, n3, scale);
    this.rows.emit(outBelow, this.poolX, t, announced ? this.poolAB : null, t, I);
    outBelow.end();
    return macs;
  }

  private backwardEvnn(t: number, incoming: readonly ItemList[], outputGrad: Float32Array | null, outRecurrent: ItemSink, outBelow: ItemSink): void {
    const n3 = 3 * this.n;
    const I = this.inputSize;
    const Hl = this.layerSize;
    const below = this.layer > 0;
    this.gatherDy(incoming, outputGrad);
    const keep = this.keepGates;
    if (keep) this.keptGates(t);
    else this.recomputeBlock(t, false);
    const active = this.evnnCell!.backwardElementwise(t, this.acc, this.rg, this.dw, this.drh);
    // weight rows, once per step for all batch elements: partial sums of the inputs (to the layer below) and of the
    // recurrent events at t−1 (to the layer; event units are backward-active), then of the announced units
    const recompute = keep ? 0 : 1; // the recompute's row per item, unless the gates were kept
    let macs = this.inputRows(t, outBelow, recompute);
    const dBytes = 4 * n3;
    outRecurrent.clear();
    if (t === 0 && this.carried) {
      // the carried y_{−1}: its dR rows follow in flushGrads, but no partial sums (the gradient stops there)
      macs += (recompute + 1) * n3 * this.rows.slotSize(this.poolE, t);
    } else {
      macs += (recompute + 2) * n3 * this.rows.dotRows(this.poolE, t, Hl, this.pR, 0, this.pDrh, dBytes, n3, 1); // recompute + dR + partial sum
      const announced = t > 0 && this.poolAL.present[t - 1] === 1;
      if (announced) macs += n3 * this.rows.announcedRows(this.poolAL, t - 1, Hl, this.pR, 0, this.pDrh, dBytes, n3, 1);
      this.rows.emit(outRecurrent, this.poolE, t, announced ? this.poolAL : null, t - 1, Hl);
    }
    outRecurrent.end();
    if (t % GRAD_BLOCK === 0) this.flushGrads(t);
    const c = this.counters;
    c.backwardActive += active;
    c.macsBackward += macs;
    c.macsDenseBackward += this.activeBatch * ((I + Hl) * n3 + (t >= 1 ? Hl * n3 : 0) + (below ? I * n3 : 0));
  }

  /**
   * paper, phase 0: dc, dϑ, da_u, da_g (recomputed gates); P_m = R_g[m,:]·da_g for m backward-active at t−1
   * → outRecurrent (the dR_g rows of the reset messages follow in flushGrads). outBelow stays empty.
   */
  private backwardPaperGates(t: number, incoming: readonly ItemList[], outputGrad: Float32Array | null, outRecurrent: ItemSink, outBelow: ItemSink): void {
    const n = this.n;
    const n2 = 2 * n;
    const n3 = 3 * n;
    const Hl = this.layerSize;
    this.gatherDy(incoming, outputGrad);
    this.recomputeBlock(t, true);
    const active = this.paperCell!.backwardGates(t, this.acc, this.rg, this.dw);
    // g block (da_g at byte pDw + 4·(b·3n + 2n)): P sums of events and announced units (the dR_g rows of the reset
    // messages follow in flushGrads; their MACs are counted here)
    const dBytes = 4 * n3;
    const pg = this.pDw + 4 * n2;
    let macs = 2 * n * this.rows.slotSize(this.poolM, t); // recompute + dR_g
    outRecurrent.clear();
    macs += n * this.rows.dotRows(this.poolE, t, Hl, this.pR, n2, pg, dBytes, n, 1);
    const announced = t > 0 && this.poolAL.present[t - 1] === 1;
    if (announced) macs += n * this.rows.announcedRows(this.poolAL, t - 1, Hl, this.pR, n2, pg, dBytes, n, 1);
    this.rows.emit(outRecurrent, this.poolE, t, announced ? this.poolAL : null, t - 1, Hl);
    outRecurrent.end();
    outBelow.clear();
    outBelow.end();
    this.counters.backwardActive += active;
    this.counters.macsBackward += macs;
  }

  /**
   * paper, phase 1: P_m of own units (summed over `incoming`) → da_r and own dy_{t−1} terms; bias gradients;
   * u- and r-block partial sums for m backward-active at t−1; all partial sums to the layer below at t (the
   * weight-gradient rows follow in flushGrads).
   */
  private backwardPaperRest(t: number, incoming: readonly ItemList[], outRecurrent: ItemSink, outBelow: ItemSink): void {
    const B = this.batch;
    const n = this.n;
    const n2 = 2 * n;
    const n3 = 3 * n;
    const I = this.inputSize;
    const Hl = this.layerSize;
    const below = this.layer > 0;
    // P sums of own units, in dy for the cell
    const P = this.dy;
    P.fill(0);
    scatterAdd(incoming, P, B, n, this.unitStart);
    this.useSlot(t);
    this.paperCell!.backwardRest(t, this.dw);
    let macs = this.inputRows(t, outBelow, 1); // (the recompute was phase 0's)
    const dBytes = 4 * n3;
    outRecurrent.clear();
    if (t === 0 && this.carried) {
      // the carried y_{−1}: its dR_{u,r} rows follow in flushGrads, but no partial sums (the gradient stops there)
      macs += 2 * n2 * this.rows.slotSize(this.poolE, t);
    } else {
      macs += 3 * n2 * this.rows.dotRows(this.poolE, t, Hl, this.pR, 0, this.pDw, dBytes, n2, 1); // recompute + dR_{u,r} + partial sum
      const announced = t > 0 && this.poolAL.present[t - 1] === 1;
      if (announced) macs += n2 * this.rows.announcedRows(this.poolAL, t - 1, Hl, this.pR, 0, this.pDw, dBytes, n2, 1);
      this.rows.emit(outRecurrent, this.poolE, t, announced ? this.poolAL : null, t - 1, Hl);
    }
    outRecurrent.end();
    if (t % GRAD_BLOCK === 0) this.flushGrads(t);
    const c = this.counters;
    c.macsBackward += macs;
    c.macsDenseBackward += this.activeBatch * ((I + Hl) * n3 + (t >= 1 ? Hl * n3 : 0) + (below ? I * n3 : 0));
  }
}
