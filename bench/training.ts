/**
 * The benchmark's training-step cases against PyTorch CPU (bench/torch.ts), one step = forward + backward through
 * time + Adam update, every contestant on the same batch, timed round-robin:
 *
 *   1. row-MNIST shape (T 28, I 28), hidden 128, batch 32: the EGRU at the sparsity training gave it (the row-MNIST
 *      preset trained for a bounded number of steps, bench/trained.ts), 2 actors and 1, the project's dense GRU,
 *      the EGRU with every unit firing and with none, TensorFlow.js, and PyTorch per BLAS × threads.
 *   2. the same at pixel-MNIST shape (T 784, I 1), with the pixel-MNIST preset.
 *   8. hidden 1024, batch 32, row-MNIST shape, EGRU thresholds calibrated to 90 % activity sparsity.
 *
 * Ratios are to the fastest PyTorch row of the same run (users pick the faster tool).
 */
import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultModelConfig, type ModelConfig } from '../model/config.js';
import { initParams, type Params } from '../model/params.js';
import { Trainer, type SequenceBatch } from '../runtime/coordinator.js';
import {
  ADAM_0,
  allMet,
  checkNote,
  evaluatedSparsity,
  forced,
  log,
  machineCheck,
  mnistBatch,
  pct,
  ratioOf,
  ratioStat,
  roundRobin,
  sparsityOf,
  trainerStep,
  type Contestant,
} from './harness.js';
import type { PeerStatus } from './peers.js';
import { stat, type CaseResult, type Row, type Stat } from './report.js';
import { calibrate } from './runtime.js';
import { type GruShape, type TorchGru, type TorchPeer, type TorchSetupKey } from './torch.js';
import { trainedNetwork, type TrainedNetwork } from './trained.js';
import { PRESETS } from '../cli/commands/train.js';

export interface TrainingSizes {
  mode: 'full' | 'quick' | 'smoke';
  warm: number;
  /**
   * egruWarm: warm-up steps of each project trainer: a 28-step sequence is short, and V8 needs many of them before
   * every worker's code is optimised (2 actors, medians over steps 0–20: 9.8 ms, 20–40: 6.3, 40–80: 4.8, 80–150:
   * 4.6, 150–300: 4.5); a training run takes thousands of steps, so the steady state is what the bench times.
   */
  row: { H: number; B: number; reps: number; tfjsWarm: number; torchWarm: number; egruWarm: number; trainSteps: number; torch: TorchSetupKey[] };
  /** only: the project contestants timed (egru2, egru1, cal2, on2, gru2, off2); the quick set leaves some out. */
  pixel: { H: number; B: number; T: number; reps: number; only?: string[]; trainSteps: number; torch: TorchSetupKey[] };
  /** egruWarm: warm-up steps of each EGRU trainer (see row.egruWarm). */
  large: { H: number; B: number; reps: number; sparsity: number; egruWarm: number; torch: TorchSetupKey[] };
}

export interface TrainingInput {
  sizes: TrainingSizes;
  root: string;
  /** Case 1: time this trained checkpoint instead of the cached preset network. */
  checkpoint: string | null;
  /** Where trained networks are cached; null: train without a cache (smoke runs). */
  cacheDir: string | null;
  retrain: boolean;
  /** Case 2's comparison row: thresholds shifted to this activity sparsity on the timed batch. */
  calibrateTo: number;
  tfjs: PeerStatus;
  torch: TorchPeer[];
}

/** Targets of the training-step cases: the EGRU step as a fraction of the fastest PyTorch step, and case 1's two more. */
export const TARGETS = { row: 0.5, pixel: 0.25, large: 0.3, rowSpeedup: 1.5, rowFloor: 0.2 };

// ------------------------------------------------------------------------------------------------------------
// PyTorch contestants and rows

interface TorchEntry {
  peer: TorchPeer;
  /** Why this setup has no figure (unavailable, not in this set, failed), else undefined. */
  missing?: string;
  model?: TorchGru;
  contestant?: Contestant;
}

/** One contestant per available PyTorch setup of `keys`; a setup that fails while timed stops and says why. */
async function torchEntries(peers: TorchPeer[], keys: TorchSetupKey[], shape: GruShape, warm: number, mode: string): Promise<TorchEntry[]> {
  const out: TorchEntry[] = [];
  for (const peer of peers) {
    if (!keys.includes(peer.setup.key)) {
      out.push({ peer, missing: `not in the ${mode} set` });
      continue;
    }
    if (!peer.available) {
      out.push({ peer, missing: `unavailable: ${peer.reason}` });
      continue;
    }
    let model: TorchGru;
    try {
      model = await peer.gru(shape);
    } catch (e) {
      out.push({ peer, missing: `unavailable: ${(e as Error).message}` });
      continue;
    }
    const entry: TorchEntry = { peer, model };
    entry.contestant = {
      name: `torch-${peer.setup.key}`,
      warm,
      samples: [],
      step: async () => {
        if (entry.missing) return NaN;
        try {
          return await model.step();
        } catch (e) {
          entry.missing = `failed while timed: ${(e as Error).message}`;
          log(`PyTorch ${peer.setup.key}: ${entry.missing}`);
          return NaN;
        }
      },
    };
    out.push(entry);
  }
  return out;
}

