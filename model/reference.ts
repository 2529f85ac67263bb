/**
 * The readable float64 reference: a dense forward pass that keeps everything it needs, then a reverse loop.
 * Every other implementation (group kernels, actors, transports) is tested against it, so clarity wins over
 * speed: no sparsity tricks, no threads, no I/O. Equations and MAC conventions: docs/math.md.
 *
 * Layout: per layer, unit-step arrays are [T, B, H] row-major (index (t·B + b)·H + j); gate vectors are the
 * EvNN blocks z|r|g (paper: u|r|g) of 3H columns.
 *
 * Choices the equations leave open: the dense GRU runs the evnn equations whatever the formulation (docs/math.md),
 * has no activity penalty (it has no events to regularise) and zero threshold gradients; with no targeted item
 * the cross-entropy is 0.
 */
import { layerInputSize, TRACE_DECAY, type ModelConfig } from './config.js';
import { DropoutMask } from './dropout.js';
import { zerosLike, type LayerParams, type Params, type Tensor } from './params.js';

export interface Batch {
  /** [B, T, I] row-major. */
  x: Float32Array | Float64Array;
  batch: number;
  steps: number;
  inputSize: number;
  /** Length B (readout trace|last) or B·T as [B, T] (readout per-step); −1 = ignore. */
  targets: Int32Array;
}

/**
 * Per batch (docs/math.md "MAC conventions"). The backward figures describe a backward pass over this batch;
 * referenceForward reports them too, since they depend on the forward activity only.
 */
export interface Figures {
  events: number;
  unitSteps: number;
  backwardActive: number;
  macs: { forward: number; backward: number; denseForward: number; denseBackward: number };
}

export interface ReferenceOptions {
  /**
   * Replace H by the smooth function whose derivative IS the pseudo-derivative,
   * H(x) = ∫_{−∞}^x γ·max(0, 1 − s|u|) du (piecewise quadratic, saturating at γ/s), so that finite differences
   * of the loss equal the analytic gradient on the surrogate paths too. Event counts then use o > 0.
   */
  smoothHeaviside?: boolean;
  /**
   * Test hook: called for every EGRU unit-step of the forward pass with v − ϑ (paper: c − ϑ), e.g. to check
   * that no unit is within a finite-difference step of flipping.
   */
  probe?: (layer: number, t: number, b: number, unit: number, vMinusThr: number) => void;
  /**
   * Training with dropout (cfg.dropout > 0): the optimiser step whose masks to draw (model/dropout.ts). Layer l+1
   * and the readout then see y ⊙ D_l instead of y; unset (evaluation) means no dropout.
   */
  dropoutStep?: number;
  /**
   * Truncated BPTT (docs/math.md "Carried state"): per layer, the step −1 values the first step reads instead of
   * zeros, from stateFromCarried. They are constants of the batch: no gradient flows into them.
   */
  initialState?: StepBefore[];
  /**
   * MAC counting only: per layer, whether the kernels keep the forward step's gates for the backward step
   * (GroupKernelSpec.gateSteps) instead of recomputing them, so that the backward step does no recompute row per
   * received item. Unset: every layer recomputes.
   */
  keptGates?: readonly boolean[];
}

/**
 * What step 0 of a layer reads from step −1, per batch element and unit ([B, H] each): o (event indicator,
 * smooth under smoothHeaviside), y (output events) and h (evnn: the state after the reset; paper: c; GRU: v).
 */
export interface StepBefore {
  o: Float64Array;
  y: Float64Array;
  h: Float64Array;
}

export interface ReferenceResult {
  loss: number;
  crossEntropy: number;
  activityPenalty: number;
  grads: Params<Float64Array>;
  /** [B, C] (trace|last) or [B, T, C] (per-step). */
  logits: Float64Array;
  correct: number;
  count: number;
  figures: Figures;
  perLayerEvents: number[];
  /** Per layer, the events of each unit over the batch's steps and sequences (the dense GRU: T·B each). */
  perUnitEvents: number[][];
  /** Per layer, the state a next segment carries on from, [B, H]: v at the last step (paper: c; GRU: h = v). */
  finalState: Float64Array[];
}

// ---------------------------------------------------------------------------------------------------------
// Scalar helpers

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

interface Spike {
  /** o = H(x), x = v − ϑ. */
  fire(x: number): number;
  /** The pseudo-derivative H'(x) = γ·max(0, 1 − s|x|). */
  grad(x: number): number;
}

