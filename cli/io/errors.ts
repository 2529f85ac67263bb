/**
 * Errors caused by what the user gave us (a missing, malformed or inconsistent file, a bad option value).
 * The CLI prints `err.message` as one line on stderr and exits with code 2 — no stack trace.
 * Everything else (a thrown Error, TypeError, RangeError…) is a bug in this program.
 */
export class InputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
    this.name = 'InputError';
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}

/** Collapse whitespace so that a message always prints as one line. */
function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** A short, user-readable description of a Node fs error (`no such file`, `permission denied`, …). */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  switch (err?.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    case 'EEXIST':
      return 'already exists';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    default:
      return err?.message ? String(err.message).split('\n')[0]! : String(e);
  }
}
