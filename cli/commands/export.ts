/** `egru export CKPT --format npz|json --out FILE`: weights in the EvNN native layout (docs/formats.md). */
import { extname } from 'node:path';
import { Command } from 'commander';
import { assertWritable, writeFileAtomic } from '../io/atomic.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { InputError } from '../io/errors.js';
import { writeNpz } from '../io/npz.js';
import { paramsToJson, paramsToNpzEntries } from '../io/weights.js';
import { choiceArg, examples } from './common.js';

interface ExportOptions {
  format?: 'npz' | 'json';
  out: string;
  force?: boolean;
  compress?: boolean;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export the weights of a checkpoint (EvNN native names and layout) to .npz or JSON')
    .argument('<ckpt>', 'checkpoint (.egru)')
    .option('--format <fmt>', 'npz or json (default: from the --out extension)', choiceArg(['npz', 'json'] as const))
    .requiredOption('--out <file>', 'output file')
    .option('--force', 'overwrite --out if it exists')
    .option('--compress', 'npz: deflate the arrays (np.savez_compressed)')
    .addHelpText(
      'after',
      examples([
        'egru export runs/mine/checkpoint.egru --format npz --out weights.npz',
        'egru export runs/mine/checkpoint.egru --out weights.json',
        '',
        'Arrays: layers.{l}.kernel (I × 3H, gate blocks z, r, g), layers.{l}.recurrent_kernel (H × 3H),',
        'layers.{l}.bias (3H), layers.{l}.recurrent_bias (3H), layers.{l}.thr (H), readout.weight (C × H), readout.bias (C).',
        'In Python: w = np.load("weights.npz"); w["layers.0.kernel"].shape',
      ]),
    )
    .action((ckpt: string, o: ExportOptions) => {
      runExport(ckpt, o);
      process.exitCode = 0;
    });
}

function runExport(ckpt: string, o: ExportOptions): void {
  const ext = extname(o.out).toLowerCase();
  const format = o.format ?? (ext === '.npz' ? 'npz' : ext === '.json' ? 'json' : undefined);
  if (!format) throw new InputError(`cannot tell the format from --out ${o.out}: give --format npz or --format json`);
  const ck = loadCheckpoint(ckpt);
  assertWritable(o.out, !!o.force);
  const model = ck.config.model;
  if (format === 'npz') writeNpz(o.out, paramsToNpzEntries(model, ck.params), { compress: !!o.compress });
  else writeFileAtomic(o.out, JSON.stringify(paramsToJson(model, ck.params)) + '\n');
  process.stdout.write(`wrote ${o.out} (${format}, hidden ${model.hidden.join(',')}, ${model.inputSize} inputs, ${model.classes} classes)\n`);
}
