/**
 * Public entry `egru-actors` (= `egru-actors/runtime`): the Trainer with its options and results, and the model
 * configuration and parameters it takes, so one import covers a training loop.
 */
export * from './coordinator.js';
export { type Cell, defaultModelConfig, type Formulation, type ModelConfig, type Readout, validateModelConfig } from '../model/config.js';
export type { OptimizerConfig } from '../model/optim.js';
export type { LayerUnitEvents } from './unit-events.js';
export { initParams, type LayerParams, type Params, type Tensor } from '../model/params.js';
