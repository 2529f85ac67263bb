/**
 * The plain-data input of the emulator: the network's shape and a recorded forward event trace.
 * Nothing here knows about `model/` or `runtime/`; the CLI records the trace while it evaluates a checkpoint.
 */
import { HardwareError } from './errors.js';

/** `trace`: readout integrates the last layer's events every step; `last`: only the last step's; `per-step`: every step. */
export type ReadoutKind = 'trace' | 'last' | 'per-step';

export interface NetworkShape {
  /** Input size I of layer 0. */
  inputSize: number;
  /** Hidden sizes, one per EGRU layer. */
  layers: number[];
  /** Readout units (classes or vocabulary size). */
  classes: number;
  readout: ReadoutKind;
}

/** Unit indices of one CSR trace. */
export type IndexArray = Int32Array | Uint16Array | Uint32Array;

/**
 * A forward event trace in CSR form. Row r = (s·steps + t)·L + l lists the units of layer l that had an event
 * (o = 1, graded value y ≠ 0) at step t of sample s: `units[offsets[r] .. offsets[r+1])`, indices within the layer.
 * `inputCounts[s·steps + t]` is the number of non-zero input items at that step; absent when not recorded.
 * Samples are independent (batch-1 inference each); every sample has the same number of steps.
 */
export interface EventTrace {
  shape: NetworkShape;
  samples: number;
  steps: number;
  offsets: Int32Array;
  units: IndexArray;
  inputCounts?: Int32Array;
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Throws a HardwareError unless the shape is usable. */
export function validateShape(shape: NetworkShape): void {
  if (shape === null || typeof shape !== 'object') throw new HardwareError('network shape must be an object');
  if (!isPosInt(shape.inputSize)) throw new HardwareError(`network input size must be a positive integer, got ${String(shape.inputSize)}`);
  if (!Array.isArray(shape.layers) || shape.layers.length === 0 || !shape.layers.every(isPosInt)) {
    throw new HardwareError(`network hidden sizes must be positive integers, got [${String(shape.layers)}]`);
  }
  if (!isPosInt(shape.classes)) throw new HardwareError(`network classes must be a positive integer, got ${String(shape.classes)}`);
  if (shape.readout !== 'trace' && shape.readout !== 'last' && shape.readout !== 'per-step') {
    throw new HardwareError(`network readout must be trace, last or per-step, got ${String(shape.readout)}`);
  }
}

/** Throws a HardwareError unless the trace is consistent with its shape (O(events)). */
export function validateTrace(trace: EventTrace): void {
  validateShape(trace.shape);
  const { samples, steps, offsets, units, inputCounts } = trace;
  if (!isPosInt(samples)) throw new HardwareError(`trace samples must be a positive integer, got ${samples}`);
  if (!isPosInt(steps)) throw new HardwareError(`trace steps must be a positive integer, got ${steps}`);
  const L = trace.shape.layers.length;
  const rows = samples * steps * L;
  if (!(offsets instanceof Int32Array) || offsets.length !== rows + 1) {
    throw new HardwareError(`trace offsets must be an Int32Array of length samples·steps·layers + 1 = ${rows + 1}, got ${offsets?.length}`);
  }
  if (offsets[0] !== 0 || offsets[rows]! > units.length) throw new HardwareError('trace offsets do not index the unit array');
  for (let r = 0; r < rows; r++) {
    const a = offsets[r]!;
    const b = offsets[r + 1]!;
    if (b < a) throw new HardwareError(`trace offsets decrease at row ${r}`);
    const H = trace.shape.layers[r % L]!;
    for (let i = a; i < b; i++) {
      const u = units[i]!;
      if (u >= H) {
        const s = Math.floor(r / (steps * L));
        const t = Math.floor(r / L) % steps;
        throw new HardwareError(`trace names unit ${u} of layer ${r % L} (size ${H}) at sample ${s}, step ${t}`);
      }
    }
  }
  if (inputCounts !== undefined) {
    if (!(inputCounts instanceof Int32Array) || inputCounts.length !== samples * steps) {
      throw new HardwareError(`trace input counts must be an Int32Array of length samples·steps = ${samples * steps}`);
    }
    const I = trace.shape.inputSize;
    for (let i = 0; i < inputCounts.length; i++) {
      const n = inputCounts[i]!;
      if (n < 0 || n > I) throw new HardwareError(`trace input count ${n} at row ${i} lies outside [0, ${I}]`);
    }
  }
}

/**
 * Builds an EventTrace step by step, in order: for each sample, `addStep` once per step, then `endSample`.
 * Storage grows by doubling, so recording 10k samples × 784 steps stays a few typed arrays.
 */
export class TraceBuilder {
  private offsets: Int32Array;
  private units: Int32Array;
  private inputs: Int32Array;
  private rows = 0;
  private fill = 0;
  private stepsInSample = 0;
  private steps = 0;
  private samples = 0;
  private inputMode: 'unset' | 'recorded' | 'absent' = 'unset';
  private readonly L: number;

