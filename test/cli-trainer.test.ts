/**
 * What a reproduction needs from `egru train`: learning-rate schedules, --early-stop, checkpoint-best.egru,
 * --config (repeat a run) and --resume carrying all of them on. Through the real entry point, on tiny runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../cli/io/checkpoint.js';
import { encodeNpz } from '../cli/io/npz.js';
import { learningRateAt } from '../model/lr-schedule.js';
import { paramList } from '../model/params.js';
import { expectOk, expectOneLineError, runEgru } from './helpers/egru-cli.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'egru-trainer-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const egru = (args: string[], env: Record<string, string> = {}) => runEgru(args, tmp, env);


// 48 training sequences in batches of 16: 3 steps per epoch; 16 validation sequences.
const TINY = ['--task', 'adding-class', '--seq-len', '12', '--hidden', '6', '--limit', '48', '--val-limit', '16', '--batch', '16', '--transport', 'inline', '--progress', 'none'];

const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
interface MetricRecord {
  kind: string;
  step: number;
  accuracy?: number;
  lr?: number;
  validation?: { accuracy: number } | null;
}
const metrics = (dir: string): MetricRecord[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const bytesOf = (t: Float32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
function expectSameWeights(a: string, b: string): void {
  const [pa, pb] = [paramList(loadCheckpoint(a).params), paramList(loadCheckpoint(b).params)];
  expect(pa).toHaveLength(pb.length);
  pa.forEach((t, i) => expect(Buffer.compare(bytesOf(t), bytesOf(pb[i]!)), `tensor ${i} of ${a} vs ${b}`).toBe(0));
}

/**
 * N sequences of 5 steps × 3 uniform inputs, the input named by the label raised by 0.2 at every step: a plateau at
 * the majority class first, then a few improvements and a decline at --lr 0.02 (what --early-stop has to judge).
 */
function writeSynthetic(file: string, N: number, seed: number): string {
  let s = seed;
  const rand = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const y = Int32Array.from({ length: N }, () => Math.floor(rand() * 3));
  const x = Float32Array.from({ length: N * 15 }, (_, k) => rand() + (k % 3 === y[Math.floor(k / 15)] ? 0.2 : 0));
  const p = join(tmp, file);
  writeFileSync(p, encodeNpz({ x: { dtype: '<f4', shape: [N, 5, 3], data: x }, y: { dtype: '<i4', shape: [N], data: y } }));
  return p;
}

/** The validations of a run in order: [step, accuracy] from its eval and epoch records. */
function validations(dir: string): [number, number][] {
  const out: [number, number][] = [];
  for (const r of metrics(dir)) {
    if (r.kind === 'eval') out.push([r.step, r.accuracy!]);
    if (r.kind === 'epoch' && r.validation) out.push([r.step, r.validation.accuracy]);
  }
  return out.sort((x, y) => x[0] - y[0]);
}

