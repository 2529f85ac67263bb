/**
 * Public entry `egru-actors/io`: the file formats the CLI reads and writes (docs/formats.md) — checkpoints,
 * EvNN-layout weights, .npy/.npz arrays — and the InputError every reader throws on bad input.
 */
export { assertWritable, writeFileAtomic } from './atomic.js';
export * from './checkpoint.js';
export type { BenchConfig, CheckpointConfig, ImportConfig, TrainConfig } from '../run-config.js';
export { describeFsError, InputError, isInputError } from './errors.js';
export {
  checkNdArray,
  type Dtype,
  type DtypeInfo,
  dtypeInfo,
  encodeNpy,
  formatShape,
  type NdArray,
  type NdData,
  ndarray,
  parseNpy,
  readNpy,
  shapeSize,
  toFloat32,
  toInt32,
  writeNpy,
} from './npy.js';
export { encodeNpz, parseNpz, readNpz, writeNpz } from './npz.js';
export { clampThresholds, type JsonTensor, paramsFromNpz, paramsToJson, paramsToNpzEntries, type WeightsJson, type WeightsShape } from './weights.js';