  constructor(readonly shape: NetworkShape, capacity: { steps?: number; events?: number } = {}) {
    validateShape(shape);
    this.L = shape.layers.length;
    const stepCap = Math.max(16, capacity.steps ?? 1024);
    this.offsets = new Int32Array(stepCap * this.L + 1);
    this.inputs = new Int32Array(stepCap);
    this.units = new Int32Array(Math.max(16, capacity.events ?? 4096));
  }

  /**
   * Appends the next step of the current sample: `fired[l]` lists the units of layer l with an event;
   * `input` is the number of non-zero input items, or their indices (optional, but all steps or none).
   */
  addStep(fired: ArrayLike<ArrayLike<number>>, input?: number | ArrayLike<number>): void {
    const L = this.L;
    if (fired.length !== L) throw new HardwareError(`a trace step needs one unit list per layer (${L}), got ${fired.length}`);
    this.noteInput(input);
    if ((this.rows + L + 1) > this.offsets.length) this.offsets = grow(this.offsets, this.rows + L + 1);
    const stepIndex = this.rows / L;
    if (stepIndex >= this.inputs.length) this.inputs = grow(this.inputs, stepIndex + 1);
    for (let l = 0; l < L; l++) {
      const list = fired[l]!;
      const H = this.shape.layers[l]!;
      const n = list.length;
      if (this.fill + n > 0x7fffffff) throw new HardwareError('event trace exceeds 2^31 events');
      if (this.fill + n > this.units.length) this.units = grow(this.units, this.fill + n);
      for (let i = 0; i < n; i++) {
        const u = list[i]!;
        if (!Number.isInteger(u) || u < 0 || u >= H) {
          throw new HardwareError(`unit ${u} is not a unit of layer ${l} (size ${H}) at sample ${this.samples}, step ${this.stepsInSample}`);
        }
        this.units[this.fill++] = u;
      }
      this.offsets[++this.rows] = this.fill;
    }
    if (input !== undefined) {
      const count = typeof input === 'number' ? input : input.length;
      if (!Number.isInteger(count) || count < 0 || count > this.shape.inputSize) {
        throw new HardwareError(`input item count ${count} lies outside [0, ${this.shape.inputSize}]`);
      }
      this.inputs[stepIndex] = count;
    }
    this.stepsInSample++;
  }

  /** Like addStep, from graded outputs: `y[l][u] ≠ 0` is an event; `x` (optional) the input row, non-zero = item. */
  addStepFromOutputs(y: ArrayLike<ArrayLike<number>>, x?: ArrayLike<number>): void {
    const fired: number[][] = [];
    for (let l = 0; l < y.length; l++) fired.push(nonZero(y[l]!));
    this.addStep(fired, x === undefined ? undefined : nonZero(x).length);
  }

