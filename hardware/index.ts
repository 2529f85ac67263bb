/**
 * `hardware/`: what would this trained network cost on neuromorphic hardware, and how much of it is
 * chip-to-chip traffic? Plain data in (network shape + event trace), report out. Depends on no other package
 * of this project. Model: docs/hardware.md.
 */
export { HardwareError } from './errors.js';
export {
  TraceBuilder,
  eventTraceFrom,
  traceTotals,
  unitEventCounts,
  validateShape,
  validateTrace,
  type EventTrace,
  type IndexArray,
  type NetworkShape,
  type ReadoutKind,
} from './trace.js';
export {
  PARAMETERS,
  PARAMETER_NAMES,
  PRESETS,
  loadPreset,
  loadPresetFile,
  parsePreset,
  presetAssumptions,
  presetToJSON,
  resolvePreset,
  type ParamName,
  type Preset,
  type Sourced,
  type Topology,
} from './presets.js';
export {
  STRATEGIES,
  buildPlacement,
  summarisePlacement,
  validatePlacement,
  type ActorSpec,
  type ExplicitPlacement,
  type PlaceOptions,
  type PlacedCore,
  type Placement,
  type PlacementSummary,
  type Strategy,
} from './placement.js';
export { place } from './place.js';
export { PORT_NODE, consumerCores, route, type Route, type RouteSource } from './routing.js';
export {
  compare,
  emulate,
  isRefusal,
  type BusiestLink,
  type Counts,
  type EmulateOptions,
  type Energy,
  type Figures,
  type HardwareRefusal,
  type HardwareReport,
  type StepProfile,
} from './emulate.js';
export { InfeasibleError, type Feasibility, type FeasibilityCheck } from './feasibility.js';
export { SERIES_COLUMNS, seriesCsv, type SeriesRow } from './series.js';
export type { Breakdown, ChipBreakdown, CoreBreakdown, LinkBreakdown } from './breakdown.js';
export { formatComparison, formatReport } from './format.js';
export type { Grid } from './topology.js';
