/** Starts a private nats-server on a free port for a test file (CI installs Debian's nats-server). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { connect } from 'node:net';

/** CI is set (.ci/run): there every tool the tests use is installed, and a missing one fails instead of skipping. */
export const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

function serverBinary(): string {
  return process.env.NATS_SERVER ?? 'nats-server';
}

/**
 * Why the tests that need a server cannot run here (no nats-server to start), or null when they can. Under CI
 * always null: there the missing server makes startNatsServer fail.
 */
export function natsServerMissing(): string | null {
  if (IN_CI) return null;
  const probe = spawnSync(serverBinary(), ['--version'], { stdio: 'ignore' });
  return probe.error ? `needs ${serverBinary()}, not found (install Debian's nats-server, or set NATS_SERVER)` : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nats-server did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `args`: further nats-server options, e.g. ['--user', 'u', '--pass', 'p'] or ['--auth', TOKEN]. */
export async function startNatsServer(args: string[] = []): Promise<{ url: string; port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const bin = serverBinary();
  const child: ChildProcess = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), ...args], { stdio: 'ignore' });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`cannot start ${bin} (install Debian's nats-server): ${e.message}`)));
    child.once('spawn', () => resolve());
  });
  await spawned;
  await waitForPort(port, 5000);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
