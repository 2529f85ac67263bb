/**
 * The hardware emulator's energy model, feasibility checks, workarounds, links, series and breakdowns, each figure
 * worked out by hand on a toy machine with round numbers (the toy case of hardware.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InfeasibleError,
  PARAMETER_NAMES,
  PRESETS,
  TraceBuilder,
  buildPlacement,
  compare,
  emulate,
  eventTraceFrom,
  isRefusal,
  loadPreset,
  parsePreset,
  place,
  seriesCsv,
  type EventTrace,
  type NetworkShape,
  type Preset,
} from '../hardware/index.js';

const ROOT = resolve(import.meta.dirname, '..');

/** 2 chips × 2 cores, round prices, no latencies, a 1 s tick. */
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

/**
 * t=0: input 1, layer 0 unit 0 fires; t=1: no input, layer 0 units 0 and 1 and layer 1 unit 1 fire.
 * Contiguous placement: layer 0 and layer 1 on chip (0,0), the readout on chip (1,0); only layer-1 events cross
 * the link (0,0)→(1,0). Counts: 5 packets, 49 synaptic ops, 10 updates, 6 router passes (1 off the source chip), 1 chip hop.
 */
function toyTrace(): EventTrace {
  const b = new TraceBuilder(toyShape);
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

describe('hardware energy: static power × time + dynamic', () => {
  it('static energy = (power per chip × chips + power per core × cores) × Σ step times', () => {
    const rep = emulate(toyTrace(), toyPreset({ staticPowerPerChip: 0.5, staticPowerPerCore: 0.25 }));
    // 2 chips, 3 cores: 0.5·2 + 0.25·3 = 1.75 W over 2 ticks of 1 s.
    expect(rep.sparse.energy.static).toBe(3.5);
    expect(rep.sparse.energy.dynamic).toBe(1749);
    expect(rep.sparse.energy.total).toBe(1752.5);
    // The dense GRU runs the same ticks: same static energy.
    expect(rep.dense.energy.static).toBe(3.5);
    expect(rep.saving.energyStatic).toBe(1);
    expect(rep.saving.energyTotal).toBe((5482 + 3.5) / 1752.5);
    // Without a tick a step lasts its latency: static energy follows it (layer-1 event: 8 B over 16 B/s = 0.5 s).
    const free = emulate(toyTrace(), toyPreset({ staticPowerPerChip: 0.5, staticPowerPerCore: 0.25, tick: 0, latencyBarrier: 1 }));
    expect(free.sparse.time).toBe(1 + 1.5);
    expect(free.sparse.energy.static).toBe(1.75 * 2.5);
    expect(free.breakdown.chips.map((c) => c.energyStatic)).toEqual([(0.5 + 2 * 0.25) * 2.5, (0.5 + 0.25) * 2.5]);
  });

  it('sums the dynamic parts in one fixed order, and total = dynamic + static exactly', () => {
    // Prices whose sum rounds differently in 708 of the 720 orders of its six parts.
    const p = toyPreset({ energyPerSynapticOp: 0.01, energyPerNeuronUpdate: 1 / 3, energyPerPacket: 1e-16, energyPerOnChipHop: 0.1, energyPerChipHop: 0.01, staticPowerPerChip: 0.1 });
    const e = emulate(toyTrace(), p).sparse.energy;
    expect(e.synapses).toBe(49 * 0.01);
    expect(e.neurons).toBe(10 * (1 / 3));
    expect(e.packetsSent).toBe(4 * 1e-16); // 4 events; the input item's packet comes from the host
    expect(e.routingOnChip).toBe(5 * 0.1);
    expect(e.routingChipToChip).toBe(1 * 0.1 + 1 * 0.01);
    expect(e.dynamic).toBe(e.synapses + e.neurons + e.hostGates + e.packetsSent + e.routingOnChip + e.routingChipToChip);
    expect(e.dynamic).not.toBe(e.routingOnChip + e.routingChipToChip + e.packetsSent + e.hostGates + e.neurons + e.synapses);
    expect(e.static).toBe(0.1 * 2 * 2);
    expect(e.total).toBe(e.dynamic + e.static);
  });

  it('the built-in presets all count static power; SpiNNaker 1 no longer charges per active core on top of per-op energy', () => {
    for (const name of PRESETS) expect(loadPreset(name).params.staticPowerPerChip.value).toBeGreaterThan(0);
    const s1 = loadPreset('spinnaker1').params;
    expect(s1.staticPowerPerCore.value).toBe(0);
    // Busy-core power × op time: (1 − 0.36) W / 18 cores × 50 ns and × 1 µs.
    expect(s1.energyPerSynapticOp.value).toBeCloseTo((0.64 / 18) * 50e-9, 11);
    expect(s1.energyPerNeuronUpdate.value).toBeCloseTo((0.64 / 18) * 1e-6, 9);
    // TrueNorth's 26 pJ per event at 65 mW contains 40 mW passive power: only its active share is dynamic.
    const tn = loadPreset('truenorth').params;
    expect(tn.staticPowerPerChip.value).toBe(0.04);
    expect(tn.energyPerSynapticOp.value).toBeCloseTo((26e-12 * 25) / 65, 20);
  });
});

describe('hardware links: serialisation, host input, late steps', () => {
  it('a step is late when its busiest link or the host link cannot carry its bytes within the tick', () => {
    // t1: one layer-1 packet (8 B) over a 4 B/s link = 2 s > the 1 s tick.
    const links = emulate(toyTrace(), toyPreset({ linkBandwidth: 4 }), { series: true });
    expect(links.series!.map((r) => [r.linkDelay, r.latency, r.late])).toEqual([[0, 0, false], [2, 2, true]]);
    expect(links.sparse.latency).toMatchObject({ lateSteps: 1, steps: 2, maxStep: 2 });
    // t0: the input item (8 B) over a 4 B/s host link = 2 s.
    const host = emulate(toyTrace(), toyPreset({ linkBandwidth: 4, hostBandwidth: 4 }), { series: true });
    expect(host.series!.map((r) => [r.hostBytes, r.hostDelay, r.late])).toEqual([[8, 2, true], [0, 0, true]]);
    expect(host.sparse.latency.lateSteps).toBe(2);
    expect(host.sparse.host).toEqual({ peakUtilisation: 2, overflowSteps: 1 });
    expect(host.breakdown.host).toEqual({ bytes: 8, peakUtilisation: 2, overflowSteps: 1, bandwidth: 4 });
    // Fast enough links: nothing late.
    expect(emulate(toyTrace(), toyPreset({ hostBandwidth: 8 })).sparse.latency.lateSteps).toBe(0);
  });

  it('names the busiest links by bytes, equal bytes by the lower link id', () => {
    // Layer 0 on chip (1,0), layer 1 on chip (0,0), readout on chip (2,0): one event each makes three links carry
    // one packet: (1,0)→(0,0) [id 5], (0,0)→(1,0) [id 0], (1,0)→(2,0) [id 4].
    const preset = toyPreset({ chipsX: 3, coresPerChip: 1, neuronsPerCore: 1 });
    const shape: NetworkShape = { inputSize: 1, layers: [1, 1], classes: 1, readout: 'per-step' };
    const placement = buildPlacement(shape, preset, { cores: [{ chip: [1, 0] }, { chip: [0, 0] }, { chip: [2, 0] }], unitCore: [[0], [1], [2]] });
    const b = new TraceBuilder(shape);
    b.addStep([[0], [0]], 0);
    b.endSample();
    const rep = emulate(b.build(), preset, { placement });
    expect(rep.breakdown.busiestLinks.map((l) => [l.from, l.to, l.bytes])).toEqual([
      [[0, 0], [1, 0], 8],
      [[1, 0], [2, 0], 8],
      [[1, 0], [0, 0], 8],
    ]);
    expect(rep.sparse.links.busiest).toMatchObject({ from: [0, 0], to: [1, 0], bytes: 8 });
  });
});

describe('hardware feasibility: refusals and workarounds', () => {
  const refusal = (over: Record<string, unknown>, opts = {}): string => {
    try {
      emulate(toyTrace(), toyPreset(over), opts);
    } catch (e) {
      expect(e).toBeInstanceOf(InfeasibleError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('not refused');
  };

  it('refuses a chip without gates or a CPU for them, too few axons, a fan-out of 1 and full routing tables', () => {
    expect(refusal({ nativeGates: 0 })).toBe('toy cannot run this EGRU: gate nonlinearities: no sigmoid/tanh in the cores and no embedded CPU to compute them');
    // Layer 1 units read 2 + 2 inputs.
    expect(refusal({ maxFanIn: 3 })).toMatch(/^toy cannot run this EGRU: fan-in: a core of layer 1 needs 4 input axons, the core has 3/);
    // A layer-0 event reaches its own core and layer 1's.
    expect(refusal({ maxFanOut: 1 })).toMatch(/fan-out: an event of layer 0 must reach 2 cores, a neuron reaches 1/);
    // Chip (0,0): the trees of layer 0's core, layer 1's core and the input: 3 entries.
    expect(refusal({ routerEntries: 2 })).toMatch(/router entries: chip \(0,0\) needs 3 routing entries, its router has 2/);
    expect(emulate(toyTrace(), toyPreset({ routerEntries: 3, maxFanIn: 4, maxFanOut: 2 })).feasibility.verdict).toBe('runs as is');
    // A chip without gates whose cores are also too small: the gates are named first, then the memory.
    expect(refusal({ nativeGates: 0, memoryPerCore: 10 })).toBe(
      'toy cannot run this EGRU: gate nonlinearities: no sigmoid/tanh in the cores and no embedded CPU to compute them; and one unit of layer 1 needs 12 B of synapse memory (12 weights × 8 bit), more than a toy core has (10 B)',
    );
    // Without workarounds, a chip that needs one is refused too.
    expect(refusal({ payloadBits: 0 }, { workarounds: false })).toMatch(/^toy runs this EGRU only with workarounds \(not allowed\): graded payload: binary spikes only/);
  });

  it('binary spikes: a graded value travels as one spike per bit, with as many packets, hops, synaptic ops and synapses', () => {
    const rep = emulate(toyTrace(), toyPreset({ payloadBits: 0 }), { gradedBits: 4 });
    expect(rep.feasibility).toMatchObject({ verdict: 'runs with workarounds', packetsPerEvent: 4, gatesOnHost: false });
    expect(rep.sparse.total).toMatchObject({ eventPackets: 20, synapticOps: 196, onChipHops: 24, chipHops: 4, neuronUpdates: 10, hostBytes: 32 });
    // Layer 0 core: 2 units × 3·(1 + 2) weights × 4 axons × 8 bit.
    expect(rep.placement.groups[0]!.maxSynapseBytesPerCore).toBe(72);
    expect(rep.notes[0]).toMatch(/^workaround \(graded payload\): binary spikes only: each 4-bit graded value is sent as 4 spikes/);
    // A placement made beforehand stores the synapses per weight the chip needs, or is refused.
    expect(place(toyShape, toyPreset({ payloadBits: 0 }), 'contiguous', { gradedBits: 4 }).axonsPerInput).toBe(4);
    const one = place(toyShape, toyPreset({ payloadBits: 0 }), 'contiguous', { axonsPerInput: 1 });
    expect(() => emulate(toyTrace(), toyPreset({ payloadBits: 0 }), { placement: one, gradedBits: 4 })).toThrow(
      /the placement stores 1 synapses per weight, toy needs 4 \(one per packet of a graded value\)/,
    );
    // A payload of 3 bits carries an 8-bit value in 3 packets.
    expect(emulate(toyTrace(), toyPreset({ payloadBits: 3 })).feasibility.packetsPerEvent).toBe(3);
  });

  it('gates on embedded CPUs: their energy per unit update and their time per chip are charged', () => {
    const p = toyPreset({ nativeGates: 0, hostCoresPerChip: 3, timePerHostGate: 10, energyPerHostGate: 1000, tick: 0 });
    const rep = emulate(toyTrace(), p);
    expect(rep.feasibility).toMatchObject({ verdict: 'runs with workarounds', gatesOnHost: true });
    // 4 hidden units × 2 steps; the readout has no gates.
    expect(rep.sparse.total.hostGateUpdates).toBe(8);
    expect(rep.sparse.energy.hostGates).toBe(8000);
    expect(rep.sparse.energy.dynamic).toBe(1749 + 8000);
    // Each layer: 2 units on chip (0,0) over 3 CPUs → ⌈2/3⌉ × 10 s; step 1 adds the 0.5 s link serialisation.
    expect(rep.sparse.latency.maxStep).toBe(20.5);
    expect(rep.sparse.time).toBe(20 + 20.5);
  });

  it('compare reports the presets that run and refuses the others with their reasons', () => {
    const shape: NetworkShape = { inputSize: 28, layers: [32], classes: 10, readout: 'trace' };
    const reports = compare(randomTrace(shape, 2, 6, 0.1), ['spinnaker2', 'loihi1', 'truenorth']);
    expect(reports.map((r) => (isRefusal(r) ? 'refused' : r.feasibility.verdict))).toEqual(['runs as is', 'runs with workarounds', 'refused']);
    const tn = reports[2]!;
    expect(isRefusal(tn) && tn.feasibility!.checks.filter((c) => c.status === 'fails').map((c) => c.check)).toEqual(['gate nonlinearities', 'fan-in', 'fan-out']);
    const l1 = reports[1]!;
    // Loihi 1: 8 synapses per weight; layer 0 units need 3·(28 + 32) × 8 B = 1440 B, so 32 units fill 45 KiB.
    expect(!isRefusal(l1) && l1.feasibility.checks.find((c) => c.check === 'memory per core')!.detail).toBe('the fullest core holds 45.0 KiB of synapses, a core has 128.0 KiB');
  });
});

describe('hardware series and breakdowns', () => {
  const shape: NetworkShape = { inputSize: 6, layers: [24, 16], classes: 5, readout: 'trace' };
  const trace = randomTrace(shape, 3, 9, 0.2, 4);

  it('the per-step series has one row per sample and step, and its rows sum to the totals', () => {
    for (const name of ['spinnaker1', 'loihi1']) {
      const rep = emulate(trace, name, { strategy: 'spread', spreadChips: 4, series: true });
      const rows = rep.series!;
      expect(rows).toHaveLength(27);
      expect(rows.map((r) => [r.sample, r.step]).slice(8, 10)).toEqual([[0, 8], [1, 0]]);
      const sum = (k: 'eventPackets' | 'chipHops' | 'synapticOps' | 'neuronUpdates' | 'onChipHops' | 'hostBytes') => rows.reduce((a, r) => a + r[k], 0);
      const t = rep.sparse.total;
      expect([sum('eventPackets'), sum('chipHops'), sum('synapticOps'), sum('neuronUpdates'), sum('onChipHops'), sum('hostBytes')]).toEqual([
        t.eventPackets, t.chipHops, t.synapticOps, t.neuronUpdates, t.onChipHops, t.hostBytes,
      ]);
      expect(rows.reduce((a, r) => a + r.energyDynamic, 0)).toBeCloseTo(rep.sparse.energy.dynamic, 15);
      expect(rows.reduce((a, r) => a + r.energyStatic, 0)).toBeCloseTo(rep.sparse.energy.static, 15);
      expect(rows.reduce((a, r) => a + r.stepTime, 0)).toBeCloseTo(rep.sparse.time, 15);
      expect(rows.filter((r) => r.late).length).toBe(rep.sparse.latency.lateSteps);
      expect(Math.max(...rows.map((r) => r.latency))).toBe(rep.sparse.latency.maxStep);
    }
  });

  it('writes the series as CSV, late as 0/1, the preset first', () => {
    const rep = emulate(toyTrace(), toyPreset({ linkBandwidth: 4 }), { series: true });
    const lines = seriesCsv([{ preset: 'toy', rows: rep.series! }]).trimEnd().split('\n');
    expect(lines[0]).toBe('preset,sample,step,events,inputItems,eventPackets,onChipHops,chipHops,synapticOps,neuronUpdates,energyStatic,energyDynamic,latency,stepTime,late,linksUsed,busiestLinkBytes,linkDelay,hostBytes,hostDelay');
    // t0: 1 event, 1 input; 2 packets, 2 router passes, 18 ops, 5 updates; energy 18 + 50 + 200; no link used.
    expect(lines[1]).toBe('toy,0,0,1,1,2,2,0,18,5,0,268,0,1,0,0,0,0,8,0');
    // t1: 3 events; 3 packets, 4 passes, 1 hop, 31 ops, 5 updates; energy 31 + 50 + 300 + 100 + 1000; 8 B over 4 B/s.
    expect(lines[2]).toBe('toy,0,1,3,0,3,4,1,31,5,0,1481,2,1,1,1,8,2,0,0');
  });

  it('per-core and per-chip totals add up to the run\'s, per-link bytes to the chip-link bytes', () => {
    for (const name of ['spinnaker1', 'loihi1']) {
      const rep = emulate(trace, name, { strategy: 'spread', spreadChips: 3 });
      const b = rep.breakdown;
      const t = rep.sparse.total;
      const k = rep.feasibility.packetsPerEvent; // 1 on SpiNNaker, 8 on Loihi 1 (binary spikes)
      expect(b.cores.reduce((a, c) => a + c.synapticOps, 0)).toBe(t.synapticOps);
      expect(b.cores.reduce((a, c) => a + c.neuronUpdates, 0)).toBe(t.neuronUpdates);
      expect(b.cores.reduce((a, c) => a + c.packetsSent, 0)).toBe(t.eventPackets - k * t.inputItems); // input packets come from the host
      expect(b.chips.reduce((a, c) => a + c.synapticOps, 0)).toBe(t.synapticOps);
      expect(b.chips.reduce((a, c) => a + c.energyStatic, 0)).toBeCloseTo(rep.sparse.energy.static, 15);
      expect(b.cores.reduce((a, c) => a + c.energyCompute, 0)).toBeCloseTo(rep.sparse.energy.synapses + rep.sparse.energy.neurons + rep.sparse.energy.hostGates + rep.sparse.energy.packetsSent, 12);
      expect(b.links.reduce((a, l) => a + l.bytes, 0)).toBe(t.chipLinkBytes);
      expect(b.chips.reduce((a, c) => a + c.bytesOut, 0)).toBe(t.chipLinkBytes);
      expect(b.chips.reduce((a, c) => a + c.bytesIn, 0)).toBe(t.chipLinkBytes);
      expect(b.chips).toHaveLength(3);
    }
  });

  it('spread: each hidden layer over the chips asked for, core j on chip j mod chips', () => {
    const p = place({ inputSize: 1, layers: [4], classes: 1, readout: 'trace' }, toyPreset(), 'spread', { spreadChips: 2 });
    expect(p.cores.map((c) => [c.chip, c.slot, c.group, c.units])).toEqual([[0, 0, 0, 2], [1, 0, 0, 2], [0, 1, 1, 1]]);
    expect(() => place(toyShape, toyPreset(), 'spread', { spreadChips: 3 })).toThrow(/the network needs 3 chips on toy but the preset has 2/);
    expect(() => place({ ...toyShape, layers: [2, 2, 2] }, toyPreset(), 'spread', { spreadChips: 2 })).toThrow(/spread: chip 0 of 2 has no free core for layer 2/);
  });
});

describe('hardware docs', () => {
  it('docs/hardware.md lists every preset value with its source', () => {
    const doc = readFileSync(join(ROOT, 'docs/hardware.md'), 'utf8');
    for (const name of PRESETS) {
      const p = loadPreset(name);
      for (const k of PARAMETER_NAMES) expect(doc, `${name}.${k}`).toContain(`\`${k}\`${p.params[k].assumption ? ' (assumption)' : ''}: ${p.params[k].source}`);
    }
  });

  it('no hardware file or doc points at a folder outside the repository', () => {
    const files = [...readdirSync(join(ROOT, 'hardware')).map((f) => join('hardware', f)), 'docs/hardware.md', 'cli/commands/hardware.ts'];
    for (const f of files) expect(readFileSync(join(ROOT, f), 'utf8'), f).not.toMatch(/shared\/|hardware-presets\.md/);
  });
});