async function disposeTorch(entries: TorchEntry[]): Promise<void> {
  for (const e of entries) await e.model?.dispose().catch(() => undefined);
}

/** The PyTorch rows (every setup, measured or not) and the fastest one measured: the reference of the case. */
function torchRows(entries: TorchEntry[]): { rows: Row[]; ref: { stat: Stat; label: string } | null } {
  const measured = entries
    .filter((e) => !e.missing && e.contestant && e.contestant.samples.some(Number.isFinite))
    .map((e) => ({ e, stat: stat(e.contestant!.samples.filter(Number.isFinite)) }));
  const best = measured.reduce<(typeof measured)[number] | null>((a, b) => (a === null || b.stat.median < a.stat.median ? b : a), null);
  const ref = best ? { stat: best.stat, label: best.e.peer.label } : null;
  const rows = entries.map((e): Row => {
    const m = measured.find((x) => x.e === e);
    const what = `${e.peer.label}: torch.nn.GRU + Linear, Adam${m && m === best ? ' (fastest PyTorch row: the reference)' : ''}`;
    if (!m || !ref) return { what, unit: 'ms', value: null, note: e.missing ?? 'no figure' };
    return { what, unit: 'ms', value: m.stat, ...ratioOf(m.stat, ref.stat) };
  });
  return { rows, ref };
}

function torchSetupText(entries: TorchEntry[], warm: number): string {
  const any = entries.find((e) => e.peer.available);
  const info = any?.peer.available ? any.peer.info : null;
  return (
    `PyTorch rows: torch.nn.GRU(I, H) + torch.nn.Linear(H, 10), cross-entropy on the last step's output, torch.optim.Adam (lr 1e-3), ` +
    `the same batch as one float32 tensor [T, B, I] prepared once; one persistent Python process per BLAS × thread setting (bench/peers/torch_gru.py` +
    `${info ? `, Python ${info.python}, torch ${info.torch}` : ''}; LD_LIBRARY_PATH picks the libblas.so.3, torch.set_num_threads = OMP_NUM_THREADS = torch's thread count, OPENBLAS_NUM_THREADS = OpenBLAS's; ` +
    `the BLAS named is the library sgemm_ resolves to in that process). Debian's OpenBLAS runs a thread pool of its own beside torch's OpenMP pool, and both spin-wait between calls, so "2 threads" for both can be slower than either at 1: the row with OpenBLAS at 2 threads and torch at 1 is the 2-core setting without that contention. A PyTorch step (zero_grad, forward, loss, backward, optimizer.step) is timed inside Python, so it leaves out the pipe round trip that the project's rows include; ` +
    `after each step of a setting with 2 threads the bench idles 250 ms, untimed, so that its OpenMP/OpenBLAS threads, which spin-wait ~0.1 s after a call, do not take a core from the next contestant. ${warm} warm-up step(s) each.`
  );
}

/** Why a case has no PyTorch reference, in a few words. */
const torchMissing = (entries: TorchEntry[]) => `no PyTorch row: ${entries.find((e) => e.missing?.startsWith('unavailable'))?.missing ?? entries[0]?.missing ?? 'none measured'}`;

// ------------------------------------------------------------------------------------------------------------
// the EGRU network of cases 1 and 2

interface Network {
  cfg: ModelConfig;
  params: Params<Float32Array>;
  /** One sentence: where the parameters (and so the sparsity) come from. */
  text: string;
  trained: TrainedNetwork | null;
  notes: string[];
}

