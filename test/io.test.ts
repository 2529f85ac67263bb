import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { zipSync } from 'fflate';
import { defaultModelConfig } from '../model/config.js';
import { initParams, paramList, paramShapes } from '../model/params.js';
import { assertWritable, writeFileAtomic } from '../cli/io/atomic.js';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint, sealCheckpoint, type Checkpoint } from '../cli/io/checkpoint.js';
import { encodeNpy, ndarray, parseNpy, readNpy, toFloat32, toInt32, writeNpy, type NdArray } from '../cli/io/npy.js';
import { encodeNpz, parseNpz, readNpz, writeNpz } from '../cli/io/npz.js';
import { paramsFromNpz, paramsToJson, paramsToNpzEntries } from '../cli/io/weights.js';
import type { TrainConfig } from '../cli/run-config.js';
import { inputError } from './helpers/input-error.js';

/**
 * A Python that imports numpy (python3 on PATH, else Debian's /usr/bin/python3 with python3-numpy), to check our
 * .npz files against NumPy's; null when there is none.
 */
function numpyPython(): string | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import numpy'], { stdio: 'ignore' });
      return python;
    } catch {
      // try the next
    }
  }
  return null;
}
const PYTHON = numpyPython();
const NUMPY = PYTHON !== null;
const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'egru-io-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const SAMPLES: NdArray[] = [
  ndarray(new Float32Array([1.5, -2, 3.25, Math.fround(0.1), 0, -0]), [2, 3]),
  ndarray(new Float64Array([1e-300, -7.5, Math.PI]), [3]),
  ndarray(new Int32Array([-2147483648, 0, 2147483647, 5]), [2, 2]),
  ndarray(new BigInt64Array([-(2n ** 62n), 0n, 2n ** 40n]), [3, 1]),
  ndarray(new Uint8Array([0, 1, 255]), [3]),
  ndarray(new Int16Array([-32768, 32767]), [2]),
  ndarray(new Int8Array([-128, 127, 0]), [1, 3]),
  ndarray(new Uint16Array([65535, 1]), [2]),
  ndarray(new Uint32Array([4294967295, 7]), [2]),
  ndarray(new Uint8Array([1, 0, 1, 1]), [2, 2], 'bool'),
  ndarray(new Float32Array([42]), []),
  ndarray(new Float32Array(0), [0, 5]),
];

function sameArray(a: NdArray, b: NdArray) {
  expect(b.dtype).toBe(a.dtype);
  expect(b.shape).toEqual(a.shape);
  expect(b.data.constructor).toBe(a.data.constructor);
  expect(Array.from(b.data as ArrayLike<number>)).toEqual(Array.from(a.data as ArrayLike<number>));
}

