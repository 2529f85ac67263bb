#!/usr/bin/env node
/**
 * docs/report.png: a screenshot of a sample `egru report --firing-rates` (an EGRU and a dense GRU on a slice of
 * row-MNIST, overlaid; about 15 s on two cores), taken with headless Chromium (Debian's `chromium`, or $CHROMIUM).
 *
 *   npm run build && node scripts/report-screenshot.mjs [--out docs/report.png] [--keep DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const out = resolve(option('--out', join(ROOT, 'docs', 'report.png')));
const keep = option('--keep', null);
const work = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'egru-screenshot-'));
const chromium = process.env.CHROMIUM ?? 'chromium';

// Run in `work`, with relative paths, so that the page shows runs/<name> rather than a temporary directory.
const egru = (...a) => execFileSync(process.execPath, [join(ROOT, 'bin', 'egru.js'), ...a], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
const common = ['--task', 'row-mnist', '--hidden', '64', '--limit', '6000', '--val-limit', '1000', '--epochs', '3', '--log-every', '10', '--eval-every', '50'];
const run = (name, ...extra) => {
  egru('train', ...common, ...extra, '--transport', 'inline', '--progress', 'none', '--no-report', '--force', '--out', `runs/${name}`);
  return `runs/${name}`;
};

try {
  const runs = [run('egru-row-mnist'), run('gru-row-mnist', '--model', 'gru')];
  const html = join(work, 'report.html');
  egru('report', ...runs, '--firing-rates', '--out', html);
  execFileSync(chromium, [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    `--user-data-dir=${join(work, 'chromium-profile')}`,
    '--window-size=1280,3600',
    '--virtual-time-budget=5000',
    `--screenshot=${out}`,
    pathToFileURL(html).href,
  ], { stdio: 'ignore' });
  process.stdout.write(`wrote ${out}${keep ? ` (runs and report in ${work})` : ''}\n`);
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
}
