#!/usr/bin/env node
/**
 * The runs behind docs/results.md, and the page itself, made from the committed run files (never typed by hand).
 *
 *   node scripts/experiments.mjs run  [NAME…]   train the runs of experiments/experiments.json (default: those
 *                                              without a summary.json) into experiments/runs/NAME
 *   node scripts/experiments.mjs time [NAME…]   time training and forward-only steps of each run's checkpoint
 *                                              (run it on a quiet machine): experiments/runs/NAME/timing.json
 *   node scripts/experiments.mjs page [--out DIR]  write docs/results.md (and its curves, docs/results/*.svg), or into DIR
 *
 * A run directory keeps config.json, summary.json and metrics.jsonl in git; checkpoints and report.html stay
 * local (.gitignore). `npm run results` is `page`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MANIFEST = join(ROOT, 'experiments', 'experiments.json');
const RUNS = join(ROOT, 'experiments', 'runs');

const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
const byName = new Map(manifest.runs.map((r) => [r.name, r]));

function selected(names) {
  for (const n of names) if (!byName.has(n)) fail(`unknown run '${n}' (experiments/experiments.json has ${[...byName.keys()].join(', ')})`);
  return names.length ? names.map((n) => byName.get(n)) : manifest.runs;
}

function fail(message) {
  console.error(`experiments: error: ${message}`);
  process.exit(2);
}

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const writeAtomic = (p, text) => {
  writeFileSync(`${p}.tmp`, text);
  renameSync(`${p}.tmp`, p);
};

// ---------------------------------------------------------------------------------------------------------------
// run

function runAll(names) {
  const todo = names.length ? selected(names) : manifest.runs.filter((r) => !existsSync(join(RUNS, r.name, 'summary.json')));
  for (const r of todo) {
    const out = join(RUNS, r.name);
    console.log(`== ${r.name}: egru train ${r.args.join(' ')}`);
    execFileSync(process.execPath, [join(ROOT, 'bin', 'egru.js'), 'train', ...r.args, '--out', out, '--force', '--progress', 'plain'], { stdio: 'inherit' });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// time: training steps (forward + backward + update) and forward-only steps of the trained network, lr 0 so the
// network and its sparsity stay those of the checkpoint

function machine() {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
}

async function timeAll(names) {
  const load = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
  const { loadCheckpoint } = await load('cli/io/checkpoint.js');
  const { loadTask } = await load('cli/data/tasks.js');
  const { Trainer } = await load('runtime/coordinator.js');
  for (const r of selected(names)) {
    const dir = join(RUNS, r.name);
    const ckPath = join(dir, 'checkpoint.egru');
    if (!existsSync(ckPath)) {
      console.log(`${r.name}: no checkpoint.egru here (checkpoints are not committed): run it first`);
      continue;
    }
    const config = readJson(join(dir, 'config.json'));
    const ck = loadCheckpoint(ckPath);
    const data = config.seqLen ? loadTask(config.task, 'train', { steps: config.seqLen }) : loadTask(config.task, 'train', { limit: config.batch * 8 });
    const B = config.batch;
    const T = data.steps;
    const per = T * data.inputSize;
    const yPer = data.perStep ? T : 1;
    const batches = Array.from({ length: 8 }, (_, k) => {
      if (!data.source) return { x: data.x.subarray(k * B * per, (k + 1) * B * per), targets: data.y.subarray(k * B * yPer, (k + 1) * B * yPer), batch: B, steps: T };
      // text tasks make their samples on demand (one-hot characters); no carried state here, which does not change the work
      const x = new Float32Array(B * per);
      const targets = new Int32Array(B * yPer);
      for (let b = 0; b < B; b++) data.source(k * B + b, x, b * per, targets, b * yPer);
      return { x, targets, batch: B, steps: T };
    });
    const actors = config.actors;
    const trainer = await Trainer.create({ model: ck.config.model, params: ck.params, actors, transport: 'threads', batch: B, maxSteps: T, optimizer: { kind: 'adam', lr: 0 } });
    try {
      const median = async (fn, reps) => {
        for (let w = 0; w < 20; w++) await fn(batches[w % 8]);
        const ts = [];
        for (let i = 0; i < reps; i++) {
          const t0 = performance.now();
          await fn(batches[i % 8]);
          ts.push(performance.now() - t0);
        }
        ts.sort((a, b) => a - b);
        return ts[ts.length >> 1];
      };
      const reps = T > 100 ? 30 : 200;
      await trainer.resetCounters();
      const trainMs = await median((b) => trainer.train(b), reps);
      const c = trainer.counters().totals;
      const forwardMs = await median((b) => trainer.evaluate(b), reps);
      const timing = {
        machine: machine(),
        transport: 'threads',
        actors,
        steps_timed: reps,
        train_ms: trainMs,
        forward_ms: forwardMs,
        backward_ms: trainMs - forwardMs,
        activity_sparsity: 1 - c.events / c.unit_steps,
        backward_sparsity: 1 - c.backward_active / c.unit_steps,
      };
      writeAtomic(join(dir, 'timing.json'), `${JSON.stringify(timing, null, 2)}\n`);
      console.log(`${r.name}: train ${trainMs.toFixed(2)} ms, forward ${forwardMs.toFixed(2)} ms per step`);
    } finally {
      await trainer.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// page

function loadRun(r) {
  const dir = join(RUNS, r.name);
  if (!existsSync(join(dir, 'summary.json'))) return null;
  const metrics = existsSync(join(dir, 'metrics.jsonl'))
    ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];
  const epochs = metrics.filter((m) => m.kind === 'epoch');
  return {
    ...r,
    config: readJson(join(dir, 'config.json')),
    summary: readJson(join(dir, 'summary.json')),
    timing: existsSync(join(dir, 'timing.json')) ? readJson(join(dir, 'timing.json')) : null,
    steps: metrics.filter((m) => m.kind === 'step'),
    // every validation pass: the --eval-every ones, each epoch's and the final one
    validations: metrics.flatMap((m) => (m.kind === 'eval' || m.kind === 'final' ? [m] : m.kind === 'epoch' && m.validation ? [{ step: m.step, ...m.validation }] : [])),
    epochs,
    // the trained network's training figures: the last epoch's (the whole-run totals mix in the first epochs)
    lastTrain: epochs.at(-1)?.train ?? null,
  };
}

const pct = (v, digits = 1) => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(digits)} %`);
const num = (v, digits = 2) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const mega = (v) => (v === null || v === undefined ? '—' : `${(v / 1e6).toFixed(2)} M`);
const command = (r) => `\`egru train ${r.args.join(' ')}\``;

function perStep(run, total) {
  const t = run.lastTrain;
  if (!t || total === undefined) return null;
  return total / (t.samples / run.config.batch);
}

function modelName(run) {
  const m = run.config.model;
  return m.cell === 'gru' ? `GRU ${m.hidden.join(',')}` : `EGRU ${m.hidden.join(',')}`;
}

function sweepTable(runs, metricName, metric) {
  const lines = [
    `| run | s | λ | ${metricName} | activity sparsity | backward sparsity | backward items / step | backward MACs / step | train step, ms | of it backward, ms |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of runs) {
    const m = run.config.model;
    const t = run.lastTrain;
    lines.push(
      `| ${run.name} | ${m.cell === 'gru' ? '—' : m.support} | ${m.activityReg} | ${metric(run)} | ${pct(run.summary.activity_sparsity)} | ${pct(t?.backward_sparsity)} | ${mega(perStep(run, t?.messages.backward.items))} | ${mega(perStep(run, t?.macs.backward))} | ${num(run.timing?.train_ms)} | ${num(run.timing?.backward_ms)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Settings repeated with other seeds (runs named `<setting>-seed<N>`, section `row-seeds`; the setting's own run is
 * seed 1): per setting, each seed's test accuracy, the mean and the spread, then the difference of the means of the
 * EGRU settings against the seeds' spread — the page's answer to "is this within noise?".
 */
