/**
 * The actor-host control plane under attack and faults: calls from a third client and replayed calls or
 * assignments are refused (the run's results stay bit-identical to inline); hosts free the actors of a
 * coordinator that went away, exit 1 when they lose the server and stop on the first Ctrl-C; a coordinator
 * that loses the server says after how long.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramList } from '../model/params.js';
import { ActorFailure, Trainer } from '../runtime/coordinator.js';
import { assignSubject, claimSubject, isOffer } from '../runtime/nats-control.js';
import { serveActorHost, type ActorHost } from '../runtime/nats-host.js';
import { openControl, packControl, randomKey } from '../runtime/nats-seal.js';
import { BIN } from './helpers/egru-cli.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import { activeParams, randomBatch, smallModel } from './helpers/problems.js';

const NATS_MISSING = natsServerMissing();
const needsNats = (name: string) => (NATS_MISSING ? `${name} (skipped: ${NATS_MISSING})` : name);
const SECRET = new TextEncoder().encode('a secret shared out of band, 41 bytes....');
let server: Awaited<ReturnType<typeof startNatsServer>>;
let attacker: NatsConnection;
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'egru-hosts-attacks-'));
  if (NATS_MISSING) return;
  server = await startNatsServer();
  attacker = await connect({ servers: server.url, name: 'attacker' });
});
afterAll(async () => {
  await attacker?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const model = smallModel();
const BATCH = 3;
const batch = (s: number) => randomBatch(model, BATCH, 6, 40 + s);
const create = (run: string, extra: { hosts?: boolean; secret?: Uint8Array; servers?: string; callTimeoutMs?: number } = {}) =>
  Trainer.create({
    model,
    params: activeParams(model),
    actors: 2,
    transport: extra.hosts === false ? 'inline' : 'nats',
    nats: { servers: extra.servers ?? server.url, run, hosts: true, secret: extra.secret, heartbeatMs: 100 },
    batch: BATCH,
    maxSteps: 8,
    optimizer: { kind: 'sgd', lr: 0.5 },
    callTimeoutMs: extra.callTimeoutMs ?? 5000,
  });

/** Two actor hosts in this process, with their log lines. */
async function hosts(secret?: Uint8Array, servers = server.url): Promise<{ hs: ActorHost[]; log: string[]; close: () => Promise<void> }> {
  const log: string[] = [];
  const hs = await Promise.all([0, 1].map((i) => serveActorHost({ servers }, (l) => log.push(`host ${i}: ${l}`), { secret, claimTimeoutMs: 2000 })));
  return { hs, log, close: async () => void (await Promise.all(hs.map((h) => h.close()))) };
}
const running = (hs: ActorHost[]) => hs.reduce((n, h) => n + h.actors, 0);

/** Train two steps on `t` and on inline, calling `between` after the first: both runs' losses and parameters. */
async function twoSteps(t: Trainer, between: () => Promise<void>) {
  const ref = await create('ref', { hosts: false });
  try {
    const losses = [(await t.train(batch(0))).loss, 0];
    const refLosses = [(await ref.train(batch(0))).loss, 0];
    await between();
    losses[1] = (await t.train(batch(1))).loss;
    refLosses[1] = (await ref.train(batch(1))).loss;
    expect(losses).toEqual(refLosses);
    const [a, b] = [paramList(await t.getParams()), paramList(await ref.getParams())];
    a.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(b[i]!)));
  } finally {
    await ref.close();
  }
}

/** A call as a third client makes it: the host's answer (null: none). */
async function thirdPartyCall(subject: string, data: Uint8Array): Promise<string | null> {
  try {
    const reply = await attacker.request(subject, data, { timeout: 1000 });
    const opened = openControl(null, reply.data);
    return opened.ok ? JSON.stringify(opened.body) : opened.why;
  } catch (e) {
    return `no answer: ${(e as Error).message}`;
  }
}

