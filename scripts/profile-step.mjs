#!/usr/bin/env node
// Where the time of a training step goes: V8's sampling profiler over repeated training steps of a trained
// row-MNIST checkpoint (one actor, inline transport, so every sample is the step's own work: no barrier waits),
// self time summed into the phases of a step. Prints a Markdown table (docs/benchmarks.md keeps one).
//
//   node scripts/profile-step.mjs --checkpoint runs/row-mnist-…/checkpoint.egru [--steps 300] [--root DIR] [--functions | --json]
//
// --root: the project tree whose dist/ is profiled (default: this one), so that two versions can be compared
// with the same script. Adam runs with lr 0, so the network and its sparsity stay those of the checkpoint.
import { Session } from 'node:inspector/promises';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const checkpoint = opt('--checkpoint', null);
const steps = Number(opt('--steps', '300'));
const root = resolve(opt('--root', join(import.meta.dirname, '..')));
if (!checkpoint || !(steps > 0)) {
  console.error('usage: node scripts/profile-step.mjs --checkpoint FILE [--steps N] [--root DIR]');
  process.exit(2);
}
const load = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const { loadCheckpoint } = await load('cli/io/checkpoint.js');
const { loadTask } = await load('cli/data/tasks.js');
const { Trainer } = await load('runtime/coordinator.js');

// wasm functions are reported by index: their order of definition in model/simd.wat (the module imports no function)
const wat = readFileSync(join(root, 'model', 'simd.wat'), 'utf8');
const wasmNames = [...wat.matchAll(/\(func (?:\$(\w+))?\s*(?:\(export "(\w+)"\))?/g)].map((m) => m[2] ?? m[1]);

// phase of a function, by name (wasm names from the .wat, JavaScript names from dist/)
const PHASES = [
  ['weight rows: pre-activations and gradient rows', /^(axpy|axpyMany|gather|scatterRows|gatherSlots|gradRows|preactivations|flushGrads)$/],
  ['weight rows: partial sums (backward)', /^(dot|dot4|dotMany|dotRows|announcedRows|emit|inputRows)$/],
  ['gate nonlinearities (forward and recompute)', /^(gates|exp|sigmoid|tanh)$/],
  ['elementwise backward', /^(cellBackward|cellBackward4|ld|st|backwardEvnn|backwardElementwise|cellBackwardTail|gatherDy|scatterAdd|backwardPaperGates|backwardPaperRest|backwardGates|backwardRest)$/],
  ['elementwise forward and announcements', /^(cellForward|forward|forwardState|forwardPaperGates|forwardPaperState|resetMessages|nearThreshold|pushMany|copyFrom|push|receiveActive)$/],
  ['item bookkeeping (history, ordering by row)', /^(byRow|record|dropLast|reset|recordInputs|slotSize|useSlot|recomputeBlock|forwardPreactivations|begin|end|clear)$/],
  ['readout and loss', /^(observe|loss|outputGrad|partialLogits|softmaxCrossEntropy|.*[Ll]ogits.*)$/],
  ['optimiser update and clipping', /^(step|sumOfSquares|update|scale|norm|adam|sgd|sumSquares)$/],
  ['runtime: routing, counters, phases', /^(route|countPair|countForward|afterStep|backward|control|buildInput|run|runPhase|tick)$/],
];
const phaseOf = (name) => PHASES.find(([, re]) => re.test(name))?.[0] ?? 'other (GC, runtime, idle)';

const ck = loadCheckpoint(checkpoint);
const B = 32;
const T = 28;
const d = loadTask('row-mnist', 'train', { limit: B * 8 });
const batches = Array.from({ length: 8 }, (_, k) => ({
  x: d.x.subarray(k * B * T * 28, (k + 1) * B * T * 28),
  targets: d.y.subarray(k * B, (k + 1) * B),
  batch: B,
  steps: T,
}));
const tr = await Trainer.create({ model: ck.config.model, params: ck.params, actors: Number(opt('--actors', '1')), transport: 'inline', batch: B, maxSteps: T, optimizer: { kind: 'adam', lr: 0 } });
for (let w = 0; w < 20; w++) await tr.train(batches[w % 8]);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const t0 = performance.now();
for (let s = 0; s < steps; s++) await tr.train(batches[s % 8]);
const wallMs = (performance.now() - t0) / steps;
const { profile } = await session.post('Profiler.stop');
await tr.close();

const self = new Map();
const byName = new Map(); // self time per function, for --functions
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  let name = node.callFrame.functionName || '(anonymous)';
  const idx = /^wasm-function\[(\d+)\]$/.exec(name);
  if (idx) name = wasmNames[Number(idx[1])] ?? name;
  const phase = phaseOf(name.replace(/^\$/, ''));
  self.set(phase, (self.get(phase) ?? 0) + (profile.timeDeltas[i] ?? 0));
  byName.set(name, (byName.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const rows = [...PHASES.map(([p]) => p), 'other (GC, runtime, idle)'].map((p) => [p, self.get(p) ?? 0]);
if (args.includes('--json')) {
  console.log(JSON.stringify({ wallMs, phases: Object.fromEntries(rows.map(([p, us]) => [p, (wallMs * us) / total])) }));
  process.exit(0);
}
console.log(`| phase | ms per step | share |`);
console.log(`|---|---:|---:|`);
for (const [p, us] of rows) console.log(`| ${p} | ${((wallMs * us) / total).toFixed(2)} | ${((100 * us) / total).toFixed(1)} % |`);
console.log(`| **step (wall time)** | **${wallMs.toFixed(2)}** | 100 % |`);
if (args.includes('--functions')) {
  console.log('\n| function | phase | ms per step |\n|---|---|---:|');
  for (const [name, us] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`| ${name} | ${phaseOf(name.replace(/^\$/, ''))} | ${((wallMs * us) / total).toFixed(2)} |`);
}
