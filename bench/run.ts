/**
 * `npm run bench`: the project against the dense alternatives a user would otherwise pick, side by side in one
 * run — PyTorch on the CPU (torch.nn.GRU, per BLAS library and thread count: bench/torch.ts), TensorFlow.js
 * (wasm backend, `tf.layers.gru`), the project's own dense GRU (`cell: 'gru'`) and the EGRU with every unit
 * firing — in eight cases (the issue's targets in brackets; "PyTorch" = the fastest PyTorch row of the same run):
 *
 *   1. training step, row-MNIST shape (T 28, I 28), H 128, batch 32, EGRU at trained sparsity   [2 actors ≤ 0.5× PyTorch,
 *      2 actors vs 1 ≥ 1.5×, no-event floor ≤ 20 % of the step]
 *   2. the same at pixel-MNIST shape (T 784, I 1)                                                 [≤ 0.25× PyTorch]
 *   3. time per step against activity 0…99 %, H 1024 (group kernel): R² of time vs events, 0 %→90 % speed-up [≥ 0.95, ≥ 6×]
 *   4. synchronisation cost per tick, 2 actors, zero events                                       [≤ 10 µs]
 *   5. parallel speed-up, H 1024, 2 actors vs 1                                                    [≥ 1.6×]
 *   6. memory, pixel-MNIST shape, H 256, batch 32: BPTT history vs a dense history, peak RSS      [≤ 0.5× dense]
 *   7. effective MAC rate of the sparse kernels vs the dense float32 matvec rate of this machine  [≥ 50 %]
 *   8. training step, H 1024, batch 32, row-MNIST shape, EGRU at 90 % activity sparsity           [≤ 0.3× PyTorch]
 *
 * "Trained sparsity" (cases 1, 2): the task's `egru train` preset trained here for a bounded number of steps and
 * cached in bench/results/cache/ (bench/trained.ts). Every figure is the median of ≥ 5 runs (quick mode: fewer
 * where said) with the min–max spread; ratios come from the same run. Writes bench/results/latest.json and
 * docs/benchmarks.md (full run), bench/results/quick.json (`--quick`). The tfjs peer lives in bench/peers/ and is
 * installed there on first use (bench/peers.ts); PyTorch is Debian's python3-torch (bench/peers/torch_gru.py).
 *
 * Usage (after `npm run build`): node dist/bench/run.js [--quick] [--cases 1,3] [--reps N] [--no-torch] …  (--help)
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import type { GroupKernel } from '../model/group-kernel.js';
import { initParams, sliceGroup, type Params } from '../model/params.js';
import { SimdArena } from '../model/simd.js';
import { Trainer } from '../runtime/coordinator.js';
import { ADAM_0, checkNote, log, machineCheck, machineCheckSize, MB, mnistBatch, pct, ratioOf, ratioStat, sparsityOf } from './harness.js';
import { benchConfig, measureSweep, SEQUENCE_STEPS, type Options as KernelOptions, type Row as KernelRow } from './kernels.js';
import { loadTfjsPeer, type PeerStatus } from './peers.js';
import { markdown, stat, textTable, type BenchResults, type CaseResult, type MachineInfo, type Row, type Stat } from './report.js';
import { calibrate, concurrencyCheck, machine, parallelSpeedup, syncOverhead } from './runtime.js';
import { closeTorchPeers, startTorchPeers, TORCH_INSTALL, TORCH_SETUPS, torchUnavailable, type TorchPeer } from './torch.js';
import { largeCase, trainingCase, type TrainingSizes } from './training.js';

const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/bench/') ? '../../' : '../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const ALL_CASES = [1, 2, 3, 4, 5, 6, 7, 8];

// ------------------------------------------------------------------------------------------------------------
// options and sizes

type Mode = 'full' | 'quick' | 'smoke';

interface Opts {
  mode: Mode;
  cases: number[];
  reps: number | null;
  tfjs: boolean;
  torch: boolean;
  install: boolean;
  sparsity: number;
  checkpoint: string | null;
  retrain: boolean;
  out: string | null;
  write: boolean;
  render: boolean;
  json: boolean;
}

const HELP = `egru bench — the project against dense alternatives (PyTorch CPU GRU, TensorFlow.js wasm GRU, the project's dense GRU, EGRU with all units firing)

usage: npm run bench [-- OPTIONS]      (or: node dist/bench/run.js [OPTIONS], after npm run build)

  --quick            reduced set, about 3 minutes (plus, once, training the cached networks of cases 1 and 2);
                     writes bench/results/quick.json, leaves docs/ alone
  --cases 1,2,…      run only these cases (1 row-MNIST step, 2 pixel-MNIST step, 3 activity sweep, 4 sync,
                     5 parallel speed-up, 6 memory, 7 MAC efficiency, 8 hidden-1024 step at 90 % sparsity)
  --reps N           runs per figure (default 5; quick 5, except where the quick set says fewer)
  --checkpoint FILE  case 1: time this trained row-MNIST checkpoint (hidden 128) instead of the cached preset network
  --retrain          train the networks of cases 1 and 2 afresh (and replace them in bench/results/cache/)
  --sparsity S       activity sparsity EGRU thresholds are calibrated to in case 6 and case 2's comparison row (default 0.8)
  --no-torch         skip PyTorch (its rows read "–", and the targets against it are not checked)
  --no-tfjs          skip TensorFlow.js
  --no-peers         skip both
  --no-install       never run npm install for bench/peers (tfjs unavailable if it is missing)
  --out FILE         write the JSON results here instead of bench/results/latest.json (quick.json for --quick)
  --no-write         print only (no JSON, no docs)
  --render           regenerate docs/benchmarks.md from bench/results/latest.json and exit
  --json             print the JSON results on stdout instead of the tables
  --smoke            tiny sizes, seconds: checks the harness, not the numbers (writes nothing unless --out)

PyTorch: $EGRU_BENCH_PYTHON, else /usr/bin/python3 if it imports torch, else python3 on PATH
(Debian: ${TORCH_INSTALL}). Rows, each where its BLAS is installed:
OpenBLAS 2 threads, OpenBLAS 2 threads with torch at 1, OpenBLAS 1 thread, reference BLAS with torch at 2.
The training-step targets (cases 1, 2, 8) are against the fastest PyTorch row of the same run.
Run it on an idle machine: the 2-actor and 2-thread figures need both cores to themselves.
examples:
  npm run bench
  npm run bench -- --quick
  node dist/bench/run.js --cases 1 --reps 3 --no-write
  node dist/bench/run.js --cases 4,5 --reps 7 --no-write`;

function parseArgs(argv: string[]): Opts {
  const o: Opts = {
    mode: 'full',
    cases: ALL_CASES,
    reps: null,
    tfjs: true,
    torch: true,
    install: true,
    sparsity: 0.8,
    checkpoint: null,
    retrain: false,
    out: null,
    write: true,
    render: false,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.mode = 'quick';
    else if (a === '--smoke') o.mode = 'smoke';
    else if (a === '--cases') {
      o.cases = next()
        .split(',')
        .map((s) => Number(s.trim()));
      if (!o.cases.every((c) => ALL_CASES.includes(c))) throw new UsageError(`--cases takes numbers 1..${ALL_CASES.length}, e.g. --cases 1,3`);
    } else if (a === '--reps') {
      o.reps = Number(next());
      if (!(Number.isInteger(o.reps) && o.reps >= 1)) throw new UsageError('--reps must be a positive integer');
    } else if (a === '--sparsity') {
      o.sparsity = Number(next());
      if (!(o.sparsity > 0 && o.sparsity < 1)) throw new UsageError('--sparsity must lie in (0, 1)');
    } else if (a === '--checkpoint') o.checkpoint = next();
    else if (a === '--retrain') o.retrain = true;
    else if (a === '--no-peers') o.tfjs = o.torch = false;
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--no-tfjs') o.tfjs = false;
    else if (a === '--no-install') o.install = false;
    else if (a === '--out') o.out = next();
    else if (a === '--no-write') o.write = false;
    else if (a === '--render') o.render = true;
    else if (a === '--json') o.json = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(HELP + '\n');
      process.exit(0);
    } else throw new UsageError(`unknown option ${a} (see --help)`);
  }
  return o;
}

class UsageError extends Error {}

interface Sizes extends TrainingSizes {
  reps: number;
  sweep: { H: number; B: number; sparsities: number[]; steps: number };
  sync: { ticks: number; reps: number; diagnose: boolean };
  parallel: { H: number; reps: number; rounds: number };
  memory: { H: number; B: number; T: number; rssRuns: number; rssKinds: MemoryJob['kind'][] };
  matvecMs: number;
}

// Optimiser steps of the preset networks of cases 1 and 2 (bench/trained.ts), trained once and cached: row-MNIST
// one epoch of the 60000 training images (the default run trains two), ~25 s on 2 idle cores; pixel-MNIST ~30 s.
// Sparsity still changes as training goes on, so a full epoch is closer to the network users train than the
// 1000 steps timed before.
const TRAIN_STEPS = { row: 1875, pixel: 40 };
const ALL_TORCH = TORCH_SETUPS.map((t) => t.key);

function sizes(o: Opts): Sizes {
  const r = o.reps;
  const mode = o.mode;
  if (mode === 'smoke') {
    const reps = r ?? 2;
    return {
      mode,
      reps,
      warm: 1,
      row: { H: 16, B: 4, reps, tfjsWarm: 1, torchWarm: 1, egruWarm: 1, trainSteps: 5, torch: ALL_TORCH },
      pixel: { H: 16, B: 4, T: 60, reps, trainSteps: 2, torch: ALL_TORCH },
      large: { H: 64, B: 4, reps, sparsity: 0.9, egruWarm: 1, torch: ALL_TORCH },
      sweep: { H: 64, B: 4, sparsities: [0, 0.5, 0.9, 0.99], steps: reps },
      sync: { ticks: 200, reps, diagnose: false },
      parallel: { H: 64, reps, rounds: 1 },
      memory: { H: 16, B: 4, T: 60, rssRuns: 1, rssKinds: ['baseline', 'egru', 'gru', 'tfjs'] },
      matvecMs: 20,
    };
  }
  if (mode === 'quick') {
    const reps = r ?? 5;
    return {
      mode,
      reps,
      warm: 1,
      row: { H: 128, B: 32, reps, tfjsWarm: 10, torchWarm: 3, egruWarm: 20, trainSteps: TRAIN_STEPS.row, torch: ALL_TORCH },
      pixel: { H: 128, B: 32, T: 784, reps: r ?? 3, only: ['egru2', 'cal2', 'gru2', 'off2'], trainSteps: TRAIN_STEPS.pixel, torch: ALL_TORCH },
      // reference BLAS at hidden 1024: seconds a step, never the fastest row
      large: { H: 1024, B: 32, reps: r ?? 3, sparsity: 0.9, egruWarm: 2, torch: ['openblas2', 'openblas2-torch1', 'openblas1'] },
      sweep: { H: 512, B: 32, sparsities: [0, 0.5, 0.8, 0.9, 0.95, 0.99], steps: reps },
      sync: { ticks: 2000, reps, diagnose: false },
      parallel: { H: 512, reps: r ?? 3, rounds: 2 },
      memory: { H: 256, B: 32, T: 784, rssRuns: 1, rssKinds: ['egru'] },
      matvecMs: 100,
    };
  }
  const reps = r ?? 5;
  return {
    mode,
    reps,
    warm: 2,
    row: { H: 128, B: 32, reps: Math.max(reps, 15), tfjsWarm: 20, torchWarm: 5, egruWarm: 100, trainSteps: TRAIN_STEPS.row, torch: ALL_TORCH },
    pixel: { H: 128, B: 32, T: 784, reps, trainSteps: TRAIN_STEPS.pixel, torch: ALL_TORCH },
    large: { H: 1024, B: 32, reps, sparsity: 0.9, egruWarm: 10, torch: ALL_TORCH },
    sweep: { H: 1024, B: 32, sparsities: [0, 0.5, 0.8, 0.9, 0.95, 0.99], steps: reps },
    sync: { ticks: 2000, reps: Math.max(reps, 7), diagnose: true },
    parallel: { H: 1024, reps: Math.max(3, Math.ceil(reps / 2)), rounds: 3 },
    memory: { H: 256, B: 32, T: 784, rssRuns: reps, rssKinds: ['baseline', 'egru', 'gru', 'tfjs'] },
    matvecMs: 200,
  };
}

// ------------------------------------------------------------------------------------------------------------
// helpers

function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    line: machine(),
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    memoryGiB: os.totalmem() / 1024 ** 3,
    loadAtStart: os.loadavg(),
  };
}

/**
 * Case 5's machine check: the even-split ceiling (2 × the slower of two busy threads vs one alone), for compute
 * and for memory streaming (null if that probe could not run).
 */
