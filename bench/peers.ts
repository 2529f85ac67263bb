/**
 * The dense peers the benchmark compares against, kept out of the main install: bench/peers/package.json
 * (TensorFlow.js + its wasm backend, pinned) is installed into bench/peers/node_modules on first use, and
 * bench/peers/tfjs-gru.js is loaded from there. No network or a failed install → the peer is reported as
 * unavailable, never a crash.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface TfjsInfo {
  backend: string;
  tfjs: string;
  wasmBackend: string;
  simd: boolean;
  multithread: boolean;
  threads: number;
}

export interface TfjsGruTrainer {
  params: number;
  /** One trainOnBatch (forward + backward + Adam), ms. */
  step(): Promise<number>;
  dispose(): void;
}

export interface TfjsPeer {
  init(): Promise<TfjsInfo>;
  gruTrainer(o: { steps: number; inputSize: number; hidden: number; classes: number; batch: number; x: Float32Array; y: Int32Array; lr?: number }): TfjsGruTrainer;
  /** GMAC/s of [1 × rows]·[rows × cols] float32 on the wasm backend, one value per run. */
  matvecRate(rows: number, cols: number, reps: number, inner?: number): Promise<number[]>;
}

export type PeerStatus = { available: true; peer: TfjsPeer; info: TfjsInfo; installed: boolean } | { available: false; reason: string; installed: boolean };

/** Install (when missing and allowed) and load the tfjs peer. `log` gets one line per action. */
export async function loadTfjsPeer(root: string, opts: { install: boolean; log: (line: string) => void }): Promise<PeerStatus> {
  const dir = join(root, 'bench', 'peers');
  const marker = join(dir, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'package.json');
  let installed = false;
  if (!existsSync(marker)) {
    if (!opts.install) return { available: false, reason: 'bench/peers/node_modules is missing and --no-install was given', installed };
    const args = ['install', '--prefix', dir, '--no-audit', '--no-fund'];
    opts.log(`peers: bench/peers/node_modules is missing; installing the pinned peers (TensorFlow.js 4.22.0 + wasm backend, ~300 MB): npm install --prefix bench/peers --no-audit --no-fund`);
    const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { stdio: ['ignore', 2, 2], timeout: 600_000 });
    if (r.error || r.status !== 0) {
      const why = r.error ? r.error.message : `npm exited with code ${r.status}`;
      opts.log(`peers: install failed (${why}); the TensorFlow.js peer is reported as unavailable`);
      return { available: false, reason: `npm install --prefix bench/peers failed: ${why}`, installed };
    }
    installed = true;
    opts.log('peers: installed');
  }
  try {
    // Resolve through bench/peers/node_modules only, so a tfjs elsewhere on the machine is never picked up.
    createRequire(join(dir, 'package.json')).resolve('@tensorflow/tfjs');
    const mod = (await import(pathToFileURL(join(dir, 'tfjs-gru.js')).href)) as TfjsPeer;
    const info = await mod.init();
    return { available: true, peer: mod, info, installed };
  } catch (e) {
    return { available: false, reason: `TensorFlow.js peer failed to load: ${(e as Error).message.split('\n')[0]}`, installed };
  }
}
