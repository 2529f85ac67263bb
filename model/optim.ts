/**
 * Optimisers over a list of parallel tensors, so each actor updates its own slice with its own state:
 * every rule here is elementwise, hence splitting the tensors across instances changes nothing
 * (the global clipping factor is reduced across actors from sumOfSquares and passed in as `scale`).
 * The learning rate of each step follows the schedule (model/lr-schedule.ts) from the optimiser's own step count,
 * which every actor and a resumed run agree on.
 * Given a wasm arena for its state, an optimiser updates the tensors that lie in that memory (the actor's kernel
 * weights) with the SIMD module (model/simd.wat) and any other tensor with the loops here: the same float64
 * expression, so the same bits either way.
 */
import { learningRateAt, validateLrSchedule, type LrSchedule } from './lr-schedule.js';
import type { SimdArena } from './simd.js';

export interface OptimizerConfig {
  kind: 'adam' | 'sgd';
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** AdamW decoupled decay for adam (p ← p − lr·wd·p), L2 added to the gradient for sgd. */
  weightDecay?: number;
  /** sgd only: heavy-ball momentum μ (buf ← μ·buf + g; p ← p − lr·buf). */
  momentum?: number;
  /** Learning-rate schedule over the steps (absent: constant `lr`). */
  schedule?: LrSchedule;
}

export interface OptimizerState {
  step: number;
  /** adam: first moments; sgd: momentum buffers (empty arrays when momentum is off). */
  m: Float32Array[];
  /** adam: second moments; sgd: empty arrays. */
  v: Float32Array[];
}

export class Optimizer {
  stepCount = 0;
  private readonly kind: 'adam' | 'sgd';

  /** Change the base learning rate between steps (a schedule scales it). */
  setLearningRate(lr: number): void {
    if (!(lr >= 0)) throw new Error(`learning rate must be ≥ 0, got ${lr}`);
    this.lr = lr;
  }
  get learningRate(): number {
    return this.lr;
  }
  /** The rate the next step uses (the schedule at the current step count). */
  get nextRate(): number {
    return learningRateAt(this.lr, this.schedule, this.stepCount);
  }
  private lr: number;
  private readonly schedule: LrSchedule | undefined;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly momentum: number;
  private readonly decays: boolean[];
  private m: Float32Array[];
  private v: Float32Array[];

  /** The views an arena for the state of tensors of these lengths needs: m, then v (Optimizer's `arena`). */
  static arenaSizes(cfg: OptimizerConfig, lengths: readonly number[]): number[] {
    const adam = cfg.kind === 'adam';
    const withM = adam || (cfg.momentum ?? 0) !== 0;
    return [...lengths.map((n) => (withM ? n : 0)), ...lengths.map((n) => (adam ? n : 0))];
  }

  /**
   * `arena`: a wasm arena of Optimizer.arenaSizes for m and v, in the memory the parameters and gradients lie
   * in (SimdArena.group), so the SIMD module updates them; without one, the state is plain arrays.
   */
  constructor(
    cfg: OptimizerConfig,
    private readonly params: Float32Array[],
    private readonly isThreshold: boolean[],
    isBias?: boolean[],
    private readonly arena?: SimdArena,
  ) {
    if (cfg.kind !== 'adam' && cfg.kind !== 'sgd') throw new Error(`unknown optimizer ${String(cfg.kind)}`);
    if (!(cfg.lr >= 0)) throw new Error(`learning rate must be ≥ 0, got ${cfg.lr}`);
    if (isThreshold.length !== params.length) throw new Error('isThreshold must have one flag per tensor');
    if (isBias && isBias.length !== params.length) throw new Error('isBias must have one flag per tensor');
    this.kind = cfg.kind;
    if (cfg.schedule) validateLrSchedule(cfg.lr, cfg.schedule);
    this.lr = cfg.lr;
    this.schedule = cfg.schedule;
    this.beta1 = cfg.beta1 ?? 0.9;
    this.beta2 = cfg.beta2 ?? 0.999;
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0;
    this.momentum = cfg.momentum ?? 0;
    // Thresholds and biases are never decayed.
    this.decays = params.map((_, k) => !isThreshold[k] && !(isBias?.[k] ?? false));
    const sizes = Optimizer.arenaSizes(cfg, params.map((p) => p.length));
    if (arena && !(arena.views.length === sizes.length && arena.views.every((view, i) => view.length === sizes[i])))
      throw new Error('the arena given to the optimiser does not have its sizes (Optimizer.arenaSizes)');
    const state = arena?.views ?? sizes.map((n) => new Float32Array(n));
    this.m = state.slice(0, params.length);
    this.v = state.slice(params.length);
  }

  /** Whether the SIMD module can reach a tensor: a float32 view on the arena's memory. */
  private inMemory(t: ArrayLike<number>): t is Float32Array {
    return this.arena !== undefined && t instanceof Float32Array && t.buffer === this.arena.buffer;
  }

