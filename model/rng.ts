/**
 * Counter-based randomness: every draw is a pure function of (seed, stream, keys…), so a parameter or mask
 * gets the same value whichever actor draws it and in whatever order, so results do not depend on the actor split.
 */

/** Named streams so different uses of the same seed never collide. */
export const Stream = {
  kernel: 1,
  recurrentKernel: 2,
  threshold: 3,
  readout: 4,
  dropout: 5,
  shuffle: 6,
  data: 7,
} as const;

/** 32-bit finaliser of MurmurHash3: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a key tuple to a uint32. */
export function hashKey(seed: number, ...keys: number[]): number {
  let h = fmix32((seed ^ 0x9e3779b9) >>> 0);
  for (const k of keys) h = fmix32((h ^ Math.imul((k >>> 0) + 0x7f4a7c15, 0x27d4eb2f)) >>> 0);
  return h;
}

/** hashKey(seed, a, b, c) without the rest-parameter array, for per-item masks in hot loops. */
export function hash3(seed: number, a: number, b: number, c: number): number {
  let h = fmix32((seed ^ 0x9e3779b9) >>> 0);
  h = fmix32((h ^ Math.imul((a >>> 0) + 0x7f4a7c15, 0x27d4eb2f)) >>> 0);
  h = fmix32((h ^ Math.imul((b >>> 0) + 0x7f4a7c15, 0x27d4eb2f)) >>> 0);
  return fmix32((h ^ Math.imul((c >>> 0) + 0x7f4a7c15, 0x27d4eb2f)) >>> 0);
}

/** Uniform in the open interval (0, 1) with 53 random bits, from a key tuple. */
export function uniformAt(seed: number, ...keys: number[]): number {
  const hi = hashKey(seed, ...keys, 0x51ed27) >>> 5; // 27 bits
  const lo = hashKey(seed, ...keys, 0x2545f4) >>> 6; // 26 bits
  return (hi * 67108864 + lo + 0.5) / 9007199254740992;
}

/** Standard normal from a key tuple (Box–Muller on two keyed uniforms). */
export function normalAt(seed: number, ...keys: number[]): number {
  const u1 = uniformAt(seed, ...keys, 1);
  const u2 = uniformAt(seed, ...keys, 2);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A sequential stream of uniforms for one key tuple, for samplers that need a variable number of draws. */
export class KeyedStream {
  private counter = 0;
  private readonly base: number;
  constructor(seed: number, ...keys: number[]) {
    this.base = hashKey(seed, ...keys);
  }
  uniform(): number {
    return uniformAt(this.base, this.counter++);
  }
  normal(): number {
    const u1 = this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  /** Gamma(shape, 1) by Marsaglia–Tsang (with the boost for shape < 1). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }
}

/** A seeded permutation of 0..n-1 (Fisher–Yates on a keyed stream). */
export function permutation(n: number, seed: number, ...keys: number[]): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const s = new KeyedStream(seed, ...keys);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(s.uniform() * (i + 1));
    const tmp = p[i]!;
    p[i] = p[j]!;
    p[j] = tmp;
  }
  return p;
}
