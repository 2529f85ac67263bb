/** `egru hardware`: what a trained checkpoint would cost on multi-chip neuromorphic hardware (docs/hardware.md). */
import { Command, Option } from 'commander';
import { Trainer } from '../../runtime/coordinator.js';
import { compare, emulate, formatComparison, formatReport, HardwareError, loadPresetFile, PRESETS, STRATEGIES, TraceBuilder, type Preset, type Strategy } from '../../hardware/index.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { InputError } from '../io/errors.js';
import { TASKS } from '../data/tasks.js';
import { Batcher } from '../train-loop.js';
import { appendBatchTrace } from '../event-trace.js';
import { resolveEvalData } from './eval-data.js';
import { choiceArg, examples, floatArg, intArg, taskArg, transportArg, natsOption, ACTOR_HOSTS_HELP, TRANSPORT_HELP, DEFAULT_NATS, type TransportName } from './common.js';
import { checkNatsAuthUse, checkNatsServer, natsAuth, NATS_CREDS_HELP, NATS_TLS_CA_HELP, SECRET_FILE_HELP, type NatsAuthOptions } from './nats-options.js';
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
  batch?: number;
  actors?: number;
  transport: TransportName;
  nats?: string;
  actorHosts?: boolean;
  json?: boolean;
}

export function hardwareCommand(): Command {
  return new Command('hardware')
    .description('estimate event packets, hops, energy and latency of a trained checkpoint on neuromorphic hardware')
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
    .option('--step-time <seconds>', 'time budget per step for link load (default: the preset tick)', floatArg(0, { exclusive: true }))
    .option('--weight-bits <bits>', 'bits per stored synaptic weight (core memory check)', intArg(1), 8)
    .option('--batch <B>', 'sequences per evaluation batch', intArg(1))
    .option('--actors <n>', "actors per layer while recording (default: the checkpoint run's, else 2)", intArg(1))
    .option('--transport <t>', TRANSPORT_HELP, transportArg, 'threads')
    .option('--nats <url>', `NATS server of --transport nats (default ${DEFAULT_NATS})`)
    .option('--actor-hosts', ACTOR_HOSTS_HELP)
    .option('--nats-creds <file>', NATS_CREDS_HELP)
    .option('--nats-tls-ca <file>', NATS_TLS_CA_HELP)
    .option('--secret-file <file>', SECRET_FILE_HELP)
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText(
      'after',
      examples([
        'egru hardware --checkpoint runs/row/checkpoint.egru --samples 100 --preset loihi2',
        'egru hardware --checkpoint model.egru --task row-mnist --compare spinnaker1,spinnaker2,loihi1,loihi2,truenorth',
        'egru hardware --checkpoint model.egru --hardware my-chip.json --placement traffic --json > report.json',
      ]),
    )
    .action(async (o: HardwareOptions) => {
      process.exitCode = await runHardware(o);
    });
}

async function runHardware(o: HardwareOptions): Promise<number> {
  if (o.hardware !== undefined && o.compare !== undefined) throw new InputError('give either --hardware or --compare, not both');
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
  const nats = natsUse ? { ...natsUse, ...natsAuth(o) } : undefined;
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
  const opts = { strategy: o.placement, stepTime: o.stepTime, weightBits: o.weightBits, trace, actors: ranges };
  try {
    if (comparePresets) {
      const reports = compare(trace, comparePresets, opts);
      process.stdout.write(o.json ? JSON.stringify(reports) + '\n' : formatComparison(reports) + '\n');
    } else {
      const report = emulate(trace, custom ?? o.preset, opts);
      process.stdout.write(o.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n');
    }
  } catch (e) {
    // A preset the network does not fit, or a placement that violates a core's capacity: bad input.
    if (e instanceof HardwareError) throw new InputError(e.message);
    throw e;
  }
  return 0;
}
