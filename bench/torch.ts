/**
 * The PyTorch CPU peer of the benchmark: bench/peers/torch_gru.py in persistent Python processes, one per setup
 * (BLAS library × thread count), spoken to in JSON lines. Debian's python3-torch takes its BLAS from
 * libblas.so.3 (the alternatives system), so a process picks one with LD_LIBRARY_PATH=<that library's directory>;
 * the peer then reports the file sgemm_ really resolves to, and a setup whose library did not load is reported
 * unavailable rather than mislabelled. Python: $EGRU_BENCH_PYTHON, else /usr/bin/python3 if it imports torch,
 * else python3 on PATH. Nothing here throws for a missing torch or BLAS: the setup is unavailable, with the reason.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const TORCH_INSTALL = 'apt-get install python3-torch libopenblas0-pthread';

export type TorchSetupKey = 'openblas2' | 'openblas2-torch1' | 'openblas1' | 'reference2';
export interface TorchSetup {
  key: TorchSetupKey;
  blas: 'openblas' | 'reference';
  /** torch.set_num_threads and OMP_NUM_THREADS (torch's own OpenMP pool: elementwise work). */
  threads: number;
  /** OPENBLAS_NUM_THREADS (the matrix products; the reference BLAS has no threads). */
  blasThreads: number;
}
/**
 * Debian's libopenblas0-pthread keeps a thread pool of its own beside torch's OpenMP pool, and both spin-wait
 * between calls: with 2 threads each, a GRU step was measured here slower than with either at 1, so the 2-core
 * setting with torch's pool at 1 thread is a row of its own.
 */
export const TORCH_SETUPS: TorchSetup[] = [
  { key: 'openblas2', blas: 'openblas', threads: 2, blasThreads: 2 },
  { key: 'openblas2-torch1', blas: 'openblas', threads: 1, blasThreads: 2 },
  { key: 'openblas1', blas: 'openblas', threads: 1, blasThreads: 1 },
  { key: 'reference2', blas: 'reference', threads: 2, blasThreads: 1 },
];

/** What a peer process reports about itself (bench/peers/torch_gru.py build_info). */
export interface TorchInfo {
  torch: string;
  python: string;
  executable: string;
  threads: number;
  interop_threads: number;
  /** The file sgemm_ resolves to from libtorch_cpu; null when torch has its BLAS built in. */
  sgemm: string | null;
  blas: string;
  /** OpenBLAS's own thread count (openblas_get_num_threads), null for a BLAS without threads. */
  blas_threads: number | null;
  blas_maps: string[];
  blas_config: string;
}

export interface TorchGru {
  params: number;
  /** One training step (zero_grad, forward, loss, backward, Adam step), wall ms measured inside Python. */
  step(): Promise<number>;
  dispose(): Promise<void>;
}

export type TorchPeer =
  | { setup: TorchSetup; available: true; info: TorchInfo; label: string; gru(o: GruShape): Promise<TorchGru>; close(): Promise<void> }
  | { setup: TorchSetup; available: false; reason: string; label: string };

export interface GruShape {
  steps: number;
  inputSize: number;
  hidden: number;
  classes: number;
  batch: number;
  /** [batch, steps, inputSize] */
  x: Float32Array;
  /** [batch] */
  y: Int32Array;
  lr?: number;
}

/**
 * After a step, OpenMP and OpenBLAS worker threads spin-wait for more work (OpenBLAS up to ~2^28 cycles,
 * ~0.1 s): the bench idles this long (untimed) after every step of a multi-threaded setup, so that those
 * threads do not take a core from the next contestant of the round-robin.
 */
export const SETTLE_MS = 250;

const SCRIPT = fileURLToPath(new URL(import.meta.url.includes('/dist/bench/') ? '../../bench/peers/torch_gru.py' : './peers/torch_gru.py', import.meta.url));

