/** Runs the `egru` command line through its real entry point (bin/egru.js, which runs dist/), as a user would. */
import { type ChildProcess, execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

export const BIN = join(resolve(import.meta.dirname, '..', '..'), 'bin', 'egru.js');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `egru ARGS` in `cwd`, with `env` added to this process's environment; 60 s at most. */
export function runEgru(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Bad input: exit 2 and one line on stderr, `egru: error: …`, matching `pattern`. */
export function expectOneLineError(r: Result, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  expect(r.code, r.stderr).toBe(2);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^egru: error: /);
  expect(lines[0]).toMatch(pattern);
}

/** A command that must succeed (its stderr shown if it did not). */
export function expectOk(r: Result): void {
  expect(r.code, r.stderr).toBe(0);
}

/** Resolves once an `egru actor-host` child (stderr piped) says it is serving actors; rejects if it exits first. */
export function hostServing(host: ChildProcess): Promise<void> {
  return new Promise<void>((ready, fail) => {
    let err = '';
    host.stderr!.on('data', (d: Buffer) => {
      err += String(d);
      if (err.includes('serving actors')) ready();
    });
    host.once('exit', (code) => fail(new Error(`actor host exited (${code}): ${err}`)));
  });
}