describe('npy', () => {
  it('round-trips every supported dtype', () => {
    for (const nd of SAMPLES) {
      const bytes = encodeNpy(nd);
      expect(bytes.length % 64).toBe(nd.data.byteLength % 64); // header padded to 64 bytes
      sameArray(nd, parseNpy(bytes, 'mem.npy'));
    }
    const p = join(dir, 'a.npy');
    writeNpy(p, SAMPLES[0]!);
    sameArray(SAMPLES[0]!, readNpy(p));
  });

  it('accepts friendly dtype names and reads v2.0 headers', () => {
    const nd = { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) };
    const bytes = encodeNpy(nd);
    expect(parseNpy(bytes, 'x').dtype).toBe('<f4');
    // rewrite as version 2.0 (4-byte header length)
    const hl = bytes[8]! | (bytes[9]! << 8);
    const v2 = new Uint8Array(bytes.length + 2);
    v2.set(bytes.subarray(0, 6));
    v2[6] = 2;
    new DataView(v2.buffer).setUint32(8, hl, true);
    v2.set(bytes.subarray(10), 12);
    expect(Array.from(parseNpy(v2, 'v2').data as Float32Array)).toEqual([1, 2]);
  });

  it('rejects truncated, garbage, Fortran-order and big-endian data with readable messages', () => {
    const good = encodeNpy(SAMPLES[0]!);
    expect(inputError(() => parseNpy(good.subarray(0, good.length - 3), 'cut.npy'))).toMatch(/cut\.npy: truncated/);
    expect(inputError(() => parseNpy(good.subarray(0, 30), 'cut.npy'))).toMatch(/cut\.npy: truncated/);
    expect(inputError(() => parseNpy(good.subarray(0, 4), 'cut.npy'))).toMatch(/not a NumPy/);
    expect(inputError(() => parseNpy(new TextEncoder().encode('hello world, this is not numpy'), 'g.npy'))).toMatch(/g\.npy: not a NumPy/);
    const text = new TextDecoder('latin1').decode(good);
    const swap = (from: string, to: string) => Uint8Array.from(text.replace(from, to), (c) => c.charCodeAt(0));
    expect(inputError(() => parseNpy(swap("'fortran_order': False", "'fortran_order': True "), 'f.npy'))).toMatch(/Fortran-order/);
    expect(inputError(() => parseNpy(swap("'<f4'", "'>f4'"), 'be.npy'))).toMatch(/big-endian/);
    expect(inputError(() => parseNpy(swap("'<f4'", "'<c8'"), 'c.npy'))).toMatch(/unsupported dtype/);
    expect(inputError(() => parseNpy(swap("'shape': (2, 3)", "'shape': (2, 9)"), 's.npy'))).toMatch(/truncated.*needs 72 data bytes, file has 24/);
    expect(inputError(() => parseNpy(swap("'shape': (2, 3)", "'shape': [2, x]"), 'h.npy'))).toMatch(/malformed \.npy header/);
    expect(inputError(() => parseNpy(Uint8Array.from([...good, 0, 0, 0, 0]), 't.npy'))).toMatch(/unexpected bytes/);
    expect(inputError(() => readNpy(join(dir, 'missing.npy')))).toMatch(/missing\.npy: no such file/);
  });

  it('toFloat32 / toInt32 convert and range-check', () => {
    expect(Array.from(toFloat32(ndarray(new BigInt64Array([3n, -4n]))))).toEqual([3, -4]);
    expect(Array.from(toFloat32(ndarray(new Uint8Array([1, 5]), [2], 'bool')))).toEqual([1, 1]);
    expect(inputError(() => toFloat32(ndarray(new Float64Array([1e300])), 'w'))).toMatch(/w\[0\] = 1e\+300 is out of the float32 range/);
    expect(Array.from(toInt32(ndarray(new BigInt64Array([-1n, 9n]))))).toEqual([-1, 9]);
    expect(Array.from(toInt32(ndarray(new Float64Array([2, 0]))))).toEqual([2, 0]);
    expect(inputError(() => toInt32(ndarray(new BigInt64Array([1n, 2n ** 40n]), [1, 2]), 'y'))).toMatch(/y\[0, 1\] = 1099511627776 does not fit in int32/);
    expect(inputError(() => toInt32(ndarray(new Uint32Array([3e9])), 'y'))).toMatch(/does not fit/);
    expect(inputError(() => toInt32(ndarray(new Float32Array([1.5])), 'y'))).toMatch(/not an integer/);
  });
});

