/** `egru actor-host`: run actors for coordinators on other machines (the nats transport with --actor-hosts). */
import { Command } from 'commander';
import { ActorFailure } from '../../runtime/coordinator.js';
import { describeNatsError } from '../../runtime/nats-connect.js';
import { serveActorHost } from '../../runtime/nats-host.js';
import { InputError } from '../io/errors.js';
import { DEFAULT_NATS, examples } from './common.js';
import { natsAuth, recordableNatsServers, NATS_CREDS_HELP, NATS_TLS_CA_HELP, SECRET_FILE_HELP, type NatsAuthOptions } from './nats-options.js';

export function actorHostCommand(): Command {
  return new Command('actor-host')
    .description('serve actors over NATS for `egru train|eval --transport nats --actor-hosts` (runs until Ctrl-C)')
    .option('--nats <url>', 'NATS server shared with the coordinator', DEFAULT_NATS)
    .option('--nats-creds <file>', NATS_CREDS_HELP)
    .option('--nats-tls-ca <file>', NATS_TLS_CA_HELP)
    .option('--secret-file <file>', SECRET_FILE_HELP)
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
      const { secret, ...auth } = natsAuth(o);
      let host;
      try {
        host = await serveActorHost({ servers: o.nats, ...auth }, log, { secret });
      } catch (e) {
        if (e instanceof InputError) throw e;
        throw new InputError(`cannot connect to the NATS server ${shown}: ${describeNatsError(e)}`);
      }
      // Ctrl-C and SIGTERM (service managers) both free every actor, close the connections and end with 0; a
      // second one quits at once. Listening before the "serving" line, which is what callers wait for.
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      log(`serving actors on ${shown}${secret ? ' (messages sealed with --secret-file)' : ''}`);
      const started = Date.now();
      const lost = await Promise.race([stopped.then(() => null), host.lost]);
      if (lost) {
        await host.close().catch(() => {});
        throw new ActorFailure(`actor host: ${lost.message}: ${shown}, after serving for ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      await host.close();
      process.exitCode = 0;
    });
}
