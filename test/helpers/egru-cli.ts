/** Runs the `egru` command line through its real entry point (bin/egru.js, which runs dist/), as a user would. */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

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
