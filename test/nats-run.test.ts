/**
 * --nats-run: a chosen run id for the nats transport's subjects, so that a server can permit a user only its
 * run's subjects. The server runs the one-user-per-run config of docs/nats.md as written there (bcrypt hashes
 * replaced by plain passwords). A run with the permitted id trains; the same user with another id (or none: a
 * random one) is refused before anything runs, with one line; a run over actor hosts assigns its own actors only.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignSubject } from '../runtime/nats-control.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import { BIN, expectOneLineError, hostServing, runEgru } from './helpers/egru-cli.js';

const TINY = ['--task', 'adding-class', '--seq-len', '8', '--hidden', '6', '--limit', '24', '--val-limit', '8', '--batch', '8', '--progress', 'none'];
/** The config block of docs/nats.md that has a user per run; each user's password is `<user>-pw`. */
function docsServerConfig(): string {
  const doc = readFileSync(resolve(import.meta.dirname, '..', 'docs', 'nats.md'), 'utf8');
  const block = [...doc.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).find((b) => b.includes('user: run-r3'));
  if (!block) throw new Error('docs/nats.md has no config block with the user run-r3');
  // the port comes from the command line (startNatsServer)
  return block.replace(/^listen: .*$/m, '').replace(/user: ([\w-]+), password: "\$2a\$11\$\.\.\."/g, 'user: $1, password: "$1-pw"');
}
const at = (user: string) => `nats://${user}:${user}-pw@127.0.0.1:${server.port}`;
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
  writeFileSync(join(tmp, 'server.conf'), docsServerConfig());
  server = await startNatsServer(['-c', join(tmp, 'server.conf')]);
  url = at('run-r1');
});
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const egru = (args: string[]) => runEgru(args, tmp, FAST);
const train = (out: string, more: string[]) => egru(['train', ...TINY, '--transport', 'nats', '--nats', url, '--steps', '2', '--out', join(tmp, out), ...more]);

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

describe.skipIf(!!NATS_MISSING)(needsNats('the same server: a run over actor hosts (user run-r3, the hosts user hosts)'), () => {
  it('run-r3 trains with --nats-run r3 over an actor host, and may neither publish on the assignment subject of another run nor read its replies', async () => {
    const secret = join(tmp, 'egru.secret');
    writeFileSync(secret, 'sixteen bytes or more, shared out of band\n');
    const host = spawn(process.execPath, [BIN, 'actor-host', '--nats', at('hosts'), '--secret-file', secret], { stdio: ['ignore', 'ignore', 'pipe'] });
    const nc = await connect({ servers: `127.0.0.1:${server.port}`, user: 'run-r3', pass: 'run-r3-pw', inboxPrefix: '_INBOX.r3' });
    const refused: string[] = [];
    void (async () => {
      for await (const st of nc.status()) if (st.type === 'error' && st.permissionContext) refused.push(`${st.permissionContext.operation} ${st.permissionContext.subject}`);
    })();
    try {
      await hostServing(host);
      const r = await egru(['train', ...TINY, '--transport', 'nats', '--nats', at('run-r3'), '--nats-run', 'r3', '--actor-hosts', '--secret-file', secret, '--steps', '2', '--out', join(tmp, 'r3')]);
      expect(r.code, r.stderr).toBe(0);
      await expect(nc.request(assignSubject('r4'), new Uint8Array(8), { timeout: 5000 })).rejects.toThrow(/Permissions Violation for Publish to "egru\.hosts\.assign\.r4"/);
      // nor read another run's control replies (its inboxes are under _INBOX.<run>)
      nc.subscribe('_INBOX.r4.>', { callback: () => {} });
      nc.subscribe('_INBOX.>', { callback: () => {} });
      await nc.flush();
      await new Promise((r) => setImmediate(r));
      expect(refused.filter((x) => x.startsWith('subscription'))).toEqual(['subscription _INBOX.r4.>', 'subscription _INBOX.>']);
    } finally {
      await nc.close();
      host.kill('SIGKILL');
    }
  });
});

it('--nats-run takes one subject token of 1–64 letters, digits, - and _, with --transport nats only', async () => {
  for (const bad of ['a.b', 'r*', 'r>', 'a b', '', 'x'.repeat(65)])
    expectOneLineError(await egru(['train', ...TINY, '--transport', 'nats', '--nats-run', bad, '--steps', '1', '--out', join(tmp, 'bad')]), /--nats-run <id>' argument .* is invalid\. expected 1–64 letters, digits, '-' or '_'/);
  expectOneLineError(await egru(['train', ...TINY, '--transport', 'nats', '--nats-run', 'hosts', '--steps', '1', '--out', join(tmp, 'bad')]), /'hosts' is reserved for the actor hosts' subjects/);
  expectOneLineError(await egru(['train', ...TINY, '--nats-run', 'r1', '--steps', '1', '--out', join(tmp, 'bad')]), /--nats-run applies to --transport nats only/);
  expect(readdirSync(tmp)).not.toContain('bad');
});
