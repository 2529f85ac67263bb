/**
 * Multi-host for real: network namespaces on this machine stand for four hosts (the NATS server, two actor
 * hosts, the coordinator), joined by veth links through the server's namespace, each direction of each link
 * delayed: by `tc netem` on both ends, or, where the kernel has no netem, by a relay in the server's namespace
 * that holds every chunk for the delay in each direction. Training over them, with sealed messages, equals the
 * threads transport bit for bit; the per-step time is reported against the delay (docs/benchmarks.md).
 * Needs root (namespaces): elsewhere it is skipped, saying so.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../cli/io/checkpoint.js';
import { paramList } from '../model/params.js';
import { BIN, runEgru } from './helpers/egru-cli.js';
import { natsServerMissing } from './helpers/nats-server.js';

const P = `egru${process.pid % 100000}`;
const NS = { server: `${P}-srv`, host1: `${P}-h1`, host2: `${P}-h2`, coordinator: `${P}-co` };
/** Client namespaces and their link number: addresses 10.77.N.1 (server side) and 10.77.N.2. */
const CLIENTS: [string, number][] = [
  [NS.host1, 1],
  [NS.host2, 2],
  [NS.coordinator, 3],
];

/** Why namespaces cannot be made here (not root, no `ip`, no nats-server), or null. */
function unprivileged(): string | null {
  const missing = natsServerMissing();
  if (missing) return missing;
  const probe = `${P}-probe`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error || add.status !== 0) return `needs root to create network namespaces (ip netns add: ${(add.error?.message ?? add.stderr).trim()})`;
  spawnSync('ip', ['netns', 'del', probe]);
  const tc = spawnSync('tc', ['-V'], { encoding: 'utf8' });
  return tc.error ? 'needs tc (iproute2) for the netem delay' : null;
}
const WHY_NOT = unprivileged();
if (WHY_NOT) process.stderr.write(`test/nats-netns.test.ts: skipped: ${WHY_NOT}\n`);

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const inNs = (ns: string, ...cmd: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
const children: ChildProcess[] = [];
const made: string[] = [];
let tmp = '';

/** Does this kernel have netem? (Probed in a namespace of our own.) */
function hasNetem(): boolean {
  return spawnSync('ip', ['netns', 'exec', NS.server, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '0ms']).status === 0;
}

function makeNetwork(): void {
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    made.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  for (const [ns, n] of CLIENTS) {
    const [s, c] = [`${P}s${n}`, `${P}c${n}`];
    ip('-n', NS.server, 'link', 'add', s, 'type', 'veth', 'peer', 'name', c, 'netns', ns);
    ip('-n', NS.server, 'addr', 'add', `10.77.${n}.1/24`, 'dev', s);
    ip('-n', ns, 'addr', 'add', `10.77.${n}.2/24`, 'dev', c);
    ip('-n', NS.server, 'link', 'set', s, 'up');
    ip('-n', ns, 'link', 'set', c, 'up');
  }
}
function setNetemDelay(delayMs: number, verb: 'add' | 'change'): void {
  for (const [ns, n] of CLIENTS) {
    inNs(NS.server, 'tc', 'qdisc', verb, 'dev', `${P}s${n}`, 'root', 'netem', 'delay', `${delayMs}ms`);
    inNs(ns, 'tc', 'qdisc', verb, 'dev', `${P}c${n}`, 'root', 'netem', 'delay', `${delayMs}ms`);
  }
}
/** A TCP relay to the server that holds every chunk `delay` ms in each direction (argv: port, delay). */
const RELAY = `const net = require('node:net');
const [port, delay] = process.argv.slice(1).map(Number);
net.createServer((c) => {
  const s = net.connect(4222, '127.0.0.1');
  const end = () => (c.destroy(), s.destroy());
  for (const [from, to] of [[c, s], [s, c]]) {
    from.setNoDelay(true);
    from.on('data', (d) => (delay ? setTimeout(() => to.write(d), delay) : to.write(d))).on('close', end).on('error', end);
  }
}).listen(port, '0.0.0.0');`;

function start(ns: string, cmd: string[]): ChildProcess & { output: () => string } {
  let out = '';
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += String(d)));
  child.stderr!.on('data', (d: Buffer) => (out += String(d)));
  children.push(child);
  return Object.assign(child, { output: () => out });
}
async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  for (const ns of made) spawnSync('ip', ['netns', 'del', ns]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const STEPS = 20;
const DELAYS = [0, 1, 2];
const TRAIN = ['train', '--task', 'adding-class', '--seq-len', '8', '--hidden', '8,8', '--actors', '2', '--limit', '64', '--val-limit', '8', '--batch', '16'];
const COMMON = [...TRAIN, '--steps', String(STEPS), '--log-every', '1', '--progress', 'none', '--no-report'];
/** A training step's exchange phases for these options: seq-len + layers − 1 ticks forward, as many backward, one norm. */
const PHASES = 9 + 9 + 1;

function stepRecords(dir: string): { loss: number; wall_seconds: number }[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.kind === 'step');
}
/** Mean seconds per step after the first (start-up excluded). */
function perStep(dir: string): number {
  const r = stepRecords(dir);
  return (r.at(-1)!.wall_seconds - r[0]!.wall_seconds) / (r.length - 1);
}

