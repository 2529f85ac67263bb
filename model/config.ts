/** Model configuration shared by the reference, the group kernels and the runtime (docs/math.md). */

export type Cell = 'egru' | 'gru';
export type Formulation = 'evnn' | 'paper';
/** `trace`: last layer's output trace at the last step; `last`: its y at the last step; `per-step`: y_t at every step. */
export type Readout = 'trace' | 'last' | 'per-step';

export interface ModelConfig {
  cell: Cell;
  formulation: Formulation;
  inputSize: number;
  /** Hidden sizes, one per layer. */
  hidden: number[];
  classes: number;
  readout: Readout;
  /** Pseudo-derivative height γ (EvNN `dampening`). */
  dampening: number;
  /** Pseudo-derivative inverse half-width s (EvNN `support`). */
  support: number;
  /** Mean m of the Beta(3m/(1−m), 3) threshold initialisation. */
  thresholdMean: number;
  /** Activity regularisation λ (0 = off) and its target a*. */
  activityReg: number;
  activityTarget: number;
  /**
   * Inverted dropout rate p on the outputs a layer passes up (to the next layer and the readout), training only
   * (model/dropout.ts). 0 = off.
   */
  dropout: number;
  seed: number;
}

export const TRACE_DECAY = 0.9;

export function defaultModelConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return {
    cell: 'egru',
    formulation: 'evnn',
    inputSize: 28,
    hidden: [128],
    classes: 10,
    readout: 'trace',
    dampening: 0.7,
    support: 1.0,
    thresholdMean: 0.3,
    activityReg: 0,
    activityTarget: 0.05,
    dropout: 0,
    seed: 1,
    ...overrides,
  };
}

/** Input size of layer l. */
export function layerInputSize(cfg: ModelConfig, l: number): number {
  return l === 0 ? cfg.inputSize : cfg.hidden[l - 1]!;
}

/** Throws with a one-line message when the configuration is not usable. */
export function validateModelConfig(cfg: ModelConfig): void {
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  if (!posInt(cfg.inputSize)) throw new Error(`input size must be a positive integer, got ${cfg.inputSize}`);
  if (cfg.hidden.length === 0 || !cfg.hidden.every(posInt)) throw new Error(`hidden sizes must be positive integers, got ${cfg.hidden.join(',')}`);
  if (!posInt(cfg.classes)) throw new Error(`classes must be a positive integer, got ${cfg.classes}`);
  if (!(cfg.dampening >= 0)) throw new Error(`dampening must be ≥ 0, got ${cfg.dampening}`);
  if (!(cfg.support > 0)) throw new Error(`support must be > 0, got ${cfg.support}`);
  if (!(cfg.thresholdMean > 0 && cfg.thresholdMean < 1)) throw new Error(`threshold mean must lie in (0, 1), got ${cfg.thresholdMean}`);
  if (!(cfg.activityReg >= 0)) throw new Error(`activity regularisation must be ≥ 0, got ${cfg.activityReg}`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new Error(`dropout must lie in [0, 1), got ${cfg.dropout}`);
}
