/** `egru actor-host`: run actors for coordinators on other machines (the nats transport with --actor-hosts). */
import { Command } from 'commander';
import { describeNatsError } from '../../runtime/nats-connect.js';
import { serveActorHost } from '../../runtime/nats-host.js';
import { InputError } from '../io/errors.js';
import { DEFAULT_NATS, examples } from './common.js';
import { natsAuth, recordableNatsServers, NATS_CREDS_HELP, NATS_TLS_CA_HELP, type NatsAuthOptions } from './nats-options.js';

export function actorHostCommand(): Command {
  return new Command('actor-host')
    .description('serve actors over NATS for `egru train|eval --transport nats --actor-hosts` (runs until Ctrl-C)')
    .option('--nats <url>', 'NATS server shared with the coordinator', DEFAULT_NATS)
    .option('--nats-creds <file>', NATS_CREDS_HELP)
    .option('--nats-tls-ca <file>', NATS_TLS_CA_HELP)
    .option('--quiet', 'do not log actors starting and finishing')
    .addHelpText(
      'after',
      examples([
        'egru actor-host --nats nats://10.0.0.1:4222          # on every worker machine',
        'egru train --transport nats --nats nats://10.0.0.1:4222 --actor-hosts --actors 4   # on the coordinator',
      ]),
    )
    .action(async (o: { nats: string; quiet?: boolean } & NatsAuthOptions) => {
      const log = o.quiet ? () => {} : (line: string) => process.stderr.write(`egru actor-host: ${line}\n`);
      const shown = recordableNatsServers(o.nats);
      let host;
      try {
        host = await serveActorHost({ servers: o.nats, ...natsAuth(o) }, log);
      } catch (e) {
        if (e instanceof InputError) throw e;
        throw new InputError(`cannot connect to the NATS server ${shown}: ${describeNatsError(e)}`);
      }
      // Ctrl-C and SIGTERM (service managers) both close the connection and end with 0; listening before the
      // "serving" line, which is what callers wait for before they may signal.
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      log(`serving actors on ${shown}`);
      await stopped;
      await host.close();
      process.exitCode = 0;
    });
}
