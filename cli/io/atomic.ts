/**
 * Atomic file writes: the data goes to a temporary file in the target's directory, is fsynced, then renamed
 * over the target. A reader sees either the old file or the complete new one, never a partial file; a failed
 * write leaves the target untouched and removes its temporary file.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeFsError, InputError } from './errors.js';

/** Name of the temporary file used for `path` (hidden, same directory, unique per call). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

const TEMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-f]{8}$/;

/**
 * Remove the temporary files in `dir` that a writer killed mid-write left behind (their pid no longer runs);
 * a failing write removes its own. Returns the names removed.
 */
export function removeOrphanedTempFiles(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
}

/** Whether process `pid` runs on this machine (signal 0; EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Write `data` to `path` atomically (temp file in the same directory, fsync, rename).
 * Failures (missing directory, permissions, full disk) → InputError naming the path; the target is untouched.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const dir = dirname(path);
  try {
    if (statSync(path).isDirectory()) throw new InputError(`cannot write ${path}: it is a directory`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    // absent target: fine
  }
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created or already renamed */
    }
    throw new InputError(`cannot write ${path}: ${describeFsError(e)}`, { cause: e });
  }
  // Make the rename itself durable (best effort: not every platform can fsync a directory).
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* ignore */
  }
}

/**
 * Refuse to overwrite: throws InputError when `path` exists and `force` is false, and always when it is a
 * directory. Call it for every output before doing any work, so bad input writes nothing.
 */
export function assertWritable(path: string, force: boolean): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InputError(`cannot write ${path}: ${describeFsError(e)}`, { cause: e });
  }
  if (st.isDirectory()) throw new InputError(`cannot write ${path}: it is a directory`);
  if (!force) throw new InputError(`${path} already exists (use --force to overwrite it)`);
}
