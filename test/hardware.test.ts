import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HardwareError,
  PRESETS,
  TraceBuilder,
  buildPlacement,
  compare,
  consumerCores,
  emulate,
  eventTraceFrom,
  formatComparison,
  formatReport,
  isRefusal,
  loadPreset,
  loadPresetFile,
  parsePreset,
  place,
  presetToJSON,
  route,
  unitEventCounts,
  type EventTrace,
  type HardwareReport,
  type NetworkShape,
  type Preset,
} from '../hardware/index.js';

/** A toy machine with round numbers, so every figure can be worked out by hand. */
function toyPreset(over: Record<string, unknown> = {}): Preset {
  return parsePreset({
    name: 'toy',
    topology: 'mesh',
    chipsX: 2,
    chipsY: 1,
    coresPerChip: 2,
    neuronsPerCore: 2,
    memoryPerCore: 1e6,
    packetBits: 64,
    energyPerSynapticOp: 1,
    energyPerNeuronUpdate: 10,
    energyPerOnChipHop: 100,
    energyPerChipHop: 1000,
    linkBandwidth: 16,
    timePerSynapticOp: 0,
    timePerNeuronUpdate: 0,
    latencyOnChipHop: 0,
    latencyChipHop: 0,
    latencyBarrier: 0,
    tick: 1,
    ...over,
  });
}

const toyShape: NetworkShape = { inputSize: 1, layers: [2, 2], classes: 1, readout: 'per-step' };

/** t=0: input 1, layer 0 unit 0 fires; t=1: no input, layer 0 units 0 and 1 and layer 1 unit 1 fire. */
function toyTrace(shape = toyShape): EventTrace {
  const b = new TraceBuilder(shape);
  b.addStep([[0], []], 1);
  b.addStep([[0, 1], [1]], 0);
  b.endSample();
  return b.build();
}

function randomTrace(shape: NetworkShape, samples: number, steps: number, p: number, seed = 1): EventTrace {
  let x = seed >>> 0 || 1;
  const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return eventTraceFrom(
    shape,
    samples,
    steps,
    (_s, _t, l) => {
      const out: number[] = [];
      for (let u = 0; u < shape.layers[l]!; u++) if (rnd() < p) out.push(u);
      return out;
    },
    () => Math.floor(rnd() * (shape.inputSize + 1)),
  );
}

