#!/usr/bin/env node
// Before/after per-phase profile of a training step (scripts/profile-step.mjs) for two builds of the project,
// run alternately (A, B, A, B, …) so that both see the same machine; prints the Markdown table of medians that
// docs/benchmarks.md keeps ("Where the time goes").
//
//   node scripts/profile-compare.mjs --checkpoint FILE --before DIR --after DIR [--rounds 3] [--steps 300]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const checkpoint = opt('--checkpoint', null);
const before = opt('--before', null);
const after = opt('--after', null);
const rounds = Number(opt('--rounds', '3'));
const steps = opt('--steps', '300');
if (!checkpoint || !before || !after || !(rounds >= 1)) {
  console.error('usage: node scripts/profile-compare.mjs --checkpoint FILE --before DIR --after DIR [--rounds N] [--steps N]');
  process.exit(2);
}
const script = join(import.meta.dirname, 'profile-step.mjs');
const profile = (root) => JSON.parse(execFileSync(process.execPath, [script, '--checkpoint', checkpoint, '--steps', steps, '--root', root, '--json'], { encoding: 'utf8' }));
const runs = { before: [], after: [] };
for (let r = 0; r < rounds; r++) {
  runs.before.push(profile(before));
  runs.after.push(profile(after));
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// the run whose wall time is the median stands for its build (phases of one run add up to its step)
const pick = (list) => list.find((p) => p.wallMs === median(list.map((q) => q.wallMs))) ?? list[0];
const a = pick(runs.before);
const b = pick(runs.after);
console.log('| phase | before, ms | before, share | after, ms | after, share |');
console.log('|---|---:|---:|---:|---:|');
for (const phase of Object.keys(a.phases)) {
  const x = a.phases[phase];
  const y = b.phases[phase] ?? 0;
  console.log(`| ${phase} | ${x.toFixed(2)} | ${((100 * x) / a.wallMs).toFixed(1)} % | ${y.toFixed(2)} | ${((100 * y) / b.wallMs).toFixed(1)} % |`);
}
console.log(`| **step (wall time)** | **${a.wallMs.toFixed(2)}** | 100 % | **${b.wallMs.toFixed(2)}** | 100 % |`);
console.log(`\n(${rounds} alternating runs of ${steps} steps per build; the run with the median wall time of each build shown; wall times: before ${runs.before.map((p) => p.wallMs.toFixed(2)).join(', ')}; after ${runs.after.map((p) => p.wallMs.toFixed(2)).join(', ')} ms)`);
