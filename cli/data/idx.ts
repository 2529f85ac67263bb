/**
 * IDX files (the MNIST distribution format): big-endian magic `0x00 0x00 <type> <ndims>`, then ndims uint32
 * big-endian dimensions, then the data. Only unsigned-byte data (type 0x08) is supported — what MNIST uses:
 * images have magic 0x00000803 (N × rows × cols), labels 0x00000801 (N).
 * Every problem (bad magic, wrong dims, wrong file size) → InputError naming the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { describeFsError, InputError } from '../io/errors.js';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxArray {
  magic: number;
  dims: number[];
  /** Row-major unsigned bytes; `limit` rows when a limit was given. */
  data: Uint8Array;
  /** Number of rows in the file (dims[0] before any limit). */
  total: number;
}

const hex = (m: number) => '0x' + m.toString(16).padStart(8, '0');

function parseHeader(head: Uint8Array, fileSize: number, label: string, magic: number): { dims: number[]; headerBytes: number; rowBytes: number } {
  const bad = (what: string) => new InputError(`${label}: ${what}`);
  const ndims = magic & 0xff;
  if (fileSize < 4) throw bad(`not an IDX file (${fileSize} bytes)`);
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const got = v.getUint32(0, false);
  if (got !== magic) {
    if (head[0] !== 0 || head[1] !== 0) throw bad(`not an IDX file (magic ${hex(got)}, expected ${hex(magic)})`);
    if (head[2] !== 0x08) throw bad(`unsupported IDX data type 0x${head[2]!.toString(16)} (only unsigned bytes, 0x08)`);
    throw bad(`IDX file has ${head[3]} dimensions (magic ${hex(got)}), expected ${ndims} (magic ${hex(magic)})`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (fileSize < headerBytes) throw bad(`truncated IDX header (${fileSize} bytes, needs ${headerBytes})`);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(v.getUint32(4 + 4 * d, false));
  let rowBytes = 1;
  for (let d = 1; d < ndims; d++) rowBytes *= dims[d]!;
  const need = headerBytes + dims[0]! * rowBytes;
  if (fileSize < need) throw bad(`truncated: dimensions ${dims.join(' × ')} need ${need} bytes, file has ${fileSize}`);
  if (fileSize > need) throw bad(`corrupt: dimensions ${dims.join(' × ')} need ${need} bytes, file has ${fileSize} (${fileSize - need} extra)`);
  return { dims, headerBytes, rowBytes };
}

/** Parse IDX bytes already in memory, requiring `magic`. */
export function parseIdx(bytes: Uint8Array, label: string, magic: number): IdxArray {
  const head = bytes.subarray(0, Math.min(bytes.length, 4 + 4 * (magic & 0xff)));
  const padded = new Uint8Array(4 + 4 * (magic & 0xff));
  padded.set(head);
  const { dims, headerBytes } = parseHeader(padded, bytes.length, label, magic);
  return { magic, dims, data: bytes.subarray(headerBytes), total: dims[0]! };
}

/**
 * Read an IDX file requiring `magic`; validates the exact file size, then reads only the rows from row `from`
 * (default 0), at most `limit` of them (all when omitted). `dims[0]` is the number of rows returned.
 */
export function readIdx(path: string, magic: number, limit?: number, from = 0): IdxArray {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${describeFsError(e)}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InputError(`cannot read ${path}: it is a directory`);
    const headLen = 4 + 4 * (magic & 0xff);
    const head = new Uint8Array(headLen);
    readFully(fd, head, 0, path);
    const { dims, headerBytes, rowBytes } = parseHeader(head, st.size, path, magic);
    const first = Math.min(dims[0]!, Math.max(0, Math.floor(from)));
    const rows = limit === undefined ? dims[0]! - first : Math.min(dims[0]! - first, Math.max(0, Math.floor(limit)));
    const data = new Uint8Array(rows * rowBytes);
    readFully(fd, data, headerBytes + first * rowBytes, path);
    return { magic, dims: [rows, ...dims.slice(1)], data, total: dims[0]! };
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, buf: Uint8Array, position: number, path: string): void {
  let off = 0;
  while (off < buf.length) {
    let n: number;
    try {
      n = readSync(fd, buf, off, buf.length - off, position + off);
    } catch (e) {
      throw new InputError(`cannot read ${path}: ${describeFsError(e)}`, { cause: e });
    }
    if (n === 0) throw new InputError(`${path}: truncated (file ended early)`);
    off += n;
  }
}
