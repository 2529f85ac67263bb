/** `egru hardware`: what a trained checkpoint would cost on multi-chip neuromorphic hardware (docs/hardware.md). */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { Trainer } from '../../runtime/coordinator.js';
import {
  compare,
  emulate,
  formatComparison,
  formatReport,
  HardwareError,
  isRefusal,
  loadPresetFile,
  PRESETS,
  seriesCsv,
  STRATEGIES,
  TraceBuilder,
  type EmulateOptions,
  type Preset,
  type Strategy,
} from '../../hardware/index.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { InputError } from '../io/errors.js';
import { TASKS } from '../data/tasks.js';
import { Batcher } from '../train-loop.js';
import { appendBatchTrace } from '../event-trace.js';
import { resolveEvalData } from './eval-data.js';
import { choiceArg, examples, floatArg, intArg, taskArg, transportArg, natsOption, ACTOR_HOSTS_HELP, TRANSPORT_HELP, DEFAULT_NATS, type TransportName } from './common.js';
import { checkNatsAuthUse, checkNatsServer, natsAuth, natsRunArg, natsRunOf, NATS_CREDS_HELP, NATS_RUN_HELP, NATS_TLS_CA_HELP, SECRET_FILE_HELP, type NatsAuthOptions } from './nats-options.js';
import { trainRunOf } from '../run-config.js';

interface HardwareOptions extends NatsAuthOptions {
  checkpoint: string;
  task?: string;
  data?: string;
  split: 'test' | 'train';
  seqLen?: number;
  samples: number;
  preset: string;
  hardware?: string;
  compare?: string;
  placement: Strategy;
  stepTime?: number;
  weightBits: number;
  gradedBits: number;
  workarounds: boolean;
  spread?: number | true;
  series?: string;
  batch?: number;
  actors?: number;
  transport: TransportName;
  nats?: string;
  actorHosts?: boolean;
  json?: boolean;
}

export function hardwareCommand(): Command {
  return new Command('hardware')
    .description('check that neuromorphic chips can run a trained checkpoint and estimate its event packets, hops, static and dynamic energy, latency and late steps')
    .requiredOption('--checkpoint <ckpt>', 'checkpoint (.egru) whose events are recorded')
    .option('--task <name>', `built-in task (${Object.keys(TASKS).join(', ')}); default: the checkpoint's task`, taskArg)
    .option('--data <file.npz>', 'record the events on your own sequences instead')
    .option('--split <split>', 'split of a built-in task', choiceArg(['test', 'train'] as const), 'test')
    .option('--seq-len <T>', 'adding-class task: sequence length', intArg(2))
    .option('--samples <N>', 'samples to record', intArg(1), 100)
    .option('--preset <name>', `hardware preset (${PRESETS.join(', ')})`, choiceArg(PRESETS), 'spinnaker2')
    .option('--hardware <file.json>', 'a custom preset file (see docs/hardware.md; may "extends" a built-in)')
    .option('--compare <list>', 'comma-separated presets to compare side by side')
    .addOption(new Option('--placement <strategy>', 'placement of units onto cores').choices([...STRATEGIES]).default('contiguous'))
    .option('--step-time <seconds>', 'time budget per step for link load and late steps (default: the preset tick)', floatArg(0, { exclusive: true }))
    .option('--weight-bits <bits>', 'bits per stored synaptic weight (core memory check)', intArg(1), 8)
    .option('--graded-bits <bits>', 'bits per graded value an event carries (chips without graded payloads send several spikes)', intArg(1), 8)
    .option('--no-workarounds', 'refuse a chip that needs a workaround (graded values as spikes, gates on embedded CPUs)')
    .option('--spread [chips]', 'placement "spread": every layer split over this many chips (default: all of the board)', intArg(1))
    .option('--series <out.csv>', 'write the per-step series (one row per sample and step) as CSV')
    .option('--batch <B>', 'sequences per evaluation batch', intArg(1))
    .option('--actors <n>', "actors per layer while recording (default: the checkpoint run's, else 2)", intArg(1))
    .option('--transport <t>', TRANSPORT_HELP, transportArg, 'threads')
    .option('--nats <url>', `NATS server of --transport nats (default ${DEFAULT_NATS})`)
    .option('--actor-hosts', ACTOR_HOSTS_HELP)
    .option('--nats-creds <file>', NATS_CREDS_HELP)
    .option('--nats-tls-ca <file>', NATS_TLS_CA_HELP)
    .option('--nats-run <id>', NATS_RUN_HELP, natsRunArg)
    .option('--secret-file <file>', SECRET_FILE_HELP)
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText(
      'after',
      examples([
        'egru hardware --checkpoint runs/row/checkpoint.egru --samples 100 --preset loihi2',
        'egru hardware --checkpoint model.egru --task row-mnist --compare spinnaker1,spinnaker2,loihi1,loihi2,truenorth',
        'egru hardware --checkpoint model.egru --preset spinnaker1 --spread 8 --series steps.csv',
        'egru hardware --checkpoint model.egru --hardware my-chip.json --placement traffic --json > report.json',
      ]),
    )
    .action(async (o: HardwareOptions) => {
      process.exitCode = await runHardware(o);
    });
}

