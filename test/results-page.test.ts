/**
 * docs/results.md is generated from the run files committed under experiments/runs/: every run the manifest
 * lists must have them in the checkout (a clean clone has only what is committed), and regenerating the page from
 * them must give the committed page, curves included — so no number on it can be typed by hand or go stale.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'experiments', 'experiments.json'), 'utf8')) as { runs: { name: string }[] };
const tmp = mkdtempSync(join(tmpdir(), 'egru-results-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('every run of experiments/experiments.json has its config, summary and metrics in the checkout', () => {
  expect(manifest.runs.length).toBeGreaterThan(0);
  const missing = manifest.runs.flatMap((r) =>
    ['config.json', 'summary.json', 'metrics.jsonl'].filter((f) => !existsSync(join(ROOT, 'experiments', 'runs', r.name, f))).map((f) => `${r.name}/${f}`),
  );
  expect(missing).toEqual([]);
});

it('regenerating docs/results.md from the run files gives the committed page and curves', () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'experiments.mjs'), 'page', '--out', tmp], { stdio: 'pipe' });
  expect(readFileSync(join(tmp, 'results.md'), 'utf8')).toBe(readFileSync(join(ROOT, 'docs', 'results.md'), 'utf8'));
  const curves = readdirSync(join(tmp, 'results')).sort();
  expect(curves.length).toBeGreaterThan(0);
  expect(curves).toEqual(readdirSync(join(ROOT, 'docs', 'results')).sort());
  for (const f of curves) expect(readFileSync(join(tmp, 'results', f), 'utf8'), f).toBe(readFileSync(join(ROOT, 'docs', 'results', f), 'utf8'));
});
