/**
 * The benchmark harness itself (not its numbers): `--smoke` runs every case at tiny sizes with short machine
 * checks (seconds), so a change that breaks the suite fails here instead of in a 9-minute benchmark run. The
 * timings it measures are not checked: a busy machine changes them, not the harness. Runs the compiled suite
 * (dist/ is kept current by test/global-setup.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { markdown, type BenchResults } from '../bench/report.js';

const ENTRY = resolve(import.meta.dirname, '..', 'dist', 'bench', 'run.js');
const tmp = mkdtempSync(join(tmpdir(), 'egru-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [ENTRY, ...args], { encoding: 'utf8', timeout: 240_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

it('the benchmark suite runs all eight cases, prints its tables and writes its report', async () => {
  const out = join(tmp, 'smoke.json');
  const r = await runBench(['--smoke', '--no-peers', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  expect(existsSync(out)).toBe(true);
  const res = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  expect(res.mode).toBe('smoke');
  expect(res.machine.cores).toBeGreaterThan(0);
  expect(res.machine.node).toBe(process.version);
  expect(res.peers.tfjs.available).toBe(false);
  expect(res.cases.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  for (const c of res.cases) {
    expect(c.rows.length, c.title).toBeGreaterThan(0);
    expect(c.headline.target, c.title).toBeTruthy();
    expect(c.headline.measured, c.title).toBeTruthy();
    expect(c.setup, c.title).toBeTruthy();
    // the summary line of every case, and its table
    expect(r.stdout).toContain(`  ${c.id}. ${c.title}: target ${c.headline.target} → ${c.headline.measured}: `);
    expect(r.stdout).toContain(c.rows[0]!.what);
  }
  // the written report renders to the Markdown page (docs/benchmarks.md is made this way)
  const page = markdown(res);
  for (const c of res.cases) expect(page).toContain(c.title);
}, 300_000);

it('refuses a bad option in one line, exit 2', async () => {
  const r = await runBench(['--cases', '9']);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe('egru bench: --cases takes numbers 1..8, e.g. --cases 1,3');
});