function makeSpike(cfg: ModelConfig, smooth: boolean): Spike {
  const gamma = cfg.dampening;
  const s = cfg.support;
  const w = 1 / s; // half-width of the surrogate's support
  const grad = (x: number) => gamma * Math.max(0, 1 - s * Math.abs(x));
  if (!smooth) return { fire: (x) => (x > 0 ? 1 : 0), grad }; // H(0) = 0
  // ∫ of the triangle: 0 below −w, γ(x + s x²/2 + w/2) on [−w, 0], γ(w/2 + x − s x²/2) on [0, w], γw above.
  const fire = (x: number) => {
    if (x <= -w) return 0;
    if (x <= 0) return gamma * (x + (s * x * x) / 2 + w / 2);
    if (x < w) return gamma * (w / 2 + x - (s * x * x) / 2);
    return gamma * w;
  };
  return { fire, grad };
}

/** Read element k of a tensor as a float64 (params may be Float32). */
const at = (a: Tensor, k: number): number => a[k]!;

// ---------------------------------------------------------------------------------------------------------
// Forward pass of one layer, keeping what the backward pass needs

interface LayerTape {
  I: number;
  H: number;
  /** Whether this layer runs the `paper` equations (EGRU only; the dense GRU always runs `evnn`). */
  paper: boolean;
  x: Float64Array; // [T,B,I] the layer's input
  z: Float64Array; // [T,B,H] update gate (paper: u)
  r: Float64Array; // [T,B,H] reset gate
  g: Float64Array; // [T,B,H] candidate tanh
  rhg: Float64Array; // [T,B,H] evnn: recurrent g-block pre-activation rh_g (needed for dr)
  v: Float64Array; // [T,B,H] evnn: candidate state v before reset; paper: c
  o: Float64Array; // [T,B,H] event indicator H(v − ϑ) (GRU: 1)
  y: Float64Array; // [T,B,H] output
  h: Float64Array; // [T,B,H] evnn: state after reset; paper: c (same as v)
}

/** y_{t−1} and h_{t−1} of batch element b: from the tape, at t = 0 from the carried state (or zeros). */
function previousStep(tape: LayerTape, before: StepBefore | undefined, t: number, b: number, B: number): { yPrev: Float64Array; hPrev: Float64Array } {
  const H = tape.H;
  if (t > 0) {
    const prev = ((t - 1) * B + b) * H;
    return { yPrev: tape.y.subarray(prev, prev + H), hPrev: tape.h.subarray(prev, prev + H) };
  }
  if (!before) return { yPrev: new Float64Array(H), hPrev: new Float64Array(H) };
  return { yPrev: before.y.subarray(b * H, (b + 1) * H), hPrev: before.h.subarray(b * H, (b + 1) * H) };
}

