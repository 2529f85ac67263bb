/**
 * The built-in presets. Every number carries its public source and year; `a(...)` marks an assumption (no
 * public figure, or one recalled rather than checked against the paper). docs/hardware.md lists them all.
 *
 * One energy model for every chip: static power per chip used (+ per core used where the source gives one)
 * × time, plus dynamic energy per synaptic op, neuron update, packet sent, router pass and chip-to-chip hop.
 * Where a published figure already contains another term (TrueNorth's energy per event contains static power),
 * the figure is split so that nothing is counted twice; the derivation is in the source text.
 */
import type { ParamName, Sourced, Topology } from './presets.js';

export interface PresetDef {
  name: string;
  description: string;
  topology: Topology;
  topologySource: string;
  params: Record<ParamName, Sourced>;
}

const p = (value: number, source: string): Sourced => ({ value, source, assumption: false });
const a = (value: number, source: string): Sourced => ({ value, source, assumption: true });

const PAINKRAS13 = 'Painkras et al. 2013 (IEEE JSSC, SpiNNaker chip)';
const SPYNNAKER_ENERGY = `${PAINKRAS13}, as sPyNNaker's energy report (spinn_front_end_common) uses it`;
const SPIN1_ACTIVE_CORE = '(1 W fully loaded − 0.36 W idle) / 18 cores = 35.6 mW per busy core';
const HOPPNER19 = 'Höppner et al. 2019 (arXiv:1903.08941), 28 nm SpiNNaker 2 prototype, via the keras-spiking device table';
const HOPPNER21 = 'Höppner et al. 2021 (arXiv:2103.08392, SpiNNaker 2 PE)';
const MAYR19 = 'Mayr, Höppner, Furber 2019 (arXiv:1911.02385)';
const DAVIES18 = 'Davies et al. 2018 (IEEE Micro, Loihi)';
const SANAFE = 'SANA-FE arch/loihi.yaml (Boyle et al. 2023), fitted to Loihi after Davies et al. 2018';
const INTEL21 = 'Intel Loihi 2 technology brief 2021';
const ORCHARD21 = 'Orchard et al. 2021 (SiPS, Loihi 2)';
const MEROLLA14 = 'Merolla et al. 2014 (Science, TrueNorth)';
const AKOPYAN15 = 'Akopyan et al. 2015 (IEEE TCAD, TrueNorth)';
/** TrueNorth: 65 mW for a typical real-time network ↔ 26 pJ per synaptic event ⇒ 2.5 G events/s at that load. */
const TN_TOTAL_W = 0.065;
const TN_PASSIVE_W = 0.04;
const TN_EVENT_J = 26e-12;

