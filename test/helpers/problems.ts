/** Small seeded problems shared by the runtime tests. */
import { defaultModelConfig, type ModelConfig } from '../../model/config.js';
import { uniformAt } from '../../model/rng.js';
import type { SequenceBatch } from '../../runtime/coordinator.js';
import { initParams, type Params } from '../../model/params.js';

export function smallModel(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return defaultModelConfig({ inputSize: 4, hidden: [11, 7], classes: 3, seed: 3, ...overrides });
}

/** x uniform in [0, 1] with about a quarter of the values zero (input events are sparse too). */
export function randomBatch(cfg: ModelConfig, batch: number, steps: number, seed: number): SequenceBatch {
  const x = new Float32Array(batch * steps * cfg.inputSize);
  for (let i = 0; i < x.length; i++) {
    const u = uniformAt(seed, 1, i);
    x[i] = u < 0.25 ? 0 : uniformAt(seed, 2, i) * 1.5;
  }
  const n = cfg.readout === 'per-step' ? batch * steps : batch;
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) targets[i] = cfg.readout === 'per-step' && uniformAt(seed, 4, i) < 0.2 ? -1 : Math.floor(uniformAt(seed, 3, i) * cfg.classes);
  return { x, targets, batch, steps };
}

/** The seeded initialisation with input and recurrent weights scaled up so that small layers fire often. */
export function activeParams(cfg: ModelConfig): Params<Float32Array> {
  const p = initParams(cfg);
  for (const l of p.layers) {
    l.kernel.forEach((v, i) => (l.kernel[i] = 4 * v));
    l.recurrentKernel.forEach((v, i) => (l.recurrentKernel[i] = 2 * v));
  }
  return p;
}
