/**
 * Refuse runs that cannot fit before allocating anything: a lower bound of the memory a run needs, compared
 * with this machine's memory, so that `--hidden 100000` or `--seq-len 1e8` is one clear line (exit 2) rather
 * than an allocation failure or the machine swapping to a halt. The bounds count only the big arrays and only
 * the copies every run keeps, so a run that passes may still need more; one that fails cannot run.
 */
import { constants } from 'node:buffer';
import { totalmem } from 'node:os';
import type { ModelConfig } from '../model/config.js';
import { storedGateSteps } from '../model/group-kernel.js';
import { paramShapes } from '../model/params.js';
import { InputError } from './io/errors.js';

const F32 = 4;
/**
 * Copies of the parameters every training run keeps: the actors' own, their gradients, Adam's two moments,
 * the coordinator's assembled copy and the checkpoint being encoded.
 */
const PARAM_COPIES = 6;
/** Floats per unit, sample and time step the backward pass needs at least (the state and its trace). */
const STATE_FLOATS_PER_STEP = 2;

interface Need {
  what: string;
  bytes: number;
}

/** This machine's memory (`EGRU_MEMORY_LIMIT`, in bytes, overrides it: tests, containers with a smaller limit). */
export function memoryLimit(): number {
  const env = Number(process.env.EGRU_MEMORY_LIMIT);
  return Number.isFinite(env) && env > 0 ? env : totalmem();
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let k = 0;
  while (n >= 1024 && k < units.length - 1) [n, k] = [n / 1024, k + 1];
  return k === 0 ? `${n} bytes` : `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[k]}`;
}

/** The data a built-in task generates or loads: `n` sequences of `steps` × `inputSize` floats, and their labels. */
export function checkDatasetMemory(label: string, n: number, steps: number, inputSize: number): void {
  const bytes = n * steps * (inputSize + 1) * F32;
  refuseOver([{ what: `${n} sequences × ${steps} steps × ${inputSize} inputs`, bytes }], label, 'a smaller --seq-len or --limit');
  refuseArrayOver(n * steps * inputSize * F32, `${label}: its input array`, 'a smaller --seq-len or --limit');
}

/** A training run's model, its batch buffers and the state its backward pass keeps for `maxSteps` steps. */
export function checkTrainingMemory(model: ModelConfig, batch: number, maxSteps: number): void {
  const shapes = paramShapes(model);
  const sizes = shapes.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const params = sizes.reduce((a, b) => a + b, 0);
  const units = model.hidden.reduce((a, b) => a + b, 0);
  const needs: Need[] = [
    { what: `${params} parameters (--hidden ${model.hidden.join(',')}) × ${PARAM_COPIES} copies`, bytes: params * F32 * PARAM_COPIES },
    { what: `batch ${batch} × ${maxSteps} steps × ${model.inputSize} inputs`, bytes: batch * maxSteps * model.inputSize * F32 },
    { what: `the backward pass's state: batch ${batch} × ${maxSteps} steps × ${units} units`, bytes: batch * maxSteps * units * STATE_FLOATS_PER_STEP * F32 },
  ];
  // the gates the kernels keep for the backward pass where a layer's fit their budget (model/group-kernel.ts)
  const kept = model.hidden.reduce((sum, H, l) => sum + (storedGateSteps(model, l, batch, maxSteps) > 0 ? maxSteps * batch * 4 * H * F32 : 0), 0);
  if (kept > 0) needs.push({ what: `the kept gates: batch ${batch} × ${maxSteps} steps × 4 floats per unit`, bytes: kept });
  const hint = 'a smaller --hidden, --batch or sequence length';
  refuseOver(needs, 'this run', hint);
  const largest = Math.max(...sizes);
  refuseArrayOver(largest * F32, `the largest weight matrix (${shapes[sizes.indexOf(largest)]!.shape.join(' × ')})`, hint);
}

function refuseOver(needs: Need[], subject: string, hint: string): void {
  const total = needs.reduce((a, n) => a + n.bytes, 0);
  const limit = memoryLimit();
  if (total <= limit) return;
  const main = needs.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  throw new InputError(
    `${subject} needs at least ${formatBytes(total)} of memory, more than this machine's ${formatBytes(limit)} (mostly ${main.what}: ${formatBytes(main.bytes)}); use ${hint}`,
  );
}

/** One array larger than Node can allocate at all. */
function refuseArrayOver(bytes: number, what: string, hint: string): void {
  if (bytes <= constants.MAX_LENGTH) return;
  throw new InputError(`${what} would take ${formatBytes(bytes)}, more than the ${formatBytes(constants.MAX_LENGTH)} one array may hold; use ${hint}`);
}
