/** Run f, expect an InputError, return its message (one line, no stack). */
import { expect } from 'vitest';
import { InputError } from '../../cli/io/errors.js';

export function inputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toMatch(/\n/);
    expect(msg.length).toBeGreaterThan(10);
    return msg;
  }
  throw new Error('expected an InputError, nothing was thrown');
}
