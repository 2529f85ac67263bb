/**
 * `.egru` checkpoints (docs/formats.md): one msgpack map
 *   { format: "egru-checkpoint", version: 2, config, params, optimizer?, step, epoch, rng?, meta?, sha256 }
 * written with plain msgpack types only (maps, arrays, numbers, strings, bin), so any msgpack library can read it.
 * `sha256` is the map's last entry: a 32-byte bin holding the SHA-256 of every byte of the file before it, so any
 * damage to the file is detected before it is decoded. Version 1 files (no checksum) still load.
 * A tensor is `{ shape: number[], dtype: "float32", data: bin }` with `data` the little-endian float32 bytes.
 * `params` maps the EvNN native names of paramShapes(config.model) (`layers.0.kernel`, …, `readout.bias`) to tensors;
 * `optimizer.m` / `optimizer.v` are lists of tensors in that same order (or empty, e.g. for plain SGD).
 */
import { createHash } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import { paramList, paramShapes, type Params, type Tensor } from '../../model/params.js';
import type { CheckpointConfig } from '../run-config.js';
import { writeFileAtomic } from './atomic.js';
import { readCheckpointConfig } from './checkpoint-config.js';
import { InputError } from './errors.js';
import { readInputFile } from './files.js';
import { formatShape, shapeSize } from './npy.js';

export const CHECKPOINT_FORMAT = 'egru-checkpoint';
export const CHECKPOINT_VERSION = 2;
/** The first version that carries the `sha256` checksum; older files load without one. */
const FIRST_CHECKSUMMED_VERSION = 2;
const CHECKSUM_KEY = 'sha256';
const CHECKSUM_BYTES = 32;
/** How a checksummed file ends, before the digest itself: fixstr "sha256", then bin8 of 32 bytes. */
const CHECKSUM_TAIL = Uint8Array.of(0xa0 | CHECKSUM_KEY.length, ...Buffer.from(CHECKSUM_KEY, 'ascii'), 0xc4, CHECKSUM_BYTES);

export interface OptimizerState {
  /** Number of optimiser updates done (Adam's t). */
  step: number;
  /** First moments (Adam) or momentum buffers, in paramShapes order; empty when the optimiser keeps none. */
  m: Float32Array[];
  /** Second moments (Adam), in paramShapes order; empty when the optimiser keeps none. */
  v: Float32Array[];
  /** Further plain fields (e.g. `name: 'adam'`) are stored and restored as they are. */
  [extra: string]: unknown;
}

export interface Checkpoint {
  /** What wrote the checkpoint (a train run's configuration, or an import's); `config.model` is what the parameters belong to. */
  config: CheckpointConfig;
  params: Params<Float32Array>;
  optimizer?: OptimizerState;
  step: number;
  epoch: number;
  rng?: unknown;
  meta?: Record<string, unknown>;
}

/** What saveCheckpoint accepts: like Checkpoint, but parameters and moments may be float64 (stored as float32). */
export interface CheckpointInput extends Omit<Checkpoint, 'params' | 'optimizer'> {
  params: Params<Tensor>;
  optimizer?: Omit<OptimizerState, 'm' | 'v'> & { m: Tensor[]; v: Tensor[] };
}

interface StoredTensor {
  shape: number[];
  dtype: 'float32';
  data: Uint8Array;
}

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