describe('hardware: hand-computed toy case (2 chips × 2 cores)', () => {
  const preset = toyPreset();
  const placement = place(toyShape, preset);

  it('places contiguously: layer 0 and layer 1 on chip (0,0), the readout on chip (1,0)', () => {
    expect(placement.cores.map((c) => [c.chip, c.slot, c.group, c.units])).toEqual([
      [0, 0, 0, 2],
      [0, 1, 1, 2],
      [1, 0, 2, 1],
    ]);
  });

  it('routes a layer-1 event to its own core and, over one link, to the readout', () => {
    const r = route(placement, preset, { core: 1 }, consumerCores(placement, 1, true));
    expect(r).toMatchObject({ chipHops: 1, onChipHops: 2, onChipHopsSourceChip: 1, links: [0 * 4 + 0], pathChipHops: 1 });
  });

  it('counts packets, hops, synaptic ops, bytes and energy exactly', () => {
    const rep = emulate(toyTrace(), preset, { placement });
    const s = rep.sparse;
    // t0: input packet (3·2 ops), layer-0 event (3·2 + 3·2 ops); t1: 2 layer-0 events, 1 layer-1 event (3·2 + 1 ops).
    expect(s.total).toEqual({
      events: 4,
      inputItems: 1,
      synapticOps: 6 + 12 + 24 + 7,
      neuronUpdates: 10,
      eventPackets: 5,
      eventPacketsOffChip: 1,
      onChipHops: 6,
      chipHops: 1,
      bytes: 40,
      chipLinkBytes: 8,
      hostGateUpdates: 0,
      hostBytes: 8,
    });
    expect(s.energy).toMatchObject({ synapses: 49, neurons: 100, routingOnChip: 500, routingChipToChip: 1100, dynamic: 1749, static: 0 });
    expect(s.perSample.eventPackets).toBe(5);
    expect(s.perStep.eventPackets).toBe(2.5);
    expect(s.time).toBe(2);
    expect(s.links.used).toBe(1);
    expect(s.links.busiest).toEqual({ from: [0, 0], to: [1, 0], bytes: 8, utilisation: 0.25, peakUtilisation: 0.5 });
    expect(s.links.overflowSteps).toBe(0);
    expect(s.chipToChip.eventPacketShare).toBeCloseTo(1 / 5, 12);
    expect(s.chipToChip.routingEnergyShare).toBeCloseTo(1100 / 1600, 12);
  });

  it('computes the dense equivalent and the sparsity saving as one ratio', () => {
    const rep = emulate(toyTrace(), preset, { placement });
    // Dense step: 2 layer-0 packets (1 pass, 12 ops each), 2 layer-1 packets (2 passes, 1 link, 7 ops each).
    expect(rep.dense.total).toMatchObject({ eventPackets: 9, synapticOps: 82, onChipHops: 13, chipHops: 4, neuronUpdates: 10 });
    expect(rep.dense.energy.dynamic).toBe(82 + 100 + 900 + 400 + 4000);
    expect(rep.saving.energyDynamic).toBeCloseTo(5482 / 1749, 12);
    expect(rep.saving.chipHops).toBe(4);
  });

  it('flags steps whose link load exceeds bandwidth × step time', () => {
    const rep = emulate(toyTrace(), toyPreset({ linkBandwidth: 4 }), { strategy: 'contiguous' });
    expect(rep.sparse.links.overflowSteps).toBe(1);
    expect(rep.sparse.links.peakUtilisation).toBe(2);
    expect(rep.dense.links.overflowSteps).toBe(2);
    // A longer step time removes the overflow.
    expect(emulate(toyTrace(), toyPreset({ linkBandwidth: 4 }), { stepTime: 2 }).sparse.links.overflowSteps).toBe(0);
  });

  it('readout "last": only the last step\'s events reach the readout', () => {
    const shape: NetworkShape = { ...toyShape, readout: 'last' };
    const b = new TraceBuilder(shape);
    b.addStep([[], [0]], 0);
    b.addStep([[], [1]], 0);
    b.endSample();
    const rep = emulate(b.build(), preset);
    // t0: recurrence only (chip 0); t1: recurrence + readout (one link). Readout updates only at t1.
    expect(rep.sparse.total).toMatchObject({ eventPackets: 2, chipHops: 1, onChipHops: 3, synapticOps: 6 + 7, neuronUpdates: 4 + 5 });
  });

  it('computes latency per step: slowest core + routing + link serialisation + barrier', () => {
    const p = toyPreset({ timePerSynapticOp: 1, timePerNeuronUpdate: 100, latencyOnChipHop: 1000, latencyChipHop: 10000, latencyBarrier: 1e5, tick: 0 });
    const rep = emulate(toyTrace(), p);
    // t0: barrier 1e5 + input path 1000 + layer0 2·(100 + 3·(1+1)) + path 1000 + layer1 2·(100 + 3·1) + readout 1·(100 + 0)
    const t0 = 1e5 + 1000 + 2 * 106 + 1000 + 2 * 103 + 100;
    // t1: layer0 2·(100 + 3·2) + 1000; layer1 2·(100 + 3·(2+1)) + 12000 (1 pass + 1 link + 1 pass); readout 1·(100+1); link 8 B / 16 B/s
    const t1 = 1e5 + 2 * 106 + 1000 + 2 * 109 + 12000 + 101 + 0.5;
    expect(rep.sparse.latency.maxStep).toBeCloseTo(Math.max(t0, t1), 9);
    expect(rep.sparse.latency.meanStep).toBeCloseTo((t0 + t1) / 2, 9);
    expect(rep.stepTime).toEqual({ seconds: null, source: 'computed latency' });
    expect(rep.sparse.time).toBeCloseTo(t0 + t1, 9);
  });
});

