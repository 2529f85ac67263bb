/**
 * `egru report` and the report.html that `egru train` writes: self-contained (no network), every chart drawn in
 * a real browser (headless Chromium), the numbers on the page equal summary.json's; --csv; --no-report; a failing
 * report never fails training.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, loadPage, type LoadedPage } from './helpers/chromium.js';
import { runEgru, type Result } from './helpers/egru-cli.js';

const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const CHROMIUM = findChromium();
const TINY = ['--task', 'adding-class', '--seq-len', '12', '--hidden', '6', '--limit', '48', '--val-limit', '16', '--batch', '16', '--transport', 'inline', '--progress', 'none'];

let tmp: string;
/** Two actors (the layer split in two; the default, written out), so that messages go between them. */
let run: string;
let trained: Result;
/** A second run (a dense GRU, one actor) with a hardware estimate, and the report of both runs. */
let second: string;
let both: string;


function egru(args: string[]): Promise<Result> {
  return runEgru(args, tmp);
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const records = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'egru-report-'));
  run = join(tmp, 'run');
  trained = await egru(['train', ...TINY, '--actors', '2', '--epochs', '2', '--log-every', '1', '--eval-every', '2', '--out', run]);
  second = join(tmp, 'second');
  both = join(tmp, 'both.html');
  const t = await egru(['train', ...TINY, '--actors', '1', '--steps', '4', '--log-every', '2', '--model', 'gru', '--no-report', '--out', second]);
  const hw = await egru(['hardware', '--checkpoint', join(second, 'checkpoint.egru'), '--samples', '4', '--transport', 'inline', '--json']);
  if (t.code !== 0 || hw.code !== 0) throw new Error(`second run: ${t.stderr}${hw.stderr}`);
  writeFileSync(join(second, 'hardware.json'), hw.stdout);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('egru train writes report.html', () => {
  it('at the end of the run, and prints its path', () => {
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).toContain(`report: ${join(run, 'report.html')}`);
    expect(existsSync(join(run, 'report.html'))).toBe(true);
  });

  it('is self-contained: uPlot and the data inlined, nothing fetched', () => {
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<(script|img|iframe)[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?(https?:|\/\/)/i);
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!);
    expect(data.runs[0].summary).toEqual(json(join(run, 'summary.json')));
    expect(data.runs[0].metrics).toHaveLength(records(run).length);
  });

  it('summary.json holds the training traffic per actor pair; each step record the items per pair since the previous one', () => {
    const summary = json(join(run, 'summary.json'));
    const pairs = summary.train.pairs as Record<'forward' | 'backward', Record<'packets' | 'items' | 'bytes', number>>[][];
    expect(pairs.map((row) => row.length)).toEqual([2, 2]);
    for (const dir of ['forward', 'backward'] as const)
      for (const f of ['packets', 'items', 'bytes'] as const)
        expect(pairs.flat().reduce((sum, c) => sum + c[dir][f], 0), `${dir} ${f}`).toBe(summary.train.messages[dir][f]);
    const steps = records(run).filter((x) => x.kind === 'step');
    expect(steps.every((x) => x.actors === 2 && x.pairs_items.length === 8)).toBe(true);
    const logged = steps.reduce((sum: number[], x) => sum.map((v, k) => v + x.pairs_items[k]), new Array(8).fill(0));
    expect(logged).toEqual(pairs.flat().flatMap((c) => [c.forward.items, c.backward.items])); // --log-every 1: every step
    expect(records(second).some((x) => 'pairs_items' in x), 'one actor: no pairs_items').toBe(false);
  });

  it('summary.json holds the training events per unit: rates that add up to the training events, dead and always-on units', () => {
    const { train } = json(join(run, 'summary.json'));
    const [layer, ...more] = train.firing.layers as { units: number; steps: number; events: number; dead: number; always_on: number; rates: number[] }[];
    expect(more).toEqual([]);
    expect([layer!.units, layer!.rates.length, layer!.steps]).toEqual([6, 6, 6 * 16 * 12]); // 2 epochs of 3 batches of 16, 12 steps
    expect(layer!.events).toBe(train.events);
    expect(layer!.rates.reduce((s, r) => s + r * layer!.steps, 0)).toBeCloseTo(train.events, 6);
    expect(layer!.dead).toBe(layer!.rates.filter((r) => r === 0).length);
    expect(layer!.always_on).toBe(layer!.rates.filter((r) => r === 1).length);
    const gru = json(join(second, 'summary.json')).train.firing.layers[0];
    expect([gru.dead, gru.always_on, gru.rates]).toEqual([0, 6, [1, 1, 1, 1, 1, 1]]); // a dense GRU: every unit every step
  });

  it('--no-report skips it; a report that cannot be written is one warning line, and training still succeeds', async () => {
    const plain = join(tmp, 'plain');
    const r = await egru(['train', ...TINY, '--steps', '2', '--no-report', '--out', plain]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(plain, 'report.html'))).toBe(false);
    expect(r.stdout).not.toContain('report:');
    mkdirSync(join(plain, 'report.html')); // a directory where the file should go
    const c = await egru(['train', '--resume', plain, '--steps', '3', '--progress', 'none']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^egru: warning: report not written: .*report\.html.*directory/)]);
    expect(json(join(plain, 'summary.json')).steps).toBe(3);
  });
});