const threadsText = (n: number) => `${n} thread${n > 1 ? 's' : ''}`;
/** "OpenBLAS, 2 threads" when torch and the BLAS use the same count, else "OpenBLAS 2 threads, torch 1 thread". */
function settingName(blas: string, threads: number, blasThreads: number | null): string {
  return blasThreads === null || blasThreads === threads ? `${blas}, ${threadsText(threads)}` : `${blas} ${threadsText(blasThreads)}, torch ${threadsText(threads)}`;
}
const setupName = (s: TorchSetup) => settingName(s.blas === 'openblas' ? 'OpenBLAS' : 'reference BLAS', s.threads, s.blas === 'openblas' ? s.blasThreads : null);

/** The Debian multiarch directory that holds libblas.so.3 of this BLAS, or null where there is none. */
export function blasDir(blas: TorchSetup['blas']): string | null {
  const triplet = process.platform !== 'linux' ? null : process.arch === 'x64' ? 'x86_64-linux-gnu' : process.arch === 'arm64' ? 'aarch64-linux-gnu' : null;
  return triplet ? `/usr/lib/${triplet}/${blas === 'openblas' ? 'openblas-pthread' : 'blas'}` : null;
}

/** First line of what `python -c "import torch"` said, or null when it imported. */
function importError(python: string): string | null {
  const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) return r.error.message;
  if (r.status === 0) return null;
  const lines = (r.stderr ?? '').trim().split('\n');
  return lines[lines.length - 1] || `exit code ${r.status}`;
}

/** The Python to run the peer with: $EGRU_BENCH_PYTHON, else /usr/bin/python3 if it imports torch, else python3. */
export function findPython(env: NodeJS.ProcessEnv = process.env): { python: string } | { reason: string } {
  const given = env.EGRU_BENCH_PYTHON;
  if (given) {
    const err = importError(given);
    return err === null ? { python: given } : { reason: `EGRU_BENCH_PYTHON=${given} cannot import torch (${err}); unset it to use Debian's: ${TORCH_INSTALL}` };
  }
  const tried: string[] = [];
  for (const python of ['/usr/bin/python3', 'python3']) {
    const err = importError(python);
    if (err === null) return { python };
    tried.push(`${python}: ${err}`);
  }
  return { reason: `no Python with torch (${tried.join('; ')}); install it with: ${TORCH_INSTALL}` };
}

const unavailable = (setup: TorchSetup, reason: string): TorchPeer => ({ setup, available: false, reason, label: `PyTorch, ${setupName(setup)}` });

/** Every setup unavailable for one reason (not asked for, --no-torch). */
export function torchUnavailable(setups: TorchSetup[], reason: string): TorchPeer[] {
  return setups.map((s) => unavailable(s, reason));
}

/** Start one peer process per setup (in parallel). Setups that cannot run come back unavailable, with the reason. */
export async function startTorchPeers(setups: TorchSetup[], opts: { log: (line: string) => void; env?: NodeJS.ProcessEnv }): Promise<TorchPeer[]> {
  const env = opts.env ?? process.env;
  const py = findPython(env);
  if ('reason' in py) return torchUnavailable(setups, py.reason);
  return Promise.all(
    setups.map(async (setup): Promise<TorchPeer> => {
      const dir = blasDir(setup.blas);
      const lib = dir && join(dir, 'libblas.so.3');
      if (!lib || !existsSync(lib))
        return unavailable(
          setup,
          `${lib ?? 'a Debian multiarch libblas.so.3'} is missing; install it with: ${setup.blas === 'openblas' ? TORCH_INSTALL : 'apt-get install libblas3'}`,
        );
      const started = await TorchProcess.start(py.python, setup, dir!, env);
      if ('error' in started) return unavailable(setup, `${py.python} ${SCRIPT}: ${started.error}`);
      const { proc, info } = started;
      // The BLAS that really serves the products must be the one asked for, else the row would be mislabelled.
      if (info.sgemm === null || !info.sgemm.startsWith(dir + '/')) {
        await proc.close();
        return unavailable(
          setup,
          `asked for ${lib}, but torch ${info.torch} takes sgemm_ from ${info.sgemm ?? `its own build (${info.blas_config || 'BLAS linked in'})`} (${info.blas}): this torch's BLAS cannot be chosen with LD_LIBRARY_PATH`,
        );
      }
      const label = `PyTorch ${info.torch} CPU, ${settingName(info.blas, info.threads, info.blas_threads)}`;
      opts.log(`peer: ${label} (Python ${info.python}, sgemm_ from ${info.sgemm}, ${info.interop_threads} inter-op thread)`);
      return {
        setup,
        available: true,
        info,
        label,
        gru: (o) => proc.gru(o, Math.max(info.threads, info.blas_threads ?? 1) > 1 ? SETTLE_MS : 0),
        close: () => proc.close(),
      };
    }),
  );
}