describe('hardware: routing model', () => {
  it('counts the links of the multicast tree, not the sum over destinations', () => {
    const preset = toyPreset({ chipsX: 3, chipsY: 3, coresPerChip: 1, neuronsPerCore: 1 });
    const shape: NetworkShape = { inputSize: 1, layers: [1], classes: 1, readout: 'trace' };
    // One core on each of chips (0,0), (2,0), (2,2) (readout) — plus we route by hand to (0,2) too.
    const p = buildPlacement(shape, preset, { cores: [{ chip: [0, 0] }, { chip: [2, 2] }], unitCore: [[0], [1]] });
    const extra = buildPlacement(
      { ...shape, layers: [1, 1, 1] },
      preset,
      { cores: [{ chip: [0, 0] }, { chip: [2, 0] }, { chip: [0, 2] }, { chip: [2, 2] }], unitCore: [[0], [1], [2], [3]] },
    );
    expect(route(p, preset, { core: 0 }, [0, 1]).chipHops).toBe(4);
    const r = route(extra, preset, { core: 0 }, [1, 2, 3]);
    // X then Y: (0,0)→(2,0): 2 links; (2,0)→(2,2): 2 more; (0,0)→(0,2): 2. Tree 6 links (per-destination sum: 8).
    expect(r.chipHops).toBe(6);
    expect(r.onChipHops).toBe(7); // one router pass on each chip the tree visits
    expect(r.pathChipHops).toBe(4);
  });

  it('wraps around on a torus', () => {
    const mesh = toyPreset({ chipsX: 4, coresPerChip: 1, neuronsPerCore: 1 });
    const torus = toyPreset({ chipsX: 4, coresPerChip: 1, neuronsPerCore: 1, topology: 'torus' });
    const shape: NetworkShape = { inputSize: 1, layers: [1], classes: 1, readout: 'trace' };
    const spec = { cores: [{ chip: [0, 0] as [number, number] }, { chip: [3, 0] as [number, number] }], unitCore: [[0], [1]] };
    expect(route(buildPlacement(shape, mesh, spec), mesh, { core: 0 }, [1]).chipHops).toBe(3);
    const r = route(buildPlacement(shape, torus, spec), torus, { core: 0 }, [1]);
    expect(r.chipHops).toBe(1);
    expect(r.links).toEqual([0 * 4 + 1]); // −X from chip (0,0)
  });

  it('counts router passes on an on-chip mesh (XY tree + 1 per chip)', () => {
    const preset = toyPreset({ chipsX: 1, coresPerChip: 4, nodesX: 2, nodesY: 2, neuronsPerCore: 1 });
    const shape: NetworkShape = { inputSize: 1, layers: [1, 1, 1], classes: 1, readout: 'trace' };
    const p = buildPlacement(shape, preset, { cores: [0, 1, 2, 3].map((slot) => ({ chip: 0, slot })), unitCore: [[0], [1], [2], [3]] });
    // Node (0,0) to nodes (1,0), (0,1), (1,1): XY links (0,0)→(1,0), (1,0)→(1,1), (0,0)→(0,1) = 3; passes 4.
    expect(route(p, preset, { core: 0 }, [1, 2, 3])).toMatchObject({ chipHops: 0, onChipHops: 4, pathOnChipHops: 3 });
  });
});

