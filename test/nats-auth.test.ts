/**
 * The nats transport against servers that require authentication: credentials in the URL (user and password,
 * or a token), refused credentials as one `egru: error:` line (exit 2), and none of them recorded in the run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsConnectOptions, parseNatsServers, redactNatsServers } from '../runtime/nats-connect.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import { BIN, expectOneLineError, hostServing, type Result, runEgru } from './helpers/egru-cli.js';

const TINY = ['--task', 'adding-class', '--seq-len', '8', '--hidden', '6', '--limit', '24', '--val-limit', '8', '--batch', '8', '--progress', 'none'];
const TOKEN = 's3cret-t0ken';
let tmp: string;
let userPass: Awaited<ReturnType<typeof startNatsServer>>;
let token: Awaited<ReturnType<typeof startNatsServer>>;

// Without a nats-server (and outside CI) these tests are skipped with the reason in their names.
const NATS_MISSING = natsServerMissing();
const needsNats = (name: string) => (NATS_MISSING ? `${name} (skipped: ${NATS_MISSING})` : name);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'egru-nats-auth-'));
  if (NATS_MISSING) return;
  [userPass, token] = await Promise.all([startNatsServer(['--user', 'u', '--pass', 'p4ss']), startNatsServer(['--auth', TOKEN])]);
});
afterAll(async () => {
  await Promise.all([userPass?.stop(), token?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

function egru(args: string[]): Promise<Result> {
  return runEgru(args, tmp);
}
const at = (port: number, creds: string) => `nats://${creds}@127.0.0.1:${port}`;
const train = (url: string, out: string, more: string[] = []) => egru(['train', ...TINY, '--transport', 'nats', '--nats', url, '--steps', '2', '--out', join(tmp, out), ...more]);

describe.skipIf(!!NATS_MISSING)(needsNats('server URLs with credentials'), () => {
  it('user:pass and token become client options; the URLs keep no credentials', () => {
    const up = natsConnectOptions({ servers: 'nats://us%40r:p%3Ass@10.0.0.1:4222' }, 'x');
    expect(up).toMatchObject({ servers: ['nats://10.0.0.1:4222'], user: 'us@r', pass: 'p:ss' });
    expect(natsConnectOptions({ servers: 'nats://tok@h:1,nats://tok@g:2' }, 'x')).toMatchObject({ servers: ['nats://h:1', 'nats://g:2'], token: 'tok' });
    expect(natsConnectOptions({ servers: '127.0.0.1:4222' }, 'x')).toEqual({ servers: ['127.0.0.1:4222'], name: 'x', reconnectTimeWait: 2000 });
    expect(natsConnectOptions({ servers: 'nats://h:1', tlsCa: '/ca.pem' }, 'x').tls).toEqual({ caFile: '/ca.pem' });
    expect(() => parseNatsServers('nats://a:b@h:1,nats://c:d@g:2')).toThrow(/different credentials/);
    expect(() => natsConnectOptions({ servers: 'nats://h:1', creds: join(tmp, 'absent.creds') }, 'x')).toThrow(/cannot read the NATS creds file .*absent\.creds/);
    expect(redactNatsServers('nats://u:p@h:1,tok@g:2')).toBe('nats://h:1,g:2');
  });
});

describe.skipIf(!!NATS_MISSING)(needsNats('a server with --user/--pass'), () => {
  it('a run with the right credentials trains; config.json and the checkpoint do not hold the password', async () => {
    const r = await train(at(userPass.port, 'u:p4ss'), 'up-ok');
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(tmp, 'up-ok', 'config.json'), 'utf8'));
    expect(config.nats).toBe(`nats://127.0.0.1:${userPass.port}`);
    for (const f of readdirSync(join(tmp, 'up-ok'))) expect(readFileSync(join(tmp, 'up-ok', f)).includes('p4ss'), f).toBe(false);
    // --resume takes the credentials from its command line again
    const refused = await egru(['train', '--resume', join(tmp, 'up-ok'), '--steps', '3', '--progress', 'none']);
    expectOneLineError(refused, /cannot connect to the NATS server nats:\/\/127\.0\.0\.1:\d+: .*refused the credentials/);
    const resumed = await egru(['train', '--resume', join(tmp, 'up-ok'), '--steps', '3', '--progress', 'none', '--nats', at(userPass.port, 'u:p4ss')]);
    expect(resumed.code, resumed.stderr).toBe(0);
  });

  it('a wrong password or none: one line, exit 2, nothing written', async () => {
    for (const url of [at(userPass.port, 'u:wrong'), userPass.url]) {
      const r = await train(url, 'up-bad');
      expectOneLineError(r, /cannot connect to the NATS server nats:\/\/127\.0\.0\.1:\d+: .*(Authorization Violation|AUTHORIZATION_VIOLATION).*refused the credentials/i);
      expect(r.stderr).not.toMatch(/wrong/);
      expect(readdirSync(tmp)).not.toContain('up-bad');
    }
  });
});

it('eval and hardware check the server first too: refused credentials are one line, exit 2', async () => {
  const run = join(tmp, 'for-eval');
  expect((await egru(['train', ...TINY, '--transport', 'inline', '--steps', '1', '--out', run])).code).toBe(0);
  const ck = join(run, 'checkpoint.egru');
  const wrong = at(userPass.port, 'u:wrong');
  expectOneLineError(await egru(['eval', '--checkpoint', ck, '--limit', '4', '--transport', 'nats', '--nats', wrong, '--progress', 'none']), /refused the credentials/);
  expectOneLineError(await egru(['hardware', '--checkpoint', ck, '--samples', '2', '--transport', 'nats', '--nats', wrong]), /refused the credentials/);
  const ok = await egru(['eval', '--checkpoint', ck, '--limit', '4', '--transport', 'nats', '--nats', at(userPass.port, 'u:p4ss'), '--progress', 'none']);
  expect(ok.code, ok.stderr).toBe(0);
});

describe.skipIf(!!NATS_MISSING)(needsNats('a server with --auth TOKEN'), () => {
  it('the token in the URL works; a wrong one is refused with one line', async () => {
    const ok = await train(at(token.port, TOKEN), 'tok-ok', ['--actors', '2']);
    expect(ok.code, ok.stderr).toBe(0);
    expectOneLineError(await train(at(token.port, 'nope'), 'tok-bad'), /refused the credentials/);
  });

  it('actor hosts connect with their own credentials; a host with wrong ones exits 2 with one line', async () => {
    const bad = await egru(['actor-host', '--nats', at(token.port, 'nope')]);
    expectOneLineError(bad, /^egru: error: cannot connect to the NATS server nats:\/\/127\.0\.0\.1:\d+: .*refused the credentials/);
    expect(bad.stderr).not.toContain('nope@');
    const hosts: ChildProcess[] = [];
    try {
      for (let k = 0; k < 2; k++) {
        const child = spawn(process.execPath, [BIN, 'actor-host', '--nats', at(token.port, TOKEN)], { stdio: ['ignore', 'ignore', 'pipe'] });
        hosts.push(child);
        await hostServing(child);
      }
      const r = await train(at(token.port, TOKEN), 'tok-hosts', ['--actors', '2', '--actor-hosts']);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      for (const h of hosts) h.kill('SIGKILL');
    }
  });
});

/** A private CA and a server certificate for localhost, made with openssl (null when openssl is missing). */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } | null {
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  try {
    ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=egru test CA']);
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.cnf']);
  } catch {
    return null;
  }
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}
const HAS_OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!HAS_OPENSSL || !!NATS_MISSING)(needsNats('a TLS server with a private CA (needs openssl)'), () => {
  let tls: Awaited<ReturnType<typeof startNatsServer>>;
  let ca: string;
  beforeAll(async () => {
    const certs = makeCertificates(mkdtempSync(join(tmp, 'tls-')));
    if (!certs) throw new Error('openssl could not make the test certificates');
    ca = certs.ca;
    tls = await startNatsServer(['--tls', '--tlscert', certs.cert, '--tlskey', certs.key, '--user', 'u', '--pass', 'p4ss']);
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it('--nats-tls-ca makes the server trusted; without it the run is refused with one line', async () => {
    const url = `nats://u:p4ss@localhost:${tls.port}`;
    const ok = await train(url, 'tls-ok', ['--nats-tls-ca', ca]);
    expect(ok.code, ok.stderr).toBe(0);
    expectOneLineError(await train(url, 'tls-untrusted'), /cannot connect to the NATS server nats:\/\/localhost:\d+: .*(unable to verify|self[- ]signed|certificate)/i);
  });
});

it('--nats-creds and --nats-tls-ca must name readable files', async () => {
  expectOneLineError(await train(at(token.port, TOKEN), 'creds', ['--nats-creds', join(tmp, 'absent.creds')]), /--nats-creds .*absent\.creds: no such file/);
  writeFileSync(join(tmp, 'ca.pem'), 'not a certificate');
  expectOneLineError(await egru(['actor-host', '--nats', token.url, '--nats-tls-ca', tmp]), /--nats-tls-ca .*: not a file/);
});

describe.skipIf(!!NATS_MISSING)(needsNats('--secret-file: train, eval, hardware and actor hosts'), () => {
  const secret = () => {
    const f = join(tmp, 'egru.secret');
    writeFileSync(f, 'sixteen bytes or more, shared out of band\n');
    return f;
  };

  it('train, eval and hardware over actor hosts with the same secret (and the token) work', async () => {
    const host = spawn(process.execPath, [BIN, 'actor-host', '--nats', at(token.port, TOKEN), '--secret-file', secret()], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await hostServing(host);
      const hosted = ['--transport', 'nats', '--nats', at(token.port, TOKEN), '--actor-hosts', '--secret-file', secret()];
      const r = await train(at(token.port, TOKEN), 'sealed', ['--actors', '2', '--actor-hosts', '--secret-file', secret()]);
      expect(r.code, r.stderr).toBe(0);
      const ck = join(tmp, 'sealed', 'checkpoint.egru');
      const ev = await egru(['eval', '--checkpoint', ck, '--limit', '4', '--progress', 'none', ...hosted]);
      expect(ev.code, ev.stderr).toBe(0);
      const hw = await egru(['hardware', '--checkpoint', ck, '--samples', '2', ...hosted]);
      expect(hw.code, hw.stderr).toBe(0);
      // without the secret the hosts refuse the run: one line, naming the option
      const refused = await egru(['eval', '--checkpoint', ck, '--limit', '4', '--progress', 'none', ...hosted.slice(0, -2)]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/refused the assignment: not sealed \(the sender has no --secret-file/);
    } finally {
      host.kill('SIGKILL');
    }
  });

  it('a short, missing or misplaced secret file: one line, exit 2', async () => {
    const short = join(tmp, 'short.secret');
    writeFileSync(short, 'tiny\n');
    expectOneLineError(await train(at(token.port, TOKEN), 'short', ['--secret-file', short]), /--secret-file .*short\.secret: the secret has 4 bytes, at least 16 are needed/);
    expectOneLineError(await egru(['actor-host', '--nats', token.url, '--secret-file', join(tmp, 'absent.secret')]), /--secret-file .*absent\.secret: no such file/);
    const run = join(tmp, 'inline-ck');
    expect((await egru(['train', ...TINY, '--transport', 'inline', '--steps', '1', '--out', run])).code).toBe(0);
    const ck = join(run, 'checkpoint.egru');
    expectOneLineError(await egru(['eval', '--checkpoint', ck, '--secret-file', secret()]), /--secret-file applies to --transport nats only/);
    expectOneLineError(await egru(['hardware', '--checkpoint', ck, '--samples', '2', '--nats-creds', secret()]), /--nats-creds applies to --transport nats only/);
    expectOneLineError(await egru(['train', ...TINY, '--steps', '1', '--out', join(tmp, 'x'), '--nats-tls-ca', secret()]), /--nats-tls-ca applies to --transport nats only/);
  });
});
