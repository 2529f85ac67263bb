/** Writing report.html: for `egru report` and at the end of `egru train` (where it must never fail the run). */
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { reportHtml } from './html.js';
import { FIRING_FILE, readRuns } from './run-data.js';

export const REPORT_FILE = 'report.html';
/** The files of a run directory that reports write (a `train --force` removes them with the run files). */
export const REPORT_OUTPUTS = [REPORT_FILE, FIRING_FILE];

/** Writes the report of the run directories to `out`. Errors (bad run dir, unwritable file) are InputErrors. */
export function writeReport(dirs: string[], out: string, version: string): void {
  const html = reportHtml(readRuns(dirs), { version, generated: new Date().toISOString() });
  writeFileAtomic(out, html);
}

/**
 * After `egru train`: RUN_DIR/report.html, and its path printed. Any error becomes one warning line on stderr;
 * the training run's outcome is not affected.
 */
export function reportAfterTraining(dir: string, version: string, print: (line: string) => void): void {
  const out = join(dir, REPORT_FILE);
  try {
    writeReport([dir], out, version);
    print(`report: ${out}`);
  } catch (e) {
    process.stderr.write(`egru: warning: report not written: ${(e as Error)?.message ?? String(e)}\n`);
  }
}