describe('hardware: placement', () => {
  const shape: NetworkShape = { inputSize: 28, layers: [128, 128], classes: 10, readout: 'trace' };

  it('a single-chip placement has zero chip-to-chip traffic', () => {
    const trace = randomTrace(shape, 3, 20, 0.1);
    for (const name of ['loihi1', 'loihi2', 'spinnaker1', 'spinnaker2']) {
      const rep = emulate(trace, name);
      expect(rep.placement.chipsUsed).toBe(1);
      expect(rep.sparse.total.chipHops).toBe(0);
      expect(rep.sparse.total.eventPacketsOffChip).toBe(0);
      expect(rep.sparse.energy.routingChipToChip).toBe(0);
      expect(rep.sparse.links).toMatchObject({ used: 0, busiest: null, overflowSteps: 0 });
      expect(rep.dense.total.chipHops).toBe(0);
    }
  });

  it('refuses a placement that exceeds neurons per core', () => {
    const big: NetworkShape = { ...shape, layers: [300] };
    expect(() => place(big, 'spinnaker1', 'contiguous', { unitsPerCore: 300 })).toThrow(HardwareError);
    expect(() => place(big, 'spinnaker1', 'contiguous', { unitsPerCore: 300 })).toThrow(/core 0 \(chip \(0,0\), slot 0, layer 0\) holds 300 units; spinnaker1 allows 256 neurons per core/);
  });

  it('refuses a placement that exceeds synapse memory per core', () => {
    // loihi2: 192 KiB per core; a layer-0 unit of 28→1024 has 3·(28+1024) = 3156 one-byte weights → at most 62 per core,
    // 61 when the 1024 units are balanced over the 17 cores that needs.
    const wide: NetworkShape = { ...shape, layers: [1024] };
    const maxUnits = (p: ReturnType<typeof place>) => Math.max(...p.cores.filter((c) => c.group === 0).map((c) => c.units));
    expect(maxUnits(place(wide, 'loihi2'))).toBe(61);
    expect(() => place(wide, 'loihi2', 'contiguous', { unitsPerCore: 100 })).toThrow(/needs 289\.7 KiB of synapse memory \(94 units × 3156 weights × 8 bit\); loihi2 has 192\.0 KiB per core/);
    // loihi1 (binary spikes): 8 synapses per weight, 25,248 B per unit → 5 per core in its 128 KiB.
    expect(maxUnits(place(wide, 'loihi1'))).toBe(5);
    expect(() => place(wide, 'loihi1', 'contiguous', { unitsPerCore: 6 })).toThrow(/needs 147\.9 KiB of synapse memory \(6 units × 3156 weights × 8 axons × 8 bit\); loihi1 has 128\.0 KiB per core/);
    // A hand-made placement is checked the same way.
    // Layer 0 units need 3·(1+2) = 9 weights, layer 1 units 3·(2+2) = 12: two of them exceed 20 bytes.
    const preset = toyPreset({ memoryPerCore: 20 });
    expect(() => buildPlacement(toyShape, preset, { cores: [{ chip: 0 }, { chip: 0 }, { chip: 1 }], unitCore: [[0, 0], [1, 1], [2]] })).toThrow(
      /core 1 \(chip \(0,0\), slot 1, layer 1\) needs 24 B of synapse memory \(2 units × 12 weights × 8 bit\); toy has 20 B per core/,
    );
    expect(() => place(toyShape, toyPreset({ memoryPerCore: 10 }))).toThrow(/one unit of layer 1 needs 12 B of synapse memory/);
    expect(() => buildPlacement(toyShape, toyPreset(), { cores: [{ chip: 0 }, { chip: 1 }], unitCore: [[0, 0], [1, 1], [1]] })).toThrow(/core 1 holds units of layer 1 and readout/);
  });

  it('refuses an unknown strategy and a network larger than the machine', () => {
    expect(() => place(shape, 'loihi1', 'magic' as never)).toThrow(/unknown placement strategy "magic"/);
    expect(() => place({ ...shape, layers: [20] }, toyPreset({ chipsX: 1 }))).toThrow(/the network needs 8 chips on toy but the preset has 1 \(1×1\)/);
    expect(() => place(shape, 'loihi1', 'traffic')).toThrow(/needs the recorded event trace/);
  });

  it('round-robin deals units over cores and cores over chips', () => {
    const preset = toyPreset({ chipsX: 3 });
    const shp: NetworkShape = { inputSize: 1, layers: [4], classes: 1, readout: 'trace' };
    const p = place(shp, preset, 'round-robin');
    // Layer 0: 2 cores; readout 1 core; 3 cores over 2 chips.
    expect(Array.from(p.unitCore[0]!)).toEqual([0, 1, 0, 1]);
    expect(p.cores.map((c) => c.chip)).toEqual([0, 1, 0]);
  });

  it('actors: one chip per runtime actor, the readout with the last one', () => {
    const p = place(shape, 'loihi1', 'actors', { actors: 2 });
    const summary = emulate(randomTrace(shape, 1, 5, 0.1), 'loihi1', { placement: p }).placement;
    expect(summary.chipsUsed).toBe(4);
    expect(summary.chips.map((c) => c.groups)).toEqual([['layer 0'], ['layer 0'], ['layer 1'], ['layer 1', 'readout']]);
    // Loihi 1 stores 8 synapses per weight (binary spikes): a core holds 35 units of layer 0 (3·(28+128)·8 B each),
    // 21 of layer 1 (3·(128+128)·8 B): actors [0,100) 3 cores, [100,128) 1, layer 1 7, the readout 1.
    expect(place(shape, 'loihi1', 'actors', { actors: [[[0, 100], [100, 128]], [[0, 128]]] }).cores.length).toBe(12);
    expect(place(shape, 'loihi2', 'actors', { actors: [[[0, 100], [100, 128]], [[0, 128]]] }).cores.length).toBe(4);
    expect(() => place(shape, 'loihi1', 'actors', { actors: [[[0, 100]], [[0, 128]]] })).toThrow(/cover 0\.\.100, the layer has 128/);
  });

  it('traffic: fewer chip-to-chip hops than contiguous and round-robin on its own trace', () => {
    // 5 cores, 2 per chip → 3 chips; units 0 and 1 of layer 0 are busy.
    const preset = toyPreset({ chipsX: 3, chipsY: 2 });
    const shp: NetworkShape = { inputSize: 2, layers: [4, 4], classes: 2, readout: 'trace' };
    let x = 7;
    const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const trace = eventTraceFrom(shp, 4, 30, (_s, _t, l) => (l === 0 ? [0, 1, ...(rnd() < 0.2 ? [3] : [])] : rnd() < 0.3 ? [2] : []), () => 1);
    const hops = (strategy: 'contiguous' | 'round-robin' | 'traffic') => emulate(trace, preset, { strategy }).sparse.total.chipHops;
    const t = hops('traffic');
    expect(t).toBeLessThanOrEqual(hops('contiguous'));
    expect(t).toBeLessThan(hops('round-robin'));
    expect(emulate(trace, preset, { strategy: 'traffic' }).placement.strategy).toBe('traffic');
  });
});

