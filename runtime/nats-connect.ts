/**
 * How every part of the `nats` transport (coordinator, actor threads, actor hosts) connects to the server:
 * credentials given in the URL (`nats://user:pass@host:4222`, `nats://token@host:4222`) become the client's
 * user/pass or token options (the client does not read them from the URL itself), a creds file (NKey/JWT) an
 * authenticator, and a CA file the trust root of a TLS connection.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';

/** Connection settings besides the URL: paths of a creds file (NKey/JWT) and of a CA certificate for TLS. */
export interface NatsAuth {
  creds?: string;
  tlsCa?: string;
  /** The shared secret (--secret-file) that seals the messages of runs over actor hosts (runtime/nats-seal.ts). */
  secret?: Uint8Array;
}

/** A server to connect to: URL(s), comma-separated, possibly holding credentials, and the files of NatsAuth. */
export interface NatsEndpoint extends NatsAuth {
  servers: string;
  /** The subject prefix of the connection's request/reply inboxes (runInboxPrefix); default `_INBOX`. */
  inboxPrefix?: string;
}

/**
 * The inbox prefix of a run's connections, `_INBOX.<run>`: a server can then permit a run's user the replies of
 * its own run only (`_INBOX.<run>.>`), while a user permitted `_INBOX.>` still covers every run.
 */
export function runInboxPrefix(run: string): string {
  return `_INBOX.${run}`;
}

interface ParsedServers {
  /** The URLs without their credentials. */
  urls: string[];
  user?: string;
  pass?: string;
  token?: string;
}

/** Split the credentials out of comma-separated server URLs; they must agree across URLs. Malformed → Error. */
export function parseNatsServers(servers: string): ParsedServers {
  const out: ParsedServers = { urls: [] };
  let creds: string | undefined;
  for (const raw of servers.split(',').map((s) => s.trim())) {
    if (!raw) throw new Error(`malformed NATS server list "${redactNatsServers(servers)}"`);
    const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
    let url: URL;
    try {
      url = new URL(hasScheme ? raw : `nats://${raw}`);
    } catch {
      throw new Error(`malformed NATS server URL "${redactNatsServers(raw)}"`);
    }
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    if (!user && !pass) {
      out.urls.push(raw);
      continue;
    }
    const these = `${user}\u0000${pass}`;
    if (creds !== undefined && creds !== these) throw new Error('the NATS server URLs hold different credentials');
    creds = these;
    if (pass) [out.user, out.pass] = [user, pass];
    else out.token = user;
    out.urls.push(hasScheme ? `${url.protocol}//${url.host}` : url.host);
  }
  return out;
}

/** The server list with any credentials left out (what logs, messages and config.json may show). */
export function redactNatsServers(servers: string): string {
  return servers.replace(/(^|,|\/\/)\s*[^,/@\s]*@/g, '$1');
}

/** The client options for an endpoint (reads the creds file; a missing file → Error naming it). */
export function natsConnectOptions(ep: NatsEndpoint, name: string): ConnectionOptions {
  const { urls, user, pass, token } = parseNatsServers(ep.servers);
  // A lost server is retried 10 times, this far apart, before the connection closes for good.
  const opts: ConnectionOptions = { servers: urls, name, reconnectTimeWait: Number(process.env.EGRU_NATS_RECONNECT_WAIT_MS ?? 2000) };
  if (user !== undefined) Object.assign(opts, { user, pass });
  if (token !== undefined) opts.token = token;
  if (ep.creds !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(ep.creds);
    } catch (e) {
      throw new Error(`cannot read the NATS creds file ${ep.creds}: ${(e as Error).message}`);
    }
    opts.authenticator = credsAuthenticator(bytes);
  }
  if (ep.tlsCa !== undefined) opts.tls = { caFile: ep.tlsCa };
  if (ep.inboxPrefix !== undefined) opts.inboxPrefix = ep.inboxPrefix;
  return opts;
}

export function connectNats(ep: NatsEndpoint, name: string): Promise<NatsConnection> {
  return connect(natsConnectOptions(ep, name));
}

/** One line on why a connection failed, naming what to check for the errors users can fix. */
export function describeNatsError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = String(err?.message ?? e).split('\n')[0]!;
  if (/authorization violation|authentication|AUTHORIZATION_VIOLATION/i.test(`${err?.code} ${msg}`))
    return `${msg}: the server refused the credentials (check the user and password or the token in the URL, or --nats-creds)`;
  if (/CONNECTION_REFUSED/.test(String(err?.code))) return `${msg} (is nats-server running there?)`;
  return msg;
}