  /** Closes the current sample; every sample must have the same number of steps. */
  endSample(): void {
    if (this.stepsInSample === 0) throw new HardwareError('a trace sample needs at least one step');
    if (this.samples === 0) this.steps = this.stepsInSample;
    else if (this.stepsInSample !== this.steps) {
      throw new HardwareError(`trace sample ${this.samples} has ${this.stepsInSample} steps, earlier samples ${this.steps}`);
    }
    this.samples++;
    this.stepsInSample = 0;
  }

  build(): EventTrace {
    if (this.stepsInSample !== 0) throw new HardwareError('trace sample not closed: call endSample() before build()');
    if (this.samples === 0) throw new HardwareError('an event trace needs at least one sample');
    const trace: EventTrace = {
      shape: { ...this.shape, layers: [...this.shape.layers] },
      samples: this.samples,
      steps: this.steps,
      offsets: this.offsets.slice(0, this.rows + 1),
      units: compactUnits(this.units.subarray(0, this.fill), Math.max(...this.shape.layers)),
    };
    if (this.inputMode === 'recorded') trace.inputCounts = this.inputs.slice(0, this.samples * this.steps);
    return trace;
  }

  private noteInput(input: number | ArrayLike<number> | undefined): void {
    const mode = input === undefined ? 'absent' : 'recorded';
    if (this.inputMode === 'unset') this.inputMode = mode;
    else if (this.inputMode !== mode) throw new HardwareError('input activity must be given for every trace step or for none');
  }
}

/** An EventTrace from callbacks: `fired(s, t, l)` lists layer l's units with an event; `input(s, t)` counts or lists non-zero inputs. */
export function eventTraceFrom(
  shape: NetworkShape,
  samples: number,
  steps: number,
  fired: (s: number, t: number, l: number) => ArrayLike<number>,
  input?: (s: number, t: number) => number | ArrayLike<number>,
): EventTrace {
  const b = new TraceBuilder(shape, { steps: samples * steps });
  const L = shape.layers.length;
  for (let s = 0; s < samples; s++) {
    for (let t = 0; t < steps; t++) {
      const lists: ArrayLike<number>[] = [];
      for (let l = 0; l < L; l++) lists.push(fired(s, t, l));
      b.addStep(lists, input?.(s, t));
    }
    b.endSample();
  }
  return b.build();
}

/** Events per unit over the whole trace, one Float64Array per layer (the `traffic` placement's weights). */
export function unitEventCounts(trace: EventTrace): Float64Array[] {
  const L = trace.shape.layers.length;
  const counts = trace.shape.layers.map((H) => new Float64Array(H));
  const { offsets, units } = trace;
  const rows = trace.samples * trace.steps * L;
  for (let r = 0; r < rows; r++) {
    const c = counts[r % L]!;
    for (let i = offsets[r]!, b = offsets[r + 1]!; i < b; i++) c[units[i]!]!++;
  }
  return counts;
}

/** Total events per layer and non-zero input items (the latter −1 when the trace has no input record). */
export function traceTotals(trace: EventTrace): { eventsPerLayer: number[]; events: number; inputItems: number } {
  const L = trace.shape.layers.length;
  const perLayer = new Array<number>(L).fill(0);
  const rows = trace.samples * trace.steps * L;
  for (let r = 0; r < rows; r++) perLayer[r % L]! += trace.offsets[r + 1]! - trace.offsets[r]!;
  let inputItems = -1;
  if (trace.inputCounts) {
    inputItems = 0;
    for (let i = 0; i < trace.inputCounts.length; i++) inputItems += trace.inputCounts[i]!;
  }
  return { eventsPerLayer: perLayer, events: perLayer.reduce((a, b) => a + b, 0), inputItems };
}

function nonZero(v: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) out.push(i);
  return out;
}

function grow(a: Int32Array, need: number): Int32Array {
  let n = a.length * 2;
  while (n < need) n *= 2;
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

function compactUnits(units: Int32Array, maxLayer: number): IndexArray {
  return maxLayer <= 0x10000 ? Uint16Array.from(units) : units.slice();
}
