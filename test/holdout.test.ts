/**
 * `egru train --holdout N`: the MNIST tasks validate on the last N training images, which are never trained on;
 * early stopping and checkpoint-best.egru select on them, the final figures are the test split's, and --config and
 * --resume repeat the run exactly. Tiny row-MNIST runs through the real entry point.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, readIdx } from '../cli/data/idx.js';
import { mnistFiles } from '../cli/data/mnist.js';
import { loadTask, type Dataset } from '../cli/data/tasks.js';
import { loadCheckpoint } from '../cli/io/checkpoint.js';
import { encodeNpz } from '../cli/io/npz.js';
import { paramList } from '../model/params.js';
import { inputError } from './helpers/input-error.js';
import { expectOk, expectOneLineError, runEgru } from './helpers/egru-cli.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'egru-holdout-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const egru = (args: string[], env: Record<string, string> = {}) => runEgru(args, tmp, env);
const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
interface MetricRecord {
  kind: string;
  step: number;
  split?: string;
  accuracy: number;
  loss: number;
  samples: number;
  validation?: { accuracy: number; loss: number; samples: number };
}
const metrics = (dir: string): MetricRecord[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));


const bytesOf = (t: Float32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
function expectSameWeights(a: string, b: string): void {
  const [pa, pb] = [paramList(loadCheckpoint(a).params), paramList(loadCheckpoint(b).params)];
  expect(pa).toHaveLength(pb.length);
  pa.forEach((t, i) => expect(Buffer.compare(bytesOf(t), bytesOf(pb[i]!)), `tensor ${i} of ${a} vs ${b}`).toBe(0));
}

/** The MNIST training images and labels as the IDX files hold them. */
function rawTrain(): { images: Uint8Array; labels: Uint8Array } {
  const files = mnistFiles('train');
  return { images: readIdx(files.images, IDX_IMAGES_MAGIC).data, labels: readIdx(files.labels, IDX_LABELS_MAGIC).data };
}

/** Images `from` … `from + count − 1` of the dataset as the bytes they were made from (pixel / 255). */
const imageBytes = (ds: Dataset, from: number, count = 1) => Uint8Array.from(ds.x.subarray(from * 784, (from + count) * 784), (v) => Math.round(v * 255));

