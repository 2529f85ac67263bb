/**
 * A single-threaded composition of GroupKernels and the Readout: splits every layer into contiguous groups,
 * routes the items between them as the actor runtime would (forward events, reset messages, near-threshold
 * announcements, backward partial sums), and gathers loss, gradients (native layout) and figures, so the
 * kernels can be checked against the float64 reference without any runtime.
 */
import { layerInputSize, type ModelConfig } from '../../model/config.js';
import { DropoutMask } from '../../model/dropout.js';
import { GroupKernel } from '../../model/group-kernel.js';
import { ItemList } from '../../model/items.js';
import { boundaries, scatterGroup, sliceGroup, type GroupParams, type Params } from '../../model/params.js';
import { ReadoutShard, softmaxCrossEntropy } from '../../model/readout-shard.js';
import type { Batch, Figures, ReferenceResult } from '../../model/reference.js';

export interface ComposeResult extends Omit<ReferenceResult, 'finalState'> {
  /** Item counts of every forward output list, [layer][t] summed over groups (events; GRU: all units). */
  forwardItems: number[][];
}

/** Copy the items of `src` whose address lies in [start, start+n) into `dst` (per batch element). */
export function routeInto(src: ItemList, dst: ItemList, start: number, n: number): void {
  const B = src.batch;
  dst.clear();
  for (let b = 0; b < B; b++) {
    dst.begin(b);
    for (let e = src.offsets[b]!; e < src.offsets[b + 1]!; e++) {
      const i = src.index[e]!;
      if (i >= start && i < start + n) dst.push(i, src.value[e]!);
    }
  }
  dst.end();
}

const lists = (count: number, B: number) => Array.from({ length: count }, () => new ItemList(B, 4));

/**
 * Kernels for one configuration and split, reusable across sequences (beginSequence reuses their buffers).
 * splits[l] = group sizes of layer l (summing to hidden[l]).
 */
export class Composition {
  readonly kernels: GroupKernel[][];
  readonly groupParams: GroupParams[][];
  readonly readout: FullReadout;
  readonly starts: number[][];

  // routing buffers, all preallocated
  private readonly xLists: ItemList[]; // layer-0 input, split into two lists (low and high input indices)
  private readonly events: ItemList[][][]; // [l][parity][g]
  private readonly resets: ItemList[][]; // [l][g] paper reset messages
  private readonly announce: ItemList[][]; // [l][g]
  private readonly outRec: ItemList[][]; // [l][g]
  private readonly outBelow: ItemList[][]; // [l][g]
  private readonly pLists: ItemList[][]; // [l][g] paper P partial sums
  private readonly recIn: ItemList[][][]; // [l][dst][src] routed outRec of the previous (later) step
  private readonly belowIn: ItemList[][][]; // [l][dst][src] routed outBelow of layer l+1
  private readonly pIn: ItemList[][][]; // [l][dst][src]
  private readonly outGrad: Float32Array[]; // last layer, per group

  constructor(
    readonly cfg: ModelConfig,
    params: Params<Float32Array>,
    readonly batch: number,
    readonly splits: number[][],
    preactivationOrder?: 'destination' | 'row',
    /** GroupKernelSpec.gateSteps of every kernel (default 0: the gates are recomputed). */
    gateSteps = 0,
  ) {
    const L = cfg.hidden.length;
    if (splits.length !== L) throw new Error('one split per layer');
    const B = batch;
    this.starts = splits.map((s, l) => {
      const bd = boundaries(s);
      if (bd[bd.length - 1] !== cfg.hidden[l]) throw new Error(`split of layer ${l} does not cover ${cfg.hidden[l]} units`);
      return bd.slice(0, -1);
    });
    this.groupParams = splits.map((s, l) =>
      s.map((n, g) => sliceGroup(params.layers[l]!, layerInputSize(cfg, l), cfg.hidden[l]!, this.starts[l]![g]!, n)),
    );
    this.kernels = splits.map((s, l) =>
      s.map((n, g) => new GroupKernel({ cfg, layer: l, unitStart: this.starts[l]![g]!, units: n, batch: B, preactivationOrder, gateSteps }, this.groupParams[l]![g]!)),
    );
    this.readout = new FullReadout(cfg, Float32Array.from(params.readout.weight), Float32Array.from(params.readout.bias), B);
    this.xLists = lists(2, B);
    this.events = splits.map((s) => [lists(s.length, B), lists(s.length, B)]);
    this.resets = splits.map((s) => lists(s.length, B));
    this.announce = splits.map((s) => lists(s.length, B));
    this.outRec = splits.map((s) => lists(s.length, B));
    this.outBelow = splits.map((s) => lists(s.length, B));
    this.pLists = splits.map((s) => lists(s.length, B));
    this.recIn = splits.map((s) => s.map(() => lists(s.length, B)));
    this.belowIn = splits.map((s, l) => s.map(() => lists(l + 1 < L ? splits[l + 1]!.length : 0, B)));
    this.pIn = splits.map((s) => s.map(() => lists(s.length, B)));
    this.outGrad = splits[L - 1]!.map((n) => new Float32Array(B * n));
  }

