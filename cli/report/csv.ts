/** `egru report --csv`: the `step` records of metrics.jsonl as one flat CSV table (one row per record). */
import type { RunData } from './run-data.js';

/** Columns: `run`, then every field of the step records in the order first seen (nested objects dotted). */
export function metricsCsv(runs: RunData[]): string {
  const rows: Record<string, unknown>[] = [];
  const columns: string[] = ['run'];
  for (const run of runs)
    for (const rec of run.metrics) {
      if (rec.kind !== 'step') continue;
      const row: Record<string, unknown> = { run: run.name };
      flatten(rec, '', row);
      delete row.kind;
      for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
      rows.push(row);
    }
  const lines = [columns.map(cell).join(',')];
  for (const row of rows) lines.push(columns.map((c) => cell(row[c])).join(','));
  return lines.join('\n') + '\n';
}

function flatten(v: Record<string, unknown>, prefix: string, into: Record<string, unknown>): void {
  for (const [k, x] of Object.entries(v)) {
    if (x && typeof x === 'object' && !Array.isArray(x)) flatten(x as Record<string, unknown>, `${prefix}${k}.`, into);
    else into[prefix + k] = x;
  }
}

/** RFC 4180 cell: null/absent empty, text with a comma, quote or newline quoted. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = Array.isArray(v) ? v.join(' ') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
