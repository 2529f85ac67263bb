/**
 * NumPy `.npy` reader and writer (format versions 1.0, 2.0 and 3.0 read; 1.0 — or 2.0 for huge headers — written).
 * Supported: little-endian (or byte-order-free) numeric dtypes in C order. Big-endian data, Fortran order,
 * structured and object dtypes are rejected with an InputError naming the file.
 */
import { endianness } from 'node:os';
import { writeFileAtomic } from './atomic.js';
import { InputError } from './errors.js';
import { readInputFile } from './files.js';

/** Canonical dtype descriptors (as NumPy writes them). `|b1` is bool (Python `?`), stored as 0/1 bytes. */
export type Dtype = '<f4' | '<f8' | '|i1' | '<i2' | '<i4' | '<i8' | '|u1' | '<u2' | '<u4' | '<u8' | '|b1';

export type NdData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** An n-dimensional array in C (row-major) order. `dtype` is a canonical descriptor (see `Dtype`). */
export interface NdArray {
  dtype: string;
  shape: number[];
  data: NdData;
}

export interface DtypeInfo {
  descr: Dtype;
  size: number;
  ctor: { new (buf: ArrayBufferLike, off: number, len: number): NdData; new (len: number): NdData };
  kind: 'f' | 'i' | 'u' | 'b';
}

const TABLE: DtypeInfo[] = [
  { descr: '<f4', size: 4, ctor: Float32Array, kind: 'f' },
  { descr: '<f8', size: 8, ctor: Float64Array, kind: 'f' },
  { descr: '|i1', size: 1, ctor: Int8Array, kind: 'i' },
  { descr: '<i2', size: 2, ctor: Int16Array, kind: 'i' },
  { descr: '<i4', size: 4, ctor: Int32Array, kind: 'i' },
  { descr: '<i8', size: 8, ctor: BigInt64Array, kind: 'i' },
  { descr: '|u1', size: 1, ctor: Uint8Array, kind: 'u' },
  { descr: '<u2', size: 2, ctor: Uint16Array, kind: 'u' },
  { descr: '<u4', size: 4, ctor: Uint32Array, kind: 'u' },
  { descr: '<u8', size: 8, ctor: BigUint64Array, kind: 'u' },
  { descr: '|b1', size: 1, ctor: Uint8Array, kind: 'b' },
] as DtypeInfo[];

const BY_DESCR = new Map<string, DtypeInfo>(TABLE.map((d) => [d.descr, d]));

/** Friendly names accepted by `normalizeDtype` (and therefore by the writers). */
const ALIASES: Record<string, Dtype> = {
  float32: '<f4',
  f4: '<f4',
  float64: '<f8',
  f8: '<f8',
  int8: '|i1',
  i1: '|i1',
  int16: '<i2',
  i2: '<i2',
  int32: '<i4',
  i4: '<i4',
  int64: '<i8',
  i8: '<i8',
  uint8: '|u1',
  u1: '|u1',
  uint16: '<u2',
  u2: '<u2',
  uint32: '<u4',
  u4: '<u4',
  uint64: '<u8',
  u8: '<u8',
  bool: '|b1',
  '?': '|b1',
  b1: '|b1',
};

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** Human name of a dtype descriptor, for messages: `<f4` → `float32`. */
export function dtypeName(descr: string): string {
  const d = BY_DESCR.get(descr);
  if (!d) return descr;
  if (d.kind === 'b') return 'bool';
  return `${d.kind === 'f' ? 'float' : d.kind === 'i' ? 'int' : 'uint'}${d.size * 8}`;
}

/**
 * Map a descriptor as found in a header or given by a caller to its canonical form, or explain why not.
 * Returns `{ error }` for big-endian, unsupported or malformed descriptors.
 */
export function normalizeDtype(descr: string): { dtype: Dtype } | { error: string } {
  if (ALIASES[descr]) return { dtype: ALIASES[descr]! };
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!m) return { error: `unsupported dtype '${descr}'` };
  let [, order, kind, size] = m as unknown as [string, string, string, string];
  if (kind === '?') {
    kind = 'b';
    size = size || '1';
  }
  const key = `${kind}${size}`;
  const canon = ALIASES[key];
  if (!canon) return { error: `unsupported dtype '${descr}' (supported: float32, float64, int8/16/32/64, uint8/16/32/64, bool)` };
  const info = BY_DESCR.get(canon)!;
  if (info.size > 1) {
    if (order === '>') return { error: `big-endian dtype '${descr}' is not supported (save the array as little-endian, e.g. arr.astype('<${key}'))` };
    if (order === '|') return { error: `malformed dtype '${descr}'` };
    if (order === '=' && !HOST_LITTLE_ENDIAN) return { error: `native-order dtype '${descr}' on a big-endian host` };
  }
  return { dtype: canon };
}

export function dtypeInfo(dtype: string): DtypeInfo {
  const n = normalizeDtype(dtype);
  if ('error' in n) throw new TypeError(n.error);
  return BY_DESCR.get(n.dtype)!;
}

