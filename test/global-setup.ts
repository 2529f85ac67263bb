/**
 * Vitest global setup: worker threads, the CLI and the benchmark run the compiled dist/, while tests import the
 * sources. A dist/ older than any source would make "threads equal inline" compare two versions of the code, so
 * rebuild it here when it is stale (`npm test` has just built it: then this only checks).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
/** What tsconfig.build.json compiles. */
const SOURCE_DIRS = ['model', 'runtime', 'hardware', 'cli', 'bench'];
const EXCLUDED = new Set([join(ROOT, 'bench', 'peers')]);

function sourceFiles(dir: string): string[] {
  if (EXCLUDED.has(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The first source whose compiled file is missing or older than it, or null when dist/ is current. */
export function staleSource(): string | null {
  for (const src of SOURCE_DIRS.flatMap((d) => sourceFiles(join(ROOT, d)))) {
    const out = join(ROOT, 'dist', relative(ROOT, src)).replace(/\.ts$/, '.js');
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) return relative(ROOT, src);
  }
  return null;
}

export default function setup(): void {
  const stale = staleSource();
  if (stale === null) return;
  process.stderr.write(`dist/ is older than ${stale}: building (tsc -p tsconfig.build.json)\n`);
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const still = staleSource();
  if (still !== null) throw new Error(`dist/ is still older than ${still} after the build`);
}
