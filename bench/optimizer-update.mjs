#!/usr/bin/env node
// Time of one optimiser update over the trainable tensors of a one-actor row-MNIST model (hidden 128, input 28,
// 10 classes): the optimiser without a wasm arena (JavaScript loops) against one whose state lies in the wasm
// memory of the parameters (SIMD, as an actor runs it), interleaved; also the clipping sum of squares both ways.
//
//   node bench/optimizer-update.mjs [--kind adam|sgd] [--reps 31] [--root DIR]
//
// --root: the project tree whose dist/ supplies the JavaScript optimiser (default: this one), so an older
// version's update can be timed against this one's SIMD update. Run `npm run build` first.
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const here = join(import.meta.dirname, '..');
const load = (root, p) => import(pathToFileURL(join(resolve(root), 'dist', p)).href);
const old = await load(opt('--root', here), 'model/optim.js');
const { Optimizer } = await load(here, 'model/optim.js');
const { SimdArena } = await load(here, 'model/simd.js');

const H = 128;
const sizes = [28 * 3 * H, H * 3 * H, 3 * H, 3 * H, H, 10 * H, 10]; // kernel, recurrent, biases, thresholds, readout
const count = sizes.reduce((a, b) => a + b);
const cfg = { kind: opt('--kind', 'adam'), lr: 1e-3, momentum: 0.9, weightDecay: 0.01 };
const reps = Number(opt('--reps', '31'));
const flags = sizes.map(() => false);

const [tensors, state] = SimdArena.group([[...sizes, ...sizes], Optimizer.arenaSizes(cfg, sizes)]);
const params = tensors.views.slice(0, sizes.length);
const grads = tensors.views.slice(sizes.length);
for (const t of [...params, ...grads]) for (let i = 0; i < t.length; i++) t[i] = Math.sin(i + t.length) * 0.5;
const plainParams = params.map((t) => t.slice());
const plainGrads = grads.map((t) => t.slice());
const plain = new old.Optimizer(cfg, plainParams, flags);
const simd = new Optimizer(cfg, params, flags, undefined, state);

const cases = {
  'update, JavaScript': () => plain.step(plainGrads, 0.7),
  'update, SIMD': () => simd.step(grads, 0.7),
  'sum of squares, JavaScript': () => old.sumOfSquares(plainGrads),
  'sum of squares, SIMD': () => simd.sumOfSquares(grads),
};
const time = (f) => {
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < 10; r++) f();
  return Number(process.hrtime.bigint() - t0) / 10 / 1e3;
};
for (let w = 0; w < 30; w++) for (const f of Object.values(cases)) f();
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < reps; r++) for (const [k, f] of Object.entries(cases)) samples[k].push(time(f));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${cfg.kind}, ${count} parameters, medians of ${reps} interleaved samples:`);
for (const [k, xs] of Object.entries(samples))
  console.log(`  ${k.padEnd(28)} ${median(xs).toFixed(1).padStart(7)} µs  ${((median(xs) * 1e3) / count).toFixed(2)} ns/parameter`);
let differing = 0;
params.forEach((t, k) => t.forEach((x, i) => (differing += Object.is(x, plainParams[k][i]) ? 0 : 1)));
console.log(`  parameters differing between the two after ${30 + reps * 10} updates: ${differing}`);