describe.skipIf(!!WHY_NOT)(WHY_NOT ? `network namespaces as hosts (skipped: ${WHY_NOT})` : 'network namespaces as hosts', () => {
  it(
    'server, two actor hosts and a coordinator in four namespaces with 1 ms links: bit-identical to threads; step time against the delay',
    async () => {
      tmp = mkdtempSync(join(tmpdir(), 'egru-netns-'));
      const secret = join(tmp, 'egru.secret');
      writeFileSync(secret, 'shared between the namespaces, out of band\n');
      makeNetwork();
      const netem = hasNetem();
      if (netem) setNetemDelay(0, 'add');
      start(NS.server, [process.env.NATS_SERVER ?? 'nats-server', '-a', '0.0.0.0', '-p', '4222']);
      /** The server as the clients of link n reach it with `delay` ms each way. */
      const urlFor = (n: number, delay: number) => `nats://10.77.${n}.1:${netem ? 4222 : 4300 + delay}`;
      for (const delay of netem ? [] : DELAYS) start(NS.server, [process.execPath, '-e', RELAY, String(4300 + delay), String(delay)]);
      const startHosts = async (delay: number) => {
        const hosts = CLIENTS.slice(0, 2).map(([ns, n]) => start(ns, [process.execPath, BIN, 'actor-host', '--nats', urlFor(n, delay), '--secret-file', secret]));
        await until('the actor hosts to serve', () => {
          for (const [i, h] of hosts.entries())
            // the server (or relay) may not listen yet: start that host again
            if (h.exitCode !== null) hosts[i] = start(CLIENTS[i]![0], [process.execPath, BIN, 'actor-host', '--nats', urlFor(CLIENTS[i]![1], delay), '--secret-file', secret]);
          return hosts.every((h) => h.output().includes('serving actors'));
        });
        return hosts;
      };
      const started = [0, 0];

      const threads = await runEgru([...COMMON, '--transport', 'threads', '--out', join(tmp, 'threads')], tmp);
      expect(threads.code, threads.stderr).toBe(0);
      const reference = paramList(loadCheckpoint(join(tmp, 'threads', 'checkpoint.egru')).params);
      const rows: string[] = [];
      for (const delay of DELAYS) {
        if (netem) setNetemDelay(delay, 'change');
        const hosts = await startHosts(delay);
        const out = join(tmp, `nats-${delay}ms`);
        const coordinator = start(NS.coordinator, [process.execPath, BIN, ...COMMON, '--transport', 'nats', '--actor-hosts', '--nats', urlFor(3, delay), '--secret-file', secret, '--out', out]);
        const code = await new Promise<number | null>((res) => coordinator.once('exit', res));
        expect(code, coordinator.output()).toBe(0);
        for (const [i, h] of hosts.entries()) {
          started[i]! += (h.output().match(/actor \d started/g) ?? []).length;
          h.kill('SIGINT');
        }
        expect(stepRecords(out).map((r) => r.loss)).toEqual(stepRecords(join(tmp, 'threads')).map((r) => r.loss));
        paramList(loadCheckpoint(join(out, 'checkpoint.egru')).params).forEach((t, i) => expect(Array.from(t), `tensor ${i}`).toEqual(Array.from(reference[i]!)));
        const ms = 1000 * perStep(out);
        rows.push(`| ${delay} ms | ${ms.toFixed(1)} ms | ${(2 * delay * PHASES).toFixed(0)} ms |`);
        if (delay === 2) expect(ms).toBeGreaterThan(2 * 2 * PHASES * 0.9); // each phase crosses two delayed links
      }
      // 12 assignments (4 actors, 3 runs) shared by the hosts' queue: both took some (all on one: p = 2^-11)
      expect(started[0]! + started[1]!).toBe(12);
      expect(Math.min(...started)).toBeGreaterThan(0);
      process.stderr.write(
        `test/nats-netns.test.ts (delay by ${netem ? 'tc netem' : 'a relay: this kernel has no netem'}): ${STEPS} steps of adding-class (seq-len 8, hidden 8,8, 2 actors per layer, batch 16), ${PHASES} exchanges per step, actors per host ${started.join(' and ')}\n` +
          `| link delay (each way, each link) | per step | latency floor (2 × delay × exchanges) |\n|---|---|---|\n${rows.join('\n')}\n` +
          `threads: ${(1000 * perStep(join(tmp, 'threads'))).toFixed(1)} ms per step\n`,
      );
    },
    120_000,
  );
});