describe('egru train: learning-rate schedules', () => {
  it('step records and the progress carry the scheduled rate; config.json records the schedule', async () => {
    const out = join(tmp, 'cosine');
    const r = await egru(['train', ...TINY, '--steps', '6', '--lr', '0.01', '--lr-schedule', 'cosine', '--warmup', '2', '--lr-min', '0.001', '--log-every', '1', '--out', out]);
    expectOk(r);
    const schedule = { kind: 'cosine', warmup: 2, lrMin: 0.001, steps: 6 } as const;
    expect(json(out, 'config.json').optimizer).toEqual({ kind: 'adam', lr: 0.01, weightDecay: 0, schedule });
    const lrs = metrics(out).filter((m) => m.kind === 'step').map((m) => m.lr);
    expect(lrs).toEqual([0, 1, 2, 3, 4, 5].map((k) => learningRateAt(0.01, schedule, k)));
    expect(lrs.slice(0, 3)).toEqual([0.005, 0.01, 0.01]);
    const plain = await egru(['train', ...TINY, '--steps', '2', '--progress', 'plain', '--lr', '0.004', '--out', join(tmp, 'plain-lr')]);
    expectOk(plain);
    expect(json(join(tmp, 'plain-lr'), 'config.json').optimizer.schedule).toEqual({ kind: 'constant', warmup: 0 });
  });

  it('bad schedule values: one line, exit 2, nothing written', async () => {
    const bad: [string[], RegExp][] = [
      [['--warmup', '-1'], /--warmup <steps>' argument '-1' is invalid\. expected an integer ≥ 0/],
      [['--lr-schedule', 'linear'], /--lr-schedule <kind>' argument 'linear' is invalid\. choose one of constant, cosine, step/],
      [['--lr-schedule', 'cosine', '--lr', '0.01', '--lr-min', '0.1'], /--lr-min 0\.1 is above the learning rate 0\.01/],
      [['--lr-schedule', 'step'], /--lr-schedule step needs --lr-step-every N/],
      [['--lr-schedule', 'cosine', '--lr-gamma', '0.5'], /--lr-gamma applies to --lr-schedule step only/],
      [['--lr-min', '0.0001'], /--lr-min applies to --lr-schedule cosine or step only/],
      [['--lr-schedule', 'step', '--lr-step-every', '2', '--lr-gamma', '1.5'], /--lr-gamma <g>' argument '1\.5' is invalid\. expected a number ≤ 1/],
      [['--early-stop', '-2'], /--early-stop <patience>' argument '-2' is invalid/],
    ];
    for (const [args, msg] of bad) expectOneLineError(await egru(['train', ...TINY, '--steps', '2', ...args, '--out', join(tmp, 'never')]), msg);
    expectOneLineError(await egru(['train', '--resume', join(tmp, 'cosine'), '--lr-schedule', 'step']), /--lr-schedule cannot be given with --resume/);
  });
});

describe('egru train: --early-stop and the best checkpoint', () => {
  const out = () => join(tmp, 'early');
  let args: string[];

  it('stops at the validation that makes PATIENCE without improvement; the summary says why', async () => {
    const [train, val] = [writeSynthetic('train.npz', 96, 1), writeSynthetic('val.npz', 32, 2)];
    args = ['--data', train, '--val', val, '--hidden', '8', '--batch', '16', '--transport', 'inline', '--progress', 'none', '--steps', '100', '--eval-every', '2', '--lr', '0.02', '--early-stop', '5'];
    expectOk(await egru(['train', ...args, '--out', out()]));
    const vals = validations(out());
    // the expected stop, recomputed from the logged validations: the first with 5 non-improving ones after the best
    let best = -1;
    let since = 0;
    let stopAt = -1;
    let bestStep = -1;
    let improvements = 0;
    for (const [step, acc] of vals) {
      if (acc > best) [best, bestStep, since, improvements] = [acc, step, 0, improvements + 1];
      else since++;
      if (since === 5) {
        stopAt = step;
        break;
      }
    }
    expect(stopAt, `validations ${JSON.stringify(vals)}`).toBeGreaterThan(0);
    expect(improvements, 'the run improves several times before it stops (else this test shows little)').toBeGreaterThanOrEqual(4);
    expect(bestStep).toBeGreaterThan(vals[0]![0]);
    expect(vals.at(-1)![0]).toBe(stopAt); // no validation after the stop
    const s = json(out(), 'summary.json');
    expect(s).toMatchObject({ stopped: 'early-stop', steps: stopAt, best: { step: bestStep, metric: 'accuracy', value: best, checkpoint: 'checkpoint-best.egru' } });
    expect(s.stop_reason).toMatch(new RegExp(`^--early-stop 5: validation accuracy did not improve for 5 validations \\(best [\\d.]+ % at step ${bestStep}\\)$`));
    expect(loadCheckpoint(join(out(), 'checkpoint.egru')).step).toBe(stopAt);
  });

  it('checkpoint-best.egru holds the weights of the best validation; egru eval reads it', async () => {
    const s = json(out(), 'summary.json');
    const best = join(out(), 'checkpoint-best.egru');
    expect(loadCheckpoint(best).step).toBe(s.best.step);
    // the same run stopped at the best step has exactly these weights
    const short = join(tmp, 'early-short');
    expectOk(await egru(['train', ...args.filter((a, i) => a !== '--early-stop' && args[i - 1] !== '--early-stop'), '--steps', String(s.best.step), '--out', short]));
    expectSameWeights(best, join(short, 'checkpoint.egru'));
    const e = await egru(['eval', '--checkpoint', best, '--data', args[3]!, '--json', '--transport', 'inline', '--progress', 'none']);
    expectOk(e);
    expect(JSON.parse(e.stdout).accuracy).toBe(s.best.value);
  });

  it('a resumed run that had stopped early stops again at once; --early-stop 0 lets it go on', async () => {
    const s = json(out(), 'summary.json');
    expectOk(await egru(['train', '--resume', out(), '--progress', 'none']));
    expect(json(out(), 'summary.json')).toMatchObject({ stopped: 'early-stop', steps: s.steps });
    expectOk(await egru(['train', '--resume', out(), '--early-stop', '0', '--steps', String(s.steps + 2), '--progress', 'none']));
    expect(json(out(), 'summary.json')).toMatchObject({ stopped: 'completed', steps: s.steps + 2 });
  });

  it('--early-stop needs validation data', async () => {
    const x = writeSynthetic('lonely.npz', 8, 3);
    expectOneLineError(await egru(['train', '--data', x, '--early-stop', '2', '--transport', 'inline', '--out', join(tmp, 'never')]), /--early-stop needs validation data/);
  });
});

describe('egru train --config and --resume repeat a run exactly', () => {
  const a = () => join(tmp, 'original');
  const original = [...TINY, '--steps', '9', '--eval-every', '2', '--optimizer', 'sgd', '--momentum', '0.5', '--lr', '0.2', '--dropout', '0.2'];
  const schedule = ['--lr-schedule', 'step', '--warmup', '2', '--lr-step-every', '3', '--lr-gamma', '0.5', '--early-stop', '4'];

  it('--config runs/A/config.json gives bit-identical weights; options given win over the file', async () => {
    expectOk(await egru(['train', ...original, ...schedule, '--out', a()]));
    const b = join(tmp, 'again');
    expectOk(await egru(['train', '--config', join(a(), 'config.json'), '--out', b, '--progress', 'none']));
    expectSameWeights(join(a(), 'checkpoint.egru'), join(b, 'checkpoint.egru'));
    expectSameWeights(join(a(), 'checkpoint-best.egru'), join(b, 'checkpoint-best.egru'));
    const [ca, cb] = [json(a(), 'config.json'), json(b, 'config.json')];
    for (const c of [ca, cb]) delete c.preset;
    expect(cb).toEqual(ca);
    // given options win; --steps also gives the run length (the file's steps give way)
    const c = join(tmp, 'changed');
    expectOk(await egru(['train', '--config', join(a(), 'config.json'), '--lr', '0.1', '--epochs', '1', '--out', c, '--progress', 'none']));
    expect(json(c, 'config.json')).toMatchObject({ steps: null, epochs: 1, totalSteps: 3, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } });
    // --optimizer adam leaves the file's sgd momentum behind; --lr-schedule cosine its step schedule's fields
    const d = join(tmp, 'changed-optimizer');
    expectOk(await egru(['train', '--config', join(a(), 'config.json'), '--optimizer', 'adam', '--lr-schedule', 'cosine', '--steps', '2', '--out', d, '--progress', 'none']));
    expect(json(d, 'config.json').optimizer).toEqual({ kind: 'adam', lr: 0.2, weightDecay: 0, schedule: { kind: 'cosine', warmup: 2, lrMin: 0, steps: 2 } });
  });

  it('unknown or malformed fields in the file: one line naming the field, exit 2', async () => {
    const cfg = json(a(), 'config.json');
    const write = (name: string, doc: unknown) => {
      const p = join(tmp, name);
      writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
      return p;
    };
    const bad: [unknown, RegExp][] = [
      [{ ...cfg, lrr: 0.1 }, /: lrr is not a known field \(known: command, version, task/],
      [{ ...cfg, optimizer: { ...cfg.optimizer, schedule: { ...cfg.optimizer.schedule, gama: 0.5 } } }, /: optimizer\.schedule\.gama is not a known field \(known: kind, warmup, lrMin, every, gamma\)/],
      [{ ...cfg, batch: '16' }, /: batch must be an integer ≥ 1, got "16"/],
      [{ ...cfg, optimizer: { ...cfg.optimizer, schedule: { kind: 'linear', warmup: 0 } } }, /: optimizer\.schedule\.kind must be "constant", "cosine" or "step", got "linear"/],
      [{ ...cfg, optimizer: { ...cfg.optimizer, schedule: { ...cfg.optimizer.schedule, warmup: -1 } } }, /: optimizer\.schedule\.warmup must be an integer ≥ 0, got -1/],
      [{ ...cfg, optimizer: { ...cfg.optimizer, schedule: { ...cfg.optimizer.schedule, lrMin: 1 } } }, /: optimizer\.schedule is invalid: the minimum learning rate 1 is above the learning rate 0\.2/],
      [{ ...cfg, earlyStop: 0 }, /: earlyStop must be an integer ≥ 1 or null, got 0/],
      ['{"command": "train",', /: not valid JSON/],
      [[1, 2], /: config must be an object, got a list/],
    ];
    for (const [k, [doc, msg]] of bad.entries()) {
      const file = write(`bad-${k}.json`, doc);
      expectOneLineError(await egru(['train', '--config', file, '--out', join(tmp, 'never')]), new RegExp(`^egru: error: --config ${file.replace(/[.]/g, '\\.')}${msg.source}`));
    }
    expectOneLineError(await egru(['train', '--config', join(tmp, 'missing.json')]), /--config .*missing\.json: /);
    expectOneLineError(await egru(['train', '--resume', a(), '--config', join(a(), 'config.json')]), /--config cannot be given with --resume/);
  });

  it('a run that failed mid-way and was resumed equals the uninterrupted one: weights, schedule, best checkpoint, early-stop state', async () => {
    const b = join(tmp, 'crashed');
    // inline jobs: 3 train steps + 1 validation per epoch, and a validation every 2 steps: job 8 is step 6
    const crash = await egru(['train', ...original, ...schedule, '--save-every', '4', '--out', b], { EGRU_INJECT_FAULT: '0:8:0:throw' });
    expect(crash.code, crash.stderr).toBe(1);
    expect(loadCheckpoint(join(b, 'checkpoint.egru')).step).toBe(4);
    expectOk(await egru(['train', '--resume', b, '--progress', 'none']));
    for (const f of ['checkpoint.egru', 'checkpoint-best.egru']) expectSameWeights(join(a(), f), join(b, f));
    const [ka, kb] = [loadCheckpoint(join(a(), 'checkpoint.egru')), loadCheckpoint(join(b, 'checkpoint.egru'))];
    expect(kb.meta!.best).toEqual(ka.meta!.best);
    ka.optimizer!.m.forEach((t, i) => expect(Buffer.compare(bytesOf(t), bytesOf(kb.optimizer!.m[i]!))).toBe(0));
    const [sa, sb] = [json(a(), 'summary.json'), json(b, 'summary.json')];
    for (const k of ['stopped', 'stop_reason', 'steps', 'best', 'accuracy', 'loss']) expect(sb[k], k).toEqual(sa[k]);
    const lrOf = (d: string) => metrics(d).filter((m) => m.kind === 'step').map((m) => [m.step, m.lr]);
    expect(lrOf(b)).toEqual(lrOf(a()));
  });
});