  /** `dropoutStep`: train with the dropout masks of that optimiser step (as referenceForwardBackward's option). */
  run(data: Batch, dropoutStep: number | null = null): ComposeResult {
    const { cfg, batch: B } = this;
    const T = data.steps;
    const I = data.inputSize;
    const L = cfg.hidden.length;
    if (data.batch !== B) throw new Error('batch size mismatch');
    const K = this.kernels;
    for (const layer of K)
      for (const k of layer) {
        k.beginSequence(T, B, dropoutStep);
        k.zeroGrads();
        k.resetCounters();
        k.setActivityGradient(0);
      }
    const ro = this.readout;
    ro.beginSequence(T, data.targets, dropoutStep);
    ro.zeroGrads();
    ro.resetCounters();
    const forwardItems = cfg.hidden.map(() => new Array<number>(T).fill(0));

    // ---- forward
    const half = Math.floor(I / 2);
    for (let t = 0; t < T; t++) {
      const cur = t & 1;
      const prev = cur ^ 1;
      // the network input at t as (input index, value) of the non-zero values, split over two lists
      const [lo, hi] = this.xLists as [ItemList, ItemList];
      lo.clear();
      hi.clear();
      for (let b = 0; b < B; b++) {
        lo.begin(b);
        hi.begin(b);
        for (let i = 0; i < I; i++) {
          const x = data.x[(b * T + t) * I + i]!;
          if (x !== 0) (i < half ? lo : hi).push(i, x);
        }
      }
      lo.end();
      hi.end();
      for (let l = 0; l < L; l++) {
        const layer = K[l]!;
        const inputs = l === 0 ? this.xLists : this.events[l - 1]![cur]!;
        const recurrent = t > 0 ? this.events[l]![prev]! : [];
        const out = this.events[l]![cur]!;
        if (layer[0]!.forwardPhases === 2) {
          layer.forEach((k, g) => k.forward(0, t, inputs, recurrent, this.resets[l]![g]!));
          layer.forEach((k, g) => k.forward(1, t, inputs, this.resets[l]!, out[g]!));
        } else layer.forEach((k, g) => k.forward(0, t, inputs, recurrent, out[g]!));
        for (const o of out) forwardItems[l]![t]! += o.size;
      }
      ro.observe(t, this.events[L - 1]![cur]!);
    }

    // ---- announcements of near-threshold units, to the same layer and to the layer above
    for (let l = 0; l < L; l++)
      for (let t = 0; t < T; t++) {
        const ann = this.announce[l]!;
        K[l]!.forEach((k, g) => k.nearThreshold(t, ann[g]!));
        for (const k of K[l]!) k.receiveActive('layer', t, ann);
        if (l + 1 < L) for (const k of K[l + 1]!) k.receiveActive('below', t, ann);
      }

    // ---- loss
    const ce = ro.loss();
    const perLayerEvents = K.map((layer) => layer.reduce((s, k) => s + k.counters.events, 0));
    let activityPenalty = 0;
    if (cfg.cell === 'egru' && cfg.activityReg > 0)
      K.forEach((layer, l) => {
        const total = T * B * cfg.hidden[l]!;
        const m = perLayerEvents[l]! / total;
        activityPenalty += cfg.activityReg * (m - cfg.activityTarget) ** 2;
        const coef = (2 * cfg.activityReg * (m - cfg.activityTarget)) / total;
        for (const k of layer) k.setActivityGradient(coef);
      });

    // ---- backward
    ro.backward();
    for (let l = 0; l < L; l++) for (const srcs of this.recIn[l]!) for (const s of srcs) s.clear();
    for (let t = T - 1; t >= 0; t--) {
      for (let l = L - 1; l >= 0; l--) {
        const layer = K[l]!;
        const starts = this.starts[l]!;
        const sizes = this.splits[l]!;
        const incoming = (g: number): ItemList[] => (l + 1 < L ? [...this.recIn[l]![g]!, ...this.belowIn[l]![g]!] : this.recIn[l]![g]!);
        const og = (g: number): Float32Array | null => {
          if (l !== L - 1 || !ro.hasOutputGrad(t)) return null;
          ro.outputGrad(t, starts[g]!, sizes[g]!, this.outGrad[g]!);
          return this.outGrad[g]!;
        };
        if (layer[0]!.backwardPhases === 2) {
          layer.forEach((k, g) => k.backward(0, t, incoming(g), og(g), this.pLists[l]![g]!, this.outBelow[l]![g]!));
          layer.forEach((_, dst) =>
            this.pLists[l]!.forEach((src, s) => routeInto(src, this.pIn[l]![dst]![s]!, starts[dst]!, sizes[dst]!)),
          );
          layer.forEach((k, g) => k.backward(1, t, this.pIn[l]![g]!, null, this.outRec[l]![g]!, this.outBelow[l]![g]!));
        } else layer.forEach((k, g) => k.backward(0, t, incoming(g), og(g), this.outRec[l]![g]!, this.outBelow[l]![g]!));
        // route: own layer's recurrent sums feed step t−1; the sums to the layer below feed it at t
        layer.forEach((_, dst) =>
          this.outRec[l]!.forEach((src, s) => routeInto(src, this.recIn[l]![dst]![s]!, starts[dst]!, sizes[dst]!)),
        );
        if (l > 0) {
          const st = this.starts[l - 1]!;
          const sz = this.splits[l - 1]!;
          K[l - 1]!.forEach((_, dst) =>
            this.outBelow[l]!.forEach((src, s) => routeInto(src, this.belowIn[l - 1]![dst]![s]!, st[dst]!, sz[dst]!)),
          );
        } else for (const o of this.outBelow[0]!) if (o.size !== 0) throw new Error('layer 0 sent partial sums below');
      }
    }

    // ---- gather
    const grads: Params<Float64Array> = {
      layers: cfg.hidden.map((H, l) => {
        const In = layerInputSize(cfg, l);
        return {
          kernel: new Float64Array(In * 3 * H),
          recurrentKernel: new Float64Array(H * 3 * H),
          bias: new Float64Array(3 * H),
          recurrentBias: new Float64Array(3 * H),
          thr: new Float64Array(H),
        };
      }),
      readout: { weight: Float64Array.from(ro.grads.weight), bias: Float64Array.from(ro.grads.bias) },
    };
    K.forEach((layer, l) =>
      layer.forEach((k) => {
        const p = k.params;
        scatterGroup({ ...p, ...k.grads }, grads.layers[l]!);
      }),
    );
    const figures: Figures = {
      events: 0,
      unitSteps: 0,
      backwardActive: 0,
      macs: {
        forward: ro.counters.macsForward,
        backward: ro.counters.macsBackward,
        denseForward: ro.counters.macsDenseForward,
        denseBackward: ro.counters.macsDenseBackward,
      },
    };
    for (const layer of K)
      for (const k of layer) {
        const c = k.counters;
        figures.events += c.events;
        figures.unitSteps += c.unitSteps;
        figures.backwardActive += c.backwardActive;
        figures.macs.forward += c.macsForward;
        figures.macs.backward += c.macsBackward;
        figures.macs.denseForward += c.macsDenseForward;
        figures.macs.denseBackward += c.macsDenseBackward;
      }
    return {
      loss: ce.loss + activityPenalty,
      crossEntropy: ce.loss,
      activityPenalty,
      grads,
      logits: Float64Array.from(ro.logits.subarray(0, ro.evaluations() * cfg.classes)),
      correct: ce.correct,
      count: ce.count,
      figures,
      perLayerEvents,
      perUnitEvents: K.map((layer) => layer.flatMap((k) => Array.from(k.unitEvents))),
      forwardItems,
    };
  }
}