function forwardLayer(
  cfg: ModelConfig,
  l: number,
  p: LayerParams,
  x: Float64Array,
  T: number,
  B: number,
  spike: Spike,
  probe: ReferenceOptions['probe'],
  before: StepBefore | undefined,
): LayerTape {
  const I = layerInputSize(cfg, l);
  const H = cfg.hidden[l]!;
  const egru = cfg.cell === 'egru';
  const paper = egru && cfg.formulation === 'paper';
  const n = T * B * H;
  const tape: LayerTape = {
    I, H, paper, x,
    z: new Float64Array(n), r: new Float64Array(n), g: new Float64Array(n), rhg: new Float64Array(n),
    v: new Float64Array(n), o: new Float64Array(n), y: new Float64Array(n), h: new Float64Array(n),
  };
  const wx = new Float64Array(3 * H);
  const rh = new Float64Array(3 * H);

  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const xOff = (t * B + b) * I;
      const off = (t * B + b) * H;
      const { yPrev, hPrev } = previousStep(tape, before, t, b, B);

      // wx = x·K + b,  rh = y_{t−1}·R + rb (dense products: the reference does not exploit sparsity)
      for (let c = 0; c < 3 * H; c++) {
        let s = at(p.bias, c);
        for (let i = 0; i < I; i++) s += x[xOff + i]! * at(p.kernel, i * 3 * H + c);
        wx[c] = s;
        let q = at(p.recurrentBias, c);
        for (let m = 0; m < H; m++) q += yPrev[m]! * at(p.recurrentKernel, m * 3 * H + c);
        rh[c] = q;
      }

      // Gates z (paper: u) and r first: the paper's candidate needs all of r.
      for (let j = 0; j < H; j++) {
        tape.z[off + j] = sigmoid(wx[j]! + rh[j]!);
        tape.r[off + j] = sigmoid(wx[H + j]! + rh[H + j]!);
      }

      for (let j = 0; j < H; j++) {
        const z = tape.z[off + j]!;
        const r = tape.r[off + j]!;
        const thr = at(p.thr, j);
        if (!paper) {
          // evnn: reset gate after the product; z weighs the old state.
          const g = Math.tanh(wx[2 * H + j]! + r * rh[2 * H + j]!);
          const v = z * hPrev[j]! + (1 - z) * g;
          tape.g[off + j] = g;
          tape.rhg[off + j] = rh[2 * H + j]!;
          tape.v[off + j] = v;
          if (egru) {
            const o = spike.fire(v - thr);
            probe?.(l, t, b, j, v - thr);
            tape.o[off + j] = o;
            tape.y[off + j] = o * v;
            tape.h[off + j] = v - o * thr;
          } else {
            tape.o[off + j] = 1;
            tape.y[off + j] = v;
            tape.h[off + j] = v;
          }
        } else {
          // paper: reset gate on the sending side before the product; u weighs the new candidate;
          // the state is reset by subtracting the last output.
          let q = at(p.recurrentBias, 2 * H + j);
          for (let m = 0; m < H; m++) q += tape.r[off + m]! * yPrev[m]! * at(p.recurrentKernel, m * 3 * H + 2 * H + j);
          const g = Math.tanh(wx[2 * H + j]! + q);
          const c = z * g + (1 - z) * hPrev[j]! - yPrev[j]!;
          const o = spike.fire(c - thr);
          probe?.(l, t, b, j, c - thr);
          tape.g[off + j] = g;
          tape.v[off + j] = c;
          tape.o[off + j] = o;
          tape.y[off + j] = o * c;
          tape.h[off + j] = c;
        }
      }
    }
  }
  return tape;
}

// ---------------------------------------------------------------------------------------------------------
// Whole network forward: layers, readout, loss, figures

interface ForwardState {
  tapes: LayerTape[];
  /** Per layer, the dropout factors D_l [T,B,H] applied to what it passes up; null without dropout. */
  masks: (Float64Array | null)[];
  feat: Float64Array; // [E, H_last] readout inputs, E = B (trace|last) or B·T (per-step, index b·T + t)
  logits: Float64Array; // [E, C]
  targets: Int32Array; // [E]
  count: number;
  correct: number;
  crossEntropy: number;
  activityPenalty: number;
  /** Per layer, mean(o) over t, b, units. */
  meanO: number[];
  figures: Figures;
  perLayerEvents: number[];
  perUnitEvents: number[][];
  batch: number;
}

function checkBatch(cfg: ModelConfig, params: Params, batch: Batch, opts: ReferenceOptions): void {
  const { batch: B, steps: T, inputSize: I } = batch;
  if (I !== cfg.inputSize) throw new Error(`batch input size ${I} does not match the model's ${cfg.inputSize}`);
  if (!(B > 0 && T > 0)) throw new Error(`batch and steps must be positive, got ${B}, ${T}`);
  if (batch.x.length !== B * T * I) throw new Error(`x has ${batch.x.length} values, expected B·T·I = ${B * T * I}`);
  const E = cfg.readout === 'per-step' ? B * T : B;
  if (batch.targets.length !== E) throw new Error(`targets have length ${batch.targets.length}, expected ${E}`);
  for (const y of batch.targets)
    if (!(y === -1 || (y >= 0 && y < cfg.classes))) throw new Error(`target ${y} outside [0, ${cfg.classes}) and not −1`);
  if (params.layers.length !== cfg.hidden.length) throw new Error(`params have ${params.layers.length} layers, config ${cfg.hidden.length}`);
  const before = opts.initialState;
  if (before) {
    if (before.length !== cfg.hidden.length) throw new Error(`initial state has ${before.length} layers, the model ${cfg.hidden.length}`);
    before.forEach((s, l) => {
      const n = B * cfg.hidden[l]!;
      if (s.o.length !== n || s.y.length !== n || s.h.length !== n) throw new Error(`initial state of layer ${l} must hold B·H = ${n} values per part`);
    });
  }
}