function seedLines(runs, seeded) {
  if (!seeded.length) return [];
  const groups = runs
    .map((base) => ({ base, runs: [base, ...seeded.filter((r) => r.name.replace(/-seed\d+$/, '') === base.name)] }))
    .filter((g) => g.runs.length > 1);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const accs = (g) => g.runs.map((r) => r.summary.accuracy);
  const lines = [
    '**Seeds.** The settings below were repeated with seeds 2 and 3 (`--seed`; the runs above are seed 1):',
    '',
    '| setting | test accuracy, seed by seed | mean | spread (max − min) | activity sparsity, mean | backward sparsity, mean |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const g of groups) {
    const a = accs(g);
    const bwd = g.runs.map((r) => r.lastTrain?.backward_sparsity).filter((v) => typeof v === 'number');
    lines.push(
      `| ${g.base.name} | ${g.runs.map((r) => `${pct(r.summary.accuracy, 2)} (seed ${r.config.model.seed})`).join(', ')} | ${pct(mean(a), 2)} | ${num(100 * (Math.max(...a) - Math.min(...a)))} points | ${pct(mean(g.runs.map((r) => r.summary.activity_sparsity)))} | ${bwd.length ? pct(mean(bwd)) : '—'} |`,
    );
  }
  lines.push('');
  const egru = groups.filter((g) => g.base.config.model.cell === 'egru');
  const wide = egru.find((g) => g.base.config.model.support === 1);
  for (const g of egru) {
    const acc = mean(accs(g));
    const sp = mean(g.runs.map((r) => r.summary.activity_sparsity));
    lines.push(
      `- ${g.base.name}, mean of ${g.runs.length} seeds against the accuracy target (≥ 98.3 % at ≥ 80 % activity sparsity): ${pct(acc, 2)} at ${pct(sp)} — ${acc >= 0.983 && sp >= 0.8 ? 'met' : `**not met** (${num(100 * (0.983 - acc))} points short${sp < 0.8 ? ', sparsity under 80 %' : ''})`}; ${((k) => `${k} of its ${g.runs.length} seeds ${k === 1 ? 'meets' : 'meet'} it`)(accs(g).filter((v, i) => v >= 0.983 && g.runs[i].summary.activity_sparsity >= 0.8).length)}.`,
    );
  }
  lines.push('');
  for (const g of egru) {
    if (g === wide || !wide) continue;
    const d = 100 * (mean(accs(wide)) - mean(accs(g)));
    const spread = 100 * Math.max(...[...accs(wide), ...accs(g)].map((v, _, all) => Math.max(...all) - v));
    lines.push(
      `Over ${g.runs.length} seeds, s = ${g.base.config.model.support} (λ = ${g.base.config.model.activityReg}) is ${num(Math.abs(d))} points ${d >= 0 ? 'below' : 'above'} s = 1 (λ = ${wide.base.config.model.activityReg}) on average, ` +
        `${Math.abs(d) <= 0.3 ? 'within' : 'outside'} the target's 0.3 points; the seeds of the two settings together span ${num(spread)} points.`,
    );
  }
  lines.push('');
  return lines;
}