  /** One update with grads·scale (scale: the global clipping factor, 1 when off). Allocates nothing. */
  step(grads: ArrayLike<number>[], scale: number): void {
    if (grads.length !== this.params.length) throw new Error(`expected ${this.params.length} gradient tensors, got ${grads.length}`);
    const lr = this.nextRate;
    this.stepCount++;
    const wd = this.weightDecay;
    const ops = this.arena?.ops;
    if (this.kind === 'adam') {
      const b1 = this.beta1;
      const b2 = this.beta2;
      const c1 = 1 - b1;
      const c2 = 1 - b2;
      const eps = this.eps;
      // The bias corrections folded into constants: one division per value, the slowest operation here.
      const rate = lr / (1 - Math.pow(b1, this.stepCount));
      const ibc2 = 1 / (1 - Math.pow(b2, this.stepCount));
      for (let k = 0; k < this.params.length; k++) {
        const p = this.params[k]!;
        const g = grads[k]!;
        const m = this.m[k]!;
        const v = this.v[k]!;
        if (g.length !== p.length) throw new Error(`gradient ${k} has ${g.length} values, parameter ${p.length}`);
        const decay = this.decays[k]! && wd !== 0 ? 1 - lr * wd : 1;
        // Whole pairs in SIMD where it reaches, the rest (an odd last value, other tensors) here.
        let i = 0;
        if (ops && this.inMemory(p) && this.inMemory(g)) {
          i = p.length - (p.length % 2);
          ops.adam(p.byteOffset, g.byteOffset, m.byteOffset, v.byteOffset, i / 2, scale, b1, c1, b2, c2, decay, rate, ibc2, eps);
        }
        for (; i < p.length; i++) {
          const gi = g[i]! * scale;
          const mi = b1 * m[i]! + c1 * gi;
          const vi = b2 * v[i]! + c2 * gi * gi;
          m[i] = mi;
          v[i] = vi;
          // Decoupled decay first (as PyTorch AdamW), then the bias-corrected Adam step.
          p[i] = p[i]! * decay - (rate * mi) / (Math.sqrt(vi * ibc2) + eps);
        }
        if (this.isThreshold[k]) project01(p);
      }
    } else {
      const mu = this.momentum;
      for (let k = 0; k < this.params.length; k++) {
        const p = this.params[k]!;
        const g = grads[k]!;
        const buf = this.m[k]!;
        if (g.length !== p.length) throw new Error(`gradient ${k} has ${g.length} values, parameter ${p.length}`);
        const l2 = this.decays[k]! ? wd : 0;
        let i = 0;
        if (ops && this.inMemory(p) && this.inMemory(g)) {
          i = p.length - (p.length % 2);
          ops.sgd(p.byteOffset, g.byteOffset, buf.byteOffset, i / 2, scale, l2, mu, lr);
        }
        for (; i < p.length; i++) {
          let d = g[i]! * scale + l2 * p[i]!;
          if (mu !== 0) {
            d = mu * buf[i]! + d;
            buf[i] = d;
          }
          p[i] = p[i]! - lr * d;
        }
        if (this.isThreshold[k]) project01(p);
      }
    }
  }

  /**
   * Σ g² over the given tensors, as the free sumOfSquares but with the SIMD module for tensors in the arena's
   * memory (its four running sums round differently from one sequential sum: the same partial to ~1e-16).
   */
  sumOfSquares(grads: ArrayLike<number>[]): number {
    const ops = this.arena?.ops;
    let s = 0;
    for (const g of grads) {
      if (ops && this.inMemory(g)) s += ops.sumSquares(g.byteOffset, g.length);
      else for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
    }
    return s;
  }

  /** A copy of the optimiser state (for checkpoints). */
  state(): OptimizerState {
    return { step: this.stepCount, m: this.m.map((a) => a.slice()), v: this.v.map((a) => a.slice()) };
  }

  loadState(s: OptimizerState): void {
    const check = (name: string, src: ArrayLike<number>[], dst: Float32Array[]) => {
      if (!Array.isArray(src) || src.length !== dst.length)
        throw new Error(`optimizer state: ${name} has ${src?.length} tensors, expected ${dst.length}`);
      src.forEach((a, k) => {
        if (a.length !== dst[k]!.length)
          throw new Error(`optimizer state: ${name}[${k}] has ${a.length} values, expected ${dst[k]!.length}`);
      });
    };
    if (!(Number.isInteger(s.step) && s.step >= 0)) throw new Error(`optimizer state: bad step ${s.step}`);
    check('m', s.m, this.m);
    check('v', s.v, this.v);
    s.m.forEach((a, k) => this.m[k]!.set(a));
    s.v.forEach((a, k) => this.v[k]!.set(a));
    this.stepCount = s.step;
  }
}

function project01(p: Float32Array): void {
  for (let i = 0; i < p.length; i++) {
    const x = p[i]!;
    p[i] = x < 0 ? 0 : x > 1 ? 1 : x;
  }
}

/** Σ g² over the given tensors: a partial, so the global norm can be reduced across actors. */
export function sumOfSquares(grads: ArrayLike<number>[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return s;
}

/** Global-norm clipping factor: 1 when off (maxNorm ≤ 0) or norm ≤ maxNorm, else maxNorm/(norm + 1e-6). */
export function clipScale(globalNorm: number, maxNorm: number): number {
  if (maxNorm <= 0 || globalNorm <= maxNorm) return 1;
  return maxNorm / (globalNorm + 1e-6);
}