const SPINNAKER1: PresetDef = {
  name: 'spinnaker1',
  description: 'SpiNNaker 1, one SpiNN-5 board (48 chips × 16 application ARM968 cores)',
  topology: 'mesh',
  topologySource: 'one board is not wrapped; a multi-board machine is a torus (use a custom preset with "topology": "torus")',
  params: {
    chipsX: a(8, '48 chips per SpiNN-5 board (Furber et al. 2014); laid out as an 8×6 mesh with XY routing, the hexagonal 6-link topology approximated'),
    chipsY: a(6, 'see chipsX'),
    coresPerChip: p(16, `18 ARM968 cores per chip, 16 for applications (${PAINKRAS13})`),
    nodesX: p(1, `one multicast router per chip (${PAINKRAS13})`),
    nodesY: p(1, `one multicast router per chip (${PAINKRAS13})`),
    neuronsPerCore: p(256, 'sPyNNaker default of 255–256 neurons per core (sPyNNaker documentation)'),
    memoryPerCore: p(8 * 1024 * 1024, `derived: 128 MB SDRAM per chip (synaptic rows live in SDRAM) shared by 16 cores; 64 KB DTCM holds neuron state (${PAINKRAS13})`),
    packetBits: p(72, `40-bit multicast packet with 32-bit payload (${PAINKRAS13})`),
    payloadBits: p(32, `32-bit payload of a multicast packet (${PAINKRAS13})`),
    energyPerSynapticOp: a(35.6e-3 * 50e-9, `derived: busy-core power ${SPIN1_ACTIVE_CORE} (${SPYNNAKER_ENERGY}) × 50 ns per synaptic op (timePerSynapticOp, assumed)`),
    energyPerNeuronUpdate: a(35.6e-3 * 1e-6, `derived: busy-core power ${SPIN1_ACTIVE_CORE} (${SPYNNAKER_ENERGY}) × 1 µs per EGRU unit update (timePerNeuronUpdate, assumed)`),
    energyPerPacket: a(0, 'not separate: the sender\'s work is part of the busy-core time'),
    timePerPacket: a(0, 'not separate: the sender\'s work is part of the neuron update time'),
    energyPerOnChipHop: a(0.8e-9, `0.8 nJ per packet (${SPYNNAKER_ENERGY}); charged per router pass, so a packet pays it on every chip it reaches (interpretation assumed)`),
    energyPerChipHop: a(0, 'included: the next chip\'s router pass is charged; link-driver energy is not published separately'),
    linkBandwidth: a(250e6 / 8, '≈250 Mbit/s per chip-to-chip link (weak source; Painkras et al. 2013 give the link protocol, not a measured rate)'),
    hostBandwidth: a(100e6 / 8, '100 Mbit/s Ethernet on the board\'s root chip (Furber et al. 2014); the full line rate assumed available for input'),
    timePerSynapticOp: a(50e-9, 'none public; ≈10 cycles at 200 MHz per synapse'),
    timePerNeuronUpdate: a(1e-6, 'none public; ≈200 cycles at 200 MHz for an EGRU unit (two sigmoids, one tanh in fixed point)'),
    latencyOnChipHop: a(0.1e-6, 'none public; ≈0.1 µs per router pass'),
    latencyChipHop: a(0.2e-6, 'none public; ≈0.2 µs per chip-to-chip hop'),
    latencyBarrier: p(0, 'no global barrier: every core runs on its own 1 ms timer (sPyNNaker)'),
    latencyBarrierPerDoubling: p(0, 'no global barrier'),
    tick: p(1e-3, '1 ms real-time tick (sPyNNaker default; Furber et al. 2014)'),
    staticPowerPerChip: p(0.36, `idle chip 0.36 W (${SPYNNAKER_ENERGY})`),
    staticPowerPerCore: p(0, 'none: an idle core sleeps until its timer tick; its busy power is charged per operation (energyPerSynapticOp, energyPerNeuronUpdate)'),
    nativeGates: p(1, 'ARM968 cores are general purpose: sigmoid and tanh in fixed-point software'),
    hostCoresPerChip: p(0, 'not needed: the gates run on the application cores'),
    timePerHostGate: p(0, 'not needed'),
    energyPerHostGate: p(0, 'not needed'),
    maxFanIn: p(0, 'no axon limit: synaptic rows in SDRAM, limited by memory only'),
    maxFanOut: p(0, 'multicast router: a packet reaches any number of cores'),
    routerEntries: p(1024, `1,024 multicast routing entries per chip (${PAINKRAS13})`),
  },
};

const SPINNAKER2: PresetDef = {
  name: 'spinnaker2',
  description: 'SpiNNaker 2, one 48-chip board (152 ARM Cortex-M4F PEs per chip)',
  topology: 'mesh',
  topologySource: 'one board; layout assumed',
  params: {
    chipsX: a(8, `48 chips per board (${MAYR19}); 8×6 mesh layout assumed`),
    chipsY: a(6, 'see chipsX'),
    coresPerChip: p(152, `152 ARM Cortex-M4F processing elements (${MAYR19})`),
    nodesX: a(8, 'none public; 38 quad-PE routers assumed on an 8×5 mesh, 4 PEs each'),
    nodesY: a(5, 'see nodesX'),
    neuronsPerCore: a(256, 'set by software; the sPyNNaker default of SpiNNaker 1 assumed'),
    memoryPerCore: p(128 * 1024, `128 KB SRAM per PE (${HOPPNER21}); weights assumed in PE SRAM, DRAM not modelled`),
    packetBits: a(72, 'none public; SpiNNaker 1 packet (40-bit header + 32-bit payload) assumed'),
    payloadBits: a(32, 'none public; the 32-bit payload of SpiNNaker 1 packets assumed'),
    energyPerSynapticOp: p(450e-12, HOPPNER19),
    energyPerNeuronUpdate: p(2.19e-9, HOPPNER19),
    energyPerPacket: a(0, 'not separate: part of the PE\'s neuron update in the prototype\'s power model'),
    timePerPacket: a(0, 'not separate'),
    energyPerOnChipHop: a(0.8e-9, 'none public; the SpiNNaker 1 per-packet figure as an upper bound (older 130 nm process)'),
    energyPerChipHop: a(0, 'none public; included in the next chip\'s router pass, as for SpiNNaker 1'),
    linkBandwidth: a(250e6 / 8, 'none public; SpiNNaker 1 value (likely far too low)'),
    hostBandwidth: a(1e9 / 8, 'none public; 1 Gbit/s Ethernet per board assumed'),
    timePerSynapticOp: a(10e-9, 'none public; ≈3 cycles at 300 MHz per synapse'),
    timePerNeuronUpdate: a(0.2e-6, 'none public; ≈60 cycles at 300 MHz with FPU and exp accelerator'),
    latencyOnChipHop: a(0.1e-6, 'none public; SpiNNaker 1 value'),
    latencyChipHop: a(0.2e-6, 'none public; SpiNNaker 1 value'),
    latencyBarrier: p(0, `no global barrier, a timer per PE (${MAYR19})`),
    latencyBarrierPerDoubling: p(0, 'no global barrier'),
    tick: a(1e-3, 'none public; the 1 ms real-time tick of SpiNNaker 1 assumed'),
    staticPowerPerChip: a(0.2, 'none public found; assumed for the chip\'s NoC, routers, DRAM and host interfaces'),
    staticPowerPerCore: a(5e-3, `the prototype's power model has a baseline power per PE (${HOPPNER19}); 5 mW per PE assumed (not checked against the paper)`),
    nativeGates: p(1, `Cortex-M4F with FPU and exponential/logarithm accelerators per PE (${MAYR19}; ${HOPPNER21})`),
    hostCoresPerChip: p(0, 'not needed: the gates run on the PEs'),
    timePerHostGate: p(0, 'not needed'),
    energyPerHostGate: p(0, 'not needed'),
    maxFanIn: p(0, 'no axon limit: synapses in PE memory, limited by memory only'),
    maxFanOut: p(0, 'multicast router'),
    routerEntries: a(0, 'none public; not checked'),
  },
};