function forwardAll(cfg: ModelConfig, params: Params, batch: Batch, opts: ReferenceOptions): ForwardState {
  checkBatch(cfg, params, batch, opts);
  const { batch: B, steps: T } = batch;
  const spike = makeSpike(cfg, opts.smoothHeaviside === true);
  const L = cfg.hidden.length;

  // Layer 0 input, re-laid out from [B,T,I] to [T,B,I].
  const I0 = cfg.inputSize;
  const x0 = new Float64Array(T * B * I0);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let i = 0; i < I0; i++) x0[(t * B + b) * I0 + i] = batch.x[(b * T + t) * I0 + i]!;

  const tapes: LayerTape[] = [];
  const masks: (Float64Array | null)[] = [];
  let x: Float64Array = x0;
  for (let l = 0; l < L; l++) {
    const tape = forwardLayer(cfg, l, params.layers[l]!, x, T, B, spike, opts.probe, opts.initialState?.[l]);
    tapes.push(tape);
    const mask = dropoutFactors(cfg, l, T, B, opts.dropoutStep);
    masks.push(mask);
    x = mask ? tape.y.map((y, k) => y * mask[k]!) : tape.y;
  }

  // Readout features.
  const top = tapes[L - 1]!;
  const topMask = masks[L - 1];
  const topY = topMask ? top.y.map((y, k) => y * topMask[k]!) : top.y;
  const Hl = top.H;
  const C = cfg.classes;
  const perStep = cfg.readout === 'per-step';
  const E = perStep ? B * T : B;
  const feat = new Float64Array(E * Hl);
  for (let b = 0; b < B; b++) {
    if (cfg.readout === 'trace') {
      for (let t = 0; t < T; t++)
        for (let j = 0; j < Hl; j++)
          feat[b * Hl + j] = TRACE_DECAY * feat[b * Hl + j]! + (1 - TRACE_DECAY) * topY[(t * B + b) * Hl + j]!;
    } else if (cfg.readout === 'last') {
      for (let j = 0; j < Hl; j++) feat[b * Hl + j] = topY[((T - 1) * B + b) * Hl + j]!;
    } else {
      for (let t = 0; t < T; t++)
        for (let j = 0; j < Hl; j++) feat[(b * T + t) * Hl + j] = topY[(t * B + b) * Hl + j]!;
    }
  }

  // logits = feat · Wᵀ + bias; cross-entropy by a stable log-softmax; accuracy by argmax (first max wins).
  const W = params.readout.weight;
  const logits = new Float64Array(E * C);
  let ceSum = 0;
  let count = 0;
  let correct = 0;
  for (let e = 0; e < E; e++) {
    for (let c = 0; c < C; c++) {
      let s = at(params.readout.bias, c);
      for (let j = 0; j < Hl; j++) s += feat[e * Hl + j]! * at(W, c * Hl + j);
      logits[e * C + c] = s;
    }
    const target = batch.targets[e]!;
    if (target < 0) continue;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < C; c++) if (logits[e * C + c]! > max) { max = logits[e * C + c]!; arg = c; }
    let sumExp = 0;
    for (let c = 0; c < C; c++) sumExp += Math.exp(logits[e * C + c]! - max);
    ceSum += -(logits[e * C + target]! - max - Math.log(sumExp));
    count++;
    if (arg === target) correct++;
  }
  const crossEntropy = count > 0 ? ceSum / count : 0;

  // Activity regularisation λ·Σ_l (mean(o) − a*)²; the dense GRU has no events to regularise.
  const meanO: number[] = [];
  let activityPenalty = 0;
  for (const tape of tapes) {
    let s = 0;
    for (const o of tape.o) s += o;
    const m = s / tape.o.length;
    meanO.push(m);
    if (cfg.cell === 'egru' && cfg.activityReg > 0) activityPenalty += cfg.activityReg * (m - cfg.activityTarget) ** 2;
  }

  const { figures, perLayerEvents, perUnitEvents } = countFigures(cfg, tapes, masks, params, T, B, opts.initialState, opts.keptGates);
  return {
    tapes, masks, feat, logits, targets: batch.targets, count, correct, crossEntropy, activityPenalty, meanO, figures, perLayerEvents, perUnitEvents, batch: B,
  };
}