async function network(id: 1 | 2, inp: TrainingInput, data: SequenceBatch, mnist: boolean, H: number, B: number): Promise<Network> {
  const task = id === 1 ? 'row-mnist' : 'pixel-mnist';
  const I = id === 1 ? 28 : 1;
  const notes: string[] = [];
  if (id === 1 && inp.checkpoint) {
    try {
      const { loadCheckpoint } = await import('../cli/io/checkpoint.js');
      const ck = loadCheckpoint(inp.checkpoint);
      const m = ck.config?.model as ModelConfig | undefined;
      if (m && m.cell === 'egru' && m.inputSize === I && m.hidden.length === 1 && m.hidden[0] === H)
        return { cfg: m, params: ck.params, text: `the trained checkpoint ${inp.checkpoint} (--checkpoint)`, trained: null, notes };
      notes.push(`--checkpoint ${inp.checkpoint} is not a one-layer EGRU of hidden ${H} on ${I} inputs: the preset network is used instead.`);
    } catch (e) {
      notes.push(`--checkpoint ${inp.checkpoint} could not be read (${(e as Error).message}): the preset network is used instead.`);
    }
  }
  const steps = id === 1 ? inp.sizes.row.trainSteps : inp.sizes.pixel.trainSteps;
  if (mnist) {
    try {
      const t = await trainedNetwork(task, { steps, hidden: H, batch: B, cacheDir: inp.cacheDir, retrain: inp.retrain, log });
      const where = t.fromCache
        ? `read from the cache ${relative(inp.root, t.file!)}`
        : `trained in this run in ${t.trainSeconds.toFixed(0)} s${t.file ? ` and cached in ${relative(inp.root, t.file)}` : ''}`;
      const m = t.model;
      const full = id === 1 ? '' : ` — far from a finished run (an epoch is 1875 steps), so its sparsity is what ${steps} steps of the preset give`;
      const atInit = await evaluatedSparsity(m, initParams(m), data);
      if (t.trainAccuracy < 0.2)
        notes.push(
          `Caveat: after ${steps} training steps this network is still at chance level (accuracy ${pct(t.trainAccuracy)}, loss ${t.trainLoss.toFixed(3)}; ln 10 = 2.303), so its activity sparsity is that of a network that has not learnt the task yet (${pct(atInit)} at the seeded initialisation on this batch), not evidence of what a trained ${task} EGRU fires.` +
            (id === 2 ? ' The target is judged on the row "thresholds calibrated" instead: the same step at a set sparsity.' : ''),
        );
      return {
        cfg: m,
        params: t.params,
        text:
          `the ${task} preset of \`egru train\` (hidden ${m.hidden[0]}, batch ${t.batch}, Adam lr ${t.lr}, activity regulariser ${m.activityReg}, pseudo-derivative support ${m.support}, threshold mean ${m.thresholdMean}), ` +
          `trained for ${steps} optimiser steps on 2 actors over the first ${steps * t.batch} training images, shuffled${full} (${where}); over the last quarter of that training: loss ${t.trainLoss.toFixed(3)}, accuracy ${pct(t.trainAccuracy)}, activity sparsity ${pct(t.trainSparsity)} (the seeded initialisation: ${pct(atInit)} on the timed batch)`,
        trained: t,
        notes,
      };
    } catch (e) {
      notes.push(`Training the ${task} preset failed (${(e as Error).message}): thresholds calibrated instead.`);
    }
  }
  const cfg = defaultModelConfig({ inputSize: I, hidden: [H], classes: 10 });
  const target = inp.calibrateTo;
  const params = await calibrated(cfg, data, target);
  return {
    cfg,
    params,
    text: `no trained network (${mnist ? 'training failed' : 'MNIST unavailable'}): the seeded initialisation with every threshold shifted until the activity sparsity on this batch is ≈ ${pct(target)}`,
    trained: null,
    notes,
  };
}

/** The seeded initialisation of `cfg` with every threshold shifted until the batch's activity sparsity is ≈ `target`. */
async function calibrated(cfg: ModelConfig, data: SequenceBatch, target: number): Promise<Params<Float32Array>> {
  const p = initParams(cfg);
  log(`calibrating thresholds to ${pct(target)} activity sparsity`);
  await calibrate(cfg, p, data, target);
  return p;
}

/** The row-MNIST preset trained with EvNN's default support s = 1 (cached like the preset network), or null if that fails. */
async function wideNetwork(inp: TrainingInput, H: number, B: number): Promise<TrainedNetwork | null> {
  try {
    return await trainedNetwork('row-mnist', { steps: inp.sizes.row.trainSteps, hidden: H, batch: B, support: 1, cacheDir: inp.cacheDir, retrain: inp.retrain, log });
  } catch (e) {
    log(`row-mnist with support 1: training failed (${(e as Error).message}); its row is left out`);
    return null;
  }
}

/** Idle after each tfjs step (in this process), so that its garbage is collected before the next contestant runs. */
const TFJS_SETTLE_MS = 300;
/**
 * Idle (untimed) after each step of a project trainer, so that the next contestant starts on quiet cores: without
 * the pause the short no-event step of case 1 had a median of 4.9 ms in one run, 1.7–2.2 ms with it. The cause is
 * not pinned down (work a step leaves behind on other threads — V8's concurrent compiler and collector, the
 * control reply's delivery — is the candidate; the actor threads themselves return to their event loop).
 */
