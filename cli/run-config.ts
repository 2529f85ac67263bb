/** The configurations the CLI records: config.json of a run, and `config` in every checkpoint. */
import type { ModelConfig } from '../model/config.js';
import type { OptimizerConfig } from '../model/optim.js';
import type { TransportKind } from '../runtime/coordinator.js';

/** The resolved configuration of a training run (config.json, and `config` in every checkpoint it writes). */
export interface TrainConfig {
  command: 'train';
  version: string;
  /** Built-in task, or null for `--data`. */
  task: string | null;
  /** Absolute paths of user data (`--data`, `--val`). */
  data: string | null;
  val: string | null;
  /** `adding-class` only: sequence length. */
  seqLen: number | null;
  /** Training samples used (`--limit`), validation samples used (`--val-limit`); null = all. */
  limit: number | null;
  valLimit: number | null;
  /**
   * MNIST tasks (`--holdout`): the last `holdout` training images are the validation data and are not trained on;
   * the final figures come from the test split. Null or absent (runs before it): validation on the test split.
   */
  holdout?: number | null;
  model: ModelConfig;
  optimizer: OptimizerConfig;
  batch: number;
  /** Run length: `steps` optimiser steps when set, else `epochs` epochs. */
  epochs: number;
  steps: number | null;
  seed: number;
  actors: number;
  transport: TransportKind;
  /** NATS server URL when transport is nats (absent in checkpoints written before the nats transport). */
  nats?: string | null;
  /** nats: run the actors on actor hosts (absent in checkpoints written before actor hosts). */
  actorHosts?: boolean;
  clip: number;
  evalEvery: number;
  logEvery: number;
  saveEvery: number;
  maxMinutes: number | null;
  /** --early-stop: stop after this many validations without improvement (null or absent: off). */
  earlyStop?: number | null;
  /** Checkpoint the parameters were initialised from (`--init`). */
  init: string | null;
  /** The task's recommended preset and the values taken from it (options the user did not give). */
  preset: { task: string; applied: Record<string, unknown> } | null;
  trainSamples: number;
  valSamples: number;
  stepsPerEpoch: number;
  totalSteps: number;
}

/** What `egru import` records: the weights file a checkpoint was made from. */
export interface ImportConfig {
  command: 'import';
  version: string;
  /** The task given with `--task`, or null. */
  task: string | null;
  /** The weights .npz, as given on the command line. */
  weights: string;
  model: ModelConfig;
}

/** A network the benchmark trained from a task preset and cached (`egru bench`, bench/results/cache/). */
export interface BenchConfig {
  command: 'bench';
  version: string;
  task: string;
  model: ModelConfig;
  optimizer: OptimizerConfig;
  batch: number;
  /** Optimiser steps trained. */
  steps: number;
  seed: number;
  actors: number;
  /** The cache key: a hash of everything above and of the compiled code. */
  key: string;
}

/** The `config` of a checkpoint: `command` says which command wrote it; `model` is what the parameters belong to. */
export type CheckpointConfig = TrainConfig | ImportConfig | BenchConfig;

/** The training run a checkpoint comes from, or null when it was not written by `egru train`. */
export function trainRunOf(config: CheckpointConfig): TrainConfig | null {
  return config.command === 'train' ? config : null;
}
