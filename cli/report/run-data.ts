/**
 * What a report shows of one run directory (docs/formats.md): config.json, the records of metrics.jsonl,
 * summary.json (absent for an interrupted run), hardware.json when the user saved `egru hardware --json`
 * output there, and firing.json when `egru report --firing-rates` measured it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describeFsError, InputError } from '../io/errors.js';

/** The hardware estimate's file name in a run directory (`egru hardware … --json > RUN_DIR/hardware.json`). */
export const HARDWARE_FILE = 'hardware.json';
/** Per-unit firing rates (`egru report --firing-rates`, cli/report/firing.ts). */
export const FIRING_FILE = 'firing.json';

export type MetricsRecord = Record<string, unknown> & { kind: string };

export interface RunData {
  /** Short name for legends: the directory's base name (with its parent's when two runs share it). */
  name: string;
  /** The directory as given. */
  dir: string;
  config: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
  metrics: MetricsRecord[];
  /** One hardware report or a comparison (a list of reports), as `egru hardware --json` prints it. */
  hardware: unknown;
  /** firing.json (cli/report/firing.ts), when measured. */
  firing: unknown;
}

/** Reads a run directory; a directory without config.json and metrics.jsonl is refused (InputError). */
export function readRun(dir: string): RunData {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new InputError(`${dir}: ${describeFsError(e)}`);
  }
  if (!isDir) throw new InputError(`${dir}: not a run directory (expected a directory with config.json and metrics.jsonl)`);
  const metricsFile = join(dir, 'metrics.jsonl');
  if (!existsSync(metricsFile)) throw new InputError(`${dir}: no metrics.jsonl (not a run directory of egru train?)`);
  return {
    name: basename(resolve(dir)),
    dir,
    config: readJson(join(dir, 'config.json')) as Record<string, unknown> | null,
    summary: readJson(join(dir, 'summary.json')) as Record<string, unknown> | null,
    metrics: readMetrics(metricsFile),
    hardware: readJson(join(dir, HARDWARE_FILE)),
    firing: readJson(join(dir, FIRING_FILE)),
  };
}

/** Several runs; names that repeat get the parent directory in front (a/run, b/run). */
export function readRuns(dirs: string[]): RunData[] {
  const runs = dirs.map(readRun);
  for (const r of runs)
    if (runs.filter((o) => o.name === r.name).length > 1) r.name = `${basename(resolve(r.dir, '..'))}/${r.name}`;
  return runs;
}

/** The file's JSON; null when absent. A file that is there but not JSON is refused. */
function readJson(file: string): unknown {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file}: ${e instanceof SyntaxError ? `not valid JSON (${e.message})` : describeFsError(e)}`);
  }
}

/** The records of metrics.jsonl. A line that is not a JSON object is skipped: a crash may cut the last one short. */
function readMetrics(file: string): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as unknown;
      if (o && typeof o === 'object' && typeof (o as MetricsRecord).kind === 'string') out.push(o as MetricsRecord);
    } catch {
      /* a partial last line */
    }
  }
  return out;
}