function tensorOut(t: Tensor, shape: number[], name: string): StoredTensor {
  if (t.length !== shapeSize(shape)) throw new TypeError(`checkpoint: ${name} has ${t.length} values, shape ${formatShape(shape)} needs ${shapeSize(shape)}`);
  const f = t instanceof Float32Array ? t : Float32Array.from(t);
  return { shape: shape.slice(), dtype: 'float32', data: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

/** Deep copy of plain data without `undefined` object fields (msgpack has no `undefined`; JSON drops them too). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : plain(x)));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
    return out;
  }
  return v;
}

/** Serialise a checkpoint to msgpack bytes. Inconsistent in-memory data → TypeError (a bug, not user input). */
export function encodeCheckpoint(ck: CheckpointInput): Uint8Array {
  const shapes = paramShapes(ck.config.model);
  const list = paramList(ck.params);
  if (list.length !== shapes.length) throw new TypeError(`checkpoint: ${list.length} tensors, the model has ${shapes.length}`);
  const params: Record<string, StoredTensor> = {};
  shapes.forEach(({ name, shape }, k) => (params[name] = tensorOut(list[k]!, shape, name)));
  const doc: Record<string, unknown> = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config: plain(ck.config),
    params,
    step: ck.step,
    epoch: ck.epoch,
  };
  if (ck.optimizer) {
    const { m, v, ...rest } = ck.optimizer;
    const moments = (arr: Tensor[], which: string) => {
      if (arr.length !== 0 && arr.length !== shapes.length) throw new TypeError(`checkpoint: optimizer.${which} has ${arr.length} tensors, the model has ${shapes.length}`);
      return arr.map((t, k) => tensorOut(t, shapes[k]!.shape, `optimizer.${which}[${shapes[k]!.name}]`));
    };
    doc.optimizer = { ...(plain(rest) as object), m: moments(m, 'm'), v: moments(v, 'v') };
  }
  if (ck.rng !== undefined) doc.rng = plain(ck.rng);
  if (ck.meta !== undefined) doc.meta = plain(ck.meta);
  return sealCheckpoint(doc);
}

const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest();

/**
 * Pack a checkpoint document (a plain map) and seal it: its `sha256` entry, packed last, receives the digest
 * of every byte before it. Any `sha256` the document already has is replaced.
 */
export function sealCheckpoint(doc: Record<string, unknown>): Uint8Array {
  const { [CHECKSUM_KEY]: _old, ...body } = doc;
  const bytes = new Uint8Array(packr.pack({ ...body, [CHECKSUM_KEY]: new Uint8Array(CHECKSUM_BYTES) })); // own buffer (msgpackr returns a view into a shared one)
  if (!hasChecksumTail(bytes)) throw new TypeError('checkpoint: the checksum is not the last entry of the packed map');
  const digestAt = bytes.length - CHECKSUM_BYTES;
  bytes.set(sha256(bytes.subarray(0, digestAt)), digestAt);
  return bytes;
}

function hasChecksumTail(bytes: Uint8Array): boolean {
  const at = bytes.length - CHECKSUM_BYTES - CHECKSUM_TAIL.length;
  return at > 0 && CHECKSUM_TAIL.every((b, k) => bytes[at + k] === b);
}

/** Whether the file ends in a checksum that matches its bytes; `undefined` when it ends in no checksum at all. */
function checksumMatches(bytes: Uint8Array): boolean | undefined {
  if (!hasChecksumTail(bytes)) return undefined;
  const digestAt = bytes.length - CHECKSUM_BYTES;
  return Buffer.from(sha256(bytes.subarray(0, digestAt))).equals(bytes.subarray(digestAt));
}

/** Whether the bytes look like the start of a checkpoint (the `format` entry comes first), for error messages. */
const startsLikeCheckpoint = (bytes: Uint8Array): boolean => Buffer.from(bytes.subarray(0, 32)).includes(CHECKPOINT_FORMAT);

/** Save atomically (temp file + rename); the previous file at `path`, if any, survives any failure. */
export function saveCheckpoint(path: string, ck: CheckpointInput): void {
  writeFileAtomic(path, encodeCheckpoint(ck));
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Decode and validate checkpoint bytes; `label` (the path) names the source in messages. */
export function decodeCheckpoint(bytes: Uint8Array, label: string): Checkpoint {
  const bad = (what: string) => new InputError(`${label}: ${what}`);
  const notOne = `not an EGRU checkpoint (.egru)`;
  const corrupt = `corrupt checkpoint: its SHA-256 checksum does not match its contents (the file was damaged after it was written)`;
  if (bytes.length === 0) throw bad(`${notOne}: the file is empty`);
  const checksum = checksumMatches(bytes);
  if (checksum === false) throw bad(corrupt);
  // Every checkpoint starts with a msgpack map header (fixmap / map16 / map32).
  const b0 = bytes[0]!;
  if (!((b0 & 0xf0) === 0x80 || b0 === 0xde || b0 === 0xdf)) throw bad(notOne);
  let doc: unknown;
  try {
    doc = unpackr.unpack(bytes);
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    if ((e as { incomplete?: boolean })?.incomplete || /end of|beyond|out of bounds|offset/i.test(msg) || startsLikeCheckpoint(bytes))
      throw bad(`truncated or corrupt checkpoint (${bytes.length} bytes)`);
    throw bad(`${notOne}: ${msg.split('\n')[0]}`);
  }
  if (!isObj(doc) || doc.format !== CHECKPOINT_FORMAT) throw bad(notOne);
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version)) throw bad('checkpoint has no valid format version');
  if (version > CHECKPOINT_VERSION)
    throw bad(`checkpoint format version ${version} is newer than this program supports (${CHECKPOINT_VERSION}); upgrade egru`);
  if (version < 1) throw bad(`unsupported checkpoint format version ${version}`);
  // A checksummed version whose checksum entry is gone or damaged: the end of the file was hit.
  if (version >= FIRST_CHECKSUMMED_VERSION && checksum !== true)
    throw bad(`corrupt checkpoint: its SHA-256 checksum is missing or damaged (the file was damaged after it was written)`);

  const config = readCheckpointConfig(doc.config, label);
  const model = config.model;
  const shapes = paramShapes(model);

  const readTensor = (t: unknown, shape: number[], name: string): Float32Array => {
    if (!isObj(t)) throw bad(`tensor ${name} is missing or malformed`);
    if (t.dtype !== 'float32') throw bad(`tensor ${name} has dtype ${String(t.dtype)}, expected float32`);
    const s = t.shape;
    if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name} has a malformed shape`);
    if (s.length !== shape.length || s.some((d, k) => d !== shape[k]))
      throw bad(`tensor ${name} has shape ${formatShape(s)}, the model configuration needs ${formatShape(shape)}`);
    const data = t.data;
    if (!(data instanceof Uint8Array)) throw bad(`tensor ${name} has no data`);
    const n = shapeSize(shape);
    if (data.byteLength !== 4 * n) throw bad(`tensor ${name} has ${data.byteLength} data bytes, shape ${formatShape(shape)} needs ${4 * n}`);
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(data);
    for (let k = 0; k < n; k++) if (!Number.isFinite(out[k]!)) throw bad(`tensor ${name} holds a non-finite value (${out[k]}) at index ${k}`);
    return out;
  };

  const stored = doc.params;
  if (!isObj(stored)) throw bad('checkpoint has no parameters');
  for (const { name } of shapes) if (!(name in stored)) throw bad(`checkpoint lacks parameter ${name}`);
  const expected = new Set(shapes.map((s) => s.name));
  for (const name of Object.keys(stored)) if (!expected.has(name)) throw bad(`checkpoint has unexpected parameter ${name} for its model configuration`);
  const t = shapes.map(({ name, shape }) => readTensor(stored[name], shape, name));
  let k = 0;
  const params: Params<Float32Array> = {
    layers: model.hidden.map(() => ({ kernel: t[k++]!, recurrentKernel: t[k++]!, bias: t[k++]!, recurrentBias: t[k++]!, thr: t[k++]! })),
    readout: { weight: t[k++]!, bias: t[k++]! },
  };

  const count = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(`checkpoint ${what} is missing or not a non-negative integer`);
    return v;
  };
  const ck: Checkpoint = { config, params, step: count(doc.step, 'step'), epoch: count(doc.epoch, 'epoch') };

  if (doc.optimizer !== undefined && doc.optimizer !== null) {
    const o = doc.optimizer;
    if (!isObj(o)) throw bad('checkpoint optimizer state is malformed');
    const moments = (arr: unknown, which: string): Float32Array[] => {
      if (arr === undefined || arr === null) return [];
      if (!Array.isArray(arr)) throw bad(`checkpoint optimizer.${which} is malformed`);
      if (arr.length !== 0 && arr.length !== shapes.length)
        throw bad(`checkpoint optimizer.${which} has ${arr.length} tensors, the model has ${shapes.length}`);
      return arr.map((x, i) => readTensor(x, shapes[i]!.shape, `optimizer.${which}[${shapes[i]!.name}]`));
    };
    const { m, v, step, ...rest } = o;
    ck.optimizer = { ...rest, step: count(step, 'optimizer step'), m: moments(m, 'm'), v: moments(v, 'v') };
  }
  if (doc.rng !== undefined) ck.rng = doc.rng;
  if (doc.meta !== undefined) {
    if (!isObj(doc.meta)) throw bad('checkpoint meta is malformed');
    ck.meta = doc.meta;
  }
  return ck;
}

/** Load and validate a checkpoint: not a checkpoint, truncated, wrong version, wrong shapes, NaN/Inf → InputError. */
export function loadCheckpoint(path: string): Checkpoint {
  return decodeCheckpoint(readInputFile(path, 'checkpoint'), path);
}