async function machineCheckBoth(label: string): Promise<{ ratio: number; evenSplit: number; memory: number | null }> {
  const { rounds, iterations } = machineCheckSize;
  const c = await concurrencyCheck(rounds, iterations);
  let memory: number | null = null;
  try {
    memory = (await concurrencyCheck(rounds, iterations, 'memory')).evenSplit;
  } catch (e) {
    log(`machine check (${label}): the memory-streaming probe failed (${(e as Error).message}); left out`);
  }
  log(
    `machine check (${label}): two busy threads get ${c.ratio.toFixed(2)}× the compute of one (2.00 = two free cores), the slower of them ${(c.evenSplit / 2).toFixed(2)}×` +
      (memory === null ? '' : `; two threads streaming memory ${memory.toFixed(2)}× (even split)`),
  );
  return { ratio: c.ratio, evenSplit: c.evenSplit, memory };
}

/** Group kernels of an inline trainer (the benchmark reads their history sizes; the runtime keeps them private). */
function inlineKernels(tr: Trainer): GroupKernel[] {
  const actors = (tr as unknown as { transport?: { actors?: { kernel?: GroupKernel }[] } }).transport?.actors;
  if (!Array.isArray(actors) || !actors.every((a) => a.kernel && typeof a.kernel.historyBytes === 'function'))
    throw new Error('cannot reach the actors of the inline transport (runtime internals changed?)');
  return actors.map((a) => a.kernel!);
}