/** Number of elements of a shape (1 for a 0-d array). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** Build an NdArray from a typed array, inferring the dtype (Uint8Array → uint8; pass `'bool'` to override). */
export function ndarray(data: NdData, shape: number[] = [data.length], dtype?: string): NdArray {
  const inferred = TABLE.find((t) => t.kind !== 'b' && data instanceof t.ctor);
  if (!dtype && !inferred) throw new TypeError(`ndarray: unsupported data type ${data?.constructor?.name}`);
  const d = dtype ?? inferred!.descr;
  const nd = { dtype: d, shape, data };
  checkNdArray(nd);
  return { ...nd, dtype: dtypeInfo(d).descr };
}

/** Throws TypeError when an in-memory NdArray is inconsistent (a programming error, not user input). */
export function checkNdArray(nd: NdArray, name = 'array'): void {
  const info = dtypeInfo(nd.dtype);
  if (!nd.shape.every((s) => Number.isInteger(s) && s >= 0)) throw new TypeError(`${name}: bad shape ${JSON.stringify(nd.shape)}`);
  if (!(nd.data instanceof info.ctor)) throw new TypeError(`${name}: dtype ${nd.dtype} needs a ${info.ctor.name}, got ${nd.data.constructor.name}`);
  if (nd.data.length !== shapeSize(nd.shape))
    throw new TypeError(`${name}: shape ${formatShape(nd.shape)} needs ${shapeSize(nd.shape)} elements, data has ${nd.data.length}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Header: a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

class PyLiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}
  parseTop(): PyValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) throw new Error(`unexpected '${this.s[this.i]}' at position ${this.i}`);
    return v;
  }
  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
  private value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) throw new Error('unexpected end');
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.seq(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.str();
    const m = /^(True|False|None|-?\d+L?)/.exec(this.s.slice(this.i, this.i + 40));
    if (!m) throw new Error(`unexpected '${c}' at position ${this.i}`);
    this.i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace(/L$/, ''));
  }
  private str(): string {
    const q = this.s[this.i++]!;
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== q) {
      if (this.s[this.i] === '\\') this.i++;
      out += this.s[this.i++] ?? '';
    }
    if (this.s[this.i] !== q) throw new Error('unterminated string');
    this.i++;
    return out;
  }
  private seq(close: string): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new Error(`expected ',' or '${close}' at position ${this.i}`);
    }
  }
  private dict(): { [k: string]: PyValue } {
    this.i++;
    const out: { [k: string]: PyValue } = {};
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const k = this.value();
      if (typeof k !== 'string') throw new Error('dictionary key is not a string');
      this.ws();
      if (this.s[this.i++] !== ':') throw new Error(`expected ':' at position ${this.i - 1}`);
      out[k] = this.value();
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new Error(`expected ',' or '}' at position ${this.i}`);
    }
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parse the bytes of a .npy file. `label` names the source in messages (a path, or `file.npz (array 'x')`).
 * Malformed, truncated, big-endian, Fortran-order or unsupported input → InputError.
 * The returned data may be a view into `bytes` (when `bytes` owns its whole ArrayBuffer); do not reuse `bytes` afterwards.
 */
export function parseNpy(bytes: Uint8Array, label: string): NdArray {
  const bad = (what: string) => new InputError(`${label}: ${what}`);
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) throw bad('not a NumPy .npy file (bad magic bytes)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated .npy header');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else throw bad(`unsupported .npy format version ${major}.${bytes[7]}`);
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw bad(`truncated .npy header (needs ${dataStart} bytes, file has ${bytes.length})`);
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  let header: PyValue;
  try {
    header = new PyLiteralParser(headerText.trim()).parseTop();
  } catch (e) {
    throw bad(`malformed .npy header (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad('malformed .npy header (not a dictionary)');
  const { descr, fortran_order: fortran, shape } = header;
  if (typeof descr !== 'string') {
    if (Array.isArray(descr)) throw bad('structured (record) dtypes are not supported');
    throw bad("malformed .npy header (missing 'descr')");
  }
  if (typeof fortran !== 'boolean') throw bad("malformed .npy header (missing 'fortran_order')");
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0))
    throw bad("malformed .npy header (bad 'shape')");
  const dims = shape as number[];
  const norm = normalizeDtype(descr);
  if ('error' in norm) throw bad(norm.error);
  if (fortran && dims.filter((d) => d > 1).length > 1)
    throw bad('Fortran-order (column-major) arrays are not supported; save a C-order array (np.ascontiguousarray(a))');
  const info = BY_DESCR.get(norm.dtype)!;
  const count = shapeSize(dims);
  const nbytes = count * info.size;
  if (!Number.isSafeInteger(nbytes)) throw bad(`array of shape ${formatShape(dims)} is too large`);
  const have = bytes.length - dataStart;
  if (have < nbytes)
    throw bad(`truncated: shape ${formatShape(dims)} of ${dtypeName(norm.dtype)} needs ${nbytes} data bytes, file has ${have}`);
  if (have > nbytes) throw bad(`corrupt: ${have - nbytes} unexpected bytes after the array data`);
  // Zero-copy view when `bytes` owns its whole buffer (never share e.g. Node's Buffer pool) and the data is aligned.
  const owned = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength && !(bytes.buffer instanceof SharedArrayBuffer);
  let data: NdData;
  if (owned && dataStart % info.size === 0) data = new info.ctor(bytes.buffer, dataStart, count);
  else {
    const copy = new Uint8Array(nbytes); // (Buffer#slice would alias, not copy)
    copy.set(bytes.subarray(dataStart, dataStart + nbytes));
    data = new info.ctor(copy.buffer, 0, count);
  }
  return { dtype: norm.dtype, shape: dims.slice(), data };
}

