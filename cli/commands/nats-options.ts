/**
 * The NATS connection options of `egru train` and `egru actor-host` besides the URL (--nats-creds,
 * --nats-tls-ca), and a check that the server takes our credentials before a run starts, so a wrong password
 * is one `egru: error:` line (exit 2) rather than a failing actor.
 */
import { statSync } from 'node:fs';
import { connectNats, describeNatsError, parseNatsServers, redactNatsServers, type NatsAuth, type NatsEndpoint } from '../../runtime/nats-connect.js';
import { describeFsError, InputError } from '../io/errors.js';

export interface NatsAuthOptions {
  natsCreds?: string;
  natsTlsCa?: string;
}

export const NATS_CREDS_HELP = 'NATS credentials file (NKey seed and user JWT) for a server that requires them (user and password, or a token, go in the URL: nats://user:pass@host:4222)';
export const NATS_TLS_CA_HELP = "CA certificate (PEM) that signed the NATS server's TLS certificate";

/** The creds and CA files given, each checked to be a readable file. */
export function natsAuth(o: NatsAuthOptions): NatsAuth {
  const file = (path: string | undefined, flag: string) => {
    if (path === undefined) return undefined;
    try {
      if (!statSync(path).isFile()) throw new InputError(`${flag} ${path}: not a file`);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`${flag} ${path}: ${describeFsError(e)}`);
    }
    return path;
  };
  return { creds: file(o.natsCreds, '--nats-creds'), tlsCa: file(o.natsTlsCa, '--nats-tls-ca') };
}

/** The server list as it may be recorded and shown: malformed → InputError, credentials left out. */
export function recordableNatsServers(servers: string): string {
  try {
    parseNatsServers(servers);
  } catch (e) {
    throw new InputError(`--nats: ${(e as Error).message}`);
  }
  return redactNatsServers(servers);
}

/** Connect once and close: an unreachable server or refused credentials → InputError (one line). */
export async function checkNatsServer(ep: NatsEndpoint): Promise<void> {
  let nc;
  try {
    nc = await connectNats(ep, 'egru-check');
  } catch (e) {
    throw new InputError(`cannot connect to the NATS server ${redactNatsServers(ep.servers)}: ${describeNatsError(e)}`);
  }
  await nc.close();
}
