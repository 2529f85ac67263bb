/**
 * The benchmark harness itself (not its numbers): `--smoke` runs every case at tiny sizes, so a change that
 * breaks the suite fails here instead of in a 9-minute benchmark run. Runs the compiled suite (npm test builds).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

const ENTRY = resolve(import.meta.dirname, '..', 'dist', 'bench', 'run.js');

it('the benchmark suite runs all eight cases and reports machine, medians and targets', () => {
  expect(existsSync(ENTRY), 'run npm run build first').toBe(true);
  const out = execFileSync(process.execPath, [ENTRY, '--smoke', '--no-peers', '--json'], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] });
  const r = JSON.parse(out);
  expect(r.machine.cores).toBeGreaterThan(0);
  expect(r.machine.node).toBe(process.version);
  expect(r.cases.map((c: { id: number }) => c.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  for (const c of r.cases) {
    expect(c.rows.length).toBeGreaterThan(0);
    expect(c.headline).toBeTruthy();
  }
}, 150_000);
