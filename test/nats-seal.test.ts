/** Seals, keys and the shape checks of control messages (no server needed). */
import { describe, expect, it } from 'vitest';
import { assignmentProblem, controlKey, dataKey, isReply, isRequest } from '../runtime/nats-control.js';
import { deriveKey, MAC_BYTES, openControl, packControl, randomKey, sealInPlace, sealMatches, TAG_BYTES, tagInPlace, tagMatches } from '../runtime/nats-seal.js';

describe('seals', () => {
  it('a sealed buffer verifies; any changed byte, another key or another length does not', () => {
    const key = randomKey();
    const buf = new Uint8Array(40 + MAC_BYTES);
    buf.set(Array.from({ length: 40 }, (_, i) => i * 7));
    sealInPlace(key, buf, 40);
    expect(sealMatches(key, buf, 40)).toBe(true);
    for (const at of [0, 17, 39, 40, 40 + MAC_BYTES - 1]) {
      const bad = buf.slice();
      bad[at]! ^= 1;
      expect(sealMatches(key, bad, 40), `byte ${at}`).toBe(false);
    }
    expect(sealMatches(randomKey(), buf, 40)).toBe(false);
    expect(sealMatches(key, buf.subarray(0, buf.length - 1), 40)).toBe(false);
    expect(sealMatches(key, buf, 39)).toBe(false);
  });

  it('a data tag verifies under its key and nonce only; any changed byte breaks it', () => {
    const key = randomKey();
    const iv = Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0);
    const buf = new Uint8Array(300 + TAG_BYTES).map((_, i) => i % 251);
    tagInPlace(key, iv, buf, 300);
    expect(tagMatches(key, iv, buf, 300)).toBe(true);
    for (const at of [0, 150, 299, 300, 300 + TAG_BYTES - 1]) {
      const bad = buf.slice();
      bad[at]! ^= 0x80;
      expect(tagMatches(key, iv, bad, 300), `byte ${at}`).toBe(false);
    }
    expect(tagMatches(key, Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0, 10, 0, 0, 0), buf, 300)).toBe(false);
    expect(tagMatches(randomKey(), iv, buf, 300)).toBe(false);
    expect(tagMatches(key, iv, buf.subarray(1), 299)).toBe(false);
  });

  it('keys differ by label, secret and every part, and the parts do not run together', () => {
    const s = new TextEncoder().encode('a shared secret of some length');
    const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');
    const keys = [
      deriveKey(s, 'x', 'ab', 'c'),
      deriveKey(s, 'x', 'a', 'bc'),
      deriveKey(s, 'y', 'ab', 'c'),
      deriveKey(undefined, 'x', 'ab', 'c'),
      dataKey(s, 'run', new Uint8Array(16)),
      dataKey(s, 'run2', new Uint8Array(16)),
      controlKey(s, new Uint8Array(16), new Uint8Array(16).fill(1)),
      controlKey(undefined, new Uint8Array(16), new Uint8Array(16).fill(1)),
    ].map(hex);
    expect(new Set(keys).size).toBe(keys.length);
    expect(hex(deriveKey(s, 'x', 'ab', 'c'))).toBe(keys[0]);
  });
});

describe('control messages', () => {
  const key = randomKey();
  it('round-trip sealed and unsealed, typed arrays kept', () => {
    const body = { seq: 3, method: 'setParams', args: [{ thr: Float32Array.of(1, 2) }] };
    const sealed = openControl(key, packControl(key, body));
    expect(sealed).toMatchObject({ ok: true, sealed: true });
    expect((sealed as { body: typeof body }).body.args[0]!.thr).toEqual(Float32Array.of(1, 2));
    expect(openControl(null, packControl(null, body))).toMatchObject({ ok: true, sealed: false, body: { seq: 3 } });
  });
  it('refused: unsealed where a seal is needed, another key, garbage, too short', () => {
    const body = { seq: 1, method: 'ping', args: [] };
    expect(openControl(key, packControl(null, body))).toMatchObject({ ok: false, why: expect.stringMatching(/^not sealed/) });
    expect(openControl(key, packControl(randomKey(), body))).toMatchObject({ ok: false, why: expect.stringMatching(/seal does not verify/) });
    expect(openControl(null, Uint8Array.of(7, 1, 2))).toMatchObject({ ok: false, why: 'unknown control format 7' });
    expect(openControl(null, Uint8Array.of(0, 0x92, 0x01))).toMatchObject({ ok: false, why: expect.stringMatching(/undecodable/) });
    expect(openControl(null, Uint8Array.of(1))).toMatchObject({ ok: false, why: expect.stringMatching(/too short/) });
  });
  it('shapes: assignments, requests and replies', () => {
    const good = { run: 'r-1', token: randomKey(16), runNonce: randomKey(16), heartbeatMs: 1000, heartbeatTimeoutMs: 10000, spec: { run: 'r-1', init: {}, batch: 2, maxSteps: 4 } };
    expect(assignmentProblem(good)).toBeNull();
    expect(assignmentProblem({ ...good, run: 'a.b' })).toBe('bad run id');
    expect(assignmentProblem({ ...good, token: new Uint8Array(4) })).toBe('no token or run nonce');
    expect(assignmentProblem({ ...good, spec: { ...good.spec, run: 'other' } })).toBe('bad actor spec');
    expect(assignmentProblem({ ...good, spec: { ...good.spec, batch: 0 } })).toBe('bad batch size or sequence length');
    expect(assignmentProblem(null)).toBe('not an object');
    expect(isRequest({ seq: 1, method: 'ping', args: [] })).toBe(true);
    expect(isRequest({ method: 'ping', args: [] })).toBe(false);
    expect(isReply({ seq: 1, ok: false, error: 'x' })).toBe(true);
    expect(isReply({ seq: 1, ok: 'yes' })).toBe(false);
  });
});