const LOIHI1: PresetDef = {
  name: 'loihi1',
  description: 'Intel Loihi (1st generation), Nahuku board (32 chips × 128 neurocores)',
  topology: 'mesh',
  topologySource: 'Loihi chips extend the on-chip mesh across chips',
  params: {
    chipsX: a(8, `Nahuku: 8–32 chips (${DAVIES18} and Intel); 8×4 layout assumed`),
    chipsY: a(4, 'see chipsX'),
    coresPerChip: p(128, `128 neurocores (${DAVIES18})`),
    nodesX: p(8, `8×4 tiles of 4 cores (${SANAFE})`),
    nodesY: p(4, `8×4 tiles of 4 cores (${SANAFE})`),
    neuronsPerCore: p(1024, `1,024 compartments per core (${DAVIES18})`),
    memoryPerCore: p(128 * 1024, `derived: 16 MB synaptic memory per chip / 128 cores (${DAVIES18})`),
    packetBits: a(32, 'none public; a 32-bit spike message (binary spikes carry no payload)'),
    payloadBits: p(0, `binary spikes: Loihi 1 spike messages carry no graded value (${DAVIES18})`),
    energyPerSynapticOp: p(23.6e-12, `${DAVIES18}, pre-silicon (SANA-FE fits 35.5 pJ to a board)`),
    energyPerNeuronUpdate: p(81e-12, `${DAVIES18}, active compartment update`),
    energyPerPacket: p(76.8e-12, `axon-out energy per spike message (${SANAFE})`),
    timePerPacket: p(7.6e-9, `axon-out latency per spike message (${SANAFE})`),
    energyPerOnChipHop: p(3.6e-12, `derived: mean of 3.0 pJ east-west and 4.2 pJ north-south per tile hop (${DAVIES18}; ${SANAFE})`),
    energyPerChipHop: a(100e-12, 'none public; ≈3 pJ/bit for a 32-bit message, typical short-reach chip-to-chip I/O'),
    linkBandwidth: a(4.3e9 / 4, 'none public; the Loihi 2 per-link figure assumed'),
    hostBandwidth: a(1e9 / 8, 'none public; 1 Gbit/s Ethernet to the board\'s host FPGA assumed'),
    timePerSynapticOp: p(4.0e-9, SANAFE),
    timePerNeuronUpdate: p(9.7e-9, SANAFE),
    latencyOnChipHop: p(5.3e-9, `derived: mean of 4.1 ns east-west and 6.5 ns north-south (${SANAFE})`),
    latencyChipHop: a(100e-9, 'none public'),
    latencyBarrier: p(0.6e-6, `0.6 µs on one chip (${SANAFE})`),
    latencyBarrierPerDoubling: p(0.4e-6, `derived: 0.6/1.0/1.4/1.8 µs on 1/2/4/29 chips (${SANAFE}); fit exact to 4 chips, over-estimates beyond`),
    tick: p(0, 'none: Loihi steps are barrier-synchronised, a step lasts as long as it needs'),
    staticPowerPerChip: a(0.03, 'none public as a single figure (NxSDK measures it per board); 30 mW per chip assumed'),
    staticPowerPerCore: p(0, 'not separate: included in the chip\'s static power'),
    nativeGates: p(0, `fixed CUBA leaky-integrate-and-fire compartments: no sigmoid or tanh (${DAVIES18})`),
    hostCoresPerChip: p(3, `three embedded x86 (Lakemont) cores per chip (${DAVIES18})`),
    timePerHostGate: a(2e-6, 'none public; ≈200 instructions per unit (read 3 accumulated currents over the mesh, two sigmoids, a tanh, write back) at ≈100 MIPS'),
    energyPerHostGate: a(100e-9, 'none public; ≈50 mW per busy x86 core × 2 µs'),
    maxFanIn: p(4096, `4,096 input axons per core (${SANAFE})`),
    maxFanOut: p(4096, `4,096 output axons per core, one per destination core (${SANAFE})`),
    routerEntries: p(0, 'no routing tables: destinations are stored per output axon (counted as fan-out)'),
  },
};