// ------------------------------------------------------------------------------------------------------------
// cases 3 and 7: the activity sweep of the group kernel, and its MAC rate against a dense matvec

interface Sweep {
  H: number;
  B: number;
  rows: KernelRow[];
  /** The same kernel fed no events at all: the work that does not depend on them. */
  floor: KernelRow;
  /** Dense matvec rates of the same weight shape, one run per round of the sweep (case 7's reference). */
  dense: DenseRates;
  seconds: number;
}
let sweepCache: Sweep | null = null;

function sweep(s: Sizes): Sweep {
  if (sweepCache) return sweepCache;
  const t0 = performance.now();
  const { H, B, sparsities, steps } = s.sweep;
  const ko: KernelOptions = { formulation: 'evnn', cell: 'egru', hidden: H, batch: B, reps: steps, json: false };
  const cfg = benchConfig(ko);
  const gp = sliceGroup(initParams(cfg).layers[1]!, H, H, 0, H);
  measureSweep({ ...ko, reps: 1 }, cfg, gp, [0.5]); // JIT warm-up over every code path, discarded
  // the sparsities, the no-event floor (sparsity 1) and the dense matvec of case 7 measured round-robin
  const dense: DenseRates = { dot: [], axpy: [], simdDot: [], simdAxpy: [] };
  log(`case 3/7: dense matvec ${2 * H} × ${3 * H}, calibrating`);
  const denseRun = denseMatvec(2 * H, 3 * H, s.matvecMs, dense);
  const all = measureSweep(ko, cfg, gp, [...sparsities, 1], denseRun);
  for (const r of all) log(`case 3: sparsity ${pct(r.sparsity)}: ${r.ms.toFixed(2)} ms per step (${r.samples.map((x) => x.toFixed(1)).join(', ')})`);
  const floor = all.pop()!;
  sweepCache = { H, B, rows: all, floor, dense, seconds: (performance.now() - t0) / 1000 };
  return sweepCache;
}