describe('hardware: energy is linear in events', () => {
  const shape: NetworkShape = { inputSize: 4, layers: [40, 30], classes: 5, readout: 'trace' };
  const preset = toyPreset({ chipsX: 8, chipsY: 8, coresPerChip: 2, neuronsPerCore: 8 });

  it('event-driven energy of a union of disjoint event sets is the sum', () => {
    const all = randomTrace(shape, 2, 6, 0.3, 5);
    const half = (keep: (i: number) => boolean): EventTrace => {
      const units: number[] = [];
      const offsets = new Int32Array(all.offsets.length);
      for (let r = 0; r + 1 < all.offsets.length; r++) {
        for (let i = all.offsets[r]!; i < all.offsets[r + 1]!; i++) if (keep(i)) units.push(all.units[i]!);
        offsets[r + 1] = units.length;
      }
      return { ...all, offsets, units: Int32Array.from(units), inputCounts: new Int32Array(all.inputCounts!.length) };
    };
    const placement = place(shape, preset, 'round-robin');
    const e = (tr: EventTrace) => {
      const en = emulate(tr, preset, { placement }).sparse.energy;
      return { syn: en.synapses, route: en.routing, neurons: en.neurons, dyn: en.dynamic };
    };
    const none = e(half(() => false));
    const a = e(half((i) => i % 2 === 0));
    const b = e(half((i) => i % 2 === 1));
    const ab = e(half(() => true));
    expect(none.syn).toBe(0);
    expect(none.route).toBe(0);
    expect(ab.syn).toBeCloseTo(a.syn + b.syn, 6);
    expect(ab.route).toBeCloseTo(a.route + b.route, 6);
    expect(ab.dyn - none.dyn).toBeCloseTo(a.dyn - none.dyn + (b.dyn - none.dyn), 6);
    expect(ab.neurons).toBe(none.neurons); // updates do not depend on events
  });

  it('repeating the samples scales every total', () => {
    const tr = randomTrace(shape, 2, 5, 0.2, 9);
    const twice: EventTrace = {
      ...tr,
      samples: 4,
      offsets: Int32Array.from([...tr.offsets, ...Array.from(tr.offsets.subarray(1), (o) => o + tr.units.length)]),
      units: Uint16Array.from([...tr.units, ...tr.units]),
      inputCounts: Int32Array.from([...tr.inputCounts!, ...tr.inputCounts!]),
    };
    const one = emulate(tr, preset);
    const two = emulate(twice, preset);
    expect(two.sparse.energy.dynamic).toBeCloseTo(2 * one.sparse.energy.dynamic, 6);
    expect(two.sparse.total.chipHops).toBe(2 * one.sparse.total.chipHops);
    expect(two.sparse.perSample).toEqual(one.sparse.perSample);
  });
});

