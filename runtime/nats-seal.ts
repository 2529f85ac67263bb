/**
 * Message authentication of the nats transport: every control message ends in an HMAC-SHA256 seal, every data
 * message in a GMAC tag (AES-256-GCM with the message as authenticated data and nothing to encrypt): data
 * messages carry the bulk of the traffic, and with AES-NI the GMAC runs ~3× faster than the HMAC on them.
 * Keys are derived per run (and per assignment) from an optional shared secret (`--secret-file`, given to the
 * coordinator and the actor hosts out of band) and from nonces the coordinator draws for each run, so a seal is
 * bound to its run; what a message seals (sender, receiver, sequence number, phase) binds it to its place.
 * Without a secret the keys derive from those nonces alone: worker threads get theirs in memory, never over
 * NATS; actor hosts get them in the assignment, readable by whoever may subscribe to it.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';

export const MAC_BYTES = 32;
const NO_SECRET = new Uint8Array(0);

/** A fresh random nonce or key. */
export function randomKey(bytes = 32): Uint8Array {
  return new Uint8Array(randomBytes(bytes));
}

/** HMAC(secret, label ‖ each part with its length): distinct labels and parts give independent keys. */
export function deriveKey(secret: Uint8Array | undefined, label: string, ...parts: (string | Uint8Array)[]): Uint8Array {
  const h = createHmac('sha256', secret ?? NO_SECRET).update(label);
  const len = Buffer.alloc(4);
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    len.writeUInt32LE(bytes.byteLength);
    h.update(len).update(bytes);
  }
  return new Uint8Array(h.digest());
}

/** Write the seal of buf[0, end) into buf[end, end + MAC_BYTES). */
export function sealInPlace(key: Uint8Array, buf: Uint8Array, end: number): void {
  buf.set(createHmac('sha256', key).update(buf.subarray(0, end)).digest(), end);
}

/** Does buf[end, end + MAC_BYTES) hold the seal of buf[0, end)? (Compared in constant time.) */
export function sealMatches(key: Uint8Array, buf: Uint8Array, end: number): boolean {
  if (end < 0 || buf.byteLength !== end + MAC_BYTES) return false;
  const mac = createHmac('sha256', key).update(buf.subarray(0, end)).digest();
  let diff = 0;
  for (let i = 0; i < MAC_BYTES; i++) diff |= mac[i]! ^ buf[end + i]!;
  return diff === 0;
}

/** Bytes of a data message's tag. */
export const TAG_BYTES = 16;

/**
 * Write the GMAC tag of buf[0, end) into buf[end, end + TAG_BYTES). `iv` (12 bytes) must never repeat under one
 * key: data messages use (sender, receiver, sequence number), unique within a run, and every run has its own key.
 */
export function tagInPlace(key: Uint8Array, iv: Uint8Array, buf: Uint8Array, end: number): void {
  buf.set(gmac(key, iv, buf, end), end);
}

/** Does buf[end, end + TAG_BYTES) hold the GMAC tag of buf[0, end) under `iv`? (Compared in constant time.) */
export function tagMatches(key: Uint8Array, iv: Uint8Array, buf: Uint8Array, end: number): boolean {
  if (end < 0 || buf.byteLength !== end + TAG_BYTES) return false;
  const tag = gmac(key, iv, buf, end);
  let diff = 0;
  for (let i = 0; i < TAG_BYTES; i++) diff |= tag[i]! ^ buf[end + i]!;
  return diff === 0;
}

function gmac(key: Uint8Array, iv: Uint8Array, buf: Uint8Array, end: number): Buffer {
  const g = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  g.setAAD(buf.subarray(0, end));
  g.final();
  return g.getAuthTag();
}

/** Control-plane encoding: msgpack with typed arrays kept as typed arrays. */
export const controlCodec = new Packr({ moreTypes: true, structuredClone: true, useRecords: false });

/** A control message: a flag byte (1 = sealed), the msgpack body, then the seal when sealed. */
export function packControl(key: Uint8Array | null, body: unknown): Uint8Array {
  const packed = controlCodec.pack(body);
  const out = new Uint8Array(1 + packed.byteLength + (key ? MAC_BYTES : 0));
  out[0] = key ? 1 : 0;
  out.set(packed, 1);
  if (key) sealInPlace(key, out, 1 + packed.byteLength);
  return out;
}

export type Opened = { ok: true; body: unknown; sealed: boolean } | { ok: false; why: string };

/**
 * Read a control message. With a key it must be sealed with that key; without one it may be either (the body of
 * a sealed one is read unverified, so that a host without the secret can say that it lacks it).
 */
export function openControl(key: Uint8Array | null, data: Uint8Array): Opened {
  if (data.byteLength < 2) return { ok: false, why: `${data.byteLength} bytes, too short for a control message` };
  const sealed = data[0] === 1;
  if (data[0] !== 0 && !sealed) return { ok: false, why: `unknown control format ${data[0]}` };
  if (key && !sealed) return { ok: false, why: 'not sealed (the sender has no --secret-file, or is not part of this run)' };
  const end = data.byteLength - (sealed ? MAC_BYTES : 0);
  if (end < 2) return { ok: false, why: `${data.byteLength} bytes, too short for a sealed control message` };
  if (key && !sealMatches(key, data, end))
    return { ok: false, why: 'its seal does not verify (forged, replayed from another run or assignment, or sealed with another --secret-file)' };
  try {
    return { ok: true, body: controlCodec.unpack(data.subarray(1, end)), sealed };
  } catch (e) {
    return { ok: false, why: `undecodable body (${(e as Error).message})` };
  }
}