describe('the holdout split of the MNIST tasks', () => {
  const P = 784;

  it('holds the last N of the 60000 training images, and train leaves exactly those out, whatever --limit', () => {
    const raw = rawTrain();
    const N = 300;
    const held = loadTask('row-mnist', 'holdout', { holdout: N });
    expect(held.n).toBe(N);
    expect(Buffer.compare(imageBytes(held, 0, N), raw.images.subarray((60000 - N) * P))).toBe(0);
    expect(Array.from(held.y)).toEqual(Array.from(raw.labels.subarray(60000 - N)));
    // all of train: the first 60000 − N images, so no index the training sampler can draw is a held-out image
    const train = loadTask('row-mnist', 'train', { holdout: N });
    expect(train.n).toBe(60000 - N);
    for (const i of [0, 1, 60000 - N - 1]) expect(Buffer.compare(imageBytes(train, i), raw.images.subarray(i * P, (i + 1) * P)), `image ${i}`).toBe(0);
    expect(loadTask('row-mnist', 'train', { holdout: N, limit: 60000 }).n).toBe(60000 - N); // --limit cannot reach them
    expect(loadTask('row-mnist', 'train', { holdout: N, limit: 10 }).n).toBe(10);
    // --val-limit: the first of the held-out images; the same images for perm-mnist, reordered
    const few = loadTask('row-mnist', 'holdout', { holdout: N, limit: 5 });
    expect(Buffer.compare(imageBytes(few, 0, 5), raw.images.subarray((60000 - N) * P, (60000 - N + 5) * P))).toBe(0);
    expect(loadTask('row-mnist', 'holdout', { holdout: N, limit: 1000 }).n).toBe(N);
    const perm = loadTask('perm-mnist', 'holdout', { holdout: 2 });
    const pix = loadTask('pixel-mnist', 'holdout', { holdout: 2 });
    expect(Array.from(perm.x).sort()).toEqual(Array.from(pix.x).sort());
  });

  it('bad holdout values and tasks without a holdout split: one InputError line', () => {
    expect(inputError(() => loadTask('row-mnist', 'train', { holdout: 60000 }))).toMatch(/--holdout must be an integer from 0 to 59999 \(row-mnist has 60000 training images/);
    expect(inputError(() => loadTask('row-mnist', 'train', { holdout: -1 }))).toMatch(/--holdout must be an integer from 0 to 59999/);
    expect(inputError(() => loadTask('row-mnist', 'train', { holdout: 2.5 }))).toMatch(/got 2\.5/);
    expect(inputError(() => loadTask('row-mnist', 'holdout'))).toMatch(/holdout split needs holdout ≥ 1/);
    expect(inputError(() => loadTask('adding-class', 'train', { holdout: 5 }))).toMatch(/--holdout applies to the MNIST tasks .*adding-class has no held-out split/);
    expect(inputError(() => loadTask('adding-class', 'holdout'))).toMatch(/unknown split 'holdout' of task adding-class \(train or test\)/);
  });
});

// 48 training images in batches of 16: 3 steps per epoch; 16 validation images (held out), 16 test images.
const TINY = ['--task', 'row-mnist', '--hidden', '4', '--limit', '48', '--val-limit', '16', '--holdout', '200', '--batch', '16', '--transport', 'inline', '--progress', 'none', '--no-report'];

/** The first `n` held-out images of `--holdout 200` as an .npz for `egru eval --data`. */
function heldOutNpz(n: number): string {
  const ds = loadTask('row-mnist', 'holdout', { holdout: 200, limit: n });
  const file = join(tmp, `held-out-${n}.npz`);
  writeFileSync(file, encodeNpz({ x: { dtype: '<f4', shape: [ds.n, 28, 28], data: ds.x }, y: { dtype: '<i4', shape: [ds.n], data: ds.y } }));
  return file;
}

async function evalJson(args: string[]): Promise<{ loss: number; accuracy: number; samples: number }> {
  const r = await egru(['eval', ...args, '--batch', '16', '--transport', 'inline', '--json']);
  expectOk(r);
  return JSON.parse(r.stdout);
}

describe('egru train --holdout', () => {
  const run = () => join(tmp, 'held');
  // 96 training images, 32 held out for validation (and 32 test images): the held-out accuracy rises once (step 6),
  // then stays, so --early-stop 3 stops at step 12
  const args = [...TINY, '--hidden', '8', '--limit', '96', '--val-limit', '32', '--steps', '24', '--eval-every', '2', '--lr', '0.05', '--early-stop', '3'];

  it('validates on the held-out images (progress, metrics, early stop, best checkpoint); the final figures are the test split', async () => {
    const r = await egru(['train', ...args, '--out', run()]);
    expectOk(r);
    expect(r.stderr).not.toMatch(/note: --early-stop/);
    const cfg = json(run(), 'config.json');
    expect(cfg).toMatchObject({ task: 'row-mnist', holdout: 200, limit: 96, valLimit: 32, trainSamples: 96, valSamples: 32 });
    const s = json(run(), 'summary.json');
    expect(s).toMatchObject({ figures_from: 'test', validation_split: 'holdout', samples: 32, validation: { samples: 32 }, stopped: 'early-stop' });
    // every validation record, and the final one, are the held-out images: egru eval of the same weights on them agrees
    const held = heldOutNpz(32);
    const finalRecord = metrics(run()).find((m) => m.kind === 'final')!;
    const onHeld = await evalJson(['--checkpoint', join(run(), 'checkpoint.egru'), '--data', held]);
    expect(finalRecord.loss).toBeCloseTo(onHeld.loss, 6);
    expect(s.validation.loss).toBeCloseTo(onHeld.loss, 6);
    // the top-level figures are the test split's (its first --val-limit images), recorded as a `test` record
    const onTest = await evalJson(['--checkpoint', join(run(), 'checkpoint.egru'), '--task', 'row-mnist', '--limit', '32']);
    expect(s.loss).toBeCloseTo(onTest.loss, 6);
    expect(metrics(run()).find((m) => m.kind === 'test')).toMatchObject({ split: 'test', samples: 32, loss: s.loss });
    // the best checkpoint is the best held-out validation, and early stopping counted held-out validations
    // (an `eval` record every 2 steps but at an epoch's end, whose validation is in its `epoch` record)
    const evals = metrics(run()).flatMap((m) => (m.kind === 'eval' || m.kind === 'final' ? [m] : m.kind === 'epoch' ? [{ ...m.validation!, step: m.step }] : []));
    expect(evals.every((m) => m.samples === 32)).toBe(true);
    const best = Math.max(...evals.map((m) => m.accuracy));
    expect(s.best).toMatchObject({ metric: 'accuracy', value: best, step: evals.find((m) => m.accuracy === best)!.step });
    expect([s.best.step, s.steps]).toEqual([6, 12]);
    const bestOnHeld = await evalJson(['--checkpoint', join(run(), 'checkpoint-best.egru'), '--data', held]);
    expect(bestOnHeld.accuracy).toBe(best);
    expect(bestOnHeld.loss).toBeCloseTo(evals.find((m) => m.step === s.best.step)!.loss, 6);
    expect(s.stop_reason).toMatch(/validation accuracy did not improve for 3 validations \(best 12\.50 % at step 6\)/);
    expect(r.stdout).toMatch(/validation \(held out\)\s+test/);
  });

  it('--config repeats it bit-identically; a crashed and resumed run equals the uninterrupted one', async () => {
    const again = join(tmp, 'held-again');
    expectOk(await egru(['train', '--config', join(run(), 'config.json'), '--out', again, '--progress', 'none', '--no-report']));
    expect(json(again, 'config.json').holdout).toBe(200);
    for (const f of ['checkpoint.egru', 'checkpoint-best.egru']) expectSameWeights(join(run(), f), join(again, f));

    const plain = join(tmp, 'held-long');
    const long = [...TINY, '--steps', '9', '--eval-every', '2', '--save-every', '4'];
    expectOk(await egru(['train', ...long, '--out', plain]));
    const crashed = join(tmp, 'held-crashed');
    // inline jobs: 3 train steps + 1 validation per epoch, and a validation every 2 steps: job 8 is step 6
    const crash = await egru(['train', ...long, '--out', crashed], { EGRU_INJECT_FAULT: '0:8:0:throw' });
    expect(crash.code, crash.stderr).toBe(1);
    expect(loadCheckpoint(join(crashed, 'checkpoint.egru')).step).toBe(4);
    expectOk(await egru(['train', '--resume', crashed, '--progress', 'none', '--no-report']));
    for (const f of ['checkpoint.egru', 'checkpoint-best.egru']) expectSameWeights(join(plain, f), join(crashed, f));
    const [sa, sb] = [json(plain, 'summary.json'), json(crashed, 'summary.json')];
    for (const k of ['best', 'accuracy', 'loss', 'validation', 'figures_from', 'validation_split']) expect(sb[k], k).toEqual(sa[k]);
    expect(json(crashed, 'config.json').holdout).toBe(200);
    expectOneLineError(await egru(['train', '--resume', crashed, '--holdout', '10']), /--holdout cannot be given with --resume/);
  });

  it('bad --holdout: one line, exit 2, nothing written', async () => {
    const never = join(tmp, 'never');
    const bad: [string[], RegExp][] = [
      [['--holdout', '-5'], /--holdout <N>' argument '-5' is invalid\. expected an integer ≥ 0/],
      [['--holdout', '1.5'], /--holdout <N>' argument '1\.5' is invalid\. expected an integer/],
      [['--holdout', 'ten'], /--holdout <N>' argument 'ten' is invalid/],
      [['--holdout', '60000'], /--holdout must be an integer from 0 to 59999 \(row-mnist has 60000 training images/],
      [['--task', 'moby-dick', '--holdout', '10'], /--holdout applies to the MNIST tasks \(row-mnist, pixel-mnist, perm-mnist\): moby-dick validates on its own validation split/],
      [['--task', 'adding-class', '--holdout', '10'], /--holdout applies to the MNIST tasks .*: adding-class has no held-out split/],
      [['--data', join(tmp, 'x.npz'), '--holdout', '10'], /--holdout applies to the MNIST tasks .*: with --data, give the validation sequences with --val/],
    ];
    for (const [opts, msg] of bad) expectOneLineError(await egru(['train', ...opts, '--steps', '1', '--out', never]), msg);
    const cfg = json(run(), 'config.json');
    for (const [holdout, msg] of [
      [0, /holdout must be an integer ≥ 1 or null, got 0/],
      [60000, /--holdout must be an integer from 0 to 59999/],
      ['9', /holdout must be an integer ≥ 1 or null, got "9"/],
    ] as const) {
      const file = join(tmp, `bad-holdout-${holdout}.json`);
      writeFileSync(file, JSON.stringify({ ...cfg, holdout }));
      expectOneLineError(await egru(['train', '--config', file, '--out', never]), msg);
    }
  });

  it('--early-stop on an MNIST task without --holdout: a note that it selects on the test split; runs made before --holdout still read', async () => {
    const out = join(tmp, 'on-test');
    const noHoldout = TINY.filter((a, i) => a !== '--holdout' && TINY[i - 1] !== '--holdout');
    const r = await egru(['train', ...noHoldout, '--steps', '2', '--early-stop', '2', '--out', out]);
    expectOk(r);
    expect(r.stderr).toMatch(/^egru: note: --early-stop on row-mnist without --holdout validates on the test split: .*give --holdout N/m);
    expect(json(out, 'config.json').holdout).toBeNull();
    expect(json(out, 'summary.json')).toMatchObject({ figures_from: 'validation', validation_split: 'test', samples: 16 });
    expect(json(out, 'summary.json').validation).toBeUndefined();
    // a config.json written before --holdout (no field) repeats as a run on the test split
    const old = json(out, 'config.json');
    delete old.holdout;
    const file = join(tmp, 'old-config.json');
    writeFileSync(file, JSON.stringify(old));
    const again = join(tmp, 'on-test-again');
    expectOk(await egru(['train', '--config', file, '--out', again, '--progress', 'none', '--no-report']));
    expectSameWeights(join(out, 'checkpoint.egru'), join(again, 'checkpoint.egru'));
  });
});