describe.skipIf(!!NATS_MISSING)(needsNats('a third client on the control plane of actor hosts'), () => {
  it.each([
    ['with --secret-file', SECRET],
    ['without a secret (the assignment token)', undefined],
  ])('%s: reading or zeroing weights, setting the learning rate or shutting down is refused; results unchanged', async (_name, secret) => {
    const { log, close } = await hosts(secret);
    const run = secret ? 'ctl-s' : 'ctl-n';
    const t = await create(run, { secret });
    try {
      await twoSteps(t, async () => {
        const subject = `egru.${run}.ctl.a0`;
        const zeros = { kernel: new Float32Array(12 * 33), recurrentKernel: new Float32Array(6 * 18), bias: new Float32Array(18), recurrentBias: new Float32Array(18), thr: new Float32Array(6) };
        const calls: [string, unknown[]][] = [['getParams', []], ['setParams', [zeros]], ['setLearningRate', [0]], ['shutdown', []]];
        for (const [method, args] of calls) {
          for (const key of [null, randomKey()]) {
            const answer = await thirdPartyCall(subject, packControl(key, { seq: 1e9, method, args }));
            expect(answer, method).toMatch(/the actor host refused the call: (not sealed|its seal does not verify).*not from the coordinator that assigned this actor/);
          }
        }
      });
      expect(log.filter((l) => /refused a control call/.test(l))).toHaveLength(8);
    } finally {
      await t.close();
      await close();
    }
  });

  it('a recorded control call replayed by a third client is refused by its sequence number', async () => {
    const { close } = await hosts(SECRET);
    const t = await create('replay-ctl', { secret: SECRET });
    const recorded: Uint8Array[] = [];
    const sub = attacker.subscribe('egru.replay-ctl.ctl.a0', { callback: (_e, m) => recorded.push(m.data.slice()) });
    await attacker.flush();
    try {
      await twoSteps(t, async () => {
        await t.setLearningRate(0.5); // as the reference (same value): recorded by the attacker, then replayed
        await attacker.flush();
        const answers = await Promise.all(recorded.map((m) => thirdPartyCall('egru.replay-ctl.ctl.a0', m)));
        expect(answers.length).toBeGreaterThan(2);
        for (const a of answers) expect(a).toMatch(/refused the call: a replayed call \(sequence number \d+, the last was \d+\)|no answer/);
        expect(answers.some((a) => /a replayed call/.test(a!))).toBe(true);
      });
    } finally {
      sub.unsubscribe();
      await t.close();
      await close();
    }
  });

  it('replayed assignments start no actor: refused by their token, or offered and then not claimable', async () => {
    const { hs, close } = await hosts(SECRET);
    const recorded: Uint8Array[] = [];
    const sub = attacker.subscribe(assignSubject('replay-assign'), { callback: (_e, m) => recorded.push(m.data.slice()) });
    await attacker.flush();
    const t = await create('replay-assign', { secret: SECRET });
    try {
      sub.unsubscribe(); // before replaying: it would record the replays too
      expect(recorded).toHaveLength(4);
      expect(running(hs)).toBe(4);
      const outcomes = new Set<string>();
      for (let round = 0; round < 10; round++)
        for (const m of recorded) {
          const reply = await attacker.request(assignSubject('replay-assign'), m, { timeout: 1000 });
          const opened = openControl(null, reply.data);
          expect(opened.ok).toBe(true);
          const body = (opened as { body: unknown }).body;
          outcomes.add(isOffer(body) ? 'offered' : 'refused');
          if (isOffer(body)) {
            const claim = await attacker.request(claimSubject(body.host), packControl(randomKey(), { challenge: body.challenge }), { timeout: 1000 });
            expect(JSON.stringify((openControl(null, claim.data) as { body: unknown }).body)).toMatch(/refused the claim: its seal does not verify/);
          } else expect(JSON.stringify(body)).toMatch(/refused the assignment: run replay-assign: actor \d: a replayed assignment/);
        }
      // the host that took an assignment refuses its replay; the other offers it, and the claim fails
      expect([...outcomes].sort()).toEqual(['offered', 'refused']);
      expect(running(hs)).toBe(4);
      await t.train(batch(0));
    } finally {
      sub.unsubscribe();
      await t.close();
      await close();
    }
    expect(running(hs)).toBe(0);
  });

  it("an assignment on another run's assignment subject starts nothing: a run's user cannot assign the actors of another run", async () => {
    const { hs, log, close } = await hosts();
    try {
      const spec = { init: { id: 0 }, run: 'victim', batch: 1, maxSteps: 1 };
      const assignment = { run: 'victim', token: randomKey(16), runNonce: randomKey(16), heartbeatMs: 100, heartbeatTimeoutMs: 1000, spec };
      const reply = await attacker.request(assignSubject('mine'), packControl(null, assignment), { timeout: 1000 });
      expect(JSON.stringify((openControl(null, reply.data) as { body: unknown }).body)).toMatch(
        /refused the assignment: run victim: actor 0: sent on the assignment subject of run mine, not on its own/,
      );
      expect(log.join('\n')).toMatch(/refused an assignment: run victim: actor 0: sent on the assignment subject of run mine/);
      expect(running(hs)).toBe(0);
    } finally {
      await close();
    }
  });

  it("a forged answer to the coordinator's call fails the call with a named error (never taken for the actor's)", async () => {
    const { close } = await hosts(SECRET);
    const t = await create('forged-reply', { secret: SECRET });
    const sub = attacker.subscribe('egru.forged-reply.ctl.a0', {
      callback: (_e, m) => m.respond(packControl(null, { seq: 1, ok: true, value: { kernel: new Float32Array(3) } })),
    });
    await attacker.flush();
    try {
      await expect(t.train(batch(0))).rejects.toThrow(/actor 0 \(layer 0.*: run: the answer was rejected: not sealed/);
    } finally {
      sub.unsubscribe();
      await t.close();
      await close();
    }
  });

  it('a coordinator and hosts that disagree on the secret: the run refuses to start, saying so', async () => {
    const withSecret = await hosts(SECRET);
    await expect(create('nosecret')).rejects.toThrow(/the actor host refused the assignment: not sealed/);
    await withSecret.close();
    const without = await hosts();
    await expect(create('secret-only', { secret: SECRET })).rejects.toThrow(/refused the assignment: it is sealed: the coordinator has a --secret-file, give this actor host the same one/);
    await without.close();
  });
});

/** `egru ARGS` as a child process; its stderr so far, and its exit. */
function egru(args: string[], env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const out = { stderr: '', child, exit: new Promise<number | null>((res) => child.once('exit', (code) => res(code))) };
  child.stderr!.on('data', (d: Buffer) => (out.stderr += String(d)));
  return out;
}
async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!!NATS_MISSING)(needsNats('actor hosts and coordinators that lose each other or the server'), () => {
  it("a killed coordinator's actors are freed when its heartbeat stops", async () => {
    const { hs, log, close } = await hosts(SECRET);
    const secretFile = join(tmp, 'egru.secret');
    writeFileSync(secretFile, 'a secret shared out of band, 41 bytes....\n');
    const coordinator = egru(
      ['train', '--task', 'adding-class', '--seq-len', '8', '--hidden', '6', '--limit', '24', '--val-limit', '8', '--batch', '8', '--steps', '100000', '--progress', 'none', '--no-report', '--out', join(tmp, 'killed')]
        .concat(['--transport', 'nats', '--nats', server.url, '--actor-hosts', '--secret-file', secretFile]),
      { EGRU_NATS_HEARTBEAT_MS: '100' },
    );
    try {
      await until('the actors to start', () => running(hs) === 2).catch((e: Error) => {
        throw new Error(`${e.message}; the coordinator said: ${coordinator.stderr}`);
      });
      await new Promise((r) => setTimeout(r, 300));
      coordinator.child.kill('SIGKILL');
      const t0 = Date.now();
      await until('the actors to be freed', () => running(hs) === 0, 10_000);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(log.filter((l) => /freed: its coordinator sent no heartbeat for \d+\.\d s/.test(l))).toHaveLength(2);
    } finally {
      coordinator.child.kill('SIGKILL');
      await close();
    }
  });

  it('an actor host that loses the server exits 1 with a message; the coordinator says when and why it failed', async () => {
    const own = await startNatsServer();
    const env = { EGRU_NATS_RECONNECT_WAIT_MS: '100' };
    const host = egru(['actor-host', '--nats', own.url], env);
    const before = process.env.EGRU_NATS_RECONNECT_WAIT_MS;
    process.env.EGRU_NATS_RECONNECT_WAIT_MS = '100';
    try {
      await until('the host to serve', () => host.stderr.includes('serving actors'));
      const t = await create('lost', { servers: own.url, callTimeoutMs: 60_000 });
      await t.train(batch(0));
      const t0 = Date.now();
      await own.stop();
      const err = await t.train(batch(1)).then(
        () => null,
        (e: Error) => e,
      );
      const seconds = (Date.now() - t0) / 1000;
      expect(err).toBeInstanceOf(ActorFailure);
      expect(err!.message).toMatch(/the connection to the NATS server closed after (\d+\.\d) s/);
      expect(Number(/closed after (\d+\.\d) s/.exec(err!.message)![1])).toBeLessThanOrEqual(seconds + 0.1);
      expect(seconds).toBeLessThan(10);
      await t.close();
      expect(await host.exit).toBe(1);
      expect(host.stderr).toMatch(/egru: error: actor failure: actor host: lost the connection to the NATS server.*nats:\/\/127\.0\.0\.1:\d+, after serving for \d+\.\d s/);
    } finally {
      if (before === undefined) delete process.env.EGRU_NATS_RECONNECT_WAIT_MS;
      else process.env.EGRU_NATS_RECONNECT_WAIT_MS = before;
      host.child.kill('SIGKILL');
      await own.stop();
    }
  });

  it('the first Ctrl-C stops an actor host that runs actors: it frees them and exits 0', async () => {
    const host = egru(['actor-host', '--nats', server.url]);
    try {
      await until('the host to serve', () => host.stderr.includes('serving actors'));
      const t = await create('ctrl-c');
      await t.train(batch(0));
      const t0 = Date.now();
      host.child.kill('SIGINT');
      expect(await host.exit).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(host.stderr.match(/stopped with the host/g)).toHaveLength(4);
      await expect(t.train(batch(1))).rejects.toThrow(/actor 0 \(layer 0.*: run: (its host is gone|the actor host refused)/);
      await t.close();
    } finally {
      host.child.kill('SIGKILL');
    }
  });
});
