/**
 * The control protocol between a coordinator and actor hosts (nats-host.ts serves it, nats-host-client.ts
 * calls it). Every message is a control message of nats-seal.ts:
 * 1. assignment, on the run's assignment subject (a queue: one host takes it): {run, token, runNonce, heartbeat…,
 *    spec}, sealed with the assignment key when the coordinator has a secret; its run must be the subject's. The host refuses a token it has seen (a replay),
 *    reserves the actor without starting it and answers {token, host, challenge} (sealed the same way).
 * 2. claim, on the host's own subject: {challenge}, sealed with the assignment's control key, which needs the
 *    secret (if any), the token and the host's fresh challenge: only the coordinator that sent the assignment can
 *    claim it, so a replayed assignment never starts an actor; an unclaimed reservation lapses.
 * 3. calls, on the actor's control subject: {seq, method, args}, sealed with the control key, with sequence
 *    numbers that only rise (a replayed call is refused); replies {seq, ok, value | error}, sealed the same way.
 *    `heartbeat` calls have no reply: an actor whose coordinator stays silent is freed.
 */
import { deriveKey } from './nats-seal.js';
import type { ActorInit } from './actor.js';

/**
 * Where a coordinator assigns the actors of `run`. One subject per run, so that a server can permit a run's user to
 * assign (and read the assignments of) its own run only; hosts take every run's (ASSIGN_ANY).
 */
export function assignSubject(run: string): string {
  return `egru.hosts.assign.${run}`;
}
export const ASSIGN_ANY = 'egru.hosts.assign.*';
/** The run an assignment subject names, or null. */
export function runOfAssignSubject(subject: string): string | null {
  const prefix = 'egru.hosts.assign.';
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : null;
}
export function controlSubject(run: string, actor: number): string {
  return `egru.${run}.ctl.a${actor}`;
}
export function claimSubject(host: string): string {
  return `egru.hosts.claim.${host}`;
}

/** What an actor host needs to start one actor (servers and credentials are its own). */
export interface ActorSpec {
  init: ActorInit;
  run: string;
  batch: number;
  maxSteps: number;
}

export interface Assignment {
  run: string;
  /** Random per assignment: names it (hosts refuse one seen before) and keys its calls. */
  token: Uint8Array;
  /** Random per run: with the secret (if any) and the run id it derives the run's data key. */
  runNonce: Uint8Array;
  /** The coordinator sends a heartbeat this often; silence for heartbeatTimeoutMs frees the actor. */
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  spec: ActorSpec;
}
export interface Offer {
  token: Uint8Array;
  host: string;
  challenge: Uint8Array;
}
export interface Claim {
  challenge: Uint8Array;
}
export interface ControlRequest {
  seq: number;
  method: string;
  args: unknown[];
}
export type ControlReply = { seq: number; ok: true; value: unknown } | { seq: number; ok: false; error: string };

export const assignKey = (secret: Uint8Array) => deriveKey(secret, 'egru assignment v1');
export const controlKey = (secret: Uint8Array | undefined, token: Uint8Array, challenge: Uint8Array) =>
  deriveKey(secret, 'egru control v1', token, challenge);
export const dataKey = (secret: Uint8Array | undefined, run: string, runNonce: Uint8Array) => deriveKey(secret, 'egru data v1', run, runNonce);

const isBytes = (x: unknown, min: number): x is Uint8Array => x instanceof Uint8Array && x.byteLength >= min;
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Why `x` is not an assignment, or null. */
export function assignmentProblem(x: unknown): string | null {
  if (!isObject(x)) return 'not an object';
  if (typeof x.run !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(x.run)) return 'bad run id';
  if (!isBytes(x.token, 16) || !isBytes(x.runNonce, 16)) return 'no token or run nonce';
  if (!(Number(x.heartbeatMs) > 0 && Number(x.heartbeatTimeoutMs) > 0)) return 'bad heartbeat interval';
  const spec = x.spec;
  if (!isObject(spec) || spec.run !== x.run || !isObject(spec.init)) return 'bad actor spec';
  if (!(Number.isInteger(spec.batch) && Number.isInteger(spec.maxSteps) && (spec.batch as number) > 0 && (spec.maxSteps as number) > 0)) return 'bad batch size or sequence length';
  return null;
}

export function isOffer(x: unknown): x is Offer {
  return isObject(x) && isBytes(x.token, 16) && typeof x.host === 'string' && /^[0-9a-f]{16}$/.test(x.host) && isBytes(x.challenge, 16);
}
export function isClaim(x: unknown): x is Claim {
  return isObject(x) && isBytes(x.challenge, 16);
}
export function isRequest(x: unknown): x is ControlRequest {
  return isObject(x) && Number.isSafeInteger(x.seq) && typeof x.method === 'string' && Array.isArray(x.args);
}
export function isReply(x: unknown): x is ControlReply {
  return isObject(x) && Number.isSafeInteger(x.seq) && (x.ok === true || (x.ok === false && typeof x.error === 'string'));
}

export const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
