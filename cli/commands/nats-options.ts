/**
 * The NATS options of `egru train`, `eval`, `hardware` and `actor-host` besides the URL (--nats-creds,
 * --nats-tls-ca, --secret-file), and a check that the server takes our credentials before a run starts, so a wrong password
 * is one `egru: error:` line (exit 2) rather than a failing actor.
 */
import { readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { randomRunId } from '../../runtime/coordinator.js';
import type { NatsConnection } from 'nats';
import { connectNats, describeNatsError, parseNatsServers, redactNatsServers, type NatsAuth, type NatsEndpoint } from '../../runtime/nats-connect.js';
import { describeFsError, InputError } from '../io/errors.js';

export interface NatsAuthOptions {
  natsCreds?: string;
  natsTlsCa?: string;
  secretFile?: string;
  natsRun?: string;
}

export const NATS_CREDS_HELP = 'NATS credentials file (NKey seed and user JWT) for a server that requires them (user and password, or a token, go in the URL: nats://user:pass@host:4222)';
export const NATS_TLS_CA_HELP = "CA certificate (PEM) that signed the NATS server's TLS certificate";
export const SECRET_FILE_HELP =
  'file holding the secret shared by the coordinator and its actor hosts (at least 16 bytes, e.g. `head -c 32 /dev/urandom | base64 > egru.secret`): seals every message, so clients of the server cannot forge or replay one (docs/nats.md)';
export const NATS_RUN_HELP =
  "run id that scopes the run's NATS subjects (egru.<id>.…), so a server can permit a user only its run's subjects (docs/nats.md); letters, digits, '-' and '_', 1–64 characters (default: random)";
/** The shortest secret accepted (after trailing whitespace is dropped). */
const MIN_SECRET_BYTES = 16;

/** Add --nats-creds, --nats-tls-ca and --secret-file to a command. */
export function addNatsAuthOptions(cmd: Command): Command {
  return cmd.option('--nats-creds <file>', NATS_CREDS_HELP).option('--nats-tls-ca <file>', NATS_TLS_CA_HELP).option('--secret-file <file>', SECRET_FILE_HELP);
}

/** --nats-run ID: one token of a NATS subject, so that `egru.<ID>.>` names exactly this run's subjects. */
export function natsRunArg(v: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw new InvalidArgumentError("expected 1–64 letters, digits, '-' or '_'.");
  // egru.hosts.> holds every run's assignments: a run user permitted egru.hosts.> could assign any run's actors
  if (v === 'hosts') throw new InvalidArgumentError("'hosts' is reserved for the actor hosts' subjects (egru.hosts.…).");
  return v;
}

/** The run id of a nats run: --nats-run, or a random one. */
export function natsRunOf(o: NatsAuthOptions): string {
  return o.natsRun ?? randomRunId();
}

/** These options mean something only with --transport nats: given without it, say so rather than ignore them. */
export function checkNatsAuthUse(o: NatsAuthOptions & { transport: string }): void {
  const given = (['natsCreds', 'natsTlsCa', 'secretFile', 'natsRun'] as const).find((k) => o[k] !== undefined);
  if (given && o.transport !== 'nats') throw new InputError(`--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --transport nats only`);
}

/** The secret in FILE: its bytes without trailing whitespace (so `echo` and editors agree), at least 16. */
export function readSecretFile(path: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`--secret-file ${path}: ${describeFsError(e)}`);
  }
  let end = bytes.length;
  while (end > 0 && /\s/.test(String.fromCharCode(bytes[end - 1]!))) end--;
  if (end < MIN_SECRET_BYTES) throw new InputError(`--secret-file ${path}: the secret has ${end} bytes, at least ${MIN_SECRET_BYTES} are needed`);
  return new Uint8Array(bytes.subarray(0, end));
}

/** The creds and CA files given, each checked to be a readable file, and the secret. */
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
  const auth: NatsAuth = { creds: file(o.natsCreds, '--nats-creds'), tlsCa: file(o.natsTlsCa, '--nats-tls-ca') };
  if (o.secretFile !== undefined) auth.secret = readSecretFile(o.secretFile);
  return auth;
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

/**
 * Connect once and close: an unreachable server or refused credentials → InputError (one line). With `run`, also
 * subscribe and publish once on a subject of the run that no actor reads (a live run's actor would fail on a
 * stray message): a server that does not permit this user the run's subjects answers with a permissions
 * violation, which otherwise shows only once the actors subscribe, as an actor failure in a run directory
 * already made.
 */
export async function checkNatsServer(ep: NatsEndpoint & { run?: string }): Promise<void> {
  let nc;
  try {
    nc = await connectNats(ep, 'egru-check');
  } catch (e) {
    throw new InputError(`cannot connect to the NATS server ${redactNatsServers(ep.servers)}: ${describeNatsError(e)}`);
  }
  try {
    if (ep.run !== undefined) await checkRunPermissions(nc, ep.run, redactNatsServers(ep.servers));
  } finally {
    await nc.close();
  }
}

async function checkRunPermissions(nc: NatsConnection, run: string, shown: string): Promise<void> {
  const refused: string[] = [];
  void (async () => {
    for await (const s of nc.status())
      if (s.type === 'error' && s.permissionContext) refused.push(`${s.permissionContext.operation === 'publish' ? 'publish' : 'subscribe'} to ${s.permissionContext.subject}`);
  })();
  const subject = `egru.${run}.check`;
  nc.subscribe(subject, { max: 1, callback: () => {} });
  nc.publish(subject);
  await nc.flush(); // the server answers in order: a violation arrives before the flush's PONG
  await new Promise((r) => setImmediate(r)); // let the status iterator take it
  if (refused.length)
    throw new InputError(
      `the NATS server ${shown} does not permit this user the subjects of run ${run} (Permissions Violation: ${refused.join(', ')}); give the --nats-run that the server permits it (docs/nats.md)`,
    );
}
