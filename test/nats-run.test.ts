/**
 * --nats-run: a chosen run id for the nats transport's subjects, so that a server can permit a user only its
 * run's subjects (the locked-down config of docs/nats.md). A run with the permitted id trains; the same user with
 * another id (or none: a random one) is refused before anything runs, with one line.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import { runEgru, type Result } from './helpers/egru-cli.js';

const TINY = ['--task', 'adding-class', '--seq-len', '8', '--hidden', '6', '--limit', '24', '--val-limit', '8', '--batch', '8', '--progress', 'none'];
// The permissions block of docs/nats.md, for one run's user.
const SERVER_CONFIG = `authorization {
  users = [
    { user: r1user, password: r1pass, permissions: { publish: ["egru.r1.>"], subscribe: ["egru.r1.>"] } }
  ]
}
`;
// A run on other subjects than the permitted ones waits for peers that never hear it: fail fast instead.
const FAST = { EGRU_NATS_PHASE_TIMEOUT_MS: '5000' };

const NATS_MISSING = natsServerMissing();
const needsNats = (name: string) => (NATS_MISSING ? `${name} (skipped: ${NATS_MISSING})` : name);
let tmp: string;
let server: Awaited<ReturnType<typeof startNatsServer>>;
let url: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'egru-nats-run-'));
  if (NATS_MISSING) return;
  writeFileSync(join(tmp, 'server.conf'), SERVER_CONFIG);
  server = await startNatsServer(['-c', join(tmp, 'server.conf')]);
  url = `nats://r1user:r1pass@127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const egru = (args: string[]) => runEgru(args, tmp, FAST);
const train = (out: string, more: string[]) => egru(['train', ...TINY, '--transport', 'nats', '--nats', url, '--steps', '2', '--out', join(tmp, out), ...more]);
function expectOneLineError(r: Result, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^egru: error: /);
  expect(lines[0]).toMatch(pattern);
}

describe.skipIf(!!NATS_MISSING)(needsNats('a server that permits a user only the subjects of run r1'), () => {
  it('--nats-run r1 trains, resumes and evaluates; the id is not recorded', async () => {
    const ok = await train('r1', ['--nats-run', 'r1']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(tmp, 'r1', 'config.json'), 'utf8')).not.toMatch(/"r1"|natsRun/);
    const resumed = await egru(['train', '--resume', join(tmp, 'r1'), '--steps', '3', '--progress', 'none', '--nats', url, '--nats-run', 'r1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const ck = join(tmp, 'r1', 'checkpoint.egru');
    const ev = await egru(['eval', '--checkpoint', ck, '--limit', '4', '--progress', 'none', '--transport', 'nats', '--nats', url, '--nats-run', 'r1']);
    expect(ev.code, ev.stderr).toBe(0);
  });

  it('the same user with --nats-run r2, or with a random run id, is refused with one line and nothing written', async () => {
    const r2 = await train('r2', ['--nats-run', 'r2']);
    expectOneLineError(r2, /does not permit this user the subjects of run r2 \(Permissions Violation: subscribe to egru\.r2\.check, publish to egru\.r2\.check\); give the --nats-run/);
    expect(readdirSync(tmp)).not.toContain('r2');
    expectOneLineError(await train('random', []), /does not permit this user the subjects of run [\w-]+ \(Permissions Violation/);
    const ck = join(tmp, 'r1', 'checkpoint.egru');
    expectOneLineError(await egru(['hardware', '--checkpoint', ck, '--samples', '2', '--transport', 'nats', '--nats', url, '--nats-run', 'r2']), /subjects of run r2/);
  });
});

it('--nats-run takes one subject token of 1–64 letters, digits, - and _, with --transport nats only', async () => {
  for (const bad of ['a.b', 'r*', 'r>', 'a b', '', 'x'.repeat(65)])
    expectOneLineError(await egru(['train', ...TINY, '--transport', 'nats', '--nats-run', bad, '--steps', '1', '--out', join(tmp, 'bad')]), /--nats-run <id>' argument .* is invalid\. expected 1–64 letters, digits, '-' or '_'/);
  expectOneLineError(await egru(['train', ...TINY, '--nats-run', 'r1', '--steps', '1', '--out', join(tmp, 'bad')]), /--nats-run applies to --transport nats only/);
  expect(readdirSync(tmp)).not.toContain('bad');
});