/** One-shot convenience. */
export function composeForwardBackward(
  cfg: ModelConfig,
  params: Params<Float32Array>,
  data: Batch,
  splits: number[][],
  dropoutStep: number | null = null,
): ComposeResult {
  return new Composition(cfg, params, data.batch, splits).run(data, dropoutStep);
}

/**
 * The runtime's readout (model/readout-shard.ts) as one shard over the whole last layer: the actors use the
 * same code split by columns, so the kernels' composition checks it against the reference too.
 */
class FullReadout {
  private readonly shard: ReadoutShard;
  private readonly merged: ItemList;
  private readonly partial: Float32Array;
  private readonly logitsRows: Float32Array;
  private readonly dlogits: Float32Array;
  private readonly full: Float32Array;
  private steps = 0;
  private targets: Int32Array = new Int32Array(0);
  private gradStep = -1;
  readonly grads: { weight: Float32Array; bias: Float32Array };
  readonly counters = { macsForward: 0, macsBackward: 0, macsDenseForward: 0, macsDenseBackward: 0 };
  /** [B, C] or [B, T, C], the reference's layout. */
  logits = new Float64Array(0);

  constructor(
    private readonly cfg: ModelConfig,
    weight: Float32Array,
    private readonly bias: Float32Array,
    private readonly B: number,
  ) {
    const H = cfg.hidden[cfg.hidden.length - 1]!;
    const L = cfg.hidden.length;
    const dropout = cfg.dropout > 0 ? new DropoutMask(cfg.dropout, cfg.seed, L - 1) : null;
    this.shard = new ReadoutShard(cfg.readout, cfg.classes, 0, H, B, weight, dropout);
    this.grads = { weight: this.shard.gradWeight, bias: new Float32Array(cfg.classes) };
    this.merged = new ItemList(B, 16);
    const rows = 64;
    this.partial = new Float32Array(rows * B * cfg.classes);
    this.logitsRows = new Float32Array(rows * B * cfg.classes);
    this.dlogits = new Float32Array(rows * B * cfg.classes);
    this.full = new Float32Array(B * H);
  }
  evaluations(): number {
    return this.shard.logitRows(this.steps) * this.B;
  }
  beginSequence(steps: number, targets: Int32Array, dropoutStep: number | null): void {
    if (steps > 64) throw new Error('the test readout holds at most 64 steps of logits');
    this.steps = steps;
    this.targets = targets;
    this.gradStep = -1;
    this.shard.beginSequence(steps, this.B, dropoutStep);
  }
  zeroGrads(): void {
    this.grads.weight.fill(0);
    this.grads.bias.fill(0);
  }
  resetCounters(): void {
    this.shard.macsForward = this.shard.macsBackward = 0;
  }
  /** Events of every group at t, merged into one list per batch element (the shard reads one list). */
  observe(t: number, lists: readonly ItemList[]): void {
    const m = this.merged;
    m.clear();
    for (let b = 0; b < this.B; b++) {
      m.begin(b);
      for (const l of lists) for (let e = l.offsets[b]!; e < l.offsets[b + 1]!; e++) m.push(l.index[e]!, l.value[e]!);
    }
    m.end();
    this.shard.observe(t, m, this.partial);
  }
  loss(): { loss: number; correct: number; count: number } {
    const C = this.cfg.classes;
    const rows = this.shard.logitRows(this.steps);
    const B = this.B;
    for (let r = 0; r < rows * B; r++) for (let c = 0; c < C; c++) this.logitsRows[r * C + c] = this.partial[r * C + c]! + this.bias[c]!;
    this.logits = new Float64Array(rows * B * C);
    for (let r = 0; r < rows; r++)
      for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) this.logits[(b * rows + r) * C + c] = this.logitsRows[(r * B + b) * C + c]!;
    return softmaxCrossEntropy(this.logitsRows, this.targets, rows, B, C, this.cfg.readout === 'per-step', this.dlogits);
  }
  backward(): void {
    const C = this.cfg.classes;
    const rows = this.shard.logitRows(this.steps);
    this.shard.backward(this.dlogits);
    for (let r = 0; r < rows * this.B; r++) for (let c = 0; c < C; c++) this.grads.bias[c]! += this.dlogits[r * C + c]!;
    this.counters.macsForward = this.counters.macsDenseForward = this.shard.macsForward;
  }
  hasOutputGrad(t: number): boolean {
    return this.cfg.readout !== 'last' || t === this.steps - 1;
  }
  outputGrad(t: number, start: number, n: number, out: Float32Array): void {
    const H = this.full.length / this.B;
    // One gradient of the whole layer per step, sliced for each group (the actors' shards each do their slice).
    if (this.gradStep !== t) {
      this.shard.outputGrad(t, this.full);
      this.gradStep = t;
    }
    for (let b = 0; b < this.B; b++) for (let j = 0; j < n; j++) out[b * n + j] = this.full[b * H + start + j]!;
    // featGrad MACs accrue as the output gradients are taken (once per step for per-step readouts).
    this.counters.macsBackward = this.counters.macsDenseBackward = this.shard.macsBackward;
  }
}