const EGRU_SETTLE_MS = 10;

// ------------------------------------------------------------------------------------------------------------
// cases 1 and 2

export async function trainingCase(id: 1 | 2, inp: TrainingInput): Promise<CaseResult> {
  const t0 = performance.now();
  const s = inp.sizes;
  const row = id === 1;
  const checkBefore = await machineCheck(`before case ${id}`);
  const task = row ? 'row-mnist' : 'pixel-mnist';
  const { H, B } = row ? s.row : s.pixel;
  const reps = row ? s.row.reps : s.pixel.reps;
  const { data, source, mnist } = mnistBatch(task, B, row ? undefined : s.pixel.T);
  const T = data.steps;
  const I = row ? 28 : 1;
  const net = await network(id, inp, data, mnist, H, B);
  const { cfg } = net;
  const notes = [...net.notes];

  const cfgGru: ModelConfig = { ...cfg, cell: 'gru' };
  const common = { transport: 'threads' as const, batch: B, maxSteps: T, optimizer: ADAM_0 };
  const only = row ? undefined : s.pixel.only;
  // Row-MNIST: the same preset trained with EvNN's wider pseudo-derivative (support s = 1: |v − ϑ| < 1), whose
  // backward pass is denser (a row without target: the preset's s = 3.6 came out of the sweep in docs/results.md).
  const wide = row && net.trained ? await wideNetwork(inp, H, B) : null;
  const specs: [string, () => Promise<Trainer>][] = [
    ['egru2', () => Trainer.create({ ...common, model: cfg, params: net.params, actors: 2 })],
    ...(wide ? ([['wide2', () => Trainer.create({ ...common, model: wide.model, params: wide.params, actors: 2 })]] as [string, () => Promise<Trainer>][]) : []),
    ['egru1', () => Trainer.create({ ...common, model: cfg, params: net.params, actors: 1 })],
    ...(row ? [] : ([['cal2', () => calibrated(cfg, data, inp.calibrateTo).then((p) => Trainer.create({ ...common, model: cfg, params: p, actors: 2 }))]] as [string, () => Promise<Trainer>][])),
    ['on2', () => Trainer.create({ ...common, model: cfg, params: forced(cfg, true), actors: 2 })],
    ['gru2', () => Trainer.create({ ...common, model: cfgGru, actors: 2 })],
    ['off2', () => Trainer.create({ ...common, model: cfg, params: forced(cfg, false), actors: 2 })],
  ];
  const projects = new Map<string, Trainer>();
  for (const [name, make] of specs) if (!only || only.includes(name)) projects.set(name, await make());

  const torchWarm = row ? s.row.torchWarm : s.warm;
  const shape: GruShape = { steps: T, inputSize: I, hidden: H, classes: 10, batch: B, x: data.x, y: data.targets };
  const torch = await torchEntries(inp.torch, row ? s.row.torch : s.pixel.torch, shape, torchWarm, s.mode);
  const cs: Contestant[] = torch.flatMap((e) => (e.contestant ? [e.contestant] : []));
  const tfjs = inp.tfjs;
  let tf: ReturnType<Extract<PeerStatus, { available: true }>['peer']['gruTrainer']> | null = null;
  try {
    if (tfjs.available) {
      tf = tfjs.peer.gruTrainer({ steps: T, inputSize: I, hidden: H, classes: 10, batch: B, x: data.x, y: data.targets });
      cs.push({ name: 'tfjs', step: tf.step, samples: [], warm: row ? s.row.tfjsWarm : s.warm, settleMs: TFJS_SETTLE_MS });
    }
    for (const [name, tr] of projects)
      cs.push({ name, step: trainerStep(tr, data), samples: [], warm: row ? s.row.egruWarm : s.warm, after: () => tr.resetCounters(), settleMs: EGRU_SETTLE_MS });
    await roundRobin(cs, s.warm, reps, `case ${id}`);
  } finally {
    tf?.dispose();
    await disposeTorch(torch);
  }
  const spOf = new Map([...projects].map(([n, t]) => [n, sparsityOf(t, reps)]));
  await Promise.all([...projects.values()].map((t) => t.close()));
  const checkAfter = await machineCheck(`after case ${id}`);
  const sp0 = spOf.get('egru2')!;
  if (spOf.has('on2') && spOf.get('on2')!.activity !== 0) notes.push(`"events forced on" still had ${pct(spOf.get('on2')!.activity)} activity sparsity (not every unit fired).`);
  if (spOf.has('off2') && spOf.get('off2')!.activity !== 1) notes.push(`"no events" still had ${pct(1 - spOf.get('off2')!.activity)} activity (some units fired).`);

  const { rows: pyRows, ref } = torchRows(torch);
  const by = (n: string) => cs.find((c) => c.name === n);
  const st = (n: string) => (by(n) ? stat(by(n)!.samples) : null);
  const vs = (x: Stat) => (ref ? ratioOf(x, ref.stat) : { ratio: null as number | null });
  const tfStat = st('tfjs');
  const e2 = st('egru2')!;
  const e1 = st('egru1');
  const on = st('on2');
  const off = st('off2');
  const gru = st('gru2');
  const cal = st('cal2');
  const wid = st('wide2');
  // Pixel-MNIST: the target is judged on the calibrated network (≈ --sparsity, 80 % by default), not on the
  // preset network, which a few dozen training steps leave at chance level and almost silent (it would flatter).
  const judged = !row && cal ? cal : e2;
  const judgedSp = !row && cal ? spOf.get('cal2')! : spOf.get('egru2')!;
  const e2r = vs(judged);
  const target = row ? TARGETS.row : TARGETS.pixel;
  const vsMet = ref ? e2r.ratio! <= target : null;
  const speed = e1 ? ratioStat(e1, e2) : null;
  const floorShare = off ? off.median / e2.median : null;
  const left = (what: string): Row => ({ what, unit: 'ms', value: null, note: `not in the ${s.mode} set` });
  const rows: Row[] = [
    ...pyRows,
    {
      what: `TensorFlow.js ${tfjs.available ? `${tfjs.info.tfjs} wasm${tfjs.info.simd ? ' SIMD' : ''}, ${tfjs.info.multithread ? `${tfjs.info.threads} threads` : '1 thread'}` : 'wasm'}, tf.layers.gru`,
      unit: 'ms',
      value: tfStat,
      ...(tfStat ? vs(tfStat) : { ratio: null }),
      note: tfjs.available ? undefined : `unavailable: ${tfjs.reason}`,
    },
    gru ? { what: `egru dense GRU (cell gru), 2 actors`, unit: 'ms', value: gru, ...vs(gru) } : left('egru dense GRU (cell gru), 2 actors'),
    on
      ? { what: `EGRU, events forced on (activity sparsity ${pct(spOf.get('on2')!.activity)}), 2 actors`, unit: 'ms', value: on, ...vs(on) }
      : left('EGRU, events forced on, 2 actors'),
    {
      what: `EGRU ${net.trained ? 'trained' : 'network'}: ${pct(sp0.activity)} activity, ${pct(sp0.backward)} backward sparsity, 2 actors`,
      unit: 'ms',
      value: e2,
      ...vs(e2),
      ...(judged === e2 ? { target: `≤ ${target}× PyTorch`, met: vsMet, note: ref ? undefined : torchMissing(torch) } : {}),
    },
    ...(wid && wide
      ? [
          {
            what: `EGRU trained the same way with support s = ${wide.model.support} (EvNN's default, a wider pseudo-derivative; training accuracy over the last quarter ${pct(wide.trainAccuracy)}, the s = ${cfg.support} network's ${pct(net.trained!.trainAccuracy)}): ${pct(spOf.get('wide2')!.activity)} activity, ${pct(spOf.get('wide2')!.backward)} backward sparsity, 2 actors`,
            unit: 'ms',
            value: wid,
            ...vs(wid),
          } satisfies Row,
        ]
      : []),
    e1
      ? { what: `EGRU, the same network: ${pct(spOf.get('egru1')!.activity)} activity, ${pct(spOf.get('egru1')!.backward)} backward sparsity, 1 actor`, unit: 'ms', value: e1, ...vs(e1) }
      : left('EGRU, 1 actor'),
  ];
  if (!row)
    rows.push(
      cal
        ? {
            what: `EGRU, seeded initialisation, thresholds calibrated: ${pct(spOf.get('cal2')!.activity)} activity, ${pct(spOf.get('cal2')!.backward)} backward sparsity, 2 actors`,
            unit: 'ms',
            value: cal,
            ...vs(cal),
            target: `≤ ${target}× PyTorch`,
            met: vsMet,
            note: ref ? undefined : torchMissing(torch),
          }
        : left('EGRU, thresholds calibrated, 2 actors'),
    );
  if (speed)
    rows.push({ what: 'speed-up, EGRU 2 actors vs 1', unit: '×', value: speed, ...(row ? { target: `≥ ${TARGETS.rowSpeedup}×`, met: speed.median >= TARGETS.rowSpeedup } : {}) });
  rows.push(off ? { what: `EGRU with no events at all (floor: work that does not scale with events), 2 actors`, unit: 'ms', value: off, ...vs(off) } : left('EGRU with no events at all, 2 actors'));
  if (off && floorShare !== null) {
    const share = ratioStat(off, e2);
    const asPct: Stat = { ...share, median: 100 * share.median, min: 100 * share.min, max: 100 * share.max };
    rows.push({ what: 'floor / sparse step, 2 actors', unit: '%', value: asPct, ...(row ? { target: `≤ ${100 * TARGETS.rowFloor} %`, met: floorShare <= TARGETS.rowFloor } : {}) });
  }

  const facts: string[] = [];
  if (gru) facts.push(`${(e2.median / gru.median).toFixed(2)}× the project's dense GRU`);
  if (on) facts.push(`${(e2.median / on.median).toFixed(2)}× the EGRU with every unit firing`);
  notes.push(
    `Same run, 2 actors: the trained EGRU step takes ${facts.join(' and ') || '–'}` +
      (off ? `; with no events at all a step still takes ${off.median.toFixed(1)} ms (${(100 * floorShare!).toFixed(0)} % of the sparse step)` : '') +
      `.${e1 ? ` 2 actors vs 1 actor: ${(e1.median / e2.median).toFixed(2)}× speed-up.` : ''} Backward sparsity of the EGRU during the timed steps: ${pct(sp0.backward)} (s = ${cfg.support}).`,
  );
  if (ref) notes.push(comparisonNote(judged, off, ref, judgedSp, target));
  if (row && speed && speed.median < TARGETS.rowSpeedup) notes.push(speedupNote(speed.median, e1!, e2, T, checkBefore, checkAfter));
  if (row && floorShare !== null && floorShare > TARGETS.rowFloor)
    notes.push(
      `Floor target missed: with no events at all a step takes ${off!.median.toFixed(1)} ms, ${(100 * floorShare).toFixed(0)} % of the sparse step: the per-unit-step elementwise work (the gates, recomputed only where they are not kept, and the dense gradient pass, docs/math.md), the readout, the update and the ${2 * T} per-tick barriers.`,
    );
  notes.push(checkNote(checkBefore, checkAfter));

  const shapeText = row ? 'row-MNIST shape (T = 28 steps, I = 28)' : `pixel-MNIST shape (T = ${T} steps, I = 1)`;
  const headTargets = row ? `EGRU 2 actors ≤ ${target}× PyTorch CPU; 2 actors vs 1 ≥ ${TARGETS.rowSpeedup}×; no-event floor ≤ ${100 * TARGETS.rowFloor} % of the step` : `EGRU 2 actors ≤ ${target}× PyTorch CPU`;
  const vsText = ref
    ? `${e2r.ratio!.toFixed(2)}× (${judged.median.toFixed(1)} vs ${ref.stat.median.toFixed(1)} ms, ${pct(judgedSp.activity)} sparsity${judged === cal ? ', thresholds calibrated' : ''})`
    : `${judged.median.toFixed(1)} ms (${torchMissing(torch)})`;
  const measured = row ? `${vsText}; ${speed ? `${speed.median.toFixed(2)}×` : '–'}; ${floorShare !== null ? `${(100 * floorShare).toFixed(0)} %` : '–'}` : vsText;
  const met = row ? allMet([vsMet, speed ? speed.median >= TARGETS.rowSpeedup : null, floorShare !== null ? floorShare <= TARGETS.rowFloor : null]) : vsMet;
  return {
    id,
    key: row ? 'train-row-mnist' : 'train-pixel-mnist',
    title: `Training step vs PyTorch CPU, ${row ? 'row-MNIST' : 'pixel-MNIST'} shape, hidden ${H}, batch ${B}`,
    setup:
      `One training step (forward + backward through time + Adam update) of a one-layer network, hidden ${H}, batch ${B}, ${shapeText}, 10 classes, on ${source}. ` +
      `EGRU network: ${net.text}. ` +
      `Project rows: threads transport, the project's readout (${cfg.readout}); Adam with lr 0 (the arithmetic of any lr, while the network and so its sparsity stay fixed across runs); after each project step the bench idles ${EGRU_SETTLE_MS} ms, untimed, so that the next contestant starts on quiet cores. "Events forced on": ϑ = 0 and a g-gate bias of 8, so every unit fires at every step. ` +
      (row
        ? ''
        : `"Thresholds calibrated": the seeded initialisation with every threshold shifted until this batch's activity sparsity is ≈ ${pct(inp.calibrateTo)}; the target is judged on this row, because the preset network after ${inp.sizes.pixel.trainSteps} training steps is not a trained network yet. `) +
      `${torchSetupText(torch, torchWarm)} ` +
      `${row ? s.row.egruWarm : s.warm} warm-up step(s) for each project trainer (the workers' code optimised), ${row ? s.row.tfjsWarm : s.warm} for tfjs, then ${reps} runs, round-robin over all contestants. Ratio: time / the fastest PyTorch row's time (lower is better).`,
    rows,
    headline: { target: headTargets, measured, met },
    notes,
    extra: {
      sparsity: Object.fromEntries(spOf),
      steps: T,
      hidden: H,
      batch: B,
      data: source,
      network: net.text,
      trained: net.trained && { task: net.trained.task, steps: net.trained.steps, file: net.trained.file && relative(inp.root, net.trained.file), fromCache: net.trained.fromCache, trainSeconds: net.trained.trainSeconds, trainLoss: net.trained.trainLoss, trainAccuracy: net.trained.trainAccuracy, trainSparsity: net.trained.trainSparsity },
      pytorchReference: ref?.label ?? null,
      machineCheck: [checkBefore, checkAfter],
    },
    seconds: (performance.now() - t0) / 1000,
  };
}

