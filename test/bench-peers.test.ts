/**
 * The benchmark's PyTorch peer (bench/torch.ts + bench/peers/torch_gru.py) and its trained-network cache
 * (bench/trained.ts). Where this machine's Python has no torch, the peer tests check that every setting is
 * reported unavailable with the install command instead of timing steps.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blasDir, closeTorchPeers, findPython, startTorchPeers, TORCH_INSTALL, TORCH_SETUPS, type TorchPeer } from '../bench/torch.js';
import { trainedNetwork } from '../bench/trained.js';

const quiet = () => {};

describe('PyTorch peer', () => {
  it('an EGRU_BENCH_PYTHON that cannot import torch makes every setting unavailable, with the reason', async () => {
    expect(findPython({ EGRU_BENCH_PYTHON: '/bin/false' })).toEqual({ reason: expect.stringMatching(/^EGRU_BENCH_PYTHON=\/bin\/false cannot import torch/) });
    const peers = await startTorchPeers(TORCH_SETUPS, { log: quiet, env: { ...process.env, EGRU_BENCH_PYTHON: '/nonexistent/python3' } });
    expect(peers.map((p) => p.setup.key)).toEqual(['openblas2', 'openblas2-torch1', 'openblas1', 'reference2']);
    for (const p of peers) {
      expect(p.available).toBe(false);
      if (!p.available) expect(p.reason).toContain('EGRU_BENCH_PYTHON=/nonexistent/python3');
    }
  });

  it('times training steps of torch.nn.GRU on the BLAS it asked for, and answers a bad request without dying', async () => {
    const env = { ...process.env };
    delete env.EGRU_BENCH_PYTHON;
    const py = findPython(env);
    const peers: TorchPeer[] = await startTorchPeers(
      TORCH_SETUPS.filter((s) => s.key === 'openblas2-torch1'),
      { log: quiet, env },
    );
    try {
      const p = peers[0]!;
      if ('reason' in py) {
        // no torch here: the setting says why and how to install it
        expect(p.available).toBe(false);
        if (!p.available) expect(p.reason).toContain(TORCH_INSTALL);
        return;
      }
      if (!p.available) {
        // torch is there; only OpenBLAS can be missing
        expect(p.reason).toMatch(/openblas|sgemm_/i);
        return;
      }
      expect(p.info.threads).toBe(1);
      expect(p.info.blas_threads).toBe(2);
      expect(p.info.blas).toBe('OpenBLAS');
      expect(p.info.sgemm).toContain('/openblas-pthread/');
      expect(p.label).toBe(`PyTorch ${p.info.torch} CPU, OpenBLAS 2 threads, torch 1 thread`);

      const B = 3;
      const T = 5;
      const I = 4;
      const x = Float32Array.from({ length: B * T * I }, (_, i) => ((i * 37) % 11) / 11);
      const y = Int32Array.from([0, 1, 2]);
      await expect(p.gru({ steps: T, inputSize: I, hidden: 6, classes: 3, batch: B, x: x.subarray(1), y })).rejects.toThrow(/x has 59 values for B\*T\*I = 60/);
      const m = await p.gru({ steps: T, inputSize: I, hidden: 6, classes: 3, batch: B, x, y });
      // GRU(4, 6): 3·6·(4 + 6) weights + 2·3·6 biases; Linear(6, 3): 18 + 3
      expect(m.params).toBe(3 * 6 * 10 + 36 + 21);
      const ms = [await m.step(), await m.step()];
      for (const t of ms) expect(t).toBeGreaterThan(0);
      await m.dispose();
      await expect(m.step()).rejects.toThrow(/KeyError/);
    } finally {
      await closeTorchPeers(peers);
    }
  });

  it('a setting whose BLAS did not load is unavailable, not mislabelled', async (ctx) => {
    const env = { ...process.env };
    delete env.EGRU_BENCH_PYTHON;
    const openblas = blasDir('openblas');
    const preload = openblas && join(openblas, 'libblas.so.3');
    const [p] = await startTorchPeers(
      TORCH_SETUPS.filter((s) => s.key === 'reference2'),
      // OpenBLAS preloaded: its sgemm_ wins over the reference libblas.so.3 that LD_LIBRARY_PATH asks for
      { log: quiet, env: { ...env, ...(preload && existsSync(preload) ? { LD_PRELOAD: preload } : {}) } },
    );
    await closeTorchPeers([p!]);
    expect(p!.available).toBe(false);
    if (p!.available) return;
    if (!('reason' in findPython(env)) && preload && existsSync(preload) && existsSync(join(blasDir('reference')!, 'libblas.so.3')))
      expect(p!.reason).toMatch(/asked for .*\/blas\/libblas\.so\.3, but torch .* takes sgemm_ from .*openblas.*\(OpenBLAS\)/);
    else ctx.annotate('no torch, OpenBLAS or reference BLAS here: only the unavailable setting was checked');
  });
});

describe('trained networks of the benchmark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'egru-bench-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains the preset once, then reads it from the cache; another step count or --retrain trains again', async () => {
    const o = { hidden: 8, batch: 4, cacheDir: dir, retrain: false, log: quiet };
    const a = await trainedNetwork('row-mnist', { ...o, steps: 3 });
    expect(a.fromCache).toBe(false);
    expect(a.model.activityReg).toBe(0.3); // the row-mnist preset's regulariser
    expect(a.file && existsSync(a.file)).toBe(true);
    const b = await trainedNetwork('row-mnist', { ...o, steps: 3 });
    expect(b.fromCache).toBe(true);
    expect(b.file).toBe(a.file);
    expect(Array.from(b.params.layers[0]!.thr)).toEqual(Array.from(a.params.layers[0]!.thr));
    expect(b.trainSparsity).toBe(a.trainSparsity);

    const c = await trainedNetwork('row-mnist', { ...o, steps: 4 });
    expect(c.fromCache).toBe(false);
    expect(c.file).not.toBe(a.file);
    const d = await trainedNetwork('row-mnist', { ...o, steps: 3, retrain: true });
    expect(d.fromCache).toBe(false);
    expect(readdirSync(dir).sort()).toEqual([a.file, c.file].map((f) => f!.slice(dir.length + 1)).sort());
    // training moved the thresholds away from the seeded initialisation
    const init = await trainedNetwork('row-mnist', { ...o, steps: 1, cacheDir: null });
    expect(init.file).toBeNull();
    expect(Array.from(a.params.layers[0]!.thr)).not.toEqual(Array.from(init.params.layers[0]!.thr));
  });
});