/** The dropout factors D_l [T,B,H] of layer l's outputs for a training step, or null (no dropout). */
function dropoutFactors(cfg: ModelConfig, l: number, T: number, B: number, step: number | undefined): Float64Array | null {
  if (step === undefined || !(cfg.dropout > 0)) return null;
  const H = cfg.hidden[l]!;
  const mask = new DropoutMask(cfg.dropout, cfg.seed, l);
  mask.begin(step);
  const d = new Float64Array(T * B * H);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) d[(t * B + b) * H + j] = mask.at(t, b, j);
  return d;
}

/**
 * Events, unit-steps, backward-active unit-steps and MACs exactly per docs/math.md "MAC conventions".
 * With dropout, the layer above receives (and works on) only the kept events and backward-active units.
 */
function countFigures(
  cfg: ModelConfig,
  tapes: LayerTape[],
  masks: (Float64Array | null)[],
  params: Params,
  T: number,
  B: number,
  initialState: StepBefore[] | undefined,
  keptGates: readonly boolean[] | undefined,
) {
  const egru = cfg.cell === 'egru';
  const halfWidth = 1 / cfg.support;
  // ev[l][t·B+b], act[l][t·B+b]: events and backward-active units of layer l at (t, b);
  // evUp, actUp: the same counting only units that dropout keeps for the layer above.
  const ev: Float64Array[] = [];
  const act: Float64Array[] = [];
  const evUp: Float64Array[] = [];
  const actUp: Float64Array[] = [];
  const perUnitEvents: number[][] = [];
  tapes.forEach((tape, l) => {
    const H = tape.H;
    const thr = params.layers[l]!.thr;
    const mask = masks[l];
    const e = new Float64Array(T * B);
    const a = new Float64Array(T * B);
    const eu = new Float64Array(T * B);
    const au = new Float64Array(T * B);
    const perUnit = new Array<number>(H).fill(0);
    for (let k = 0; k < T * B; k++) {
      for (let j = 0; j < H; j++) {
        const idx = k * H + j;
        const fired = !egru || tape.o[idx]! > 0;
        const active = fired || Math.abs(tape.v[idx]! - at(thr, j)) < halfWidth;
        const kept = !mask || mask[idx] !== 0;
        if (fired) e[k]!++;
        if (fired) perUnit[j]!++;
        if (active) a[k]!++;
        if (fired && kept) eu[k]!++;
        if (active && kept) au[k]!++;
      }
    }
    ev.push(e);
    act.push(a);
    evUp.push(eu);
    actUp.push(au);
    perUnitEvents.push(perUnit);
  });

  let events = 0;
  let unitSteps = 0;
  let backwardActive = 0;
  const perLayerEvents: number[] = [];
  const macs = { forward: 0, backward: 0, denseForward: 0, denseBackward: 0 };
  tapes.forEach((tape, l) => {
    const { I, H } = tape;
    const G = 3 * H; // gate columns touched per input item
    const rowsPerItem = keptGates?.[l] ? 1 : 2; // the weight-gradient row, and the recompute's unless gates are kept
    let layerEvents = 0;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const k = t * B + b;
        let nzIn = 0;
        if (l === 0) for (let i = 0; i < I; i++) nzIn += tape.x[k * I + i] !== 0 ? 1 : 0;
        else nzIn = evUp[l - 1]![k]!;
        const evPrev = t > 0 ? ev[l]![k - B]! : carriedEvents(initialState?.[l], b, H, egru);
        // At t = 0 the gradient into the carried y_{−1} is cut: no partial sums for its units, except the paper
        // formulation's P sums (H per event), which its reset gates at t = 0 need.
        const actPrev = t > 0 ? act[l]![k - B]! : 0;
        const cutSums = t === 0 && tape.paper ? evPrev * H : 0;
        const actBelow = l > 0 ? actUp[l - 1]![k]! : 0;
        macs.forward += (nzIn + evPrev) * G;
        macs.backward += rowsPerItem * (nzIn + evPrev) * G + actPrev * G + actBelow * G + cutSums;
        macs.denseForward += (I + H) * G;
        macs.denseBackward += (I + H) * G + (t >= 1 ? H * G : 0) + (l > 0 ? I * G : 0);
        layerEvents += ev[l]![k]!;
        backwardActive += act[l]![k]!;
      }
    }
    perLayerEvents.push(layerEvents);
    events += layerEvents;
    unitSteps += H * T * B;
  });

  // Readout: once per sequence (trace|last) or every step (per-step), same in sparse and dense figures.
  const evaluations = cfg.readout === 'per-step' ? B * T : B;
  const readoutMacs = cfg.classes * cfg.hidden[cfg.hidden.length - 1]!;
  macs.forward += evaluations * readoutMacs;
  macs.denseForward += evaluations * readoutMacs;
  macs.backward += evaluations * 2 * readoutMacs;
  macs.denseBackward += evaluations * 2 * readoutMacs;

  return { figures: { events, unitSteps, backwardActive, macs }, perLayerEvents, perUnitEvents };
}