/** The sparse-BPTT target: a setting with ≥ 50 % backward sparsity within `tolerance` of s = 1 at the same λ. */
function sweepVerdict(runs, cost, tolerance, unit, metric) {
  const egru = runs.filter((r) => r.config.model.cell === 'egru');
  const lines = [];
  let best = null;
  for (const r of egru) {
    const m = r.config.model;
    if (m.support === 1) continue;
    const base = egru.find((b) => b.config.model.support === 1 && b.config.model.activityReg === m.activityReg);
    if (!base || !r.lastTrain) continue;
    const loss = cost(base, r);
    const sparse = r.lastTrain.backward_sparsity;
    const ok = sparse >= 0.5 && loss <= tolerance;
    lines.push(
      `- s = ${m.support}, λ = ${m.activityReg}: backward sparsity ${pct(sparse)} (s = 1: ${pct(base.lastTrain?.backward_sparsity)}), ${metric(r)} against ${metric(base)} at s = 1 — ${ok ? '**meets the target**' : `misses (${sparse < 0.5 ? 'backward sparsity under 50 %' : `costs ${loss.toFixed(2)} ${unit}`})`}`,
    );
    if (ok && (best === null || sparse > best.lastTrain.backward_sparsity)) best = r;
  }
  // The regulariser changes the baseline too: compare with the best s = 1 run of any λ as well.
  const wide = egru.filter((r) => r.config.model.support === 1);
  const top = wide.reduce((a, b) => (a === null || cost(a, b) < 0 ? b : a), null);
  const sparse = egru.filter((r) => r.lastTrain && r.lastTrain.backward_sparsity >= 0.5);
  if (top && sparse.length) {
    const closest = sparse.reduce((a, b) => (cost(top, b) < cost(top, a) ? b : a));
    const c = cost(top, closest);
    lines.push(
      `- against the best s = 1 run of either λ (${top.name}, ${metric(top)}): the closest setting with ≥ 50 % backward sparsity is ${closest.name} (${metric(closest)}, ${pct(closest.lastTrain.backward_sparsity)} backward sparsity), ${c <= tolerance ? `within the target (${c.toFixed(2)} ${unit})` : `**${c.toFixed(2)} ${unit} worse**, outside the target`}`,
    );
  }
  return { lines, best };
}

