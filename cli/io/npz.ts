/**
 * NumPy `.npz` archives: a zip of `<key>.npy` members, stored or deflated (what np.savez / np.savez_compressed
 * write). Reading accepts both; writing stores by default, deflates with `{ compress: true }`.
 */
import { crc32 } from 'node:zlib';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { writeFileAtomic } from './atomic.js';
import { InputError } from './errors.js';
import { readInputFile } from './files.js';
import { checkNdArray, encodeNpy, parseNpy, type NdArray } from './npy.js';

/** Parse .npz bytes; `label` (usually the path) names the source in messages. Keys are member names minus `.npy`. */
export function parseNpz(bytes: Uint8Array, label: string): Map<string, NdArray> {
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b)
    throw new InputError(`${label}: not a .npz file (not a zip archive${bytes.length === 0 ? '; the file is empty' : ''})`);
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new InputError(`${label}: corrupt or truncated .npz (zip) archive: ${String((e as Error)?.message ?? e).split('\n')[0]}`, { cause: e });
  }
  const crcs = centralDirectoryCrcs(bytes);
  const out = new Map<string, NdArray>();
  for (const [member, data] of Object.entries(files)) {
    if (!member.endsWith('.npy')) continue; // directories and foreign members
    const key = member.slice(0, -4);
    const want = crcs?.get(member);
    if (want !== undefined && crc32(data) >>> 0 !== want)
      throw new InputError(`${label}: array '${key}' is corrupt (CRC-32 mismatch)`);
    out.set(key, parseNpy(data, `${label} (array '${key}')`));
  }
  return out;
}

/**
 * CRC-32 of every member, from the zip central directory (fflate does not verify them; NumPy does).
 * Returns undefined when the directory cannot be walked (fflate has then already rejected the archive).
 */
function centralDirectoryCrcs(b: Uint8Array): Map<string, number> | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let e = b.length - 22;
  const stop = Math.max(0, b.length - 22 - 65535);
  while (e >= stop && v.getUint32(e, true) !== 0x06054b50) e--;
  if (e < stop) return undefined;
  let count = v.getUint16(e + 10, true);
  let off = v.getUint32(e + 16, true);
  if ((count === 0xffff || off === 0xffffffff) && e >= 20 && v.getUint32(e - 20, true) === 0x07064b50) {
    const z = Number(v.getBigUint64(e - 12, true));
    if (z + 56 > b.length || v.getUint32(z, true) !== 0x06064b50) return undefined;
    count = Number(v.getBigUint64(z + 32, true));
    off = Number(v.getBigUint64(z + 48, true));
  }
  const out = new Map<string, number>();
  const utf8 = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  for (let k = 0; k < count; k++) {
    if (off + 46 > b.length || v.getUint32(off, true) !== 0x02014b50) return undefined;
    const flags = v.getUint16(off + 8, true);
    const crc = v.getUint32(off + 16, true);
    const n = v.getUint16(off + 28, true);
    const next = off + 46 + n + v.getUint16(off + 30, true) + v.getUint16(off + 32, true);
    if (next > b.length) return undefined;
    out.set((flags & 0x800 ? utf8 : latin1).decode(b.subarray(off + 46, off + 46 + n)), crc);
    off = next;
  }
  return out;
}

/** Read a .npz file; a missing, non-zip, truncated or malformed file → InputError naming `path`. */
export function readNpz(path: string): Map<string, NdArray> {
  return parseNpz(readInputFile(path, '.npz file'), path);
}

/** Serialise to .npz bytes: members `<key>.npy`, in the key order given; deflated when `compress`. */
export function encodeNpz(entries: Record<string, NdArray> | Map<string, NdArray>, opts: { compress?: boolean } = {}): Uint8Array {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  const zippable: Zippable = {};
  for (const [key, nd] of list) {
    if (!key || key.includes('/') || key.includes('\\')) throw new TypeError(`npz: bad array name '${key}'`);
    checkNdArray(nd, key);
    zippable[`${key}.npy`] = [encodeNpy(nd), { level: opts.compress ? 6 : 0 }];
  }
  return zipSync(zippable, { mtime: new Date('1980-01-02T00:00:00Z') });
}

/** Write a .npz file atomically (temp file + rename). */
export function writeNpz(path: string, entries: Record<string, NdArray> | Map<string, NdArray>, opts: { compress?: boolean } = {}): void {
  writeFileAtomic(path, encodeNpz(entries, opts));
}