/** Read a .npy file; any problem → InputError naming `path`. */
export function readNpy(path: string): NdArray {
  return parseNpy(readInputFile(path, '.npy file'), path);
}

/** Serialise to .npy bytes (v1.0 header, or v2.0 when the header is longer than 65535 bytes; 64-byte aligned). */
export function encodeNpy(nd: NdArray): Uint8Array {
  checkNdArray(nd);
  const info = dtypeInfo(nd.dtype);
  if (!HOST_LITTLE_ENDIAN) throw new Error('writing .npy on a big-endian host is not supported');
  const dict = `{'descr': '${info.descr}', 'fortran_order': False, 'shape': ${nd.shape.length === 0 ? '()' : formatShape(nd.shape)}, }`;
  let major = 1;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) {
    major = 2;
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  }
  const headerLen = total - pre;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  const nbytes = nd.data.byteLength;
  const out = new Uint8Array(total + nbytes);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  for (let k = 0; k < header.length; k++) out[pre + k] = header.charCodeAt(k);
  let src = new Uint8Array(nd.data.buffer, nd.data.byteOffset, nbytes);
  if (info.kind === 'b') src = Uint8Array.from(src, (v) => (v ? 1 : 0));
  out.set(src, total);
  return out;
}

/** Write a .npy file atomically. */
export function writeNpy(path: string, nd: NdArray): void {
  writeFileAtomic(path, encodeNpy(nd));
}

// ---------------------------------------------------------------------------------------------------------------
// Conversions

function where(name: string, shape: readonly number[], flat: number): string {
  const idx: number[] = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d]!;
    idx[d] = s > 0 ? flat % s : 0;
    flat = s > 0 ? Math.floor(flat / s) : 0;
  }
  return `${name}[${idx.join(', ')}]`;
}

/** Index of element `flat` of an array of `shape`, as `name[i, j, k]` (for messages). */
export function elementName(name: string, shape: readonly number[], flat: number): string {
  return where(name, shape, flat);
}

/**
 * Values as Float32Array. Float32 data is returned as is (not copied); other dtypes are converted.
 * Float64 values beyond the float32 range → InputError (`name` labels the array in the message).
 * NaN/Inf are passed through (check them where they matter).
 */
export function toFloat32(nd: NdArray, name = 'array'): Float32Array {
  const info = dtypeInfo(nd.dtype);
  const src = nd.data;
  if (src instanceof Float32Array) return src;
  const n = src.length;
  const out = new Float32Array(n);
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let k = 0; k < n; k++) out[k] = Number(src[k]!);
  } else {
    out.set(src as ArrayLike<number>);
    if (info.kind === 'b') for (let k = 0; k < n; k++) out[k] = out[k] ? 1 : 0;
    if (src instanceof Float64Array) {
      for (let k = 0; k < n; k++) {
        const o = out[k]!;
        if ((o === Infinity || o === -Infinity) && Number.isFinite(src[k]!))
          throw new InputError(`${where(name, nd.shape, k)} = ${src[k]} is out of the float32 range`);
      }
    }
  }
  return out;
}

/**
 * Values as Int32Array. Integer dtypes are range-checked (int64/uint32/uint64 values outside the int32 range
 * → InputError naming the element); float dtypes are accepted only when every value is a whole number.
 */
export function toInt32(nd: NdArray, name = 'array'): Int32Array {
  const info = dtypeInfo(nd.dtype);
  const src = nd.data;
  if (src instanceof Int32Array) return src;
  const n = src.length;
  const out = new Int32Array(n);
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let k = 0; k < n; k++) {
      const v = src[k]!;
      if (v > 2147483647n || v < -2147483648n) throw new InputError(`${where(name, nd.shape, k)} = ${v} does not fit in int32`);
      out[k] = Number(v);
    }
    return out;
  }
  const a = src as ArrayLike<number>;
  if (info.kind === 'f') {
    for (let k = 0; k < n; k++) {
      const v = a[k]!;
      if (!Number.isInteger(v)) throw new InputError(`${where(name, nd.shape, k)} = ${v} is not an integer (${name} must hold integers)`);
      if (v > 2147483647 || v < -2147483648) throw new InputError(`${where(name, nd.shape, k)} = ${v} does not fit in int32`);
      out[k] = v;
    }
    return out;
  }
  if (src instanceof Uint32Array) {
    for (let k = 0; k < n; k++) if (src[k]! > 2147483647) throw new InputError(`${where(name, nd.shape, k)} = ${src[k]} does not fit in int32`);
  }
  if (info.kind === 'b') for (let k = 0; k < n; k++) out[k] = a[k] ? 1 : 0;
  else out.set(a);
  return out;
}
