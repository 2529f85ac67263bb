/** `egru actor-host`: run actors for coordinators on other machines (the nats transport with --actor-hosts). */
import { Command } from 'commander';
import { serveActorHost } from '../../runtime/nats-host.js';
import { InputError } from '../io/errors.js';
import { DEFAULT_NATS, examples } from './common.js';

export function actorHostCommand(): Command {
  return new Command('actor-host')
    .description('serve actors over NATS for `egru train|eval --transport nats --actor-hosts` (runs until Ctrl-C)')
    .option('--nats <url>', 'NATS server shared with the coordinator', DEFAULT_NATS)
    .option('--quiet', 'do not log actors starting and finishing')
    .addHelpText(
      'after',
      examples([
        'egru actor-host --nats nats://10.0.0.1:4222          # on every worker machine',
        'egru train --transport nats --nats nats://10.0.0.1:4222 --actor-hosts --actors 4   # on the coordinator',
      ]),
    )
    .action(async (o: { nats: string; quiet?: boolean }) => {
      const log = o.quiet ? () => {} : (line: string) => process.stderr.write(`egru actor-host: ${line}\n`);
      let host;
      try {
        host = await serveActorHost(o.nats, log);
      } catch (e) {
        throw new InputError(`cannot reach the NATS server ${o.nats}: ${(e as Error).message}`);
      }
      log(`serving actors on ${o.nats}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await host.close();
      process.exitCode = 0;
    });
}
