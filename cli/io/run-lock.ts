/**
 * One writer per run directory: `DIR/.lock`, created exclusively (O_EXCL) and holding the pid, host and start
 * time of the `egru train` that writes DIR. A second run on DIR is refused while the holder lives; a lock left by
 * a process that no longer runs on this host (killed, crashed) is taken over with a note. The lock is removed
 * when the run ends, however it ends (release, an error, Ctrl-C, process.exit). A process killed outright
 * (SIGKILL, a crash) leaves its lock behind: that is the stale lock the next run takes over. Two runs that find
 * the same stale lock at the same instant could both take it over; that needs two starts within milliseconds
 * after a crash, which the exclusive create does not cover.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './atomic.js';
import { describeFsError, InputError } from './errors.js';

export const LOCK_FILE = '.lock';

/** What a lock file holds (one JSON line). */
export interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

export interface RunLock {
  readonly path: string;
  /** Remove the lock (idempotent; leaves a lock that another process took over alone). */
  release(): void;
}

/**
 * A lock file that cannot be read as an owner is one being written right now (create and write are two steps)
 * or one left half-written by a crash; after this long it is the latter.
 */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

/**
 * Take the lock of run directory `dir` (which must exist). Held by a live process → InputError naming it;
 * stale → removed, `note` told why, and taken.
 */
export function lockRunDirectory(dir: string, note: (line: string) => void): RunLock {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(path, me)) return heldLock(path, me);
    const owner = readOwner(path);
    const stale = staleness(path, owner);
    if (stale === null) throw new InputError(heldMessage(dir, path, owner));
    note(`removed a stale lock ${path}: ${stale}`);
    removeQuietly(path);
  }
  throw new InputError(`cannot lock the run directory ${dir}: ${path} keeps reappearing (another egru train is starting on it)`);
}

/** Create the lock file exclusively; false when it already exists. */
function tryCreate(path: string, me: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new InputError(`cannot create the lock ${path}: ${describeFsError(e)}`, { cause: e });
  }
  try {
    writeSync(fd, JSON.stringify(me) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The owner a lock file names, or null when it is absent, empty or unreadable. */
function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (Number.isInteger(o.pid) && typeof o.host === 'string' && typeof o.started === 'string') return o as LockOwner;
  } catch {
    /* absent or half-written */
  }
  return null;
}

/** Why the lock is stale (its owner is gone), or null when it may still be held. */
function staleness(path: string, owner: LockOwner | null): string | null {
  if (owner === null) {
    const age = ageMs(path);
    if (age === null) return 'it vanished';
    return age > UNREADABLE_LOCK_GRACE_MS ? 'it names no owner (left half-written)' : null;
  }
  if (owner.host !== hostname()) return null; // another host's process cannot be checked from here
  if (owner.pid === process.pid) return null;
  return processAlive(owner.pid) ? null : `process ${owner.pid} on ${owner.host} (started ${owner.started}) is no longer running`;
}

function ageMs(path: string): number | null {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return null;
  }
}


function heldMessage(dir: string, path: string, owner: LockOwner | null): string {
  const who = owner ? `process ${owner.pid} on ${owner.host} (since ${owner.started})` : 'a process that is starting';
  const hint = owner && owner.host !== hostname() ? `; if that run is gone, delete ${path}` : '';
  return `the run directory ${dir} is in use by another egru train: ${who}${hint}`;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** The lock we hold; also removed on process exit, so that process.exit() and fatal errors leave none behind. */
function heldLock(path: string, me: LockOwner): RunLock {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    const owner = readOwner(path);
    if (owner && owner.pid === me.pid && owner.started === me.started && owner.host === me.host) removeQuietly(path);
  };
  process.on('exit', release);
  return { path, release };
}
