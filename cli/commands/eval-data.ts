/** The data a checkpoint is evaluated on (`eval`, `hardware`): a task's split or an .npz, checked against the model. */
import type { Checkpoint } from '../io/checkpoint.js';
import { InputError } from '../io/errors.js';
import { datasetFromNpz, isTextTask, loadTask, recordedTask, type Dataset } from '../data/tasks.js';
import { trainRunOf } from '../run-config.js';

export interface EvalDataOptions {
  task?: string;
  data?: string;
  split: 'test' | 'train' | 'validation';
  seqLen?: number;
  limit?: number;
}

export function resolveEvalData(file: string, ck: Checkpoint, o: EvalDataOptions): { ds: Dataset; source: string } {
  if (o.task !== undefined && o.data !== undefined) throw new InputError('give either --task or --data, not both');
  const model = ck.config.model;
  const run = trainRunOf(ck.config);
  const what = `the checkpoint ${file}`;
  let ds: Dataset;
  let source: string;
  if (o.data !== undefined) {
    if (o.seqLen !== undefined) throw new InputError('--seq-len applies to the adding-class, moby-dick and sotu tasks only');
    ds = datasetFromNpz(o.data, { classes: model.classes });
    source = o.data;
  } else {
    const recorded = ck.config.task ? recordedTask(ck.config.task) : undefined;
    const task = o.task ?? recorded;
    if (!task) throw new InputError(`${what} records no task: give --task or --data`);
    const ownLength = task === 'adding-class' || isTextTask(task); // (text tasks: the segment length)
    if (o.seqLen !== undefined && !ownLength) throw new InputError('--seq-len applies to the adding-class, moby-dick and sotu tasks only');
    const seqLen = o.seqLen ?? (ownLength && run && recorded === task ? (run.seqLen ?? undefined) : undefined);
    ds = loadTask(task, o.split, { limit: o.limit, steps: seqLen });
    source = `${task} (${o.split})`;
  }
  if (ds.inputSize !== model.inputSize) throw new InputError(`shape mismatch: ${what} takes ${model.inputSize} inputs per step, ${source} has ${ds.inputSize}`);
  if (ds.classes > model.classes) throw new InputError(`shape mismatch: ${what} has ${model.classes} classes, ${source} has labels up to ${ds.classes - 1}`);
  if ((model.readout === 'per-step') !== ds.perStep)
    throw new InputError(`shape mismatch: ${what} has a ${model.readout} readout, ${source} has ${ds.perStep ? 'per-step targets [N, T]' : 'one label per sequence'}`);
  if (o.limit !== undefined && o.limit < ds.n) {
    const rowX = ds.steps * ds.inputSize;
    const rowY = ds.perStep ? ds.steps : 1;
    ds = { ...ds, n: o.limit, x: ds.x.subarray(0, o.limit * rowX), y: ds.y.subarray(0, o.limit * rowY) };
  }
  return { ds, source };
}
