/** `egru eval`: the figures (docs/figures.md) of a checkpoint on a task's test split or on an .npz dataset. */
import { Command, Option } from 'commander';
import { Trainer } from '../../runtime/coordinator.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { TASKS } from '../data/tasks.js';
import { resolveEvalData } from './eval-data.js';
import { makeProgress, type ProgressMode } from '../progress.js';
import { figuresTable, sparsity, toJson } from '../summary.js';
import { evaluateDataset, stepsPerEpoch } from '../train-loop.js';
import { choiceArg, examples, intArg, progressArg, taskArg, transportArg, natsOption, ACTOR_HOSTS_HELP, TRANSPORT_HELP, DEFAULT_NATS, type TransportName } from './common.js';
import { checkNatsAuthUse, checkNatsServer, natsAuth, natsRunArg, natsRunOf, NATS_CREDS_HELP, NATS_RUN_HELP, NATS_TLS_CA_HELP, SECRET_FILE_HELP, type NatsAuthOptions } from './nats-options.js';
import { trainRunOf } from '../run-config.js';

interface EvalOptions extends NatsAuthOptions {
  checkpoint: string;
  task?: string;
  data?: string;
  split: 'test' | 'train' | 'validation';
  seqLen?: number;
  limit?: number;
  batch?: number;
  actors?: number;
  transport: TransportName;
  nats?: string;
  actorHosts?: boolean;
  json?: boolean;
  progress: ProgressMode;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description("evaluate a checkpoint: accuracy, loss, activity sparsity, events, messages and MACs (docs/figures.md)")
    .requiredOption('--checkpoint <ckpt>', 'checkpoint (.egru) to evaluate')
    .option('--task <name>', `built-in task (${Object.keys(TASKS).join(', ')}); default: the checkpoint's task`, taskArg)
    .option('--data <file.npz>', 'evaluate on your own sequences (x [N, T, I], y [N] or [N, T])')
    .option('--split <split>', 'split of a built-in task (validation: moby-dick and sotu only)', choiceArg(['test', 'train', 'validation'] as const), 'test')
    .option('--seq-len <T>', 'adding-class task: sequence length (default: the checkpoint run\'s, else 100)', intArg(2))
    .option('--limit <N>', 'evaluate only the first N samples (moby-dick, sotu: characters)', intArg(1))
    .option('--batch <B>', "sequences per batch (default: the checkpoint run's batch, else 32)", intArg(1))
    .option('--actors <n>', "actors per layer (default: the checkpoint run's, else 2)", intArg(1))
    .option('--transport <t>', TRANSPORT_HELP, transportArg, 'threads')
    .option('--nats <url>', `NATS server of --transport nats (default ${DEFAULT_NATS})`)
    .option('--actor-hosts', ACTOR_HOSTS_HELP)
    .option('--nats-creds <file>', NATS_CREDS_HELP)
    .option('--nats-tls-ca <file>', NATS_TLS_CA_HELP)
    .option('--nats-run <id>', NATS_RUN_HELP, natsRunArg)
    .option('--secret-file <file>', SECRET_FILE_HELP)
    .option('--json', 'print the figures as one JSON object on stdout')
    .addOption(new Option('--progress <mode>', 'auto, bar, plain or none (on stderr)').argParser(progressArg).default('auto'))
    .addHelpText(
      'after',
      examples([
        'egru eval --checkpoint runs/row-mnist-20250101-120000/checkpoint.egru',
        'egru eval --checkpoint model.egru --task row-mnist --limit 1000 --json',
        'egru eval --checkpoint model.egru --data test.npz --json > figures.json',
        '',
        'egru eval --checkpoint runs/moby/checkpoint.egru --split test   # bits per character on the held-out text',
        '',
        'JSON: {"loss", "accuracy", ("bpc", "perplexity": per-step targets), "activity_sparsity", "backward_sparsity" (null: no backward pass), "events",',
        '"unit_steps", "messages": {"forward"|"backward"|"control": {"packets", "items", "bytes"}},',
        '"macs": {"forward", "backward", "dense_forward", "dense_backward"}, "samples"}.',
      ]),
    )
    .action(async (o: EvalOptions) => {
      process.exitCode = await runEval(o);
    });
}

async function runEval(o: EvalOptions): Promise<number> {
  const ck = loadCheckpoint(o.checkpoint);
  const model = ck.config.model;
  const run = trainRunOf(ck.config);
  const { ds, source } = resolveEvalData(o.checkpoint, ck, o);
  const batch = o.batch ?? run?.batch ?? 32;
  const actors = o.actors ?? run?.actors ?? 2;

  const started = performance.now();
  checkNatsAuthUse(o);
  const natsUse = natsOption(o);
  const nats = natsUse ? { ...natsUse, ...natsAuth(o), run: natsRunOf(o) } : undefined;
  if (nats) await checkNatsServer(nats); // refused credentials: one line, exit 2
  const trainer = await Trainer.create({ model, params: ck.params, actors, transport: o.transport, nats, batch, maxSteps: ds.steps });
  const progress = makeProgress(o.progress, { label: 'eval', unit: 'batches' });
  try {
    const bpc = (m: { bpc: number }) => (ds.perStep ? { bpc: m.bpc } : {});
    progress.start({ step: 0, total: stepsPerEpoch(ds.n, batch, ds.contiguous), loss: NaN, accuracy: NaN, sparsity: NaN, ...bpc({ bpc: NaN }) });
    const f = await evaluateDataset(trainer, ds, batch, (done, total, m, t) =>
      progress.update({ step: done, total, loss: m.loss, accuracy: m.accuracy, sparsity: sparsity(t), ...bpc(m) }),
    );
    progress.stop();
    if (o.json) process.stdout.write(toJson(f) + '\n');
    else {
      const secs = (performance.now() - started) / 1000;
      process.stdout.write(`${o.checkpoint} on ${source}: ${ds.n} samples\n\n${figuresTable([['evaluation', f]], secs)}\n`);
    }
    return 0;
  } finally {
    progress.stop();
    await trainer.close();
  }
}
