/**
 * Result records of `npm run bench` and their two renderings: the plain tables printed to stdout and the
 * Markdown page docs/benchmarks.md (regenerated from bench/results/latest.json, never edited by hand).
 */
import { median } from './runtime.js';

/** Median and spread of repeated measurements. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number;
  samples: number[];
}

export function stat(samples: number[]): Stat {
  if (samples.length === 0) throw new Error('stat of no samples');
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length, samples: samples.slice() };
}

export type Unit = 'ms' | 'µs' | '×' | 'GMAC/s' | 'MB' | 'R²' | '%' | 'events';

export interface Row {
  what: string;
  unit: Unit;
  /** null: not measured (peer unavailable, case skipped); `note` says why. */
  value: Stat | null;
  /** Ratio to the case's reference (what `ratioTo` names), from the medians; range from the spreads where given. */
  ratio?: number | null;
  ratioRange?: [number, number];
  ratioTo?: string;
  target?: string;
  /** true/false where the row carries a target; null = target not checkable (not measured). */
  met?: boolean | null;
  note?: string;
}

export interface CaseResult {
  id: number;
  key: string;
  title: string;
  /** What was run, in one paragraph. */
  setup: string;
  rows: Row[];
  /** The target line of the summary: what is compared, the measured value and whether it is met. */
  headline: { target: string; measured: string; met: boolean | null };
  /** Reasons, caveats, explanations of missed targets. */
  notes: string[];
  extra?: Record<string, unknown>;
  seconds: number;
}

export interface MachineInfo {
  line: string;
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  memoryGiB: number;
  loadAtStart: number[];
  /** Compute two busy threads got relative to one at the start (2.00 = two free cores). */
  concurrencyAtStart?: number;
}

export interface TorchPeerResult {
  setup: string;
  available: boolean;
  label: string;
  reason?: string;
  info?: { torch?: string; python?: string; executable?: string; threads?: number; sgemm?: string | null; blas?: string };
}

export interface BenchResults {
  tool: string;
  version: string;
  date: string;
  mode: 'full' | 'quick' | 'smoke';
  command: string;
  machine: MachineInfo;
  /** torch: one entry per BLAS × threads setting (absent in results written before the PyTorch peer). */
  peers: { torch?: TorchPeerResult[]; tfjs: { available: boolean; reason?: string; info?: unknown } };
  cases: CaseResult[];
  seconds: number;
}

function num(v: number, unit: Unit): string {
  if (!Number.isFinite(v)) return String(v);
  if (unit === 'R²') return v.toFixed(4);
  if (unit === '×') return v.toFixed(2);
  if (unit === '%') return v.toFixed(1);
  if (unit === 'events') return v.toFixed(0);
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return v.toFixed(digits);
}

export function fmtValue(s: Stat | null, unit: Unit): string {
  return s ? `${num(s.median, unit)} ${unit}` : '–';
}

export function fmtSpread(s: Stat | null, unit: Unit): string {
  if (!s) return '–';
  if (s.runs <= 1 || s.min === s.max) return `${num(s.min, unit)} (n = ${s.runs})`;
  return `${num(s.min, unit)}–${num(s.max, unit)} (n = ${s.runs})`;
}

export function fmtRatio(r: Row): string {
  if (r.ratio === undefined) return '';
  if (r.ratio === null) return '–';
  const range = r.ratioRange ? ` (${r.ratioRange[0].toFixed(2)}–${r.ratioRange[1].toFixed(2)})` : '';
  return `${r.ratio.toFixed(2)}×${range}`;
}

export function fmtMet(m: boolean | null | undefined): string {
  if (m === undefined) return '';
  if (m === null) return 'n/a';
  return m ? 'yes' : 'NO';
}

function cells(r: Row): string[] {
  const what = r.note && !r.value ? `${r.what} — ${r.note}` : r.what;
  return [what, fmtValue(r.value, r.unit), fmtSpread(r.value, r.unit), fmtRatio(r), r.target ?? '', fmtMet(r.met)];
}

const HEAD = ['what', 'median', 'min–max', 'ratio', 'target', 'met?'];