export async function closeTorchPeers(peers: TorchPeer[]): Promise<void> {
  await Promise.all(peers.map((p) => (p.available ? p.close() : undefined)));
}

interface Reply {
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

/** One Python process; requests go one at a time, each answered by one line. */
class TorchProcess {
  private readonly pending: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private exited: string | null = null;
  private stderr = '';
  private models = 0;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return; // not a reply (a library printing to stdout)
      let r: Reply;
      try {
        r = JSON.parse(line) as Reply;
      } catch {
        return;
      }
      this.pending.shift()?.resolve(r);
    });
    const fail = (why: string) => {
      this.exited = `${why}${this.stderr.trim() ? `: ${this.stderr.trim().split('\n').slice(-1)[0]}` : ''}`;
      for (const p of this.pending.splice(0)) p.reject(new Error(`the PyTorch peer ${this.exited}`));
    };
    child.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`})`));
    child.on('error', (e) => fail(`failed (${e.message})`));
    child.stdin.on('error', () => {}); // a dead process: reported by 'exit'
  }

  static async start(python: string, setup: TorchSetup, dir: string, env: NodeJS.ProcessEnv): Promise<{ proc: TorchProcess; info: TorchInfo } | { error: string }> {
    const k = String(setup.threads);
    const ld = [dir, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    const child = spawn(python, [SCRIPT, '--threads', k], {
      env: { ...env, LD_LIBRARY_PATH: ld, OMP_NUM_THREADS: k, OPENBLAS_NUM_THREADS: String(setup.blasThreads), MKL_NUM_THREADS: k },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const proc = new TorchProcess(child);
    try {
      const hello = await proc.next(120_000);
      if (!hello.ok) {
        await proc.close();
        return { error: `${hello.error ?? 'failed to start'}` };
      }
      return { proc, info: hello.info as TorchInfo };
    } catch (e) {
      await proc.close();
      return { error: (e as Error).message };
    }
  }

  private next(timeoutMs: number): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error(`the PyTorch peer ${this.exited}`));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the PyTorch peer did not answer within ${timeoutMs / 1000} s`));
        this.child.kill();
      }, timeoutMs);
      this.pending.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  async request(msg: Record<string, unknown>, timeoutMs = 600_000): Promise<Reply> {
    if (this.exited) throw new Error(`the PyTorch peer ${this.exited}`);
    const answer = this.next(timeoutMs);
    this.child.stdin.write(JSON.stringify(msg) + '\n');
    const r = await answer;
    if (!r.ok) throw new Error(`the PyTorch peer: ${r.error ?? 'request failed'}`);
    return r;
  }

  async gru(o: GruShape, settleMs: number): Promise<TorchGru> {
    const id = `m${++this.models}`;
    const b64 = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
    const r = await this.request({ cmd: 'model', id, T: o.steps, I: o.inputSize, H: o.hidden, C: o.classes, B: o.batch, x: b64(o.x), y: b64(o.y), lr: o.lr ?? 1e-3 });
    return {
      params: r.params as number,
      step: async () => {
        const ms = (await this.request({ cmd: 'step', id })).ms as number;
        if (settleMs > 0) await sleep(settleMs);
        return ms;
      },
      dispose: async () => {
        if (!this.exited) await this.request({ cmd: 'drop', id });
      },
    };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(JSON.stringify({ cmd: 'quit' }) + '\n');
    const timer = setTimeout(() => this.child.kill(), 5000);
    await gone;
    clearTimeout(timer);
  }
}