/** Events of the carried step −1 of batch element b: units with o > 0 (every unit of a GRU). */
function carriedEvents(before: StepBefore | undefined, b: number, H: number, egru: boolean): number {
  if (!before) return 0;
  if (!egru) return H;
  let n = 0;
  for (let j = 0; j < H; j++) n += before.o[b * H + j]! > 0 ? 1 : 0;
  return n;
}

function result(s: ForwardState): Omit<ReferenceResult, 'grads'> {
  return {
    loss: s.crossEntropy + s.activityPenalty,
    crossEntropy: s.crossEntropy,
    activityPenalty: s.activityPenalty,
    logits: s.logits,
    correct: s.correct,
    count: s.count,
    figures: s.figures,
    perLayerEvents: s.perLayerEvents,
    perUnitEvents: s.perUnitEvents,
    finalState: s.tapes.map((tape) => tape.v.slice(tape.v.length - s.batch * tape.H)),
  };
}

/** Loss, logits, accuracy and figures; no gradients. */
export function referenceForward(
  cfg: ModelConfig,
  params: Params,
  batch: Batch,
  opts: ReferenceOptions = {},
): Omit<ReferenceResult, 'grads'> {
  return result(forwardAll(cfg, params, batch, opts));
}

// ---------------------------------------------------------------------------------------------------------
// Backward pass

/**
 * Reverse loop over one layer. dyExt [T,B,H] is the gradient into y_t from outside the layer (readout or the
 * layer above); dO is ∂loss/∂o for every unit-step (activity regularisation, a constant per layer).
 * Accumulates into g (this layer's parameter gradients) and returns dx [T,B,I], the gradient into the input.
 */
