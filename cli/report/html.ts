/**
 * report.html: one self-contained page (opens from file:// without network). uPlot's script and stylesheet, the
 * run data (JSON) and the page script are inlined; the charts are drawn in the browser (page-script.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ERROR_TRAP, PAGE_SCRIPT } from './page-script.js';
import type { RunData } from './run-data.js';

let uplotFiles: { js: string; css: string } | undefined;

/** uPlot's browser build (the npm dependency `uplot`), read once per process. */
function uplot(): { js: string; css: string } {
  if (!uplotFiles) {
    const require = createRequire(import.meta.url);
    uplotFiles = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return uplotFiles;
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto; max-width: 1240px; padding: 16px 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; }
h3 { font-size: 14px; margin: 0 0 4px; } .note { color: #666; margin: 2px 0 8px; } .runs { color: #444; margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
.plot { border: 1px solid #e4e4e4; border-radius: 4px; padding: 8px; min-width: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; } th, td { padding: 2px 10px; border-bottom: 1px solid #eee; }
th { text-align: left; font-weight: 600; } td { text-align: right; } table.kv td { text-align: left; }
#report-status { display: block; color: #888; font-size: 12px; margin-top: 24px; }
`;

/** Text for an HTML text node or attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x)).replace(/</g, '\\u003c');
}

export interface ReportMeta {
  /** The egru version that wrote the report. */
  version: string;
  /** When (ISO time). */
  generated: string;
}

export function reportHtml(runs: RunData[], meta: ReportMeta): string {
  const { js, css } = uplot();
  const title = `EGRU report: ${runs.map((r) => r.name).join(', ')}`;
  const runList = runs.map((r) => `<li><b>${escapeHtml(r.name)}</b> ${escapeHtml(r.dir)}</li>`).join('');
  const data = { runs: runs.map((r) => ({ name: r.name, dir: r.dir, config: r.config, summary: r.summary, metrics: r.metrics, hardware: r.hardware, firing: r.firing })) };
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<script>${ERROR_TRAP}</script>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<h1>EGRU run report</h1>
<ul class="runs">${runList}</ul>
<p class="note">Written by egru ${escapeHtml(meta.version)} at ${escapeHtml(meta.generated)}. Charts: uPlot, inlined (no network needed).</p>
<main id="report"></main>
<output id="report-status" data-state="pending">charts not drawn (JavaScript is off, or the page script failed)</output>
<script>${js}</script>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
