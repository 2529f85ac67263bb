/** `egru report`: a self-contained HTML report (or a CSV of the step records) of one or more run directories. */
import { join } from 'node:path';
import { Command } from 'commander';
import { writeFileAtomic } from '../io/atomic.js';
import { metricsCsv } from '../report/csv.js';
import { FIRING_FILE, readRuns } from '../report/run-data.js';
import { REPORT_FILE, writeReport } from '../report/write.js';
import { examples, intArg, packageVersion } from './common.js';
import { measureFiringRates } from '../report/firing.js';

interface ReportOptions {
  out?: string;
  csv?: boolean;
  /** true: the flag without a sample count. */
  firingRates?: number | true;
}

const FIRING_SAMPLES = 256;

export function reportCommand(): Command {
  return new Command('report')
    .description('write a self-contained HTML report (plots, summary, configuration) of one or more run directories')
    .argument('<run-dir...>', 'run directories of egru train (several: overlaid, one series per run)')
    .option('--out <file>', `output file (default: RUN_DIR/${REPORT_FILE} for one run, ./${REPORT_FILE} for several; --csv: stdout)`)
    .option('--csv', 'write the step records of metrics.jsonl as a flat CSV table instead (one row per record)')
    .option('--firing-rates [N]', `first measure each unit's firing rate on N validation samples (default ${FIRING_SAMPLES}) with the run's final checkpoint.egru, into RUN_DIR/firing.json (drawn next to the rates over training)`, intArg(1))
    .addHelpText(
      'after',
      examples([
        'egru report runs/adding                             # writes runs/adding/report.html',
        'egru report runs/egru runs/gru --out compare.html   # two runs overlaid',
        'egru report runs/adding --csv > metrics.csv         # one row per step record',
        'egru report runs/adding --firing-rates 512          # adds the firing rates of the final checkpoint',
        '',
        'The page opens from file:// without network (uPlot is inlined): learning curves against steps and wall',
        'time, activity and backward sparsity, events per sample, firing-rate histograms per layer (training, and',
        'RUN_DIR/firing.json of --firing-rates), message items and bytes, MACs against a dense GRU, the summary',
        'figures, the configuration and RUN_DIR/hardware.json',
        '(egru hardware --checkpoint RUN_DIR/checkpoint.egru --json > RUN_DIR/hardware.json). egru train writes',
        'RUN_DIR/report.html by itself unless --no-report. More in docs/report.md.',
      ]),
    )
    .action(async (dirs: string[], o: ReportOptions) => {
      process.exitCode = await runReport(dirs, o);
    });
}

async function runReport(dirs: string[], o: ReportOptions): Promise<number> {
  if (o.firingRates !== undefined) {
    readRuns(dirs); // refuse a directory that is not a run before evaluating any
    for (const dir of dirs) {
      const f = await measureFiringRates(dir, o.firingRates === true ? FIRING_SAMPLES : o.firingRates);
      process.stdout.write(`wrote ${join(dir, FIRING_FILE)} (${f.samples} samples of ${f.source})\n`);
    }
  }
  if (o.csv) {
    const csv = metricsCsv(readRuns(dirs));
    if (o.out === undefined) process.stdout.write(csv);
    else {
      writeFileAtomic(o.out, csv);
      process.stdout.write(`wrote ${o.out}\n`);
    }
    return 0;
  }
  const out = o.out ?? (dirs.length === 1 ? join(dirs[0]!, REPORT_FILE) : REPORT_FILE);
  writeReport(dirs, out, packageVersion());
  process.stdout.write(`wrote ${out}\n`);
  return 0;
}