function backwardLayer(
  cfg: ModelConfig,
  p: LayerParams,
  tape: LayerTape,
  dyExt: Float64Array,
  dO: number,
  T: number,
  B: number,
  spike: Spike,
  g: LayerParams<Float64Array>,
  before: StepBefore | undefined,
): Float64Array {
  const { I, H, paper } = tape;
  const egru = cfg.cell === 'egru';
  const G = 3 * H;
  const dx = new Float64Array(T * B * I);
  // Gradients arriving at step t from step t+1: into y_t (recurrent products) and into the state h_t (or c_t).
  const dyRec = new Float64Array(B * H);
  const dhRec = new Float64Array(B * H);
  const dv = new Float64Array(H); // evnn: ∂/∂v; paper: ∂/∂c
  const dwx = new Float64Array(G); // gradient of the input pre-activations wx
  const drh = new Float64Array(G); // gradient of the recurrent pre-activations rh (evnn)

  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const off = (t * B + b) * H;
      const xOff = (t * B + b) * I;
      // at t = 0 from the carried state: what flows into it (dyRec, dhRec after the loop) is dropped
      const { yPrev, hPrev } = previousStep(tape, before, t, b, B);

      // Through the event: y = o·v and h = v − o·ϑ (paper: y = o·c, c carries on), o = H(v − ϑ).
      for (let j = 0; j < H; j++) {
        const dy = dyExt[off + j]! + dyRec[b * H + j]!;
        const dh = dhRec[b * H + j]!;
        if (!egru) {
          dv[j] = dy + dh; // GRU: y = h = v
          continue;
        }
        const v = tape.v[off + j]!;
        const o = tape.o[off + j]!;
        const thr = at(p.thr, j);
        const sp = spike.grad(v - thr);
        if (!paper) {
          dv[j] = dy * (o + v * sp) + dh * (1 - thr * sp) + dO * sp;
          g.thr[j]! += -dy * v * sp + dh * (-o + thr * sp) - dO * sp;
        } else {
          dv[j] = dy * (o + v * sp) + dh + dO * sp;
          g.thr[j]! += -dy * v * sp - dO * sp;
        }
      }

      if (!paper) {
        // v = z·h_{t−1} + (1 − z)·g,  g = tanh(wx_g + r·rh_g)
        for (let j = 0; j < H; j++) {
          const z = tape.z[off + j]!;
          const r = tape.r[off + j]!;
          const gg = tape.g[off + j]!;
          const daZ = dv[j]! * (hPrev[j]! - gg) * z * (1 - z);
          const daG = dv[j]! * (1 - z) * (1 - gg * gg);
          const daR = daG * tape.rhg[off + j]! * r * (1 - r);
          dwx[j] = daZ;
          dwx[H + j] = daR;
          dwx[2 * H + j] = daG;
          drh[j] = daZ;
          drh[H + j] = daR;
          drh[2 * H + j] = daG * r;
          dhRec[b * H + j] = dv[j]! * z; // into h_{t−1}
        }
        // rh = y_{t−1}·R + rb
        for (let m = 0; m < H; m++) {
          let s = 0;
          for (let c = 0; c < G; c++) {
            s += at(p.recurrentKernel, m * G + c) * drh[c]!;
            g.recurrentKernel[m * G + c]! += yPrev[m]! * drh[c]!;
          }
          dyRec[b * H + m] = s; // into y_{t−1}
        }
        for (let c = 0; c < G; c++) g.recurrentBias[c]! += drh[c]!;
      } else {
        // c = u·g + (1 − u)·c_{t−1} − y_{t−1},  g = tanh(wx_g + (r ⊙ y_{t−1})·R_g + rb_g)
        for (let j = 0; j < H; j++) {
          const u = tape.z[off + j]!;
          const gg = tape.g[off + j]!;
          dwx[j] = dv[j]! * (gg - hPrev[j]!) * u * (1 - u); // da_u
          dwx[2 * H + j] = dv[j]! * u * (1 - gg * gg); // da_g
          dhRec[b * H + j] = dv[j]! * (1 - u); // into c_{t−1} directly
          dyRec[b * H + j] = -dv[j]!; // into y_{t−1} via the reset
        }
        // Phase 1: P_m = R_g[m,:]·da_g feeds r_m (→ da_r) and y_{t−1,m}.
        for (let m = 0; m < H; m++) {
          const r = tape.r[off + m]!;
          let P = 0;
          for (let j = 0; j < H; j++) {
            P += at(p.recurrentKernel, m * G + 2 * H + j) * dwx[2 * H + j]!;
            g.recurrentKernel[m * G + 2 * H + j]! += r * yPrev[m]! * dwx[2 * H + j]!;
          }
          dwx[H + m] = P * yPrev[m]! * r * (1 - r); // da_r
          dyRec[b * H + m]! += r * P;
        }
        // Phase 2: the u and r blocks of rh = y_{t−1}·R + rb.
        for (let m = 0; m < H; m++) {
          let s = 0;
          for (let c = 0; c < 2 * H; c++) {
            s += at(p.recurrentKernel, m * G + c) * dwx[c]!;
            g.recurrentKernel[m * G + c]! += yPrev[m]! * dwx[c]!;
          }
          dyRec[b * H + m]! += s;
        }
        for (let c = 0; c < G; c++) g.recurrentBias[c]! += dwx[c]!;
      }

      // wx = x·K + b
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let c = 0; c < G; c++) {
          s += at(p.kernel, i * G + c) * dwx[c]!;
          g.kernel[i * G + c]! += tape.x[xOff + i]! * dwx[c]!;
        }
        dx[xOff + i] = s;
      }
      for (let c = 0; c < G; c++) g.bias[c]! += dwx[c]!;
    }
  }
  return dx;
}