function comparisonNote(e2: Stat, off: Stat | null, ref: { stat: Stat; label: string }, m: ReturnType<typeof sparsityOf>, target: number): string {
  const ratio = e2.median / ref.stat.median;
  const rate = (macs: number, ms: number) => (macs / (ms * 1e6)).toFixed(2);
  const floor = off ? off.median / ref.stat.median : null;
  return (
    (ratio > target ? `Target missed: ${ratio.toFixed(2)}× the fastest PyTorch row (${ref.label}). ` : '') +
    (off && floor !== null
      ? `The event-independent floor alone is ${floor.toFixed(2)}× that PyTorch step${floor > target ? ', above the target whatever the sparsity' : ''}; the event-dependent part adds ${(e2.median - off.median).toFixed(1)} ms. `
      : '') +
    `By the MAC counters, the sparse EGRU step does ${(m.macs / 1e6).toFixed(0)} M multiply-accumulates, ${pct(m.macs / m.denseMacs)} of a dense GRU's ${(m.denseMacs / 1e6).toFixed(0)} M, at ${rate(m.macs, e2.median)} GMAC/s on 2 actors, ` +
    `while PyTorch does the dense ~${(m.denseMacs / 1e6).toFixed(0)} M at ~${rate(m.denseMacs, ref.stat.median)} GMAC/s (BLAS matrix products over the whole batch and, for the input weights, all steps at once).`
  );
}