function curveSvg(run, value, label) {
  const pts = run.steps.map((s) => [s.step, value(s)]).filter(([, v]) => Number.isFinite(v));
  const val = run.validations.map((e) => [e.step, value(e)]).filter(([, v]) => Number.isFinite(v));
  if (pts.length < 2) return null;
  const W = 640, H = 240, L = 50, R = 10, TOP = 10, BOT = 30;
  const xmax = Math.max(...pts.map((p) => p[0]), ...val.map((p) => p[0]));
  const ys = [...pts, ...val].map((p) => p[1]);
  const ymin = Math.min(...ys), ymax = Math.max(...ys);
  const sx = (x) => L + ((W - L - R) * x) / xmax;
  const sy = (y) => TOP + (H - TOP - BOT) * (1 - (y - ymin) / (ymax - ymin || 1));
  const poly = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  const dots = val.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="#d62728"/>`).join('');
  const ticks = [ymin, (ymin + ymax) / 2, ymax]
    .map((y) => `<text x="${L - 4}" y="${sy(y) + 4}" text-anchor="end">${y.toFixed(3)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">
<rect width="${W}" height="${H}" fill="white"/>
<line x1="${L}" y1="${H - BOT}" x2="${W - R}" y2="${H - BOT}" stroke="#888"/><line x1="${L}" y1="${TOP}" x2="${L}" y2="${H - BOT}" stroke="#888"/>
${ticks}<text x="${W - R}" y="${H - 8}" text-anchor="end">optimiser step (last: ${xmax})</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${poly}"/>${dots}
<text x="${L + 8}" y="${TOP + 12}">${label}: training (line, log interval), validation (dots)</text>
</svg>
`;
}

/** `outDir`: where results.md and its curves go (default docs/; the tests regenerate the page elsewhere to compare). */
function page(outDir = join(ROOT, 'docs')) {
  const PAGE = join(outDir, 'results.md');
  const CURVES = join(outDir, 'results');
  const runs = manifest.runs.map(loadRun);
  const missing = manifest.runs.filter((_, i) => runs[i] === null).map((r) => r.name);
  const have = runs.filter(Boolean);
  const section = (s) => have.filter((r) => r.section === s);
  const timed = have.find((r) => r.timing)?.timing.machine ?? null;
  const out = [];
  out.push('# Results');
  out.push('');
  out.push('Generated by `npm run results` (`node scripts/experiments.mjs page`) from the run files committed under');
  out.push('`experiments/runs/` — nothing on this page is typed by hand. Each run names the command that produced it');
  out.push('(`node scripts/experiments.mjs run NAME` repeats it, with `--out experiments/runs/NAME`); the runs are listed in');
  out.push('`experiments/experiments.json`.');
  out.push('');
  out.push('- **Accuracy** is on the task\'s test set, measured after the last epoch. The runs validate on it after each epoch');
  out.push('  (for the curves) but select nothing on it: the last epoch\'s network is the one reported. (For runs that do select,');
  out.push('  e.g. with `--early-stop`, `egru train --holdout N` validates on N held-out training images instead: docs/formats.md.)');
  out.push('- **Activity sparsity** is that of the test pass; **backward sparsity**, backward message items and backward');
  out.push('  MACs per optimiser step are those of the last training epoch (docs/figures.md defines them), as the run recorded');
  out.push('  them: runs trained before the kernels kept their gates count the backward recompute, which steps now skip.');
  out.push(`- **Step times** come from \`node scripts/experiments.mjs time\`: the median of repeated training steps and of`);
  out.push('  forward-only steps of the trained network (threads transport, the run\'s actor count, learning rate 0 so the');
  out.push('  network stays the trained one), on a quiet machine; "of it backward" is their difference (backward pass and');
  out.push(`  update). ${timed ? `Machine: ${timed}.` : 'No run has been timed yet.'} The training runs themselves shared the machine with other work, so their`);
  out.push('  wall-clock times are not used.');
  if (missing.length) out.push(`- Not run yet: ${missing.join(', ')}.`);
  out.push('');

  const row = section('row');
  if (row.length) {
    const acc = (r) => pct(r.summary.accuracy, 2);
    out.push('## Row-MNIST: EGRU against a dense GRU, and the sparse-BPTT sweep');
    out.push('');
    out.push('28 steps of 28 pixels, one layer of 128 units, batch 32, Adam 3·10⁻³, 8 epochs, seed 1. The paper reports');
    out.push('98.3 % for the EGRU at 72 % activity sparsity and 98.8 % for a GRU; the target here is an EGRU at ≥ 98.3 %');
    out.push('with ≥ 80 % activity sparsity. s is the pseudo-derivative\'s inverse half-width (a unit is backward-active');
    out.push('when it emitted an event or |v − ϑ| < 1/s), λ the activity regulariser.');
    out.push('');
    out.push(sweepTable(row, 'test accuracy', acc));
    out.push('');
    const egru = row.filter((r) => r.config.model.cell === 'egru');
    const hit = egru.filter((r) => r.summary.accuracy >= 0.983 && r.summary.activity_sparsity >= 0.8);
    out.push(
      hit.length
        ? `Target (≥ 98.3 % at ≥ 80 % activity sparsity): **met** by ${hit.map((r) => `${r.name} (${pct(r.summary.accuracy, 2)} at ${pct(r.summary.activity_sparsity)})`).join(', ')}${section('row-seeds').length ? ' with seed 1; the means over three seeds are below (Seeds)' : ''}.`
        : `Target (≥ 98.3 % at ≥ 80 % activity sparsity): **not met** — the best EGRU at ≥ 80 % sparsity reached ${pct(Math.max(...egru.filter((r) => r.summary.activity_sparsity >= 0.8).map((r) => r.summary.accuracy), Number.NaN), 2)}.`,
    );
    out.push('');
    const verdict = sweepVerdict(row, (base, r) => 100 * (base.summary.accuracy - r.summary.accuracy), 0.3, 'points of accuracy', acc);
    out.push('Sparse-BPTT target: a setting with ≥ 50 % backward sparsity that costs at most 0.3 points of accuracy against');
    out.push('s = 1 at the same λ:');
    out.push('');
    out.push(...verdict.lines);
    out.push('');
    const moves = egru.flatMap((r) => r.epochs.slice(-4).map((e, i, a) => (i ? Math.abs(e.validation.accuracy - a[i - 1].validation.accuracy) : null)).filter((v) => v !== null));
    out.push(`Each row above is one run (seed 1): over the last four epochs a run's test accuracy moves by up to ${num(100 * Math.max(...moves))} points from one`);
    out.push(`epoch to the next (median ${num(100 * moves.sort((a, b) => a - b)[moves.length >> 1])}; the epoch records of each run's metrics.jsonl), so a difference of a few`);
    out.push('tenths between two rows is within what the stopping point alone gives.');
    out.push('');
    out.push(...seedLines(row, section('row-seeds')));
    out.push('Commands:');
    out.push('');
    for (const r of row) out.push(`- ${r.name}: ${command(r)}`);
    out.push('');
  }

  const lm = section('lm');
  if (lm.length) {
    const bpc = (r) => num(r.summary.bpc, 3);
    out.push('## Character-level language model: Moby Dick');
    out.push('');
    out.push('`--task moby-dick`: one-hot characters in, the next character out at every step, truncated BPTT over');
    out.push('segments of 100 characters with the state carried from segment to segment (docs/math.md), 32 streams,');
    out.push('256 units, Adam 3·10⁻³, one epoch of the training text. Bits per character (bpc) on the test split');
    out.push('(lower is better); the characters\' unigram entropy is about 4.5 bits. One epoch (334 steps) is a short budget');
    out.push('(the task\'s preset trains three).');
    out.push('');
    out.push(sweepTable(lm, 'test bpc', bpc));
    out.push('');
    const verdict = sweepVerdict(lm, (base, r) => (100 * (r.summary.bpc - base.summary.bpc)) / base.summary.bpc, 2, '% bpc', bpc);
    out.push('Sparse-BPTT target: a setting with ≥ 50 % backward sparsity that costs at most 2 % bpc against s = 1 at the');
    out.push('same λ:');
    out.push('');
    out.push(...verdict.lines);
    out.push('');
    out.push('The moby-dick preset therefore keeps s = 1 and no regulariser (the best bpc); the row-mnist preset uses s = 3.6');
    out.push('with λ = 0.3, the row-MNIST setting that meets the target.');
    out.push('');
    out.push('Commands:');
    out.push('');
    for (const r of lm) out.push(`- ${r.name}: ${command(r)}`);
    out.push('');
  }

  for (const s of ['long']) {
    const runsOf = section(s);
    if (!runsOf.length) continue;
    out.push('## Pixel and permuted MNIST: bounded runs');
    out.push('');
    for (const r of runsOf) {
      out.push(`### ${r.name}: ${pct(r.summary.accuracy, 2)} test accuracy at ${pct(r.summary.activity_sparsity)} activity sparsity`);
      out.push('');
      out.push(
        `${modelName(r)}, ${r.summary.steps} optimiser steps (stopped: ${r.summary.stopped}) in ${num(r.summary.wall_seconds / 60, 1)} min (wall time: other work may have shared the machine, see above); accuracy on the first ${r.summary.samples} test sequences. ${command(r)}`,
      );
      const svg = curveSvg(r, (m) => m.accuracy, 'accuracy');
      if (svg) {
        mkdirSync(CURVES, { recursive: true });
        writeAtomic(join(CURVES, `${r.name}.svg`), svg);
        out.push('');
        out.push(`![learning curve of ${r.name}](results/${r.name}.svg)`);
      }
      out.push('');
    }
  }

  writeAtomic(PAGE, `${out.join('\n')}\n`);
  console.log(`wrote ${PAGE}${missing.length ? ` (${missing.length} runs not run yet)` : ''}`);
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'run') runAll(rest);
else if (cmd === 'time') await timeAll(rest);
else if (cmd === 'page') page(rest[0] === '--out' && rest[1] ? resolve(rest[1]) : undefined);
else fail('usage: node scripts/experiments.mjs run|time|page [NAME…]');
