/**
 * The text tasks (cli/data/text.ts): splits, vocabulary and unknown symbol, one-hot samples, the stream order of
 * truncated BPTT, bits per character; a stopped and resumed language-model run ends bit-identical to a straight one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTextTask, loadTask, TASKS } from '../cli/data/tasks.js';
import { buildCorpus, corpusText, encode, streamOrder, textSamples } from '../cli/data/text.js';
import { loadCheckpoint } from '../cli/io/checkpoint.js';
import { figures, LossMeter, zeroTotals } from '../cli/summary.js';
import { Batcher } from '../cli/train-loop.js';
import { paramList } from '../model/params.js';
import { Trainer } from '../runtime/coordinator.js';
import { runEgru } from './helpers/egru-cli.js';

describe('text corpus', () => {
  // 200 characters: 'ab' repeated, a rare 'z' (seen twice in the training part) and a 'Q' only after it
  const text = `${'ab'.repeat(40)}z${'ab'.repeat(49)}z${'ab'.repeat(5)}QQ${'ba'.repeat(4)}`;

  it('splits 90 / 5 / 5 % of the characters contiguously; the vocabulary comes from the training split', () => {
    expect(text.length).toBe(200);
    const c = buildCorpus(text, 2);
    expect(c.bounds).toEqual({ train: [0, 180], validation: [180, 190], test: [190, 200] });
    // unknown first, then the kept characters in code-point order; 'Q' (not in train) is not one
    expect(Array.from(c.vocabulary)).toEqual([-1, 'a'.codePointAt(0), 'b'.codePointAt(0), 'z'.codePointAt(0)]);
    const ids = encode(c, 0, 200);
    expect(ids[0]).toBe(1);
    expect(ids[80]).toBe(3); // 'z'
    expect(ids[190]).toBe(0); // 'Q': unknown
    // a character rarer than the minimum count reads as unknown too
    const strict = buildCorpus(text, 3);
    expect(Array.from(strict.vocabulary)).toEqual([-1, 97, 98]);
    expect(encode(strict, 80, 81)[0]).toBe(0);
  });

  it('counts characters as code points', () => {
    const c = buildCorpus('a😀b'.repeat(20), 1);
    expect(c.chars.length).toBe(60);
    expect(c.vocabulary).toContain('😀'.codePointAt(0));
  });

  it('sample i is the one-hot segment [i·T, i·T + T) with the next characters as targets', () => {
    const ids = Int32Array.from([1, 2, 3, 0, 2, 1, 3, 3]);
    const { n, write } = textSamples(ids, 3, 4);
    expect(n).toBe(2); // ⌊(8 − 1)/3⌋
    const x = new Float32Array(2 * 3 * 4).fill(9);
    const y = new Int32Array(6);
    write(1, x, 12, y, 3);
    expect(Array.from(x.subarray(12))).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0]); // ids 0, 2, 1
    expect(Array.from(y.subarray(3))).toEqual([2, 1, 3]);
    expect(() => write(2, x, 0, y, 0)).toThrow(/outside 0..1/);
  });

  it('the stream order covers the text in order: stream b reads its own contiguous stretch, segment after segment', () => {
    const n = 23;
    const B = 4;
    const order = streamOrder(n, B);
    const K = Math.floor(n / B);
    expect(order.length).toBe(K * B);
    expect(new Set(order).size).toBe(K * B); // each kept sample once
    for (let b = 0; b < B; b++) {
      const stream = Array.from({ length: K }, (_, k) => order[k * B + b]!);
      expect(stream).toEqual(Array.from({ length: K }, (_, k) => b * K + k));
    }
    // the streams together are the first K·B samples: the text up to the dropped tail
    expect(Math.max(...order)).toBe(K * B - 1);
  });
});

describe('the moby-dick and sotu tasks', () => {
  it.each(['moby-dick', 'sotu'] as const)('%s: vocabulary and split sizes as TASKS records them', (task) => {
    const c = buildCorpus(corpusText(task));
    const info = TASKS[task];
    expect(c.vocabulary.length).toBe(info.inputSize);
    expect(c.bounds.train[1] - c.bounds.train[0]).toBe(info.size.train);
    expect(c.bounds.test[1] - c.bounds.test[0]).toBe(info.size.test);
    expect(c.bounds.test[1]).toBe(c.chars.length);
    expect(isTextTask(task)).toBe(true);
  });

  it('loadTask: segments of the split made on demand, contiguous; MNIST has no validation split', () => {
    const ds = loadTask('moby-dick', 'validation', { steps: 50, limit: 1000 });
    expect([ds.n, ds.steps, ds.inputSize, ds.classes, ds.perStep, ds.contiguous]).toEqual([19, 50, 80, 80, true, true]);
    expect(ds.x.length).toBe(0);
    const x = new Float32Array(50 * 80);
    const y = new Int32Array(50);
    ds.source!(1, x, 0, y, 0);
    // every step one input item; the target of step t is the input of step t + 1
    for (let t = 0; t < 50; t++) expect(x.subarray(t * 80, (t + 1) * 80).reduce((s, v) => s + v, 0)).toBe(1);
    for (let t = 0; t < 49; t++) expect(x[(t + 1) * 80 + y[t]!]).toBe(1);
    expect(() => loadTask('row-mnist', 'validation')).toThrow(/unknown split 'validation' of task row-mnist \(train, test or holdout\)/);
  });
});

describe('bits per character', () => {
  it('is the mean cross-entropy / ln 2 (the activity penalty left out); perplexity its exp', () => {
    const m = new LossMeter();
    m.add({ loss: 2.5, crossEntropy: 2.0, correct: 3, count: 10 }, 2);
    m.add({ loss: 1.5, crossEntropy: 1.0, correct: 1, count: 30 }, 2);
    const ce = (2.0 * 10 + 1.0 * 30) / 40;
    expect(m.crossEntropy).toBeCloseTo(ce, 14);
    expect(m.bpc).toBeCloseTo(ce / Math.LN2, 14);
    const f = figures(zeroTotals(), m, { backward: false, perStep: true });
    expect(f.bpc).toBeCloseTo(ce / Math.LN2, 14);
    expect(f.perplexity).toBeCloseTo(Math.exp(ce), 12);
    expect(f.loss).toBeCloseTo((2.5 * 10 + 1.5 * 30) / 40, 14);
    expect(figures(zeroTotals(), m, { backward: false, perStep: false }).bpc).toBeUndefined();
  });
});

describe('a language-model run', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'egru-lm-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('--resume after --steps ends bit-identical to the straight run (the carried state is checkpointed)', async () => {
    // 2000 characters, segments of 20, 4 streams: 24 batches an epoch; 30 steps cross into epoch 2
    const common = ['--task', 'moby-dick', '--limit', '2000', '--val-limit', '300', '--seq-len', '20', '--hidden', '12', '--batch', '4',
      '--transport', 'inline', '--progress', 'none', '--no-report', '--lr', '0.01'];
    const [a, b] = [join(tmp, 'straight'), join(tmp, 'halves')];
    const [ra, rb] = await Promise.all([
      runEgru(['train', ...common, '--steps', '30', '--out', a], tmp),
      runEgru(['train', ...common, '--steps', '7', '--out', b], tmp),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const mid = loadCheckpoint(join(b, 'checkpoint.egru'));
    expect([mid.step, mid.epoch]).toEqual([7, 0]);
    expect((mid.rng as { carried: { shape: number[] }[] }).carried.map((t) => t.shape)).toEqual([[4, 12]]);
    const rc = await runEgru(['train', '--resume', b, '--steps', '30', '--progress', 'none', '--no-report'], tmp);
    expect(rc.code, rc.stderr).toBe(0);
    const [ca, cb] = [loadCheckpoint(join(a, 'checkpoint.egru')), loadCheckpoint(join(b, 'checkpoint.egru'))];
    expect([cb.step, cb.epoch]).toEqual([30, 1]);
    const [pa, pb] = [paramList(ca.params), paramList(cb.params)];
    pa.forEach((t, i) => expect(Buffer.from(t.buffer).equals(Buffer.from(pb[i]!.buffer)), `tensor ${i}`).toBe(true));
    expect(ra.stdout).toMatch(/bits per character/);
    expect(rc.stdout.match(/bits per character .*/)?.[0]).toBe(ra.stdout.match(/bits per character .*/)?.[0]);
  });

  it('egru train feeds the streams in order, carrying the state from batch to batch within an epoch', async () => {
    const out = join(tmp, 'order');
    const r = await runEgru(['train', '--task', 'moby-dick', '--limit', '400', '--val-limit', '100', '--seq-len', '10', '--hidden', '8', '--batch', '3',
      '--transport', 'inline', '--progress', 'none', '--no-report', '--steps', '16', '--out', out], tmp);
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.stepsPerEpoch).toBe(13); // ⌊⌊399/10⌋ / 3⌋
    // the same steps through the runtime API: stream order, carry within an epoch, reset at its start
    const replay = async (carry: boolean) => {
      const ds = loadTask('moby-dick', 'train', { steps: 10, limit: 400 });
      const trainer = await Trainer.create({ model: cfg.model, actors: cfg.actors, transport: 'inline', batch: 3, maxSteps: 10, optimizer: cfg.optimizer, clip: cfg.clip });
      try {
        const batcher = new Batcher(ds, 3);
        const order = streamOrder(ds.n, 3);
        for (let step = 0; step < 16; step++) {
          const k = step % 13;
          await trainer.train({ ...batcher.batch(order, 3 * k, 3 * k + 3), carry: carry && k > 0 });
        }
        return paramList(await trainer.getParams());
      } finally {
        await trainer.close();
      }
    };
    const got = paramList(loadCheckpoint(join(out, 'checkpoint.egru')).params);
    const same = (a: Float32Array[]) => a.every((t, i) => Buffer.from(t.buffer).equals(Buffer.from(got[i]!.buffer)));
    expect(same(await replay(true))).toBe(true);
    expect(same(await replay(false))).toBe(false);
  });
});