function speedupNote(speed: number, e1: Stat, e2: Stat, T: number, before: number, after: number): string {
  const low = Math.min(before, after);
  return (
    `Speed-up target missed: 2 actors vs 1, ${speed.toFixed(2)}× (${e1.median.toFixed(1)} → ${e2.median.toFixed(1)} ms). ` +
    (low < 1.7
      ? `The machine check gave two busy threads only ${low.toFixed(2)}× the compute of one around this case (another process held part of a core), which bounds any 2-actor speed-up.`
      : `The machine checks gave ${low.toFixed(2)}× or more (the second core was free), so the loss is the runtime's at this size: a step is ${2 * T} ticks of ~${((1000 * e2.median) / (2 * T)).toFixed(0)} µs on 2 actors, each ending at a barrier, and the work that is not split between the actors stays.`)
  );
}

// ------------------------------------------------------------------------------------------------------------
// case 8: hidden 1024 at 90 % activity sparsity

export async function largeCase(inp: TrainingInput): Promise<CaseResult> {
  const t0 = performance.now();
  const s = inp.sizes;
  const { H, B, reps, sparsity: target } = s.large;
  const checkBefore = await machineCheck('before case 8');
  const { data, source } = mnistBatch('row-mnist', B);
  const T = data.steps;
  // the row-mnist preset's pseudo-derivative and regulariser (the project's setting for this shape), and EvNN's
  // default support s = 1 as a second row; the same calibrated thresholds, so the same forward activity
  const preset = PRESETS['row-mnist'];
  const cfg = defaultModelConfig({ inputSize: 28, hidden: [H], classes: 10, support: preset.support, activityReg: preset.activityReg });
  const wideCfg = defaultModelConfig({ inputSize: 28, hidden: [H], classes: 10 });
  const params = initParams(cfg);
  log(`case 8: calibrating thresholds to ${pct(target)} activity sparsity`);
  const got = await calibrate(cfg, params, data, target);
  const tr = await Trainer.create({ model: cfg, params, actors: 2, transport: 'threads', batch: B, maxSteps: T, optimizer: ADAM_0 });
  const trWide = await Trainer.create({ model: wideCfg, params, actors: 2, transport: 'threads', batch: B, maxSteps: T, optimizer: ADAM_0 });
  const shape: GruShape = { steps: T, inputSize: 28, hidden: H, classes: 10, batch: B, x: data.x, y: data.targets };
  const torch = await torchEntries(inp.torch, s.large.torch, shape, s.warm, s.mode);
  const egru: Contestant = { name: 'egru2', step: trainerStep(tr, data), samples: [], warm: s.large.egruWarm, after: () => tr.resetCounters(), settleMs: EGRU_SETTLE_MS };
  const egruWide: Contestant = { name: 'egru2-s1', step: trainerStep(trWide, data), samples: [], warm: s.large.egruWarm, after: () => trWide.resetCounters(), settleMs: EGRU_SETTLE_MS };
  let sp: ReturnType<typeof sparsityOf>;
  let spWide: ReturnType<typeof sparsityOf>;
  try {
    await roundRobin([...torch.flatMap((e) => (e.contestant ? [e.contestant] : [])), egru, egruWide], s.warm, reps, 'case 8');
    sp = sparsityOf(tr, reps);
    spWide = sparsityOf(trWide, reps);
  } finally {
    await disposeTorch(torch);
    await tr.close();
    await trWide.close();
  }
  const checkAfter = await machineCheck('after case 8');
  const { rows: pyRows, ref } = torchRows(torch);
  const e2 = stat(egru.samples);
  const eWide = stat(egruWide.samples);
  const r = ref ? ratioOf(e2, ref.stat) : { ratio: null };
  const met = ref ? r.ratio! <= TARGETS.large : null;
  const rows: Row[] = [
    ...pyRows,
    {
      what: `EGRU at ${pct(sp.activity)} activity, ${pct(sp.backward)} backward sparsity (support s = ${cfg.support}, the row-mnist preset's), 2 actors`,
      unit: 'ms',
      value: e2,
      ...r,
      target: `≤ ${TARGETS.large}× PyTorch`,
      met,
      note: ref ? undefined : torchMissing(torch),
    },
    {
      what: `the same with support s = ${wideCfg.support} (EvNN's default, a wider pseudo-derivative): ${pct(spWide.activity)} activity, ${pct(spWide.backward)} backward sparsity, 2 actors`,
      unit: 'ms',
      value: eWide,
      ...(ref ? ratioOf(eWide, ref.stat) : { ratio: null }),
    },
  ];
  const notes: string[] = [];
  if (ref) notes.push(comparisonNote(e2, null, ref, sp, TARGETS.large));
  notes.push(checkNote(checkBefore, checkAfter));
  return {
    id: 8,
    key: 'train-large',
    title: `Training step vs PyTorch CPU, hidden ${H}, batch ${B}, row-MNIST shape, ${pct(target).replace('.0 %', ' %')} activity sparsity`,
    setup:
      `One training step (forward + backward through time + Adam update) of a one-layer network, hidden ${H}, batch ${B}, row-MNIST shape (T = ${T}, I = 28), 10 classes, on ${source}. ` +
      `EGRU: no trained network of this size (the presets train hidden 128), so the seeded initialisation with every threshold shifted until the activity sparsity on this batch is ${pct(got)} (target ${pct(target)}), with the row-mnist preset's pseudo-derivative support s = ${cfg.support} and activity regulariser ${cfg.activityReg} (judged), and again with EvNN's default s = ${wideCfg.support}, λ = ${wideCfg.activityReg} (same thresholds, so the same forward activity; a wider pseudo-derivative, so more backward-active units); 2 actors, threads transport, Adam with lr 0. ` +
      `${torchSetupText(torch, s.warm)} ${s.large.egruWarm} warm-up step(s) for each EGRU trainer (the workers' code optimised; after each step the bench idles ${EGRU_SETTLE_MS} ms, untimed), then ${reps} runs, round-robin. Ratio: time / the fastest PyTorch row's time (lower is better).`,
    rows,
    headline: {
      target: `EGRU 2 actors at ${pct(target).replace('.0 %', ' %')} sparsity ≤ ${TARGETS.large}× PyTorch CPU`,
      measured: ref ? `${r.ratio!.toFixed(2)}× (${e2.median.toFixed(1)} vs ${ref.stat.median.toFixed(1)} ms, ${pct(sp.activity)} sparsity)` : `${e2.median.toFixed(1)} ms (${torchMissing(torch)})`,
      met,
    },
    notes,
    extra: { sparsity: sp, sparsityWide: spWide, calibrated: got, steps: T, hidden: H, batch: B, data: source, pytorchReference: ref?.label ?? null, machineCheck: [checkBefore, checkAfter] },
    seconds: (performance.now() - t0) / 1000,
  };
}