const LOIHI2: PresetDef = {
  name: 'loihi2',
  description: 'Intel Loihi 2, Kapoho Point board (8 chips × 128 neurocores)',
  topology: 'mesh',
  topologySource: 'layout assumed',
  params: {
    chipsX: a(4, `Kapoho Point: 8 chips (${INTEL21}); 4×2 layout assumed`),
    chipsY: a(2, 'see chipsX'),
    coresPerChip: p(128, `128 neurocores + 6 x86 cores (${INTEL21})`),
    nodesX: a(8, 'none public; the 8×4 tile mesh of Loihi 1 assumed'),
    nodesY: a(4, 'see nodesX'),
    neuronsPerCore: p(8192, `up to 8,192 neurons per core (${INTEL21})`),
    memoryPerCore: p(192 * 1024, `192 KB per core (${INTEL21}); all counted as synapse memory`),
    packetBits: a(64, 'none public; graded payload + 32-bit header assumed'),
    payloadBits: a(24, `graded spikes carry an integer payload (${INTEL21}; ${ORCHARD21}); 24 bits as in Lava's message format assumed`),
    energyPerSynapticOp: a(23.6e-12, 'none public; Loihi 1 value'),
    energyPerNeuronUpdate: a(81e-12, 'none public; Loihi 1 value'),
    energyPerPacket: a(76.8e-12, 'none public; Loihi 1 value (SANA-FE)'),
    timePerPacket: a(7.6e-9, 'none public; Loihi 1 value (SANA-FE)'),
    energyPerOnChipHop: a(3.6e-12, 'none public; Loihi 1 value'),
    energyPerChipHop: a(100e-12, 'none public; as for Loihi 1'),
    linkBandwidth: a(4.3e9 / 4, 'derived: Hala Point 5 TB/s chip-to-chip over 1,152 chips (Intel 2024) ≈ 4.3 GB/s per chip, split evenly over 4 links (assumed)'),
    hostBandwidth: a(1e9 / 8, 'none public; 1 Gbit/s Ethernet to the board assumed'),
    timePerSynapticOp: a(4.0e-9, 'none public; Loihi 1 value'),
    timePerNeuronUpdate: a(9.7e-9, 'none public; Loihi 1 value'),
    latencyOnChipHop: a(5.3e-9, 'none public; Loihi 1 value'),
    latencyChipHop: a(100e-9, 'none public'),
    latencyBarrier: a(0.6e-6, 'none public; Loihi 1 value'),
    latencyBarrierPerDoubling: a(0.4e-6, 'none public; Loihi 1 value'),
    tick: p(0, 'none: barrier-synchronised steps'),
    staticPowerPerChip: a(0.03, 'none public as a single figure; the Loihi 1 assumption kept'),
    staticPowerPerCore: p(0, 'not separate: included in the chip\'s static power'),
    nativeGates: a(0, `microcoded neuron models (${INTEL21}) with no sigmoid or tanh instruction assumed; a piecewise-linear gate in microcode is not modelled`),
    hostCoresPerChip: p(6, `six embedded x86 (Lakemont) cores per chip (${INTEL21})`),
    timePerHostGate: a(1e-6, 'none public; ≈200 instructions per unit at ≈200 MIPS'),
    energyPerHostGate: a(50e-9, 'none public; ≈50 mW per busy x86 core × 1 µs'),
    maxFanIn: a(4096, 'none public; the Loihi 1 limit assumed'),
    maxFanOut: a(4096, 'none public; the Loihi 1 limit assumed'),
    routerEntries: p(0, 'no routing tables: destinations are stored per output axon'),
  },
};