async function runHardware(o: HardwareOptions): Promise<number> {
  if (o.hardware !== undefined && o.compare !== undefined) throw new InputError('give either --hardware or --compare, not both');
  if (o.spread !== undefined && o.placement !== 'contiguous' && o.placement !== 'spread') throw new InputError(`give either --spread or --placement ${o.placement}, not both`);
  const comparePresets = o.compare?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of comparePresets ?? []) if (!PRESETS.includes(p)) throw new InputError(`unknown preset "${p}" in --compare (${PRESETS.join(', ')})`);
  let custom: Preset | undefined;
  try {
    if (o.hardware !== undefined) custom = loadPresetFile(o.hardware);
  } catch (e) {
    if (e instanceof HardwareError) throw new InputError(e.message);
    throw e;
  }
  const ck = loadCheckpoint(o.checkpoint);
  const model = ck.config.model;
  const run = trainRunOf(ck.config);
  const { ds } = resolveEvalData(o.checkpoint, ck, { task: o.task, data: o.data, split: o.split, seqLen: o.seqLen, limit: o.samples });
  const batch = Math.min(o.batch ?? run?.batch ?? 32, ds.n);
  const actors = o.actors ?? run?.actors ?? 2;
  const shape = { inputSize: model.inputSize, layers: model.hidden, classes: model.classes, readout: model.readout };
  const builder = new TraceBuilder(shape);
  checkNatsAuthUse(o);
  const natsUse = natsOption(o);
  const nats = natsUse ? { ...natsUse, ...natsAuth(o), run: natsRunOf(o) } : undefined;
  if (nats) await checkNatsServer(nats); // refused credentials: one line, exit 2
  const trainer = await Trainer.create({ model, params: ck.params, actors, transport: o.transport, nats, batch, maxSteps: ds.steps });
  try {
    const batcher = new Batcher(ds, batch);
    for (let from = 0; from < ds.n; from += batch) {
      const b = batcher.batch(null, from, Math.min(ds.n, from + batch));
      const r = await trainer.evaluate(b, { trace: true });
      appendBatchTrace(builder, r.trace!, model.hidden.length, b, model.inputSize);
    }
  } finally {
    await trainer.close();
  }
  const trace = builder.build();
  // `--placement actors`: one chip per runtime actor, with the unit ranges the run used.
  const ranges = trainer.topology.layers.map((l) => l.map((a): [number, number] => [a.unitStart, a.unitStart + a.units]));
  const opts: EmulateOptions = {
    strategy: o.spread !== undefined ? 'spread' : o.placement,
    spreadChips: typeof o.spread === 'number' ? o.spread : undefined,
    stepTime: o.stepTime,
    weightBits: o.weightBits,
    gradedBits: o.gradedBits,
    workarounds: o.workarounds,
    series: o.series !== undefined,
    trace,
    actors: ranges,
  };
  try {
    if (comparePresets) {
      const reports = compare(trace, comparePresets, opts);
      const ran = reports.filter((r) => !isRefusal(r));
      // Every preset refused: nothing to compare, so the reasons are the error.
      if (ran.length === 0) throw new InputError(reports.map((r) => (isRefusal(r) ? r.reason : '')).join('; '));
      if (o.series !== undefined) writeSeries(o.series, ran.map((r) => ({ preset: r.preset.name, rows: r.series ?? [] })));
      process.stdout.write(o.json ? JSON.stringify(reports.map((r) => (isRefusal(r) ? r : withoutSeries(r)))) + '\n' : formatComparison(reports) + '\n');
    } else {
      const report = emulate(trace, custom ?? o.preset, opts);
      if (o.series !== undefined) writeSeries(o.series, [{ preset: report.preset.name, rows: report.series ?? [] }]);
      process.stdout.write(o.json ? JSON.stringify(withoutSeries(report)) + '\n' : formatReport(report) + '\n');
    }
  } catch (e) {
    // A preset the network does not fit, or a placement that violates a core's capacity: bad input.
    if (e instanceof HardwareError) throw new InputError(e.message);
    throw e;
  }
  return 0;
}

/** The series goes to its CSV file, not into the JSON report. */
function withoutSeries<T extends { series?: unknown }>(r: T): T {
  const { series: _, ...rest } = r;
  return rest as T;
}

function writeSeries(path: string, runs: Parameters<typeof seriesCsv>[0]): void {
  try {
    writeFileSync(path, seriesCsv(runs));
  } catch (e) {
    throw new InputError(`cannot write the series to ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
