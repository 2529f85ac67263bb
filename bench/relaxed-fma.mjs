#!/usr/bin/env node
// Experiment: do the row primitives of model/simd.wat (axpy, dot, gather, hence axpyMany and dotMany) run faster
// with relaxed SIMD's fused multiply-add (f32x4.relaxed_madd, which V8 compiles to vfmadd where the CPU has FMA3)?
// Builds a second module from model/simd.wat with every f32x4.add(x, f32x4.mul(a, b)) in those functions turned
// into relaxed_madd(a, b, x), enables V8's flag at run time, and times both modules interleaved at the sizes of
// the row-MNIST step (hidden 128: rows of 3·128 floats). Node 20 (V8 11.3) needs --experimental-wasm-relaxed-simd,
// which v8.setFlagsFromString sets here before anything compiles.
//
//   node bench/relaxed-fma.mjs [--reps 201] [--emit FILE]   (--emit: the relaxed module as model/simd-wasm.js source)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import wabtInit from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const reps = Number(opt('--reps', '201'));
const emit = opt('--emit', null);

// ---- the relaxed variant: an s-expression rewrite of the row functions -----------------------------------
function parse(src) {
  const tokens = src.replace(/;;[^\n]*/g, '').match(/\(|\)|"[^"]*"|[^\s()]+/g);
  let i = 0;
  const node = () => {
    if (tokens[i] !== '(') return tokens[i++];
    i++;
    const list = [];
    while (tokens[i] !== ')') list.push(node());
    i++;
    return list;
  };
  return node();
}
const print = (n) => (Array.isArray(n) ? `(${n.map(print).join(' ')})` : n);
const fused = (n) => {
  if (!Array.isArray(n)) return n;
  const m = n.map(fused);
  if (m[0] === 'f32x4.add' && m.length === 3) {
    const mulAt = [2, 1].find((k) => Array.isArray(m[k]) && m[k][0] === 'f32x4.mul');
    if (mulAt !== undefined) return ['f32x4.relaxed_madd', m[mulAt][1], m[mulAt][2], m[3 - mulAt]];
  }
  return m;
};
const ROW_FUNCTIONS = ['"axpy"', '"dot"', '"gather"'];
const isRow = (n) => Array.isArray(n) && n[0] === 'func' && n.some((c) => Array.isArray(c) && c[0] === 'export' && ROW_FUNCTIONS.includes(c[1]));
const wat = readFileSync(join(root, 'model', 'simd.wat'), 'utf8');
const module = parse(wat);
let rewritten = 0;
const relaxedWat = print(module.map((n) => {
  if (!isRow(n)) return n;
  const f = fused(n);
  rewritten += (print(f).match(/relaxed_madd/g) ?? []).length;
  return f;
}));

const wabt = await wabtInit();
const assemble = (src) => {
  const mod = wabt.parseWat('simd.wat', src, { simd: true, relaxed_simd: true });
  try {
    mod.validate();
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
};
const plainBytes = assemble(wat);
const relaxedBytes = assemble(relaxedWat);
if (emit) {
  const b64 = Buffer.from(relaxedBytes).toString('base64');
  writeFileSync(emit, `export const SIMD_WASM_BASE64 = '${b64}';\n`);
}

// ---- feature detection, then the flag at run time -----------------------------------------------------------
const before = WebAssembly.validate(relaxedBytes);
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const after = WebAssembly.validate(relaxedBytes);
console.log(`relaxed_madd sites: ${rewritten}; module validates without the flag: ${before}, after setFlagsFromString: ${after}`);
if (!after) process.exit(1);

// ---- timing ---------------------------------------------------------------------------------------------------
const instance = (bytes) => {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const ops = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const f32 = new Float32Array(memory.buffer);
  for (let i = 0; i < f32.length; i++) f32[i] = Math.sin(i) * 0.1;
  return { ops, f32, i32: new Int32Array(memory.buffer) };
};
const len = 3 * 128;
const ROW = 4 * len; // bytes
const SRC = 64 * ROW; // 64 source rows at 0…, destinations after them
function cases({ ops, i32 }) {
  // lists for gather / axpyMany / dotMany: offsets and coefficients after the rows
  const list = 2 * SRC;
  const coef = list + 4 * 64;
  for (let k = 0; k < 64; k++) i32[list / 4 + k] = k * ROW;
  const dst = SRC;
  return {
    'axpy 384, 64 calls': () => { for (let r = 0; r < 64; r++) ops.axpy(dst, 0.5, r * ROW, len); },
    'axpyMany 384 × 32, 1 call': () => { ops.axpyMany(0, len, list, coef, 32); },
    'gather 384 × 8, 8 calls': () => { for (let r = 0; r < 8; r++) ops.gather(dst, len, list, coef, 8, 0); },
    'gather 384 × 32, 2 calls': () => { for (let r = 0; r < 2; r++) ops.gather(dst, len, list, coef, 32, 0); },
    'dot 384, 64 calls': () => { let s = 0; for (let r = 0; r < 64; r++) s += ops.dot(dst, r * ROW, len); return s; },
    'dotMany 384 × 32, 1 call': () => { ops.dotMany(dst, len, list, coef, 32, 1); },
  };
}
const plain = instance(plainBytes);
const relaxed = instance(relaxedBytes);
// Whether the fused form is really fused here: the same axpys, compared bit for bit.
for (const { ops } of [plain, relaxed]) for (let r = 0; r < 64; r++) ops.axpy(SRC, 1 / 3, r * ROW, len);
const fusedFloats = plain.f32.subarray(SRC / 4, SRC / 4 + len).filter((x, k) => x !== relaxed.f32[SRC / 4 + k]).length;
console.log(`axpy results that differ (fused rounding): ${fusedFloats} of ${len}`);
// Fresh memories for each primitive: values grown by one case's repeats can slow the next (denormal or huge
// partial products cost the unfused multiply more).
const fresh = (bytes, name) => cases(instance(bytes))[name];
const time = (f) => {
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < 20; r++) f();
  return Number(process.hrtime.bigint() - t0) / 20;
};
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const min = (xs) => Math.min(...xs);
// Short samples of each module in turn: on a shared machine, the minimum is the least disturbed.
console.log('| primitive: floats × rows, calls | plain ns (median / min) | relaxed_madd ns (median / min) | relaxed / plain (median / min) |');
console.log('|---|---:|---:|---:|');
for (const name of Object.keys(cases(plain))) {
  const a = fresh(plainBytes, name);
  const b = fresh(relaxedBytes, name);
  for (let w = 0; w < 100; w++) { a(); b(); }
  const ta = [], tb = [];
  for (let r = 0; r < reps; r++) { ta.push(time(a)); tb.push(time(b)); }
  const f = (x) => x.toFixed(0);
  console.log(`| ${name} | ${f(med(ta))} / ${f(min(ta))} | ${f(med(tb))} / ${f(min(tb))} | ${(med(tb) / med(ta)).toFixed(2)} / ${(min(tb) / min(ta)).toFixed(2)} |`);
}
