/** `egru bench`: the benchmark suite (bench/run.ts) in its own process, options passed through. */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { InputError } from '../io/errors.js';
import { examples } from './common.js';

export function benchCommand(): Command {
  return new Command('bench')
    .description('benchmark the kernels, the runtime and the dense peers (PyTorch CPU, TensorFlow.js, dense GRU); see docs/benchmarks.md')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[options...]', 'options of the benchmark suite (egru bench --help lists them)')
    .addHelpText(
      'after',
      examples([
        'egru bench --quick                 # reduced set, under 3 minutes',
        'egru bench                         # full run: bench/results/latest.json and docs/benchmarks.md',
        'egru bench --cases 4,5 --no-write  # synchronisation cost and parallel speed-up only',
      ]),
    )
    .action(async (args: string[]) => {
      // The suite lives next to the CLI in dist/ (`npm run build`); from sources, the compiled copy.
      const url = import.meta.url.endsWith('.ts') ? new URL('../../dist/bench/run.js', import.meta.url) : new URL('../../bench/run.js', import.meta.url);
      const entry = fileURLToPath(url);
      if (!existsSync(entry)) throw new InputError(`the benchmark suite is not built (${entry}); run npm run build`);
      process.exitCode = await new Promise<number>((resolve) => {
        const child = fork(entry, args, { stdio: 'inherit' });
        child.on('error', (e) => {
          process.stderr.write(`egru: error: cannot start the benchmark suite: ${e.message}\n`);
          resolve(1);
        });
        child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
      });
    });
}
