/** `egru import WEIGHTS.npz --out CKPT`: a checkpoint from EvNN-layout weights; shapes are inferred. */
import { Command } from 'commander';
import { assertWritable } from '../io/atomic.js';
import { saveCheckpoint } from '../io/checkpoint.js';
import { InputError } from '../io/errors.js';
import { readNpz } from '../io/npz.js';
import { clampThresholds, paramsFromNpz } from '../io/weights.js';
import { TASKS, type TaskName } from '../data/tasks.js';
import { addModelOptions, examples, hiddenArg, intArg, modelConfig, packageVersion, taskArg, type ModelOptions } from './common.js';

interface ImportOptions extends ModelOptions {
  out: string;
  force?: boolean;
  hidden?: number[];
  task?: string;
}

export function importCommand(): Command {
  const cmd = new Command('import')
    .description('make a checkpoint from a weights .npz (EvNN native names and layout); shapes are inferred')
    .argument('<weights.npz>', 'weights: layers.{l}.kernel, …, readout.weight, readout.bias')
    .requiredOption('--out <ckpt>', 'checkpoint to write (.egru)')
    .option('--force', 'overwrite --out if it exists')
    .option('--hidden <sizes>', 'optional check: the hidden sizes the weights must have', hiddenArg)
    .option('--task <name>', `record the task the weights are for, and check its input size and classes (${Object.keys(TASKS).join(', ')})`, taskArg)
    .option('--seed <n>', 'seed recorded in the model configuration', intArg(0));
  addModelOptions(cmd, ['trace', 'last', 'per-step']).addHelpText(
    'after',
    examples([
      'egru import weights.npz --out model.egru --task row-mnist',
      'egru import evnn.npz --out model.egru --formulation evnn --dampening 0.7 --support 1 --readout last',
      'egru import gru.npz --out gru.egru --model gru',
      '',
      'The weights fix the input size, the hidden sizes and the number of classes; the other model options',
      '(--model, --formulation, --readout, --dampening, --support, --threshold-mean, --activity-reg) complete the',
      'configuration (defaults as in egru train). Then: egru eval --checkpoint model.egru --task row-mnist',
    ]),
  );
  return cmd.action((weights: string, o: ImportOptions) => {
    runImport(weights, o);
    process.exitCode = 0;
  });
}

function runImport(weights: string, o: ImportOptions): void {
  const { cfg: shape, params } = paramsFromNpz(readNpz(weights), weights);
  if (o.hidden !== undefined && o.hidden.join(',') !== shape.hidden.join(','))
    throw new InputError(`shape mismatch: --hidden ${o.hidden.join(',')} but ${weights} has hidden sizes ${shape.hidden.join(',')}`);
  if (o.task !== undefined) {
    const t = TASKS[o.task as TaskName];
    if (t.inputSize !== shape.inputSize) throw new InputError(`shape mismatch: task ${o.task} has ${t.inputSize} inputs per step, ${weights} takes ${shape.inputSize}`);
    if (t.classes !== shape.classes) throw new InputError(`shape mismatch: task ${o.task} has ${t.classes} classes, ${weights} has ${shape.classes}`);
  }
  const model = modelConfig({ inputSize: shape.inputSize, hidden: shape.hidden, classes: shape.classes }, o);
  assertWritable(o.out, !!o.force);
  if (model.cell === 'egru') {
    const { clamped, total } = clampThresholds(params);
    if (clamped > 0) process.stderr.write(`egru import: clamped ${clamped} of ${total} thresholds into [0, 1], as EvNN does at every forward pass\n`);
  }
  saveCheckpoint(o.out, {
    config: { command: 'import', version: packageVersion(), task: o.task ?? null, weights, model },
    params,
    step: 0,
    epoch: 0,
  });
  process.stdout.write(`wrote ${o.out} (hidden ${model.hidden.join(',')}, ${model.inputSize} inputs, ${model.classes} classes, ${model.cell}/${model.formulation})\n`);
}
