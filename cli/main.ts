/**
 * `egru` command line. Thin: parse, validate, call, print.
 * Exit codes: 0 success; 1 an actor failed (or an internal error); 2 bad input (usage, files, shapes);
 * 3 training diverged; 130 interrupted. Every error is one `egru: error: …` line on stderr, no stack trace
 * (set EGRU_DEBUG=1 for the stack of an internal error).
 */
import { Command, CommanderError } from 'commander';
import { ActorFailure } from '../runtime/coordinator.js';
import { InputError } from './io/errors.js';
import { DivergenceError } from './train-loop.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { reportCommand } from './commands/report.js';
import { trainCommand } from './commands/train.js';
import { hardwareCommand } from './commands/hardware.js';
import { benchCommand } from './commands/bench.js';
import { actorHostCommand } from './commands/actor-host.js';
import { examples, packageVersion } from './commands/common.js';

export const EXIT = { ok: 0, actor: 1, input: 2, diverged: 3, interrupted: 130 } as const;

function oneLine(s: string): string {
  return s
    .replace(/^error:\s*/i, '')
    .replace(/\s*[\r\n]+\s*\(?/g, (m) => (m.includes('(') ? ' (' : ' '))
    .trim();
}

export function buildProgram(): Command {
  const program = new Command('egru')
    .description('Train event-based GRU (EGRU) networks as a society of worker-thread actors.')
    .version(packageVersion(), '-V, --version')
    .addHelpText(
      'after',
      examples([
        'egru train                                   # the default run: row-MNIST, 2 actors, < 10 minutes',
        'egru train --task adding-class --hidden 32 --epochs 3 --out runs/adding',
        'egru eval --checkpoint runs/adding/checkpoint.egru --json',
        'egru export runs/adding/checkpoint.egru --format npz --out weights.npz',
        'egru import weights.npz --out model.egru',
        'egru hardware --checkpoint runs/adding/checkpoint.egru --samples 50 --compare loihi2,spinnaker2',
        'egru report runs/adding                      # runs/adding/report.html: plots of the run',
        'egru bench --quick',
        '',
        'Run `egru <command> --help` for the options of a command.',
      ]),
    );
  for (const cmd of [trainCommand(), evalCommand(), exportCommand(), importCommand(), reportCommand(), hardwareCommand(), benchCommand(), actorHostCommand()]) program.addCommand(cmd);
  const configure = (c: Command) => {
    c.exitOverride()
      .showSuggestionAfterError(true)
      .configureOutput({ outputError: () => {} });
    c.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Run the CLI on `argv` (user arguments only); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const fail = (code: number, msg: string) => {
    process.stderr.write(`egru: error: ${oneLine(msg)}\n`);
    return code;
  };
  try {
    if (argv.length === 0) {
      process.stderr.write(program.helpInformation());
      return EXIT.input;
    }
    process.exitCode = 0;
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || (e.code === 'commander.help' && e.exitCode === 0)) return EXIT.ok;
      if (e.code === 'commander.help' || e.code === 'commander.executeSubCommandAsync') return EXIT.input;
      return fail(EXIT.input, e.message);
    }
    if (e instanceof InputError) return fail(EXIT.input, e.message);
    if (e instanceof DivergenceError) return fail(EXIT.diverged, e.message);
    if (e instanceof ActorFailure) return fail(EXIT.actor, `actor failure: ${e.message}`);
    const err = e as Error;
    if (process.env.EGRU_DEBUG) process.stderr.write(`${err?.stack ?? String(e)}\n`);
    return fail(EXIT.actor, `internal error: ${err?.message ?? String(e)} (set EGRU_DEBUG=1 for details)`);
  }
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const code = await main(process.argv.slice(2));
process.exitCode = code;