describe('npz', () => {
  const entries = () => Object.fromEntries(SAMPLES.map((nd, k) => [`a${k}`, nd]));
  it('round-trips stored and deflated archives', () => {
    for (const compress of [false, true]) {
      const p = join(dir, `r${compress}.npz`);
      writeNpz(p, entries(), { compress });
      const m = readNpz(p);
      expect([...m.keys()]).toEqual(SAMPLES.map((_, k) => `a${k}`));
      SAMPLES.forEach((nd, k) => sameArray(nd, m.get(`a${k}`)!));
    }
    const big = { x: ndarray(new Float32Array(20000)) };
    expect(encodeNpz(big, { compress: true }).length).toBeLessThan(encodeNpz(big).length / 10);
  });

  it('rejects missing, empty, garbage and truncated archives, and bad members', () => {
    expect(inputError(() => readNpz(join(dir, 'nope.npz')))).toMatch(/nope\.npz: no such file/);
    expect(inputError(() => readNpz(dir))).toMatch(/is a directory/);
    const empty = join(dir, 'empty.npz');
    writeFileSync(empty, '');
    expect(inputError(() => readNpz(empty))).toMatch(/empty\.npz: not a \.npz file.*empty/);
    const garbage = join(dir, 'garbage.npz');
    writeFileSync(garbage, 'this is definitely not a zip archive at all');
    expect(inputError(() => readNpz(garbage))).toMatch(/garbage\.npz: not a \.npz file/);
    const full = encodeNpz(entries(), { compress: true });
    for (const cut of [full.length - 1, full.length - 30, Math.floor(full.length / 2), 40]) {
      const msg = inputError(() => parseNpz(full.subarray(0, cut), 'cut.npz'));
      expect(msg).toMatch(/^cut\.npz: /);
    }
    // a flipped data byte inside a stored member is caught by the CRC check
    const stored = encodeNpz({ a: ndarray(new Float32Array(1000).fill(1.5)) });
    stored[300]! ^= 0xff;
    expect(inputError(() => parseNpz(stored, 'flip.npz'))).toMatch(/flip\.npz: array 'a' is corrupt \(CRC-32 mismatch\)/);
    // a member that is not a valid .npy
    const z = zipSync({ 'x.npy': new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) });
    expect(inputError(() => parseNpz(z, 'm.npz'))).toMatch(/m\.npz \(array 'x'\): not a NumPy/);
  });

  // CI installs python3-numpy (.ci/run): there a missing numpy fails; elsewhere the test is skipped, visibly.
  it.skipIf(!NUMPY && !IN_CI)('reads files written by NumPy and NumPy reads ours (python3 + numpy)', () => {
    expect(NUMPY, 'CI is set but python3 cannot import numpy (apt-get install python3-numpy)').toBe(true);
    const p = join(dir, 'np.npz');
    execFileSync(PYTHON!, ['-c', `import numpy as np; np.savez_compressed(${JSON.stringify(p)}, x=np.arange(24, dtype='<f4').reshape(2,3,4), y=np.array([1,-1]), b=np.array([True]))`]);
    const m = readNpz(p);
    expect(m.get('x')!.shape).toEqual([2, 3, 4]);
    expect((m.get('x')!.data as Float32Array)[23]).toBe(23);
    expect(Array.from(toInt32(m.get('y')!))).toEqual([1, -1]);
    expect(m.get('b')!.dtype).toBe('|b1');
    const out = join(dir, 'ours.npz');
    writeNpz(out, { w: ndarray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]), i: ndarray(new BigInt64Array([-5n])) }, { compress: true });
    const got = execFileSync(PYTHON!, ['-c', `import numpy as np; z=np.load(${JSON.stringify(out)}); print(z['w'].dtype, z['w'].shape, z['w'].sum(), z['i'].dtype, z['i'][0])`]).toString().trim();
    expect(got).toBe('float32 (2, 3) 21.0 int64 -5');
  });
});