/** Plain-text table of one case (stdout). */
export function textTable(c: CaseResult): string {
  const rows = [HEAD, ...c.rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  const out = [`== ${c.id}. ${c.title}`, c.setup, '', line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  for (const n of c.notes) out.push(`  * ${n}`);
  out.push(`  → target ${c.headline.target}: measured ${c.headline.measured} — ${c.headline.met === null ? 'not measured' : c.headline.met ? 'met' : 'MISSED'}`);
  return out.join('\n');
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

/** The PyTorch paragraph of the page: what ran (torch, Python, the BLAS each process really loaded) or why not. */
function torchParagraph(torch: TorchPeerResult[] | undefined): string {
  if (!torch) return '**Peer: PyTorch CPU** — not part of the benchmark when these results were written.';
  const ran = torch.filter((p) => p.available);
  const first = ran[0]?.info;
  const head = first
    ? `**Peer: PyTorch CPU** ${first.torch ?? ''} (Python ${first.python ?? '?'}, \`${first.executable ?? 'python3'}\`), \`torch.nn.GRU\` + \`torch.nn.Linear\`, cross-entropy on the last step's output, \`torch.optim.Adam\`, on the same batch; one persistent process per BLAS × thread setting (bench/peers/torch_gru.py). The training-step targets (cases 1, 2, 8) are ratios to the fastest PyTorch row of the same run.`
    : '**Peer: PyTorch CPU** — no PyTorch setting ran in this run; the training-step targets against it are not checked.';
  const each = torch.map((p) => (p.available && p.info ? `${p.label} (sgemm_ from \`${p.info.sgemm ?? 'torch itself'}\`)` : `${p.label}: ${p.reason ?? 'unavailable'}`));
  return `${head} Settings: ${each.join('; ')}.`;
}

/** `profile`: Markdown of where a step's time goes (bench/results/profile.md, made with scripts/profile-step.mjs). */
/** `multiHost`: bench/results/multi-host.md (measured by test/nats-netns.test.ts), shown as its own section. */
export function markdown(res: BenchResults, profile?: string, multiHost?: string): string {
  const m = res.machine;
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push(
    `<!-- Generated by bench/run.ts from bench/results/latest.json: do not edit by hand. Rerun \`npm run bench\`, or \`node dist/bench/run.js --render\` to regenerate this page from the JSON. -->`,
  );
  out.push('');
  out.push(`Measured ${res.date.slice(0, 10)} with \`${res.command}\` (${res.mode} run, ${(res.seconds / 60).toFixed(1)} min), egru-actors ${res.version}.`);
  out.push('');
  out.push(`**Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(0)} GiB, Node ${m.node}, ${m.platform}; load average at start ${m.loadAtStart.map((v) => v.toFixed(2)).join(' / ')}${
      m.concurrencyAtStart !== undefined ? `; two busy threads got ${m.concurrencyAtStart.toFixed(2)}× the compute of one at the start (2.00 = two free cores; the cases with 2 threads repeat this check)` : ''
    }.`);
  out.push('');
  out.push(torchParagraph(res.peers.torch));
  const tf = res.peers.tfjs;
  const info = tf.info as { tfjs?: string; simd?: boolean; multithread?: boolean; threads?: number } | undefined;
  out.push('');
  out.push(
    tf.available && info
      ? `**TensorFlow.js** (a row of its own, no target): ${info.tfjs} on \`@tensorflow/tfjs-backend-wasm\` (SIMD ${info.simd ? 'on' : 'off'}, wasm threads ${info.multithread ? `on, ${info.threads}` : 'off — tfjs disables them under Node, so it runs on one core'}), a \`tf.layers.gru\` + dense softmax readout of the same shape, \`tf.train.adam\`, timed with \`model.trainOnBatch\`. Installed apart from the project in \`bench/peers/\`.`
      : `**TensorFlow.js:** unavailable in this run (${tf.reason ?? 'unknown reason'}); its rows read "–".`,
  );
  out.push('');
  out.push(
    'Every figure is the median of the runs shown as n (each run = one complete measurement, e.g. one training step); min–max is the spread over those runs. ' +
      'Ratios are taken between medians measured in the same run of the benchmark; where a range is shown it pairs the extremes (worst–best). ' +
      'A missed target is shown as measured, with the reason where it is known. ' +
      'Compare ratios within one run: between runs, and even between two freshly created trainers in one run, the same work has been seen to run up to ~1.5× faster or slower on this virtual machine (not explained by CPU contention; the cause is not pinned down), while the machine-check lines (two busy threads vs one) tell whether the second core was free.',
  );
  out.push('');
  out.push('## Summary');
  out.push('');
  out.push('Training-step targets (cases 1, 2, 8) are against PyTorch CPU: the EGRU step over the fastest PyTorch row of the same run.');
  out.push('');
  out.push('| # | case | target | measured | met? |');
  out.push('|---:|---|---|---|:---:|');
  for (const c of res.cases) out.push(`| ${c.id} | ${esc(c.title)} | ${esc(c.headline.target)} | ${esc(c.headline.measured)} | ${fmtMet(c.headline.met)} |`);
  for (const c of res.cases) {
    out.push('');
    out.push(`## ${c.id}. ${c.title}`);
    out.push('');
    out.push(c.setup);
    out.push('');
    out.push(`| ${HEAD.join(' | ')} |`);
    out.push('|---|---:|---:|---:|---|:---:|');
    for (const r of c.rows) out.push(`| ${cells(r).map(esc).join(' | ')} |`);
    if (c.notes.length) {
      out.push('');
      for (const n of c.notes) out.push(`- ${n}`);
    }
  }
  if (profile) {
    out.push('');
    out.push('## Where the time goes');
    out.push('');
    out.push(profile.trim());
  }
  if (multiHost) {
    out.push('');
    out.push(multiHost.trim());
  }
  out.push('');
  out.push('## Reproduce');
  out.push('');
  out.push('```sh');
  out.push('npm ci && npm run build');
  out.push('npm run bench              # full set (installs bench/peers on first use), writes bench/results/latest.json and this page');
  out.push('npm run bench -- --quick   # reduced set, ~3 min, writes bench/results/quick.json only');
  out.push('apt-get install python3-torch libopenblas0-pthread   # the PyTorch peer (Debian); EGRU_BENCH_PYTHON picks another Python');
  out.push('node dist/bench/run.js --help');
  out.push('```');
  out.push('');
  out.push('The networks of cases 1 and 2 are trained on the first run and cached in `bench/results/cache/` (`--retrain` trains them afresh). Run it on an otherwise idle machine: the cases with 2 actors or 2 PyTorch threads need both cores, and another process on either core shows up directly in the synchronisation, speed-up and 2-thread figures.');
  out.push('');
  return out.join('\n');
}