describe('egru report', () => {
  it('overlays several runs in one file; --csv writes one row per step record', async () => {
    const r = await egru(['report', run, second, '--out', both]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${both}\n`);
    const data = JSON.parse(/id="report-data">(.*?)<\/script>/s.exec(readFileSync(both, 'utf8'))![1]!);
    expect(data.runs.map((x: { name: string }) => x.name)).toEqual(['run', 'second']);
    expect(data.runs[1].hardware).toEqual(json(join(second, 'hardware.json')));

    const csv = await egru(['report', run, second, '--csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const [header, ...rows] = csv.stdout.trim().split('\n').map((l) => l.split(','));
    const steps = [...records(run), ...records(second)].filter((x) => x.kind === 'step');
    expect(rows).toHaveLength(steps.length);
    for (const [k, col] of ['step', 'loss', 'activity_sparsity', 'events', 'samples'].entries()) {
      const c = header!.indexOf(col);
      expect(c, `${col} (${k})`).toBeGreaterThan(0);
      expect(rows.map((row) => Number(row[c]))).toEqual(steps.map((x) => x[col]));
    }
    expect(rows.map((row) => row[0])).toEqual(steps.map((_, i) => (i < records(run).filter((x) => x.kind === 'step').length ? 'run' : 'second')));
  });

  it('--firing-rates: each unit’s events per step on validation samples, which add up to what egru eval counts', async () => {
    const r = await egru(['report', run, second, '--firing-rates', '16', '--out', both]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      `wrote ${join(run, 'firing.json')} (16 samples of adding-class (test))`,
      `wrote ${join(second, 'firing.json')} (16 samples of adding-class (test))`,
      `wrote ${both}`,
    ]);
    const firing = json(join(run, 'firing.json'));
    expect(firing).toMatchObject({ format: 'egru-firing-rates', samples: 16, steps: 12 });
    expect(firing.layers.map((l: { units: number; rates: number[] }) => [l.units, l.rates.length])).toEqual([[6, 6]]);
    const ev = await egru(['eval', '--checkpoint', join(run, 'checkpoint.egru'), '--limit', '16', '--transport', 'inline', '--progress', 'none', '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    const events = firing.layers[0].rates.reduce((a: number, x: number) => a + x, 0) * firing.steps * firing.samples;
    expect(events).toBeCloseTo(JSON.parse(ev.stdout).events, 9);
    expect(json(join(second, 'firing.json')).layers[0].rates).toEqual([1, 1, 1, 1, 1, 1]); // a dense GRU: every unit every step
  });

  it('bad input: one error line, exit 2', async () => {
    const r = await egru(['report', join(tmp, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^egru: error: .*nowhere: no such file or directory$/)]);
    const notRun = await egru(['report', tmp]);
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toMatch(/^egru: error: .*no metrics\.jsonl/);
  });
});

describe('report.html in a real browser (headless Chromium)', () => {
  // CI installs chromium (.ci/run): there a missing browser fails; elsewhere the test is skipped, visibly.
  it.skipIf(!CHROMIUM && !IN_CI)('draws every chart without a console message; the numbers shown are summary.json’s (needs chromium; skipped without it locally)', async () => {
    expect(CHROMIUM, 'CI is set but chromium does not run (apt-get install chromium)').not.toBeNull();
    const page = await loadPage(CHROMIUM!, join(run, 'report.html'));
    // loss, accuracy, loss against wall time, sparsity, events per sample, message items, message bytes, MACs,
    // the heatmap of the traffic between actors, the items between actors over training, the firing-rate histogram
    expectAllDrawn(page, 11);

    const summary = json(join(run, 'summary.json'));
    const cells = [...page.dom.matchAll(/<td data-run="0" data-set="(\w+)" data-figure="([^"]+)" data-value="([^"]*)">([^<]*)<\/td>/g)];
    const shown = new Map(cells.map(([, set, figure, value, text]) => [`${set} ${figure}`, { value: JSON.parse(decode(value!)), text: decode(text!) }]));
    const at = (o: unknown, path: string) => path.split('.').reduce((v: unknown, k) => (v as Record<string, unknown>)[k], o);
    for (const [set, figures] of [['final', summary], ['train', summary.train]] as const)
      for (const path of ['accuracy', 'loss', 'activity_sparsity', 'events', 'unit_steps', 'samples', 'messages.forward.items', 'messages.backward.bytes', 'messages.control.packets', 'macs.forward', 'macs.dense_backward']) {
        const cell = shown.get(`${set} ${path}`);
        expect(cell, `${set} ${path} is on the page`).toBeDefined();
        expect(cell!.value, `${set} ${path}`).toBe(at(figures, path));
      }
    for (const [key, cell] of shown) {
      const [set, path] = key.split(' ') as [string, string];
      expect(cell.value, key).toEqual(at(set === 'final' ? summary : summary.train, path) ?? null);
    }
    expect(shown.get('final accuracy')!.text).toBe(`${(100 * summary.accuracy).toFixed(2)} %`);
    expect(shown.get('train loss')!.text).toBe(summary.train.loss.toFixed(4));
    expect(shown.get('final steps')!.text).toBe(String(summary.steps));
    expect(shown.get('train events')!.text).toMatch(new RegExp(`^${summary.train.events.toLocaleString('en-US')} \\(`));
    // The firing-rate histogram of training: its dead and always-on units are summary.json's.
    expect(page.dom).not.toContain('id="firing-rates"'); // no note of missing counts
    expect(firingRows(page)).toEqual(summary.train.firing.layers.map((l: { units: number; dead: number; always_on: number }, layer: number) =>
      ({ run: 0, source: 'training', layer, cells: ['run', 'training', String(layer), String(l.units), String(l.dead), String(l.always_on)] })));

    // The traffic between actors: every cell of both heatmaps shows summary.json's count for its pair.
    expect(page.dom).toMatch(/<canvas class="heatmap" data-run="0"/);
    const pairs = summary.train.pairs as { forward: { items: number }; backward: { items: number } }[][];
    expect(pairs).toHaveLength(2);
    const expected = (['forward', 'backward'] as const).flatMap((dir) => [0, 1].flatMap((src) => [0, 1].map((dst) => ({ dir, src, dst, value: pairs[src]![dst]![dir].items }))));
    const heat = heatmapCells(page);
    expect(heat.map(({ dir, src, dst, value }) => ({ dir, src, dst, value }))).toEqual(expected);
    for (const c of heat) expect(c.text, `${c.dir} ${c.src}→${c.dst}`).toBe(c.value < 1e4 ? String(c.value) : `${(c.value / 1e3).toFixed(1)} k`);
    expect(heat.filter((c) => c.src !== c.dst).every((c) => c.value > 0), 'both actors send to each other').toBe(true);
  });

  it.skipIf(!CHROMIUM && !IN_CI)('two runs overlaid, with firing rates and the hardware estimate of one (needs chromium; skipped without it locally)', async () => {
    expect(CHROMIUM, 'CI is set but chromium does not run (apt-get install chromium)').not.toBeNull();
    expect(existsSync(both), 'made by the egru report test above').toBe(true);
    const page = await loadPage(CHROMIUM!, both);
    expectAllDrawn(page, 11); // the 10 charts of the 2-actor run and the firing-rate histogram of layer 0 (training and --firing-rates above)
    // Each run's histogram from training (summary.json) and from the replay (firing.json), with their dead and always-on units.
    const rows = firingRows(page).map((r) => [r.run, r.source, ...r.cells.slice(3)]);
    const replay = (dir: string) => json(join(dir, 'firing.json')).layers[0].rates as number[];
    const trained0 = json(join(run, 'summary.json')).train.firing.layers[0];
    const count = (rates: number[], v: number) => String(rates.filter((r) => r === v).length);
    expect(rows).toEqual([
      [0, 'training', '6', String(trained0.dead), String(trained0.always_on)],
      [0, 'replay', '6', count(replay(run), 0), count(replay(run), 1)],
      [1, 'training', '6', '0', '6'],
      [1, 'replay', '6', '0', '6'],
    ]);
    expect(page.dom).toContain('second: one actor: no inter-actor traffic');
    expect(heatmapCells(page)).toHaveLength(8); // the 2-actor run's only
    const hw = json(join(second, 'hardware.json'));
    expect(page.dom).toContain(`<th>second: ${hw.preset.name}</th>`);
    expect(page.dom).toMatch(/<table class="kv" id="hardware-table">.*energy saving/s);
    // every figure of the hardware table is filled in from hardware.json (a renamed field shows as '–')
    for (const row of ['packets / sample (event-driven)', 'packets / sample (dense)', 'of it static (event-driven)', 'late steps']) {
      const cell = new RegExp(`<th>${row.replace(/[()]/g, '\\$&')}</th><td>([^<]*)</td>`).exec(page.dom);
      expect(cell?.[1], row).toMatch(/\d/);
    }
    expect(page.dom).toContain(`<th>late steps</th><td>${hw.sparse.latency.lateSteps} of ${hw.sparse.latency.steps}</td>`);
    for (const name of ['run', 'second']) expect(page.dom).toContain(`<th>${name}: training</th>`);
  });
});

describe('report.html of an interrupted run in a real browser', () => {
  it.skipIf(!CHROMIUM && !IN_CI)('no summary.json and no epoch record yet: the curves still draw, the rest says what is missing (needs chromium; skipped without it locally)', async () => {
    expect(CHROMIUM, 'CI is set but chromium does not run (apt-get install chromium)').not.toBeNull();
    const early = join(tmp, 'early');
    mkdirSync(early);
    writeFileSync(join(early, 'config.json'), readFileSync(join(run, 'config.json')));
    const steps = records(run).filter((x) => x.kind === 'step' && x.epoch === 1);
    writeFileSync(join(early, 'metrics.jsonl'), [...steps, { kind: 'interrupted', step: steps.length, epoch: 1 }].map((x) => JSON.stringify(x) + '\n').join(''));
    const r = await egru(['report', early]);
    expect(r.code, r.stderr).toBe(0);
    const page = await loadPage(CHROMIUM!, join(early, 'report.html'));
    // loss, accuracy, loss against wall time, sparsity, events per sample; the traffic between actors from the step records
    expectAllDrawn(page, 7);
    const items = (dir: number, src: number, dst: number) => steps.reduce((sum, x) => sum + x.pairs_items[2 * (src * 2 + dst) + dir], 0);
    expect(heatmapCells(page).map((c) => [c.dir, c.src, c.dst, c.value])).toEqual(
      ['forward', 'backward'].flatMap((dir, k) => [0, 1].flatMap((src) => [0, 1].map((dst) => [dir, src, dst, items(k, src, dst)]))),
    );
    expect(page.dom).toContain('No summary.json (an interrupted run writes none): early');
    expect(page.dom).toMatch(/Firing-rate histograms per layer: no per-unit event counts for early \(/);
  });
});

describe('report.html of a language-model run in a real browser', () => {
  it.skipIf(!CHROMIUM && !IN_CI)('adds the bits-per-character curve; the summary shows bpc (needs chromium; skipped without it locally)', async () => {
    expect(CHROMIUM, 'CI is set but chromium does not run (apt-get install chromium)').not.toBeNull();
    const lm = join(tmp, 'lm');
    const t = await egru(['train', '--task', 'moby-dick', '--limit', '2000', '--val-limit', '500', '--seq-len', '20', '--hidden', '8', '--batch', '4',
      '--steps', '4', '--log-every', '1', '--eval-every', '2', '--transport', 'inline', '--progress', 'none', '--out', lm]);
    expect(t.code, t.stderr).toBe(0);
    const page = await loadPage(CHROMIUM!, join(lm, 'report.html'));
    expectAllDrawn(page, 12); // the 10 charts of a 2-actor run, the firing-rate histogram and bits per character
    const summary = json(join(lm, 'summary.json'));
    const cell = /<td data-run="0" data-set="final" data-figure="bpc" data-value="([^"]*)">/.exec(page.dom);
    expect(JSON.parse(decode(cell![1]!))).toBe(summary.bpc);
  });
});

/** The numbers drawn in the heatmap cells (the page writes each into the canvas's table as it draws it). */
function heatmapCells(page: LoadedPage): { dir: string; src: number; dst: number; value: number; text: string }[] {
  const cells = page.dom.matchAll(/<td data-dir="(\w+)" data-src="(\d+)" data-dst="(\d+)" data-value="([^"]*)">([^<]*)<\/td>/g);
  return [...cells].map(([, dir, src, dst, value, text]) => ({ dir: dir!, src: Number(src), dst: Number(dst), value: Number(value), text: decode(text!) }));
}

/** The rows of the table under the firing-rate histograms: run, source, layer and the cells' text. */
function firingRows(page: LoadedPage): { run: number; source: string; layer: number; cells: string[] }[] {
  const rows = page.dom.matchAll(/<tr data-run="(\d+)" data-source="(\w+)" data-layer="(\d+)">(.*?)<\/tr>/g);
  return [...rows].map(([, r, source, layer, tds]) => ({
    run: Number(r),
    source: source!,
    layer: Number(layer),
    cells: [...tds!.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => decode(m[1]!)),
  }));
}

/** The page's self-check: no console message or error, every chart has each of its series' colours drawn. */
function expectAllDrawn(page: LoadedPage, plots: number): void {
  expect(page.console).toEqual([]);
  const status = /<output id="report-status"([^>]*)>/.exec(page.dom)?.[1] ?? '';
  const attr = (name: string) => decode(new RegExp(`${name}="([^"]*)"`).exec(status)?.[1] ?? '');
  expect(attr('data-state'), page.dom.slice(-2000)).toBe('done');
  expect(JSON.parse(attr('data-errors'))).toEqual([]);
  expect(JSON.parse(attr('data-missing'))).toEqual([]);
  expect(Number(attr('data-plots'))).toBe(plots);
  expect(attr('data-drawn')).toBe(attr('data-plots'));
}

function decode(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}