describe('atomic writes', () => {
  it('writes, replaces, and leaves no temporary files', () => {
    const d = join(dir, 'atomic');
    mkdirSync(d);
    const p = join(d, 'f.txt');
    writeFileAtomic(p, 'one');
    writeFileAtomic(p, new TextEncoder().encode('two'));
    expect(readFileSync(p, 'utf8')).toBe('two');
    expect(readdirSync(d)).toEqual(['f.txt']);
  });

  it('fails cleanly: InputError, existing file untouched, no temp files', () => {
    const d = join(dir, 'atomic2');
    mkdirSync(d);
    const p = join(d, 'keep.txt');
    writeFileSync(p, 'original');
    expect(inputError(() => writeFileAtomic(join(d, 'no-such-dir', 'x.txt'), 'data'))).toMatch(/cannot write .*no such file/);
    expect(inputError(() => writeFileAtomic(d, 'data'))).toMatch(/is a directory/);
    if (process.getuid?.() !== 0) {
      chmodSync(d, 0o555); // read-only directory: temp file cannot be created
      try {
        expect(inputError(() => writeFileAtomic(p, 'new'))).toMatch(/cannot write .*keep\.txt: permission denied/);
      } finally {
        chmodSync(d, 0o755);
      }
    }
    expect(readFileSync(p, 'utf8')).toBe('original');
    expect(readdirSync(d)).toEqual(['keep.txt']);
  });

  it('assertWritable refuses to overwrite unless forced', () => {
    const p = join(dir, 'exists.bin');
    writeFileSync(p, 'x');
    expect(inputError(() => assertWritable(p, false))).toMatch(/exists\.bin already exists \(use --force/);
    expect(() => assertWritable(p, true)).not.toThrow();
    expect(() => assertWritable(join(dir, 'fresh.bin'), false)).not.toThrow();
    expect(inputError(() => assertWritable(dir, true))).toMatch(/is a directory/);
  });
});

describe('checkpoint', () => {
  const model = defaultModelConfig({ inputSize: 5, hidden: [6, 4], classes: 3, seed: 7 });
  const trainConfig = (): TrainConfig => ({
    command: 'train',
    version: '0.1.0',
    task: null,
    data: '/data/train.npz',
    val: null,
    seqLen: null,
    limit: null,
    valLimit: null,
    model,
    optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 },
    batch: 32,
    epochs: 2,
    steps: null,
    seed: 7,
    actors: 2,
    transport: 'inline',
    nats: undefined,
    actorHosts: false,
    clip: 0,
    evalEvery: 0,
    logEvery: 50,
    saveEvery: 0,
    maxMinutes: null,
    init: null,
    preset: null,
    trainSamples: 100,
    valSamples: 0,
    stepsPerEpoch: 4,
    totalSteps: 8,
  });
  const make = (): Checkpoint => {
    const params = initParams(model);
    return {
      config: trainConfig(),
      params,
      optimizer: {
        step: 12,
        name: 'adam',
        m: paramList(params).map((t) => t.map((v) => v * 0.5)),
        v: paramList(params).map((t) => t.map((v) => v * v)),
      },
      step: 12,
      epoch: 2,
      rng: { seed: 7, counter: 99 },
      meta: { version: '0.1.0' },
    };
  };

  it('round-trips everything', () => {
    const ck = make();
    const p = join(dir, 'ck.egru');
    saveCheckpoint(p, ck);
    const back = loadCheckpoint(p);
    expect(back.step).toBe(12);
    expect(back.epoch).toBe(2);
    expect(back.config.model).toEqual(model);
    expect(back.config).toEqual(trainConfig());
    expect('nats' in back.config).toBe(false); // undefined fields are dropped
    expect(back.rng).toEqual({ seed: 7, counter: 99 });
    expect(back.meta).toEqual({ version: '0.1.0' });
    const a = paramList(ck.params);
    const b = paramList(back.params);
    expect(b.length).toBe(a.length);
    a.forEach((t, k) => {
      expect(b[k]).toBeInstanceOf(Float32Array);
      expect(Array.from(b[k]!)).toEqual(Array.from(t));
    });
    expect(back.optimizer!.step).toBe(12);
    expect(back.optimizer!.name).toBe('adam');
    back.optimizer!.m.forEach((t, k) => expect(Array.from(t)).toEqual(Array.from(ck.optimizer!.m[k]!)));
    back.optimizer!.v.forEach((t, k) => expect(Array.from(t)).toEqual(Array.from(ck.optimizer!.v[k]!)));
    // plain msgpack: tensors are {shape, dtype, data: bin}, no msgpackr extensions
    const raw = new Packr({ useRecords: false }).unpack(readFileSync(p));
    expect(raw.format).toBe('egru-checkpoint');
    expect(raw.version).toBe(2);
    expect(Object.keys(raw).at(-1)).toBe('sha256');
    expect(raw.params['layers.1.kernel'].shape).toEqual([6, 12]);
    expect(raw.params['layers.1.kernel'].dtype).toBe('float32');
    expect(raw.params['layers.1.kernel'].data).toBeInstanceOf(Uint8Array);
  });

  it('round-trips without optimizer state and with empty moments', () => {
    const ck = make();
    delete ck.optimizer;
    delete ck.rng;
    const back = decodeCheckpoint(encodeCheckpoint(ck), 'x.egru');
    expect(back.optimizer).toBeUndefined();
    expect(back.rng).toBeUndefined();
    const sgd = decodeCheckpoint(encodeCheckpoint({ ...ck, optimizer: { step: 3, m: [], v: [] } }), 'x.egru');
    expect(sgd.optimizer).toEqual({ step: 3, m: [], v: [] });
  });

  it('rejects files that are not checkpoints, truncated or garbage', () => {
    const p = join(dir, 'bad.egru');
    writeFileSync(p, 'definitely not msgpack');
    expect(inputError(() => loadCheckpoint(p))).toMatch(/bad\.egru: not an EGRU checkpoint/);
    writeFileSync(p, '');
    expect(inputError(() => loadCheckpoint(p))).toMatch(/empty/);
    writeFileSync(p, new Packr({ useRecords: false }).pack({ hello: 'world' }));
    expect(inputError(() => loadCheckpoint(p))).toMatch(/not an EGRU checkpoint/);
    expect(inputError(() => loadCheckpoint(join(dir, 'absent.egru')))).toMatch(/absent\.egru: no such file/);
    const good = encodeCheckpoint(make());
    for (const cut of [1, 10, 100, Math.floor(good.length / 2), good.length - 1]) {
      expect(inputError(() => decodeCheckpoint(good.subarray(0, cut), 'cut.egru'))).toMatch(/^cut\.egru: (truncated or corrupt|not an EGRU)/);
    }
    // random garbage after a map header byte
    const g = new Uint8Array(500);
    for (let k = 0; k < g.length; k++) g[k] = (k * 131 + 17) & 0xff;
    g[0] = 0x87;
    expect(inputError(() => decodeCheckpoint(g, 'g.egru'))).toMatch(/^g\.egru: /);
  });

  it('refuses a checkpoint with any single bit flipped, with one line naming the damage', () => {
    const good = encodeCheckpoint(make());
    const positions = [0, 1, 5, 17, 100, Math.floor(good.length / 3), Math.floor(good.length / 2), good.length - 60];
    for (let k = good.length - 42; k < good.length; k++) positions.push(k); // the checksum entry itself
    for (const at of positions) {
      for (const bit of [0, 3, 7]) {
        const bad = good.slice();
        bad[at]! ^= 1 << bit;
        const msg = inputError(() => decodeCheckpoint(bad, 'flip.egru'));
        expect(msg, `bit ${bit} of byte ${at}`).toMatch(/^flip\.egru: (corrupt checkpoint|truncated or corrupt checkpoint)/);
        expect(msg).not.toMatch(/\n/);
      }
    }
    const p = join(dir, 'flipped.egru');
    const bad = good.slice();
    bad[good.length >> 1]! ^= 0x10;
    writeFileSync(p, bad);
    expect(inputError(() => loadCheckpoint(p))).toBe(
      `${p}: corrupt checkpoint: its SHA-256 checksum does not match its contents (the file was damaged after it was written)`,
    );
  });

  it('loads a version 1 checkpoint (no checksum); refuses a version 2 one whose checksum is gone', () => {
    const packr = new Packr({ useRecords: false });
    const old = packr.unpack(encodeCheckpoint(make()));
    delete old.sha256;
    old.version = 1;
    const back = decodeCheckpoint(packr.pack(old), 'old.egru');
    expect(back.step).toBe(12);
    expect(Array.from(back.params.readout.bias)).toEqual(Array.from(make().params.readout.bias));
    old.version = 2;
    expect(inputError(() => decodeCheckpoint(packr.pack(old), 'v2.egru'))).toMatch(/^v2\.egru: corrupt checkpoint: its SHA-256 checksum is missing or damaged/);
  });

  it('rejects wrong shapes, missing tensors, bad versions and non-finite values', () => {
    const unpackr = new Packr({ useRecords: false });
    const doc = () => unpackr.unpack(encodeCheckpoint(make()));
    let d = doc();
    d.params['layers.0.kernel'].shape = [4, 18];
    expect(inputError(() => decodeCheckpoint(sealCheckpoint(d), 'w.egru'))).toMatch(/tensor layers\.0\.kernel has shape \(4, 18\), the model configuration needs \(5, 18\)/);
    d = doc();
    d.config.model.hidden = [6, 5];
    expect(inputError(() => decodeCheckpoint(sealCheckpoint(d), 'w.egru'))).toMatch(/layers\.1\.kernel has shape \(6, 12\).*\(6, 15\)/);
    d = doc();
    delete d.params['readout.bias'];
    expect(inputError(() => decodeCheckpoint(sealCheckpoint(d), 'w.egru'))).toMatch(/lacks parameter readout\.bias/);
    d = doc();
    d.params['readout.bias'].data = d.params['readout.bias'].data.subarray(0, 8);
    expect(inputError(() => decodeCheckpoint(sealCheckpoint(d), 'w.egru'))).toMatch(/readout\.bias has 8 data bytes/);
    d = doc();
    d.version = 3;
    expect(inputError(() => decodeCheckpoint(sealCheckpoint(d), 'w.egru'))).toMatch(/version 3 is newer/);
    d = doc();
    delete d.config.model;
    expect(inputError(() => decodeCheckpoint(sealCheckpoint(d), 'w.egru'))).toMatch(/no model configuration/);
    d = doc();
    d.optimizer.m = d.optimizer.m.slice(1);
    expect(inputError(() => decodeCheckpoint(sealCheckpoint(d), 'w.egru'))).toMatch(/optimizer\.m has 11 tensors, the model has 12/);
    const ck = make();
    ck.params.layers[1]!.thr[2] = NaN;
    expect(inputError(() => decodeCheckpoint(encodeCheckpoint(ck), 'n.egru'))).toMatch(/layers\.1\.thr holds a non-finite value \(NaN\) at index 2/);
  });

  describe('its configuration', () => {
    type StoredConfig = Record<string, unknown> & { model: Record<string, unknown>; optimizer: Record<string, unknown> };
    const packr = new Packr({ useRecords: false });
    /** Decodes a checkpoint whose stored config was changed by `edit`. */
    const decodeEdited = (edit: (config: StoredConfig) => void, ck: Checkpoint = make()) => {
      const d = packr.unpack(encodeCheckpoint(ck)) as { config: StoredConfig };
      edit(d.config);
      return decodeCheckpoint(sealCheckpoint(d), 'c.egru');
    };
    const rejected = (edit: (config: StoredConfig) => void) => inputError(() => decodeEdited(edit));

    it('a missing or wrongly-typed field: one line naming the file and the field', () => {
      expect(rejected((c) => (c.batch = '32'))).toBe('c.egru: checkpoint config.batch must be an integer ≥ 1, got "32"');
      expect(rejected((c) => delete c.seed)).toBe('c.egru: checkpoint config.seed is missing (expected an integer)');
      expect(rejected((c) => delete c.command)).toBe('c.egru: checkpoint config.command is missing (expected "train", "import" or "bench")');
      expect(rejected((c) => (c.transport = 'pigeon'))).toMatch(/config\.transport must be "inline", "threads" or "nats", got "pigeon"$/);
      expect(rejected((c) => (c.maxMinutes = 0))).toMatch(/config\.maxMinutes must be a number > 0 or null, got 0$/);
      expect(rejected((c) => (c.preset = { task: 'adding', applied: [] }))).toMatch(/config\.preset\.applied must be an object, got a list$/);
      expect(rejected((c) => (c.optimizer.lr = null))).toMatch(/config\.optimizer\.lr must be a number ≥ 0, got null$/);
      expect(rejected((c) => (c.model.cell = 'lstm'))).toMatch(/config\.model\.cell must be "egru" or "gru", got "lstm"$/);
      expect(rejected((c) => (c.model.hidden = [6, '4']))).toMatch(/config\.model\.hidden\[1\] must be an integer, got "4"$/);
      expect(rejected((c) => (c.model.hidden = 6))).toMatch(/config\.model\.hidden must be a list of integers, got 6$/);
      expect(rejected((c) => (c.model.dropout = 1.5))).toMatch(/config\.model is invalid: dropout must lie in \[0, 1\), got 1\.5$/);
      expect(rejected((c) => Object.assign(c, { model: [1, 2] }))).toMatch(/^c\.egru: checkpoint has no model configuration \(config\.model\)$/);
    });

    it('an import configuration is checked too', () => {
      const imported: Checkpoint = { ...make(), config: { command: 'import', version: '0.1.0', task: null, weights: 'w.npz', model } };
      expect(decodeEdited(() => {}, imported).config).toEqual(imported.config);
      expect(inputError(() => decodeEdited((c) => (c.weights = 7), imported))).toMatch(/config\.weights must be a string, got 7$/);
    });

    it('older checkpoints: no model.dropout reads as 0; fields of older versions are kept in their place', () => {
      const back = decodeEdited((c) => {
        delete c.model.dropout;
        delete c.actorHosts;
        c.dropout = 0.5; // where an early version kept it
      });
      expect(back.config.model.dropout).toBe(0);
      expect('actorHosts' in back.config).toBe(false);
      const keys = Object.keys(trainConfig()).filter((k) => k !== 'nats' && k !== 'actorHosts');
      expect(Object.keys(back.config)).toEqual([...keys, 'dropout']);
    });
  });

  it('a failed save leaves the previous checkpoint intact', () => {
    const p = join(dir, 'keep.egru');
    saveCheckpoint(p, make());
    const before = readFileSync(p);
    const broken = make();
    broken.params.layers[0]!.kernel = new Float32Array(3); // wrong size: a bug, caught before writing
    expect(() => saveCheckpoint(p, broken)).toThrow(TypeError);
    expect(readFileSync(p).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('weights', () => {
  const model = defaultModelConfig({ inputSize: 3, hidden: [5, 4], classes: 2, seed: 3 });
  it('npz round trip with inferred architecture', () => {
    const params = initParams(model);
    const entries = paramsToNpzEntries(model, params);
    expect(Object.keys(entries)).toEqual(paramShapes(model).map((s) => s.name));
    expect(entries['layers.0.kernel']!.shape).toEqual([3, 15]);
    const p = join(dir, 'w.npz');
    writeNpz(p, entries, { compress: true });
    const { cfg, params: back } = paramsFromNpz(readNpz(p), p);
    expect(cfg).toEqual({ inputSize: 3, hidden: [5, 4], classes: 2 });
    paramList(params).forEach((t, k) => expect(Array.from(paramList(back)[k]!)).toEqual(Array.from(t)));
  });

  it('accepts float64 arrays and rejects inconsistent ones', () => {
    const base = () => new Map(Object.entries(paramsToNpzEntries(model, initParams(model))));
    const m64 = base();
    const k = m64.get('layers.0.bias')!;
    m64.set('layers.0.bias', { dtype: '<f8', shape: k.shape, data: Float64Array.from(k.data as Float32Array) });
    expect(paramsFromNpz(m64).cfg.hidden).toEqual([5, 4]);

    let m = base();
    m.set('layers.1.kernel', ndarray(new Float32Array(6 * 12), [6, 12]));
    expect(inputError(() => paramsFromNpz(m, 'w.npz'))).toMatch(/w\.npz: array layers\.1\.kernel has shape \(6, 12\), but layer 0 has 5 units/);
    m = base();
    m.set('layers.0.recurrent_kernel', ndarray(new Float32Array(4 * 15), [4, 15]));
    expect(inputError(() => paramsFromNpz(m, 'w.npz'))).toMatch(/recurrent_kernel has shape \(4, 15\), expected \(5, 15\)/);
    m = base();
    m.set('layers.0.kernel', ndarray(new Float32Array(3 * 14), [3, 14]));
    expect(inputError(() => paramsFromNpz(m, 'w.npz'))).toMatch(/3 × hidden size/);
    m = base();
    m.delete('readout.bias');
    expect(inputError(() => paramsFromNpz(m, 'w.npz'))).toMatch(/missing array readout\.bias/);
    m = base();
    m.set('extra', ndarray(new Float32Array(1)));
    expect(inputError(() => paramsFromNpz(m, 'w.npz'))).toMatch(/unexpected array extra/);
    m = base();
    (m.get('readout.weight')!.data as Float32Array)[3] = Infinity;
    expect(inputError(() => paramsFromNpz(m, 'w.npz'))).toMatch(/readout\.weight\[0, 3\] is Infinity/);
    expect(inputError(() => paramsFromNpz(new Map([['x', ndarray(new Float32Array(1))]]), 'd.npz'))).toMatch(/not an EGRU weights file/);
  });

  it('json export has names, shapes and nested arrays', () => {
    const params = initParams(model);
    const j = paramsToJson(model, params);
    const parsed = JSON.parse(JSON.stringify(j));
    expect(parsed.format).toBe('egru-weights');
    expect(parsed.model.hidden).toEqual([5, 4]);
    expect(parsed.tensors['layers.1.recurrent_kernel'].shape).toEqual([4, 12]);
    expect(parsed.tensors['layers.1.recurrent_kernel'].data.length).toBe(4);
    expect(parsed.tensors['layers.1.recurrent_kernel'].data[2][7]).toBe(params.layers[1]!.recurrentKernel[2 * 12 + 7]);
    expect(parsed.tensors['readout.bias'].data).toEqual([0, 0]);
  });
});

