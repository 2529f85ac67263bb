import { describe, expect, it } from 'vitest';
import { assembleSimd } from '../scripts/build-wasm.mjs';
import { SimdArena } from '../model/simd.js';
import { SIMD_WASM_BASE64 } from '../model/simd-wasm.js';
import { uniformAt } from '../model/rng.js';

const f = Math.fround;

describe('wasm SIMD row primitives', () => {
  it('the committed bytes are what model/simd.wat assembles to (run npm run build:wasm after editing it)', async () => {
    const bytes = await assembleSimd();
    expect(Buffer.from(bytes).toString('base64')).toBe(SIMD_WASM_BASE64);
  });

  it('axpy equals float32 arithmetic column by column, for every length and offset (vector body and tail)', () => {
    const arena = new SimdArena([64, 64]);
    const [dst, src] = arena.views as [Float32Array, Float32Array];
    for (let len = 0; len <= 37; len++)
      for (const off of [0, 1, 3]) {
        for (let k = 0; k < 64; k++) {
          dst[k] = uniformAt(1, len, off, k) - 0.5;
          src[k] = uniformAt(2, len, off, k) - 0.5;
        }
        const a = f(uniformAt(3, len, off) * 3 - 1.5);
        const want = Float32Array.from(dst);
        for (let k = 0; k < len; k++) want[off + k] = f(dst[off + k]! + f(a * src[off + k]!));
        arena.ops.axpy(dst.byteOffset + 4 * off, a, src.byteOffset + 4 * off, len);
        expect(Array.from(dst)).toEqual(Array.from(want)); // nothing outside [off, off+len) touched
      }
  });

  it('dot matches float64 sums to float32 rounding, for every length and offset', () => {
    const arena = new SimdArena([64, 64]);
    const [w, d] = arena.views as [Float32Array, Float32Array];
    for (let len = 0; len <= 41; len++)
      for (const off of [0, 2]) {
        if (off + len > 64) continue;
        for (let k = 0; k < 64; k++) {
          w[k] = uniformAt(4, len, k) - 0.5;
          d[k] = uniformAt(5, len, k) - 0.5;
        }
        let exact = 0;
        let mag = 0;
        for (let k = 0; k < len; k++) {
          exact += w[off + k]! * d[off + k]!;
          mag += Math.abs(w[off + k]! * d[off + k]!);
        }
        const got = arena.ops.dot(w.byteOffset + 4 * off, d.byteOffset + 4 * off, len);
        expect(Math.abs(got - exact)).toBeLessThanOrEqual(1e-6 * mag + 1e-12);
      }
  });

  it('gates match float64 σ and tanh to a few float32 ulp, a unit does not depend on n (vector body and tail), mode 2 skips tanh', () => {
    const n = 67;
    const arena = new SimdArena([3 * n, n, 3 * n]);
    const [a, c, g] = arena.views as [Float32Array, Float32Array, Float32Array];
    const ulp = 2 ** -24;
    for (const scale of [0.01, 0.5, 2, 8, 40, 200]) {
      for (const reset of [0, 1] as const) {
        for (let k = 0; k < 3 * n; k++) a[k] = (uniformAt(6, scale, reset, k) - 0.5) * 2 * scale;
        for (let k = 0; k < n; k++) c[k] = (uniformAt(7, scale, reset, k) - 0.5) * 2 * scale;
        arena.ops.gates(g.byteOffset, a.byteOffset, c.byteOffset, n, reset);
        for (let k = 0; k < 2 * n; k++) {
          const want = 1 / (1 + Math.exp(-a[k]!));
          expect(Math.abs(g[k]! - want)).toBeLessThanOrEqual(3 * ulp * want + 1e-38);
        }
        for (let j = 0; j < n; j++) {
          const rho = reset ? g[n + j]! : 1;
          const want = Math.tanh(f(a[2 * n + j]! + f(rho * c[j]!)));
          // relative near 0 (odd polynomial), absolute against 1 elsewhere
          expect(Math.abs(g[2 * n + j]! - want)).toBeLessThanOrEqual(3 * ulp * Math.max(Math.abs(want), 0.5));
        }
        // the same units as the first m of a smaller group: identical bits, whether in a vector block or the tail
        for (const m of [1, 3, 5, 8]) {
          const small = new SimdArena([3 * m, m, 3 * m]);
          const [a2, c2, g2] = small.views as [Float32Array, Float32Array, Float32Array];
          for (let j = 0; j < m; j++) {
            a2[j] = a[j]!;
            a2[m + j] = a[n + j]!;
            a2[2 * m + j] = a[2 * n + j]!;
            c2[j] = c[j]!;
          }
          small.ops.gates(g2.byteOffset, a2.byteOffset, c2.byteOffset, m, reset);
          for (let j = 0; j < m; j++) expect([g2[j], g2[m + j], g2[2 * m + j]]).toEqual([g[j], g[n + j], g[2 * n + j]]);
        }
      }
    }
    // mode 2: the σ blocks alone, the g block untouched
    const sigmas = Array.from(g.subarray(0, 2 * n));
    g.fill(7);
    arena.ops.gates(g.byteOffset, a.byteOffset, c.byteOffset, n, 2);
    expect(Array.from(g.subarray(0, 2 * n))).toEqual(sigmas);
    expect(g.subarray(2 * n).every((v) => v === 7)).toBe(true);
    // saturation and NaN
    a.fill(0);
    c.fill(0);
    a[0] = 1000;
    a[1] = -1000;
    a[2 * n] = 1000;
    a[2 * n + 1] = -1000;
    a[2 * n + 2] = NaN;
    arena.ops.gates(g.byteOffset, a.byteOffset, c.byteOffset, n, 1);
    expect([g[0], g[1]! < 1e-37, g[2 * n], g[2 * n + 1], Number.isNaN(g[2 * n + 2])]).toEqual([1, true, 1, -1, true]);
  });

  it('axpyMany, gather and dotMany give the bits of axpy and dot called item by item', () => {
    const len = 37;
    const rows = 6;
    const mk = () => new SimdArena([rows * len, rows * len, rows, rows, rows]);
    const one = mk();
    const many = mk();
    const fill = (a: SimdArena) => {
      const [w, d] = a.views as [Float32Array, Float32Array];
      for (let k = 0; k < rows * len; k++) {
        w[k] = uniformAt(21, k) - 0.5;
        d[k] = uniformAt(22, k) - 0.5;
      }
    };
    fill(one);
    fill(many);
    const scalars = [0.7, -1.3, 0.25, 2.5, -0.01, 1];
    const lists = (a: SimdArena, base: Float32Array) => {
      const ptr = new Int32Array(a.views[2]!.buffer, a.views[2]!.byteOffset, rows);
      for (let k = 0; k < rows; k++) {
        ptr[k] = base.byteOffset + 4 * len * ((k * 5) % rows); // out of order on purpose
        a.views[3]![k] = scalars[k]!;
      }
    };
    // axpyMany: one source row into many destinations (row 0 of w into the rows of d)
    const [w1, d1] = one.views as [Float32Array, Float32Array];
    const [w2, d2] = many.views as [Float32Array, Float32Array];
    for (let k = 0; k < rows; k++) one.ops.axpy(d1.byteOffset + 4 * len * ((k * 5) % rows), scalars[k]!, w1.byteOffset, len);
    lists(many, d2);
    many.ops.axpyMany(w2.byteOffset, len, many.views[2]!.byteOffset, many.views[3]!.byteOffset, rows);
    expect(Array.from(d2)).toEqual(Array.from(d1));
    // gather: many source rows (of d) into one destination (row 0 of w), in list order
    for (let k = 0; k < rows; k++) one.ops.axpy(w1.byteOffset, scalars[k]!, d1.byteOffset + 4 * len * ((k * 5) % rows), len);
    lists(many, d2);
    many.ops.gather(w2.byteOffset, len, many.views[2]!.byteOffset, many.views[3]!.byteOffset, rows, 0);
    expect(Array.from(w2)).toEqual(Array.from(w1));
    for (const sub of [1, 4, 16, 17]) {
      one.ops.gather(w1.byteOffset + 4 * len, sub, many.views[2]!.byteOffset, many.views[3]!.byteOffset, 0, 0); // no items: untouched
    }
    expect(Array.from(w1)).toEqual(Array.from(w2));
    // dotMany: one weight row against many rows, scaled in float64 then rounded, as JavaScript does
    lists(many, d2);
    const scale = 1 / 0.7;
    many.ops.dotMany(w2.byteOffset, len, many.views[2]!.byteOffset, many.views[4]!.byteOffset, rows, scale);
    for (let k = 0; k < rows; k++)
      expect(many.views[4]![k]).toBe(f(scale * one.ops.dot(w1.byteOffset, d1.byteOffset + 4 * len * ((k * 5) % rows), len)));
  });

  it('cellBackward matches the float64 evnn and gru backward step to float32 rounding, and a unit does not depend on n', () => {
    const n = 11;
    const sizes = [3 * n, n, n, n, n, n, n, 3 * n, 3 * n, n];
    const run = (gru: 0 | 1, m: number, t0: boolean, src: Float32Array[] | null) => {
      const a = new SimdArena(sizes.map((s) => (s / n) * m));
      const [gate, rg, cur, prev, thr, dy, carry, dw, drh, gthr] = a.views as Float32Array[] as [
        Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array,
      ];
      for (let i = 0; i < 10; i++) {
        const v = a.views[i]!;
        const per = v.length / m;
        for (let blk = 0; blk < per; blk++)
          for (let j = 0; j < m; j++)
            v[blk * m + j] = src ? src[i]![blk * n + j]! : i === 0 ? uniformAt(31, blk, j) : i === 4 ? 0.2 + 0.3 * uniformAt(32, j) : 2 * uniformAt(33, i, blk, j) - 1;
      }
      const inputs = a.views.map((v) => Float32Array.from(v));
      const active = a.ops.cellBackward(
        gate.byteOffset, rg.byteOffset, cur.byteOffset, t0 ? -1 : prev.byteOffset, thr.byteOffset, dy.byteOffset, carry.byteOffset,
        dw.byteOffset, drh.byteOffset, gthr.byteOffset, m, 0.7, 1.5, 1 / 1.5, 0.05, gru,
      );
      return { inputs, out: a.views.map((v) => Float32Array.from(v)), active };
    };
    for (const gru of [0, 1] as const)
      for (const t0 of [false, true]) {
        const { inputs: x, out, active } = run(gru, n, t0, null);
        // the float64 step (only the first n − n mod 4 units: the kernel stages the rest as a group of 4)
        const m = n & ~3;
        let wantActive = 0;
        const rel = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(2e-6 * (Math.abs(want) + 1e-3));
        for (let j = 0; j < m; j++) {
          const [z, r, g] = [x[0]![j]!, x[0]![n + j]!, x[0]![2 * n + j]!];
          const [v, th, dyj, dh] = [x[2]![j]!, x[4]![j]!, x[5]![j]!, x[6]![j]!];
          let h = t0 ? 0 : x[3]![j]!;
          let dv: number;
          let dth = 0;
          if (gru) {
            dv = dyj + dh;
            wantActive++;
          } else {
            if (!t0 && h > th) h -= th;
            const o = v > th ? 1 : 0;
            const dist = Math.abs(v - th);
            const hp = dist < 1 / 1.5 ? 0.7 * (1 - 1.5 * dist) : 0;
            if (o || dist < 1 / 1.5) wantActive++;
            dv = dyj * (o + v * hp) + dh * (1 - th * hp) + 0.05 * hp;
            dth = -dyj * v * hp + dh * (th * hp - o) - 0.05 * hp;
          }
          const dz = dv * (h - g) * z * (1 - z);
          const dg = dv * (1 - z) * (1 - g * g);
          const dr = dg * x[1]![j]! * r * (1 - r);
          rel(out[6]![j]!, dv * z);
          rel(out[7]![j]!, dz);
          rel(out[7]![n + j]!, dr);
          rel(out[7]![2 * n + j]!, dg);
          rel(out[8]![2 * n + j]!, dg * r);
          rel(out[9]![j]!, x[9]![j]! + dth);
        }
        expect(active).toBe(wantActive);
        // the tail is left to the caller
        for (let j = m; j < n; j++) expect(out[7]![j]).toBe(x[7]![j]);
        // the first 4 units alone give the same bits
        const small = run(gru, 4, t0, x);
        for (const i of [6, 7, 8, 9])
          for (let blk = 0; blk < out[i]!.length / n; blk++)
            for (let j = 0; j < 4; j++) expect(small.out[i]![blk * 4 + j]).toBe(out[i]![blk * n + j]);
      }
  });

  it('cellForward gives the bits of the float64 JavaScript state update, its events and near-threshold units', () => {
    const n = 9;
    const a = new SimdArena([3 * n, n, n, n, n, n, n, 2]);
    const [gate, prev, thr, v, evIdxF, evVal, nearIdxF, countsF] = a.views as Float32Array[] as [
      Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array,
    ];
    const evIdx = new Int32Array(evIdxF.buffer, evIdxF.byteOffset, n);
    const nearIdx = new Int32Array(nearIdxF.buffer, nearIdxF.byteOffset, n);
    const counts = new Int32Array(countsF.buffer, countsF.byteOffset, 2);
    for (let j = 0; j < 3 * n; j++) gate[j] = uniformAt(41, j);
    for (let j = 0; j < n; j++) {
      prev[j] = 2 * uniformAt(42, j) - 0.5;
      thr[j] = 0.1 + 0.5 * uniformAt(43, j);
    }
    for (const gru of [0, 1] as const)
      for (const first of [false, true]) {
        const w = 1 / 0.8;
        const events = a.ops.cellForward(gate.byteOffset, first ? -1 : prev.byteOffset, thr.byteOffset, v.byteOffset, n, gru, w, 100, evIdx.byteOffset, evVal.byteOffset, nearIdx.byteOffset, counts.byteOffset);
        const wantEv: [number, number][] = [];
        const wantNear: number[] = [];
        for (let j = 0; j < n; j++) {
          let h = first ? 0 : prev[j]!;
          if (!first && !gru && h > thr[j]!) h -= thr[j]!;
          const x = Math.fround(gate[j]! * h + (1 - gate[j]!) * gate[2 * n + j]!);
          expect(v[j]).toBe(x);
          if (gru || x > thr[j]!) wantEv.push([100 + j, x]);
          else if (Math.abs(x - thr[j]!) < w) wantNear.push(100 + j);
        }
        expect(events).toBe(wantEv.length);
        expect(Array.from(counts)).toEqual([wantEv.length, wantNear.length]);
        expect(Array.from(evIdx.subarray(0, events), (i, k) => [i, evVal[k]])).toEqual(wantEv);
        expect(Array.from(nearIdx.subarray(0, wantNear.length))).toEqual(wantNear);
        if (!gru) expect(wantEv.length * wantNear.length).toBeGreaterThan(0); // both kinds occur
      }
  });

  it('the arena gives 16-byte aligned, disjoint views and refuses what wasm cannot hold', () => {
    const arena = new SimdArena([3, 0, 5, 17]);
    const v = arena.views;
    expect(v.map((x) => x.length)).toEqual([3, 0, 5, 17]);
    for (const x of v) expect(x.byteOffset % 16).toBe(0);
    for (let i = 1; i < v.length; i++) expect(v[i]!.byteOffset).toBeGreaterThanOrEqual(v[i - 1]!.byteOffset + 4 * v[i - 1]!.length);
    expect(() => new SimdArena([2 ** 31])).toThrow(/more than WebAssembly's 4 GiB/);
    // grouped arenas: one memory and one instance, disjoint aligned views
    const [g1, g2] = SimdArena.group([[3, 5], [7]]) as [SimdArena, SimdArena];
    expect(g1.ops).toBe(g2.ops);
    expect(g1.views[0]!.buffer).toBe(g2.views[0]!.buffer);
    const all = [...g1.views, ...g2.views];
    for (const x of all) expect(x.byteOffset % 16).toBe(0);
    for (let i = 1; i < all.length; i++) expect(all[i]!.byteOffset).toBeGreaterThanOrEqual(all[i - 1]!.byteOffset + 4 * all[i - 1]!.length);
    expect(SimdArena.fitTogether([[2 ** 29], [2 ** 29 + 4]])).toBe(false);
    expect(SimdArena.fitTogether([[3, 5], [7]])).toBe(true);
    expect(() => new SimdArena([-1])).toThrow(/non-negative integer/);
  });
});