function linearFit(x: number[], y: number[]): { slope: number; intercept: number; r2: number } {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  return { slope, intercept, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

function activityCase(s: Sizes): CaseResult {
  const sw = sweep(s);
  const { rows: kr, H, B } = sw;
  const at = (sp: number) => kr.find((r) => Math.abs(r.sparsity - sp) < 1e-9);
  const base = stat(kr[0]!.samples);
  const rows: Row[] = kr.map((r) => {
    const st = stat(r.samples);
    return { what: `activity sparsity ${(100 * r.sparsity).toFixed(0)} % (${r.eventsPerStep.toFixed(0)} events in / step)`, unit: 'ms', value: st, ...ratioOf(base, st) };
  });
  // R² per run (run r = the r-th round of sequences, one at every sparsity), and of the medians
  const x = kr.map((r) => r.eventsPerStep);
  const runs = Math.min(...kr.map((r) => r.samples.length));
  const r2runs = Array.from({ length: runs }, (_, i) => linearFit(x, kr.map((r) => r.samples[i]!)).r2);
  const fit = linearFit(x, kr.map((r) => r.ms));
  const r2 = stat(r2runs);
  rows.push({ what: 'R² of a linear fit, time per step vs events', unit: 'R²', value: r2, target: '≥ 0.95', met: r2.median >= 0.95 });
  const r90 = at(0.9);
  let speed: Stat | null = null;
  if (r90) {
    speed = ratioStat(base, stat(r90.samples));
    rows.push({ what: 'speed-up, 0 % → 90 % activity sparsity', unit: '×', value: speed, target: '≥ 6×', met: speed.median >= 6 });
  }
  const floor = sw.floor.ms;
  rows.push({ what: 'no events at all (the work that does not scale with events; not in the fit)', unit: 'ms', value: stat(sw.floor.samples) });
  // µs per received event beyond the no-event floor, and the share of weight rows a step reads at least once
  // (a row serves every batch element with an event on it: P(row touched) = 1 − s^B)
  const perEvent = (r: KernelRow) => (1000 * (r.ms - floor)) / r.eventsPerStep;
  const touched = (sp: number) => 1 - Math.pow(sp, B);
  const notes = [
    `Linear fit over the medians: time ≈ ${fit.intercept.toFixed(3)} ms + ${(fit.slope * 1000).toFixed(3)} µs × events (R² ${fit.r2.toFixed(4)}). A step with no events at all takes ${floor.toFixed(2)} ms (the dense elementwise gate and gradient pass over all ${B}×${H} unit-states, docs/math.md).`,
    `Beyond that floor an event costs ${perEvent(kr[0]!).toFixed(2)} µs at 0 %` +
      (r90 ? ` and ${perEvent(r90).toFixed(2)} µs at 90 % sparsity` : '') +
      `. The row operations run at SIMD speed, so bringing a weight row (${(12 * H / 1024).toFixed(0)} KB here) into the core's caches is no longer negligible: each step reads every row that received an event once and applies it to all batch elements that did (docs/math.md). At 0 % a row serves ${B} events; at 90 % sparsity ${pct(touched(0.9))} of the rows are still read, each serving ~${((0.1 * B) / touched(0.9)).toFixed(1)} events, so a sparse event carries a larger share of that cost.`,
  ];
  if (speed && speed.median < 6)
    notes.push(
      `Speed-up target missed: ${speed.median.toFixed(2)}× at 90 %. The floor (${floor.toFixed(2)} ms) and the larger cost per event at high sparsity (above) keep the ratio below the 10× fewer events.`,
    );
  return {
    id: 3,
    key: 'activity-sweep',
    title: `Time per step against activity, hidden ${H}`,
    setup:
      `bench/kernels.ts: one group kernel holding a whole layer (layer 1 of a two-layer EGRU, H = I = ${H}, batch ${B}, evnn), one thread, forward + backward of one step, ` +
      `fed synthetic event lists of density 1 − sparsity (inputs, recurrent events and incoming gradients; backward-active = events). ` +
      `Runs: ${runs} sequences of ${SEQUENCE_STEPS} steps at each sparsity (every step timed, including the weight-gradient rows the kernel accumulates once per 4 steps), round-robin over the sparsities after a warm-up sequence each; a run's figure is its time per step. Ratio: speed-up over 0 % sparsity.`,
    rows,
    headline: {
      target: 'R² ≥ 0.95 and ≥ 6× faster at 90 % than at 0 %',
      measured: `R² ${r2.median.toFixed(4)}, ${speed ? speed.median.toFixed(2) : '–'}×`,
      met: r2.median >= 0.95 && (speed ? speed.median >= 6 : false),
    },
    notes,
    extra: { fit, kernelRows: kr.map(({ samples: _s, ...r }) => r) },
    seconds: sw.seconds,
  };
}

interface DenseRates {
  dot: number[];
  axpy: number[];
  simdDot: number[];
  simdAxpy: number[];
}

/**
 * Dense float32 y = W·x, two layouts, in plain JavaScript and with the kernels' own WebAssembly SIMD row
 * primitives (model/simd.ts, one call per row). Returns a function that measures one run (≈ targetMs) of each
 * and appends its GMAC/s to `rates`, so the runs can be interleaved with the sparse kernels' (case 3's sweep).
 */
function denseMatvec(rows: number, cols: number, targetMs: number, rates: DenseRates): () => void {
  // dot: Wt [cols × rows], y_j = Σ_i Wt[j,i]·x_i (4 partial sums); axpy: W [rows × cols], y += x_i·W[i,:] (as the kernels do)
  const W = new Float32Array(rows * cols);
  for (let i = 0; i < W.length; i++) W[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const xv = new Float32Array(rows);
  for (let i = 0; i < rows; i++) xv[i] = ((i * 40503) % 997) / 997;
  const y = new Float64Array(cols);
  const dot = () => {
    for (let j = 0; j < cols; j++) {
      const o = j * rows;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < rows; i += 4) {
        s0 += W[o + i]! * xv[i]!;
        s1 += W[o + i + 1]! * xv[i + 1]!;
        s2 += W[o + i + 2]! * xv[i + 2]!;
        s3 += W[o + i + 3]! * xv[i + 3]!;
      }
      for (; i < rows; i++) s0 += W[o + i]! * xv[i]!;
      y[j] = s0 + s1 + (s2 + s3);
    }
  };
  const axpy = () => {
    y.fill(0);
    for (let i = 0; i < rows; i++) {
      const a = xv[i]!;
      const o = i * cols;
      let k = 0;
      for (; k + 7 < cols; k += 8) {
        y[k]! += a * W[o + k]!;
        y[k + 1]! += a * W[o + k + 1]!;
        y[k + 2]! += a * W[o + k + 2]!;
        y[k + 3]! += a * W[o + k + 3]!;
        y[k + 4]! += a * W[o + k + 4]!;
        y[k + 5]! += a * W[o + k + 5]!;
        y[k + 6]! += a * W[o + k + 6]!;
        y[k + 7]! += a * W[o + k + 7]!;
      }
      for (; k < cols; k++) y[k]! += a * W[o + k]!;
    }
  };
  // warm up, then size one run to ≈ targetMs
  const calibrate = (f: () => void) => {
    for (let w = 0; w < 5; w++) f();
    const t0 = performance.now();
    f();
    return Math.max(1, Math.round(targetMs / Math.max(performance.now() - t0, 0.01)));
  };
  const run = (f: () => void, inner: number, out: number[]) => {
    const a = performance.now();
    for (let k = 0; k < inner; k++) f();
    out.push((rows * cols * inner) / ((performance.now() - a) * 1e6));
  };
  // The same two layouts with the SIMD primitives, in a wasm arena of their own: W (axpy rows) / Wt (dot rows), x, y.
  const arena = new SimdArena([rows * cols, rows * cols, rows, cols]);
  const [sW, sWt, sx, sy] = arena.views as [Float32Array, Float32Array, Float32Array, Float32Array];
  sW.set(W);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sWt[j * rows + i] = W[i * cols + j]!;
  sx.set(xv);
  const { axpy: vAxpy, dot: vDot } = arena.ops;
  const pW = sW.byteOffset;
  const pWt = sWt.byteOffset;
  const px = sx.byteOffset;
  const py = sy.byteOffset;
  const simdDot = () => {
    for (let j = 0; j < cols; j++) sy[j] = vDot(pWt + 4 * j * rows, px, rows);
  };
  const simdAxpy = () => {
    sy.fill(0);
    for (let i = 0; i < rows; i++) vAxpy(py, sx[i]!, pW + 4 * i * cols, cols);
  };
  const inner = [calibrate(dot), calibrate(axpy), calibrate(simdDot), calibrate(simdAxpy)];
  return () => {
    run(dot, inner[0]!, rates.dot);
    run(axpy, inner[1]!, rates.axpy);
    run(simdDot, inner[2]!, rates.simdDot);
    run(simdAxpy, inner[3]!, rates.simdAxpy);
  };
}

async function efficiencyCase(s: Sizes, peer: PeerStatus): Promise<CaseResult> {
  const t0 = performance.now();
  const sw = sweep(s);
  const { H, B } = sw;
  const rows0 = 2 * H; // I + H of the swept layer
  const cols = 3 * H;
  const js = sw.dense;
  const dot = stat(js.dot);
  const axpy = stat(js.axpy);
  const simdDot = stat(js.simdDot);
  const simdAxpy = stat(js.simdAxpy);
  let tf: Stat | null = null;
  if (peer.available) tf = stat(await peer.peer.matvecRate(rows0, cols, s.reps));
  // The reference is the fastest dense matvec measured on this machine, whoever runs it.
  const candidates: [string, Stat][] = [
    ['JavaScript dot rows', dot],
    ['JavaScript axpy rows', axpy],
    ['wasm SIMD dot rows (model/simd.ts)', simdDot],
    ['wasm SIMD axpy rows (model/simd.ts)', simdAxpy],
  ];
  if (tf) candidates.push(['tfjs wasm tf.matMul', tf]);
  const [denseName, dense] = candidates.reduce((a, b) => (b[1].median > a[1].median ? b : a));
  const rows: Row[] = [
    { what: `dense float32 matvec, JavaScript, W·x with rows of W (dot products), ${cols} × ${rows0}`, unit: 'GMAC/s', value: dot, ...ratioOf(dot, dense) },
    { what: `dense float32 matvec, JavaScript, Σ x_i·W[i,:] (axpy rows)`, unit: 'GMAC/s', value: axpy, ...ratioOf(axpy, dense) },
    { what: `dense float32 matvec, wasm SIMD dot rows (the kernels' primitive, model/simd.ts)`, unit: 'GMAC/s', value: simdDot, ...ratioOf(simdDot, dense) },
    { what: `dense float32 matvec, wasm SIMD axpy rows (the kernels' primitive and access pattern)`, unit: 'GMAC/s', value: simdAxpy, ...ratioOf(simdAxpy, dense) },
  ];
  if (tf) rows.push({ what: `dense float32 matvec, tfjs wasm${peer.available && peer.info.simd ? ' SIMD' : ''} tf.matMul [1 × ${rows0}]·[${rows0} × ${cols}]`, unit: 'GMAC/s', value: tf, ...ratioOf(tf, dense) });
  else rows.push({ what: 'dense float32 matvec, tfjs wasm', unit: 'GMAC/s', value: null, note: `unavailable: ${peer.available ? '' : peer.reason}` });
  // Effective MACs of one timed step, by the kernel's own convention (docs/math.md): forward 3H per received item,
  // backward 9H per item (recompute, weight-gradient row, partial sum) → 12H per received event.
  let at90: Stat | null = null;
  for (const r of sw.rows) {
    const macs = 12 * H * r.eventsPerStep;
    const st = stat(r.samples.map((ms) => macs / (ms * 1e6)));
    const is90 = Math.abs(r.sparsity - 0.9) < 1e-9;
    if (is90) at90 = st;
    rows.push({
      what: `sparse kernels at ${(100 * r.sparsity).toFixed(0)} % activity sparsity (effective MACs / time)`,
      unit: 'GMAC/s',
      value: st,
      ...ratioOf(st, dense),
      target: is90 ? '≥ 0.5× dense' : undefined,
      met: is90 ? st.median / dense.median >= 0.5 : undefined,
    });
  }
  const eff = at90 ? at90.median / dense.median : null;
  const notes = [
    `Reference ("dense") = the fastest dense matvec measured here: ${denseName}, ${dense.median.toFixed(2)} GMAC/s. The sparse kernels do their row operations with the same wasm SIMD primitives (one call per received item); their gates are one SIMD call per batch element.`,
    `Effective MACs per step = 12·H·(received events): 3H forward and 9H backward (recompute, weight-gradient row and partial sum) per event — the kernels' own MAC count (docs/math.md), the same figure \`macs.forward + macs.backward\` reports. The fixed per-step elementwise work is not counted as MACs, which is why the rate falls at high sparsity.`,
  ];
  if (eff !== null && eff < 0.5) notes.push(`Target missed at 90 %: ${(100 * eff).toFixed(0)} % of the dense rate (see case 3's intercept: the dense elementwise pass per step does no MACs).`);
  return {
    id: 7,
    key: 'mac-efficiency',
    title: 'Arithmetic efficiency of the sparse kernels',
    setup: `Effective MAC rate of the group kernel of case 3 (H = ${H}, batch ${B}) at each sparsity, against the dense float32 matrix–vector rate of this machine measured in the same run (W of (I + H) × 3H = ${rows0} × ${cols}, ${s.reps} runs of ≈ ${s.matvecMs} ms each, one between each round of case 3's sequences so that both see the same machine; tfjs's runs come after). Ratio: rate / the fastest dense rate.`,
    rows,
    headline: {
      target: 'sparse kernels at 90 % sparsity ≥ 50 % of the dense matvec rate',
      measured: eff !== null ? `${(100 * eff).toFixed(0)} % (${at90!.median.toFixed(2)} vs ${dense.median.toFixed(2)} GMAC/s)` : '–',
      met: eff !== null ? eff >= 0.5 : null,
    },
    notes,
    extra: { denseJs: { dot: dot.median, axpy: axpy.median }, denseSimd: { dot: simdDot.median, axpy: simdAxpy.median }, tfjs: tf?.median ?? null, reference: denseName },
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------------------------
// cases 4 and 5: the runtime's synchronisation cost and parallel speed-up (bench/runtime.ts)

function asStat(r: { samples: number[] }): Stat {
  return stat(r.samples);
}

async function withSpins<T>(spins: string | undefined, f: () => Promise<T>): Promise<T> {
  const old = process.env.EGRU_SPINS;
  if (spins === undefined) delete process.env.EGRU_SPINS;
  else process.env.EGRU_SPINS = spins;
  try {
    return await f();
  } finally {
    if (old === undefined) delete process.env.EGRU_SPINS;
    else process.env.EGRU_SPINS = old;
  }
}

async function syncCase(s: Sizes): Promise<CaseResult> {
  const t0 = performance.now();
  const { reps, ticks } = s.sync;
  const checkBefore = await machineCheck('before case 4');
  const r1 = await withSpins(undefined, () => syncOverhead(1, reps, ticks));
  const r2 = await withSpins(undefined, () => syncOverhead(2, reps, ticks));
  const one = asStat(r1);
  const two = asStat(r2);
  const cold = stat(r2.warmupUs);
  const rows: Row[] = [
    { what: '1 actor (no partner: the barrier returns at once)', unit: 'µs', value: one },
    { what: '2 actors, threads (default barrier: spin, then Atomics.wait)', unit: 'µs', value: two, target: '≤ 10 µs', met: two.median <= 10 },
    { what: '2 actors − 1 actor (the barrier and the second thread)', unit: 'µs', value: { median: two.median - one.median, min: two.min - one.max, max: two.max - one.min, runs: reps, samples: [] } },
    { what: `2 actors, the ${r2.warmupUs.length} warm-up sequences of a fresh trainer (cold JIT; diagnostic)`, unit: 'µs', value: cold },
  ];
  const notes: string[] = [];
  if (s.sync.diagnose) {
    // The barrier spins EGRU_SPINS times before Atomics.wait (runtime/barrier.ts); show how much each part costs.
    for (const spins of ['0', '20000']) {
      const r = asStat(await withSpins(spins, () => syncOverhead(2, reps, ticks)));
      rows.push({ what: `2 actors, EGRU_SPINS=${spins} (${spins === '0' ? 'Atomics.wait only' : 'a short spin, ~0.2 ms'}; diagnostic)`, unit: 'µs', value: r });
    }
  }
  notes.push(
    `The first sequences of a fresh trainer are slower (warm-up row: median ${cold.median.toFixed(1)} µs, first ${r2.warmupUs[0]!.toFixed(1)} µs per tick) until the JIT has optimised the tick path; the figure is the steady state after them.`,
  );
  if (two.median > 10)
    notes.push(
      `Target missed: ${two.median.toFixed(1)} µs per tick. When a tick outlasts the barrier's spin phase, the waiting actor falls back to Atomics.wait/notify (a futex round trip; the EGRU_SPINS=0 row shows its cost); when another process occupies a core, a spinning actor waits for a partner that is not running at all.`,
    );
  notes.push(checkNote(checkBefore, await machineCheck('after case 4')));
  return {
    id: 4,
    key: 'sync',
    title: 'Synchronisation cost per step, 2 actors, zero events',
    setup: `bench/runtime.ts syncOverhead: one layer of 2 units per actor, batch 1, thresholds 10⁹ (nothing fires, no payload), forward-only sequences of ${ticks} steps on the threads transport; figure = wall time per tick (one step: the per-tick phase work plus the barrier), ${reps} runs of one sequence each after ${r2.warmupUs.length} warm-up sequences.`,
    rows,
    headline: { target: '≤ 10 µs per step', measured: `${two.median.toFixed(2)} µs`, met: two.median <= 10 },
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function parallelCase(s: Sizes): Promise<CaseResult> {
  const t0 = performance.now();
  const { H, reps, rounds } = s.parallel;
  const checks: { ratio: number; evenSplit: number; memory: number | null }[] = [];
  const p = await parallelSpeedup(reps, H, 32, rounds, async (r) => {
    checks.push(await machineCheckBoth(`case 5, before round ${r + 1} of ${rounds}`));
  });
  checks.push(await machineCheckBoth('after case 5'));
  const checkBefore = checks[0]!.ratio;
  const checkAfter = checks[checks.length - 1]!.ratio;
  const one = stat(p.samples.one);
  const two = stat(p.samples.two);
  const sp = ratioStat(one, two);
  const ceiling = stat(checks.map((c) => c.ratio));
  const even = stat(checks.map((c) => c.evenSplit));
  const memRuns = checks.map((c) => c.memory).filter((m): m is number => m !== null);
  const mem = memRuns.length ? stat(memRuns) : null;
  const rows: Row[] = [
    { what: '1 actor, one training step', unit: 'ms', value: one, ratio: 1 },
    { what: '2 actors, one training step', unit: 'ms', value: two, ...ratioOf(two, one) },
    { what: 'speed-up, 2 actors vs 1', unit: '×', value: sp, target: '≥ 1.6×', met: sp.median >= 1.6 },
    { what: 'machine check: compute of 2 busy threads vs 1 (before each round, after)', unit: '×', value: ceiling },
    { what: 'machine check: 2 × the slower of the two (the ceiling of an even split)', unit: '×', value: even },
  ];
  if (mem) rows.push({ what: 'machine check, memory-bound: 2 × the slower of two threads streaming 48 MiB each vs one alone', unit: '×', value: mem });
  const notes: string[] = [];
  if (sp.median < 1.6) {
    const weightMiB = (2 * 4 * H * 3 * H) / 2 ** 20; // R and its gradient, float32
    const why =
      even.min < 1.7
        ? `the machine itself gave two busy threads an even-split ceiling of only ${even.min.toFixed(2)}–${even.max.toFixed(2)}× during this case (another process, or the virtual machine's host, takes part of a core), which bounds any 2-actor speed-up`
        : mem && mem.median < 1.7 && weightMiB >= 16
          ? `two threads streaming memory got only ${mem.min.toFixed(2)}–${mem.max.toFixed(2)}× the bandwidth of one during this case (even split; compute: ${even.median.toFixed(2)}×), and at H ${H} each step streams the actors' recurrent weights and their gradients (${weightMiB.toFixed(0)} MiB, more than this machine's caches) through memory, so the machine's shared memory bandwidth bounds the speed-up`
          : `the machine checks between the rounds gave two threads ${ceiling.median.toFixed(2)}× the compute of one (even split ${even.median.toFixed(2)}×${mem ? `, memory ${mem.median.toFixed(2)}×` : ''}), so the loss is the runtime's or a slow spell between the checks: the barrier waits of the actor that finishes a tick first (uneven work per tick) and the per-tick synchronisation (case 4)`;
    notes.push(`Target missed: ${sp.median.toFixed(2)}×; ${why}.`);
  }
  return {
    id: 5,
    key: 'parallel',
    title: `Parallel speed-up, hidden ${H}, 2 actors vs 1 on ${os.cpus().length} cores`,
    setup: `bench/runtime.ts parallelSpeedup: one layer, hidden ${H}, batch 32, row-MNIST shape (T = 28, I = 28, random inputs with 20 % zeros), thresholds calibrated to ≈ 80 % activity sparsity (measured ${pct(p.sparsity)}), one training step (forward + backward + SGD lr 0) on the threads transport; ${rounds} round(s), each with a fresh trainer per actor count (so that no figure rests on one trainer's placement on this machine), two warm-up steps each, then ${reps} runs of each actor count, alternating; all runs pooled. Ratio: time / 1-actor time.`,
    rows,
    headline: { target: '≥ 1.6×', measured: `${sp.median.toFixed(2)}× (${one.median.toFixed(1)} → ${two.median.toFixed(1)} ms)`, met: sp.median >= 1.6 },
    notes,
    extra: { sparsity: p.sparsity, machineCheck: [checkBefore, checkAfter], machineChecks: checks },
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------------------------
// case 6: memory

interface MemoryJob {
  kind: 'baseline' | 'egru' | 'gru' | 'tfjs';
  H: number;
  B: number;
  T: number;
  actors: number;
  thr?: Float32Array;
}
interface MemoryReply {
  ok: boolean;
  error?: string;
  maxRssBefore: number;
  maxRss: number;
  stepMs: number;
}

/**
 * Peak resident set of this process, bytes: VmHWM of /proc/self/status on Linux (the high-water mark of this
 * process's own memory; getrusage's maxRSS would carry the parent's size over the fork), else maxRSS.
 */
function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Child process: run one job (one training step), report the peak RSS (all threads of the process) and exit. */
async function memoryChild(job: MemoryJob): Promise<MemoryReply> {
  const { data } = mnistBatch('pixel-mnist', job.B, job.T);
  const cfg = defaultModelConfig({ inputSize: 1, hidden: [job.H], classes: 10, cell: job.kind === 'gru' ? 'gru' : 'egru' });
  const params = initParams(cfg);
  if (job.thr) params.layers[0]!.thr.set(job.thr);
  let stepMs = 0;
  if (job.kind === 'tfjs') {
    const peer = await loadTfjsPeer(ROOT, { install: false, log });
    if (!peer.available) throw new Error(peer.reason);
    const before = peakRss();
    const tr = peer.peer.gruTrainer({ steps: job.T, inputSize: 1, hidden: job.H, classes: 10, batch: job.B, x: data.x, y: data.targets });
    stepMs = await tr.step();
    const peak = peakRss();
    tr.dispose();
    return { ok: true, maxRssBefore: before, maxRss: peak, stepMs };
  }
  const before = peakRss();
  if (job.kind !== 'baseline') {
    const tr = await Trainer.create({ model: cfg, params, actors: job.actors, transport: 'threads', batch: job.B, maxSteps: job.T, optimizer: ADAM_0 });
    try {
      const t = performance.now();
      await tr.train(data);
      stepMs = performance.now() - t;
    } finally {
      await tr.close();
    }
  }
  return { ok: true, maxRssBefore: before, maxRss: peakRss(), stepMs };
}

function runChild(job: MemoryJob): Promise<MemoryReply> {
  return new Promise((resolve) => {
    const child = fork(SELF, ['--child-memory'], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let done = false;
    const finish = (r: MemoryReply) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    child.on('message', (m) => finish(m as MemoryReply));
    child.on('error', (e) => finish({ ok: false, error: e.message, maxRss: 0, maxRssBefore: 0, stepMs: 0 }));
    child.on('exit', (code) => finish({ ok: false, error: `child exited with code ${code}`, maxRss: 0, maxRssBefore: 0, stepMs: 0 }));
    child.send(job);
  });
}

async function memoryCase(o: Opts, s: Sizes, peer: PeerStatus): Promise<CaseResult> {
  const t0 = performance.now();
  const { H, B, T: T0, rssRuns } = s.memory;
  const { data, source } = mnistBatch('pixel-mnist', B, T0);
  const T = data.steps;
  const cfg = defaultModelConfig({ inputSize: 1, hidden: [H], classes: 10 });
  const params = initParams(cfg);
  log(`case 6: calibrating thresholds to ${pct(o.sparsity)} activity sparsity`);
  await calibrate(cfg, params, data, o.sparsity);
  const thr = Float32Array.from(params.layers[0]!.thr);

  // BPTT history actually held, read from the kernels of inline trainers after one training step
  const history = async (model: ModelConfig, p: Params | undefined, actors: number) => {
    const tr = await Trainer.create({ model, params: p, actors, transport: 'inline', batch: B, maxSteps: T, optimizer: ADAM_0 });
    try {
      await tr.train(data);
      const sp = sparsityOf(tr);
      const hb = inlineKernels(tr).map((k) => k.historyBytes());
      const parts: Record<string, number> = {};
      for (const h of hb) for (const [k, v] of Object.entries(h.parts)) parts[k] = (parts[k] ?? 0) + v.inUse;
      return { inUse: hb.reduce((a, h) => a + h.inUse, 0), capacity: hb.reduce((a, h) => a + h.capacity, 0), parts, sparsity: sp };
    } finally {
      await tr.close();
    }
  };
  log('case 6: history bytes (inline trainers, one training step each)');
  const e2 = await history(cfg, params, 2);
  const e1 = await history(cfg, params, 1);
  const g2 = await history({ ...cfg, cell: 'gru' }, undefined, 2);
  const dense = 5 * 4 * T * B * H;
  const one = (bytes: number): Stat => ({ median: bytes / MB, min: bytes / MB, max: bytes / MB, runs: 1, samples: [bytes / MB] });
  const rows: Row[] = [
    { what: `dense BPTT history: 5 floats (z, r, g, rh_g, h) × T·B·H × 4 B`, unit: 'MB', value: one(dense), ratio: 1 },
    {
      what: `EGRU history in use, 2 actors (${pct(e2.sparsity.activity)} activity, ${pct(e2.sparsity.backward)} backward sparsity)`,
      unit: 'MB',
      value: one(e2.inUse),
      ratio: e2.inUse / dense,
      target: '≤ 0.5× dense',
      met: e2.inUse / dense <= 0.5,
    },
    { what: 'EGRU history allocated (capacity), 2 actors', unit: 'MB', value: one(e2.capacity), ratio: e2.capacity / dense },
    { what: 'EGRU history in use, 1 actor', unit: 'MB', value: one(e1.inUse), ratio: e1.inUse / dense },
    { what: 'egru dense GRU (cell gru) history in use, 2 actors', unit: 'MB', value: one(g2.inUse), ratio: g2.inUse / dense },
  ];

  // Peak RSS of whole processes (all threads), one process per run
  const all: { what: string; job: MemoryJob }[] = [
    { what: 'peak RSS: Node + egru + data, no trainer (baseline)', job: { kind: 'baseline', H, B, T, actors: 2 } },
    { what: `peak RSS: EGRU, 2 actors, one training step`, job: { kind: 'egru', H, B, T, actors: 2, thr } },
    { what: `peak RSS: egru dense GRU, 2 actors, one training step`, job: { kind: 'gru', H, B, T, actors: 2 } },
    { what: 'peak RSS: TensorFlow.js wasm GRU, one training step', job: { kind: 'tfjs', H, B, T, actors: 1 } },
  ];
  const jobs = all.filter((j) => s.memory.rssKinds.includes(j.job.kind) && (j.job.kind !== 'tfjs' || peer.available));
  const rss: Record<string, Stat | null> = {};
  const notes: string[] = [];
  for (const { what, job } of jobs) {
    const vals: number[] = [];
    for (let r = 0; r < rssRuns; r++) {
      const rep = await runChild(job);
      if (!rep.ok) {
        notes.push(`${what}: run failed (${rep.error}).`);
        break;
      }
      vals.push(rep.maxRss / MB);
      log(`case 6: ${what}: ${(rep.maxRss / MB).toFixed(0)} MB (step ${rep.stepMs.toFixed(0)} ms)`);
    }
    rss[job.kind] = vals.length ? stat(vals) : null;
  }
  const ref = rss['tfjs'] ?? null;
  for (const { what, job } of jobs) {
    const v = rss[job.kind] ?? null;
    rows.push({ what, unit: 'MB', value: v, ...(v && ref ? ratioOf(v, ref) : { ratio: null }) });
  }
  for (const { what, job } of all)
    if (!jobs.some((j) => j.job.kind === job.kind))
      rows.push({ what, unit: 'MB', value: null, note: job.kind === 'tfjs' && !peer.available ? `unavailable: ${peer.reason}` : `not in the ${o.mode} set` });

  const f = (k: string) => ((e2.parts[k] ?? 0) / MB).toFixed(1);
  notes.unshift(
    `What the kernels keep (2 actors, MB, as GroupKernel.historyBytes() reports it): state ${f('state')} (1 float per unit-step), received inputs ${f('inputs')}, received recurrent events ${f('recurrentEvents')}, backward-active announcements ${f('announcementsLayer')}. Every actor keeps its own copy of what it received (the 1-actor row has one copy); the dense GRU (cell gru) keeps every unit as an event.`,
  );
  if (e2.inUse / dense > 0.5) {
    const parts = Object.entries(e2.parts)
      .filter(([, v]) => v > 0)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${(v / MB).toFixed(1)} MB`);
    notes.push(`Target missed: the history is ${(e2.inUse / dense).toFixed(2)}× the dense one; largest parts: ${parts.join(', ')}.`);
  }
  notes.push(`Peak RSS: the high-water mark of the resident set of a fresh process per run (VmHWM, all threads: the actors are worker threads of that process), after loading the data and running one training step; ratio: to the TensorFlow.js process.`);
  return {
    id: 6,
    key: 'memory',
    title: `Memory, pixel-MNIST shape, hidden ${H}, batch ${B}`,
    setup: `One training step of a one-layer network, hidden ${H}, batch ${B}, T = ${T}, I = 1, on ${source}; EGRU thresholds calibrated to ${pct(o.sparsity)} activity sparsity. History bytes: GroupKernel.historyBytes() of every actor after one step (inline transport; identical work and storage to threads), in use and allocated. Dense reference: 5 × 4 B × T × B × H = ${(dense / MB).toFixed(1)} MB. Ratio: to the dense history (history rows), to the tfjs process (RSS rows).`,
    rows,
    headline: {
      target: 'BPTT history ≤ 0.5× dense at 80 % sparsity',
      measured: `${(e2.inUse / dense).toFixed(2)}× (${(e2.inUse / MB).toFixed(1)} of ${(dense / MB).toFixed(1)} MB, ${pct(e2.sparsity.activity)} sparsity)`,
      met: e2.inUse / dense <= 0.5,
    },
    notes,
    extra: { history: { egru2: e2, egru1: e1, gru2: g2, denseBytes: dense }, rss },
    seconds: (performance.now() - t0) / 1000,
  };
}

// ------------------------------------------------------------------------------------------------------------
// main

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** bench/results/profile.md (scripts/profile-step.mjs), if there: the per-phase profile docs/benchmarks.md shows. */
function stepProfile(): string | undefined {
  const file = join(ROOT, 'bench', 'results', 'profile.md');
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** bench/results/multi-host.md, if there: step times over network namespaces (test/nats-netns.test.ts). */
function multiHostSection(): string | undefined {
  const file = join(ROOT, 'bench', 'results', 'multi-host.md');
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

function render(path: string): void {
  const res = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  const doc = join(ROOT, 'docs', 'benchmarks.md');
  writeFileSync(doc, markdown(res, stepProfile(), multiHostSection()));
  process.stdout.write(`wrote ${relative(process.cwd(), doc)} from ${relative(process.cwd(), path)}\n`);
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const o = parseArgs(argv);
  if (o.render) return render(o.out ?? join(ROOT, 'bench', 'results', 'latest.json'));
  const s = sizes(o);
  if (o.mode === 'smoke') Object.assign(machineCheckSize, { rounds: 1, iterations: 1e6 }); // checks the harness, not the machine
  const t0 = performance.now();
  const info = machineInfo();
  log(`machine: ${info.line}; load average ${info.loadAtStart.map((v) => v.toFixed(2)).join(' / ')}`);
  info.concurrencyAtStart = await machineCheck('start');
  if (info.loadAtStart[0]! > 0.5) log('warning: the machine is not idle (load average > 0.5): the 2-actor figures will suffer');
  const wantsTfjs = o.tfjs && o.cases.some((c) => c === 1 || c === 2 || c === 6 || c === 7);
  const peer: PeerStatus = wantsTfjs
    ? await loadTfjsPeer(ROOT, { install: o.install, log })
    : { available: false, reason: o.tfjs ? 'not needed by the selected cases' : '--no-tfjs', installed: false };
  if (peer.available) log(`peer: TensorFlow.js ${peer.info.tfjs}, backend ${peer.info.backend}, SIMD ${peer.info.simd}, multithread ${peer.info.multithread}, threads ${peer.info.threads}`);
  else log(`peer: TensorFlow.js unavailable (${peer.reason})`);
  const wantsTorch = o.torch && o.cases.some((c) => c === 1 || c === 2 || c === 8);
  const torch: TorchPeer[] = wantsTorch
    ? await startTorchPeers(TORCH_SETUPS, { log })
    : torchUnavailable(TORCH_SETUPS, o.torch ? 'not needed by the selected cases' : '--no-torch');
  for (const p of torch) if (!p.available) log(`peer: ${p.label} unavailable (${p.reason})`);

  const cases: CaseResult[] = [];
  const training = {
    sizes: s,
    root: ROOT,
    checkpoint: o.checkpoint,
    cacheDir: o.mode === 'smoke' ? null : join(ROOT, 'bench', 'results', 'cache'),
    retrain: o.retrain,
    calibrateTo: o.sparsity,
    tfjs: peer,
    torch,
  };
  try {
    for (const id of [...new Set(o.cases)].sort((a, b) => a - b)) {
      log(`case ${id} …`);
      let c: CaseResult;
      if (id === 1 || id === 2) c = await trainingCase(id, training);
      else if (id === 3) c = activityCase(s);
      else if (id === 4) c = await syncCase(s);
      else if (id === 5) c = await parallelCase(s);
      else if (id === 6) c = await memoryCase(o, s, peer);
      else if (id === 7) c = await efficiencyCase(s, peer);
      else c = await largeCase(training);
      cases.push(c);
      if (!o.json) process.stdout.write(textTable(c) + '\n\n');
      log(`case ${id} done in ${c.seconds.toFixed(1)} s`);
    }
  } finally {
    await closeTorchPeers(torch);
  }
  const res: BenchResults = {
    tool: 'egru bench',
    version: version(),
    date: new Date().toISOString(),
    mode: o.mode,
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
    machine: info,
    peers: {
      torch: torch.map((p) => (p.available ? { setup: p.setup.key, available: true, label: p.label, info: p.info } : { setup: p.setup.key, available: false, label: p.label, reason: p.reason })),
      tfjs: peer.available ? { available: true, info: peer.info } : { available: false, reason: peer.reason },
    },
    cases,
    seconds: (performance.now() - t0) / 1000,
  };
  if (o.json) process.stdout.write(JSON.stringify(res, null, 2) + '\n');
  else {
    process.stdout.write(`machine: ${info.line}\nsummary:\n`);
    for (const c of cases) process.stdout.write(`  ${c.id}. ${c.title}: target ${c.headline.target} → ${c.headline.measured}: ${c.headline.met === null ? 'n/a' : c.headline.met ? 'met' : 'MISSED'}\n`);
    process.stdout.write(`total ${(res.seconds / 60).toFixed(1)} min\n`);
  }
  if (!o.write || (o.mode === 'smoke' && !o.out)) return;
  const out = o.out ?? join(ROOT, 'bench', 'results', o.mode === 'quick' ? 'quick.json' : 'latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  log(`wrote ${relative(process.cwd(), out)}`);
  if (o.mode === 'full' && !o.out) {
    const doc = join(ROOT, 'docs', 'benchmarks.md');
    writeFileSync(doc, markdown(res, stepProfile(), multiHostSection()));
    log(`wrote ${relative(process.cwd(), doc)}`);
  }
}

async function childMain(): Promise<void> {
  process.once('message', async (job: MemoryJob) => {
    let reply: MemoryReply;
    try {
      reply = await memoryChild(job);
    } catch (e) {
      reply = { ok: false, error: (e as Error).message, maxRss: 0, maxRssBefore: 0, stepMs: 0 };
    }
    process.send!(reply, () => process.exit(0));
  });
}

const invoked = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invoked) {
  if (process.argv.includes('--child-memory')) await childMain();
  else {
    try {
      await main();
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`egru bench: ${e.message}\n`);
        process.exit(2);
      }
      throw e;
    }
  }
}