/** Loss, logits, accuracy, figures and exact (pseudo-)gradients of the loss for every parameter tensor. */
export function referenceForwardBackward(
  cfg: ModelConfig,
  params: Params,
  batch: Batch,
  opts: ReferenceOptions = {},
): ReferenceResult {
  const s = forwardAll(cfg, params, batch, opts);
  const { batch: B, steps: T } = batch;
  const spike = makeSpike(cfg, opts.smoothHeaviside === true);
  const grads = zerosLike(params);
  const L = cfg.hidden.length;
  const C = cfg.classes;
  const Hl = cfg.hidden[L - 1]!;
  const W = params.readout.weight;

  // Readout: d(mean CE)/dlogits = (softmax − onehot)/count; then into W, bias and the features.
  const E = s.targets.length;
  const dfeat = new Float64Array(E * Hl);
  for (let e = 0; e < E; e++) {
    const target = s.targets[e]!;
    if (target < 0) continue;
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, s.logits[e * C + c]!);
    let sumExp = 0;
    for (let c = 0; c < C; c++) sumExp += Math.exp(s.logits[e * C + c]! - max);
    for (let c = 0; c < C; c++) {
      const dl = (Math.exp(s.logits[e * C + c]! - max) / sumExp - (c === target ? 1 : 0)) / s.count;
      grads.readout.bias[c]! += dl;
      for (let j = 0; j < Hl; j++) {
        grads.readout.weight[c * Hl + j]! += s.feat[e * Hl + j]! * dl;
        dfeat[e * Hl + j]! += at(W, c * Hl + j) * dl;
      }
    }
  }

  // Features back to y_t of the last layer, [T,B,H] (through its dropout factors).
  let dy: Float64Array = new Float64Array(T * B * Hl);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < Hl; j++) {
        const k = (t * B + b) * Hl + j;
        if (cfg.readout === 'trace') dy[k] = (1 - TRACE_DECAY) * TRACE_DECAY ** (T - 1 - t) * dfeat[b * Hl + j]!;
        else if (cfg.readout === 'last') dy[k] = t === T - 1 ? dfeat[b * Hl + j]! : 0;
        else dy[k] = dfeat[(b * T + t) * Hl + j]!;
      }
    }
  }
  const topMask = s.masks[L - 1];
  if (topMask) for (let k = 0; k < dy.length; k++) dy[k]! *= topMask[k]!;

  // Layers top-down; each returns the gradient into its input, i.e. into y of the layer below.
  for (let l = L - 1; l >= 0; l--) {
    const tape = s.tapes[l]!;
    const dO =
      cfg.cell === 'egru' && cfg.activityReg > 0
        ? (2 * cfg.activityReg * (s.meanO[l]! - cfg.activityTarget)) / tape.o.length
        : 0;
    dy = backwardLayer(cfg, params.layers[l]!, tape, dy, dO, T, B, spike, grads.layers[l]!, opts.initialState?.[l]);
    const below = l > 0 ? s.masks[l - 1] : null;
    if (below) for (let k = 0; k < dy.length; k++) dy[k]! *= below[k]!;
  }

  return { ...result(s), grads };
}

// ---------------------------------------------------------------------------------------------------------
// Truncated BPTT: the state carried from one segment into the next

/**
 * The step −1 values of every layer for a segment that carries on from `carried` (per layer the finalState of the
 * previous segment, [B, H]), derived with the current parameters as the group kernels do: o = H(v − ϑ) (the smooth
 * H under smoothHeaviside), y = o·v, h = v − o·ϑ (paper: h = c; GRU: o = 1, y = h = v). With the parameters of
 * the previous segment this is exactly its last step's o, y, h.
 */
export function stateFromCarried(cfg: ModelConfig, params: Params, carried: readonly Float64Array[], opts: Pick<ReferenceOptions, 'smoothHeaviside'> = {}): StepBefore[] {
  if (carried.length !== cfg.hidden.length) throw new Error(`carried state has ${carried.length} layers, the model ${cfg.hidden.length}`);
  const spike = makeSpike(cfg, opts.smoothHeaviside === true);
  const egru = cfg.cell === 'egru';
  const paper = egru && cfg.formulation === 'paper';
  return carried.map((v, l) => {
    const H = cfg.hidden[l]!;
    if (v.length % H !== 0) throw new Error(`carried state of layer ${l} has ${v.length} values, not a multiple of H = ${H}`);
    const thr = params.layers[l]!.thr;
    const o = new Float64Array(v.length);
    const y = new Float64Array(v.length);
    const h = new Float64Array(v.length);
    for (let k = 0; k < v.length; k++) {
      const th = at(thr, k % H);
      o[k] = egru ? spike.fire(v[k]! - th) : 1;
      y[k] = o[k]! * v[k]!;
      h[k] = egru && !paper ? v[k]! - o[k]! * th : v[k]!;
    }
    return { o, y, h };
  });
}
