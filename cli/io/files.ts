/** Reading user-supplied files: every failure becomes an InputError naming the file. */
import { readFileSync, statSync } from 'node:fs';
import { describeFsError, InputError } from './errors.js';

/** The whole file as bytes; a missing/unreadable path or a directory → InputError. */
export function readInputFile(path: string, what = 'file'): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${describeFsError(e)}`, { cause: e });
  }
  if (st.isDirectory()) throw new InputError(`cannot read ${what} ${path}: it is a directory`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${describeFsError(e)}`, { cause: e });
  }
}