describe('hardware: presets', () => {
  it('has the five built-ins, each number with a source, assumptions marked', () => {
    expect([...PRESETS]).toEqual(['spinnaker1', 'spinnaker2', 'loihi1', 'loihi2', 'truenorth']);
    for (const name of PRESETS) {
      const p = loadPreset(name);
      for (const v of Object.values(p.params)) {
        expect(v.source.length).toBeGreaterThan(3);
        expect(Number.isFinite(v.value) && v.value >= 0).toBe(true);
      }
      // Round trip through the file format.
      expect(parsePreset(JSON.parse(JSON.stringify(presetToJSON(p))))).toEqual(p);
    }
    expect(loadPreset('loihi2').params.energyPerSynapticOp.assumption).toBe(true);
    expect(loadPreset('loihi1').params.energyPerSynapticOp).toMatchObject({ value: 23.6e-12, assumption: false });
    expect(() => loadPreset('akida')).toThrow(/unknown hardware preset "akida"/);
  });

  it('refuses a preset with a missing, negative or non-numeric field', () => {
    const full = presetToJSON(toyPreset());
    const without = { ...full };
    delete without.linkBandwidth;
    expect(() => parsePreset(without)).toThrow(/preset "toy": field "linkBandwidth" is missing/);
    expect(() => parsePreset({ ...full, energyPerChipHop: -1 })).toThrow(/field "energyPerChipHop" must not be negative, got -1/);
    expect(() => parsePreset({ ...full, energyPerChipHop: { value: -2e-12, source: 'x' } })).toThrow(/must not be negative/);
    expect(() => parsePreset({ ...full, coresPerChip: 'many' })).toThrow(/field "coresPerChip" must be a number \(cores\), got "many"/);
    expect(() => parsePreset({ ...full, coresPerChip: 2.5 })).toThrow(/must be a positive integer/);
    expect(() => parsePreset({ ...full, linkBandwith: 5 })).toThrow(/unknown field "linkBandwith"/);
    expect(() => parsePreset({ ...full, topology: 'ring' })).toThrow(/"topology" must be "mesh" or "torus"/);
    // Names of the prototype are neither fields nor built-ins; counts stay allocatable.
    expect(() => parsePreset({ ...full, hasOwnProperty: 1 })).toThrow(/unknown field "hasOwnProperty"/);
    expect(() => parsePreset({ ...full, constructor: 1 })).toThrow(/unknown field "constructor"/);
    expect(() => parsePreset({ extends: 'toString' })).toThrow(/"extends" must name a built-in preset .*got "toString"/);
    expect(() => parsePreset({ extends: '__proto__' })).toThrow(/"extends" must name a built-in preset/);
    expect(() => loadPreset('toString')).toThrow(/unknown hardware preset "toString"/);
    expect(() => parsePreset({ ...full, chipsX: 1e308 })).toThrow(/field "chipsX" must be at most 16777216, got 1e\+308/);
    expect(() => parsePreset({ ...full, chipsX: 1 << 13, chipsY: 1 << 13 })).toThrow(/chipsX × chipsY × nodesX × nodesY = 67108864 routers, more than the 16777216/);
    for (const bad of [() => parsePreset(without), () => parsePreset({ ...full, tick: -1 })]) {
      try {
        bad();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(HardwareError);
        expect((e as Error).message).not.toContain('\n');
      }
    }
  });

  it('reads a preset file, marks assumptions, and extends a built-in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egru-hw-'));
    try {
      const good = join(dir, 'chip.json');
      writeFileSync(good, JSON.stringify({ extends: 'loihi2', name: 'loihi2-big', chipsX: { value: 16, source: 'assumption: a bigger board' }, packetBits: { value: 48, source: 'my measurement' } }));
      const p = loadPresetFile(good);
      expect(p.name).toBe('loihi2-big');
      expect(p.params.chipsX).toEqual({ value: 16, source: 'assumption: a bigger board', assumption: true });
      expect(p.params.packetBits).toEqual({ value: 48, source: 'my measurement', assumption: false });
      expect(p.params.neuronsPerCore).toEqual(loadPreset('loihi2').params.neuronsPerCore);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ ...presetToJSON(toyPreset()), memoryPerCore: -5 }));
      expect(() => loadPresetFile(bad)).toThrow(/preset "toy": field "memoryPerCore" must not be negative/);
      const noEnergy = presetToJSON(toyPreset());
      delete noEnergy.energyPerSynapticOp;
      writeFileSync(bad, JSON.stringify(noEnergy));
      expect(() => loadPresetFile(bad)).toThrow(/preset "toy": field "energyPerSynapticOp" is missing \(energy per synaptic operation, in J\)/);
      writeFileSync(bad, '{ nope');
      expect(() => loadPresetFile(bad)).toThrow(/bad\.json is not valid JSON/);
      expect(() => loadPresetFile(join(dir, 'missing.json'))).toThrow(/cannot read preset file .*missing\.json: ENOENT/);
      // Optional fields default; a custom preset's static power is then an assumption shown in the report.
      const minimal = presetToJSON(toyPreset());
      delete minimal.staticPowerPerChip;
      expect(parsePreset(minimal).params.staticPowerPerChip).toMatchObject({ value: 0, assumption: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hardware: report', () => {
  const shape: NetworkShape = { inputSize: 28, layers: [64, 32], classes: 10, readout: 'trace' };
  const trace = randomTrace(shape, 3, 12, 0.08, 3);

  it('is JSON-serialisable and shows its assumptions', () => {
    const rep = emulate(trace, 'spinnaker1', { perStep: true });
    expect(JSON.parse(JSON.stringify(rep))).toEqual(rep);
    expect(rep.perStep).toHaveLength(12);
    expect(rep.assumptions.map((a) => a.parameter)).toContain('linkBandwidth');
    expect(rep.trace.events).toBe(unitEventCounts(trace).reduce((n, c) => n + c.reduce((a, b) => a + b, 0), 0));
    const text = formatReport(rep);
    expect(text).toContain('EGRU on spinnaker1');
    expect(text).toMatch(/energy: routing chip-to-chip \*/);
    expect(text).toContain('* rests on assumed parameters');
    expect(text).toMatch(/linkBandwidth = 31\.3 MB\/s — /);
    expect(text).toContain('saving from activity sparsity');
    expect(rep.stepTime).toEqual({ seconds: 1e-3, source: 'tick' });
    // SpiNNaker's idle chip power (0.36 W) over 3 samples × 12 ticks of 1 ms; idle cores sleep (no per-core power).
    expect(rep.sparse.energy.static).toBeCloseTo(0.36 * 36e-3, 12);
  });

  it('compares presets side by side', () => {
    const reports = compare(trace, ['spinnaker1', 'loihi1', 'truenorth']);
    expect(reports.map((r) => r.preset.name)).toEqual(['spinnaker1', 'loihi1', 'truenorth']);
    const text = formatComparison(reports);
    expect(text.split('\n')).toHaveLength(10); // header, 3 rows, 2 legend lines, blank, 3 feasibility lines
    expect(text).toMatch(/^truenorth +no /m);
    expect(text).toMatch(/^truenorth: REFUSED — truenorth cannot run this EGRU: gate nonlinearities/m);
    // The presets that run see the same events; synaptic ops differ only by the spikes per graded value.
    const ran = reports.filter((r) => !isRefusal(r)) as HardwareReport[];
    expect(ran.map((r) => r.sparse.total.synapticOps / r.feasibility.packetsPerEvent)).toEqual([ran[0]!.sparse.total.synapticOps, ran[0]!.sparse.total.synapticOps]);
  });

  it('refuses a trace that does not fit its shape and a placement for another preset', () => {
    const bad = { ...trace, units: Uint16Array.from(trace.units, () => 99) };
    expect(() => emulate(bad, 'loihi1')).toThrow(/trace names unit 99 of layer 0 \(size 64\)/);
    const p = place(shape, 'loihi1');
    expect(() => emulate(trace, 'loihi2', { placement: p })).toThrow(/made for preset loihi1, not loihi2/);
    expect(() => emulate(trace, 'loihi1', { input: 'trace', strategy: 'round-robin', placement: undefined, stepTime: -1 })).toThrow(/step time must be a positive number/);
  });

  it('replays a long trace (40 × 784 steps) completely: every event and unit-step is counted', () => {
    const big: NetworkShape = { inputSize: 1, layers: [128], classes: 10, readout: 'trace' };
    const tr = randomTrace(big, 40, 784, 0.05, 11);
    const rep = emulate(tr, 'loihi1', { coresPerChip: 1, unitsPerCore: 16 });
    const events = unitEventCounts(tr).reduce((n, c) => n + c.reduce((a, b) => a + b, 0), 0);
    expect(events).toBeGreaterThan(0.04 * 40 * 784 * 128);
    expect(rep.trace).toMatchObject({ samples: 40, steps: 784, events, unitSteps: 40 * 784 * 128 });
    expect(rep.sparse.total.events).toBe(events);
    expect(rep.dense.total.events).toBe(40 * 784 * 128);
    expect(rep.placement.chipsUsed).toBe(9);
    expect(rep.sparse.total.chipHops).toBeGreaterThan(0);
  });
});