const TRUENORTH: PresetDef = {
  name: 'truenorth',
  description: 'IBM TrueNorth, 16-chip board (4,096 cores of 256 neurons per chip)',
  topology: 'mesh',
  topologySource: 'chips tile into one larger mesh',
  params: {
    chipsX: a(4, '16-chip board (IBM NS16e, 2016); 4×4 layout assumed'),
    chipsY: a(4, 'see chipsX'),
    coresPerChip: p(4096, `64×64 cores (${MEROLLA14})`),
    nodesX: p(64, `one router per core, 64×64 mesh (${MEROLLA14})`),
    nodesY: p(64, `one router per core, 64×64 mesh (${MEROLLA14})`),
    neuronsPerCore: p(256, `256 neurons, 256×256 crossbar (${MEROLLA14})`),
    memoryPerCore: p(8192, `derived: 256×256 binary crossbar = 64 Kbit per core (${MEROLLA14}), here filled at the configured weight bits`),
    packetBits: a(32, `none public as a bit count; a packet carries dx, dy, target axon and delivery tick (${AKOPYAN15}), ≈32 bits assumed`),
    payloadBits: p(0, `binary spikes (${MEROLLA14})`),
    energyPerSynapticOp: a(
      (TN_EVENT_J * (TN_TOTAL_W - TN_PASSIVE_W)) / TN_TOTAL_W,
      `derived: 26 pJ per synaptic event at 65 mW for a typical real-time network (${MEROLLA14}) contains the passive power; its active share (65 − 40)/65 × 26 pJ = 10 pJ`,
    ),
    energyPerNeuronUpdate: a(0, `included in the active energy per synaptic event (${MEROLLA14})`),
    energyPerPacket: a(0, `included in the active energy per synaptic event (${MEROLLA14})`),
    timePerPacket: a(0, 'none public'),
    energyPerOnChipHop: a(0, `included in the active energy per synaptic event (${MEROLLA14})`),
    energyPerChipHop: a(0, 'none public; not counted (under-counts multi-chip traffic)'),
    linkBandwidth: a(1e9 / 8, 'none public; 1 Gbit/s assumed'),
    hostBandwidth: a(1e9 / 8, 'none public; 1 Gbit/s assumed'),
    timePerSynapticOp: a(15e-9, 'none public; 1 ms tick ÷ 256×256 crossbar (a fully loaded core)'),
    timePerNeuronUpdate: a(10e-9, 'none public'),
    latencyOnChipHop: a(10e-9, 'none public'),
    latencyChipHop: a(100e-9, 'none public'),
    latencyBarrier: p(0, `global 1 kHz tick, no barrier messages (${MEROLLA14})`),
    latencyBarrierPerDoubling: p(0, 'global tick'),
    tick: p(1e-3, `1 ms tick (${MEROLLA14})`),
    staticPowerPerChip: a(TN_PASSIVE_W, `passive (leakage) power ≈40 mW at 0.75 V read off the power-versus-activity curves of ${MEROLLA14}; not a tabulated figure`),
    staticPowerPerCore: p(0, 'not separate: included in the chip\'s passive power'),
    nativeGates: p(0, `fixed leaky-integrate-and-fire neurons: no sigmoid or tanh (${MEROLLA14}; ${AKOPYAN15})`),
    hostCoresPerChip: p(0, `no embedded CPU on the chip (${MEROLLA14})`),
    timePerHostGate: p(0, 'no embedded CPU'),
    energyPerHostGate: p(0, 'no embedded CPU'),
    maxFanIn: p(256, `256 axons per core (${MEROLLA14})`),
    maxFanOut: p(1, `each neuron targets one axon on one core (${MEROLLA14})`),
    routerEntries: p(0, 'no routing tables: each neuron stores its one target'),
  },
};

export const BUILTIN: Record<string, PresetDef> = {
  spinnaker1: SPINNAKER1,
  spinnaker2: SPINNAKER2,
  loihi1: LOIHI1,
  loihi2: LOIHI2,
  truenorth: TRUENORTH,
};
