/**
 * The figures (docs/figures.md) from the runtime counters, and the human-readable summary table.
 *
 * One `Figures` object has the same shape everywhere: `egru eval --json` prints it, summary.json holds it at the
 * top level (final validation figures) and under `train` (the figures of all training steps), metrics.jsonl epoch
 * records carry it. Dotted names are NESTED objects: `messages.forward.packets` is
 * `{"messages": {"forward": {"packets": …}}}`, `macs.dense_forward` is `{"macs": {"dense_forward": …}}`.
 * Forward-only figures (evaluation) have `backward_sparsity: null` and zero backward MACs and messages.
 */
import { COUNTER_NAMES } from '../runtime/fabric.js';
import type { CounterTotals } from '../runtime/coordinator.js';

export interface MessageFigures {
  packets: number;
  items: number;
  bytes: number;
}

export interface Figures {
  loss: number;
  /** Classification accuracy (per-step targets: over the steps with a target). */
  accuracy: number;
  /**
   * Per-step targets only (language modelling): exp(CE) and CE / ln 2 (bits per character), from the mean
   * cross-entropy CE over the steps with a target (the loss less the activity penalty).
   */
  perplexity?: number;
  bpc?: number;
  activity_sparsity: number;
  /** null when no backward pass was run (evaluation). */
  backward_sparsity: number | null;
  events: number;
  unit_steps: number;
  messages: { forward: MessageFigures; backward: MessageFigures; control: MessageFigures };
  macs: { forward: number; backward: number; dense_forward: number; dense_backward: number };
  /** Sequences the figures were measured on. */
  samples: number;
}

export function zeroTotals(): CounterTotals {
  const o = {} as CounterTotals;
  for (const n of COUNTER_NAMES) o[n] = 0;
  return o;
}

export function addTotals(into: CounterTotals, add: CounterTotals, sign = 1): CounterTotals {
  for (const n of COUNTER_NAMES) into[n] = (into[n] ?? 0) + sign * (add[n] ?? 0);
  return into;
}

export function diffTotals(after: CounterTotals, before: CounterTotals): CounterTotals {
  return addTotals(addTotals(zeroTotals(), after), before, -1);
}

/** Copy of counter totals read from a stored object (checkpoint meta): missing names are 0. */
export function totalsFrom(v: unknown): CounterTotals {
  const o = zeroTotals();
  if (v && typeof v === 'object') for (const n of COUNTER_NAMES) {
    const x = (v as Record<string, unknown>)[n];
    if (typeof x === 'number' && Number.isFinite(x)) o[n] = x;
  }
  return o;
}

/** Loss / accuracy accumulator over batches (loss and cross-entropy weighted by the targets counted). */
export class LossMeter {
  lossSum = 0;
  /** Σ cross-entropy × targets, over the batches that reported it (ceCount targets). */
  ceSum = 0;
  ceCount = 0;
  correct = 0;
  count = 0;
  samples = 0;
  add(r: { loss: number; crossEntropy?: number; correct: number; count: number }, samples: number): void {
    this.lossSum += r.loss * r.count;
    if (r.crossEntropy !== undefined) {
      this.ceSum += r.crossEntropy * r.count;
      this.ceCount += r.count;
    }
    this.correct += r.correct;
    this.count += r.count;
    this.samples += samples;
  }
  get loss(): number {
    return this.count > 0 ? this.lossSum / this.count : NaN;
  }
  /** Mean cross-entropy in nats per target (the loss where no batch reported it, as before it was kept). */
  get crossEntropy(): number {
    return this.ceCount > 0 ? this.ceSum / this.ceCount : this.loss;
  }
  /** Bits per character: the mean cross-entropy / ln 2. */
  get bpc(): number {
    return this.crossEntropy / Math.LN2;
  }
  get accuracy(): number {
    return this.count > 0 ? this.correct / this.count : NaN;
  }
}

export function sparsity(t: CounterTotals): number {
  return t.unit_steps > 0 ? 1 - t.events / t.unit_steps : NaN;
}

export function figures(t: CounterTotals, m: LossMeter, opts: { backward: boolean; perStep: boolean }): Figures {
  const msg = (k: 'forward' | 'backward' | 'control'): MessageFigures => ({
    packets: t[`messages.${k}.packets`],
    items: t[`messages.${k}.items`],
    bytes: t[`messages.${k}.bytes`],
  });
  const f: Figures = {
    loss: m.loss,
    accuracy: m.accuracy,
    activity_sparsity: sparsity(t),
    backward_sparsity: opts.backward && t.unit_steps > 0 ? 1 - t.backward_active / t.unit_steps : null,
    events: t.events,
    unit_steps: t.unit_steps,
    messages: { forward: msg('forward'), backward: msg('backward'), control: msg('control') },
    macs: {
      forward: t['macs.forward'],
      backward: t['macs.backward'],
      dense_forward: t['macs.dense_forward'],
      dense_backward: t['macs.dense_backward'],
    },
    samples: m.samples,
  };
  if (opts.perStep) {
    f.perplexity = Math.exp(m.crossEntropy);
    f.bpc = m.bpc;
  }
  return f;
}

/** JSON with NaN/Infinity written as null (JSON has no such numbers). */
export function toJson(v: unknown, indent?: number): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), indent);
}

// ---- formatting --------------------------------------------------------------------------------------------------

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(digits)} %`;
}

export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x) || Math.abs(x) >= 1e5) return x.toExponential(2);
  return x.toFixed(digits);
}

/** 1234567 → "1.23 M". */
export function compact(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (Number.isInteger(x)) return String(x);
  return x.toFixed(1);
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s` : `${m}m${String(r).padStart(2, '0')}s`;
}

/** A plain text table: first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((s, c) => (c === 0 ? (s ?? '').padEnd(w[c]!) : (s ?? '').padStart(w[c]!))).join('   ');
  return [line(header), w.map((n) => '─'.repeat(n)).join('   '), ...rows.map(line)].join('\n');
}

/** Rows of figures, one column per named set (e.g. training, validation); `wall` adds a wall-time row. */
export function figuresTable(columns: [string, Figures | null][], wallSeconds?: number): string {
  const cols = columns.filter((c): c is [string, Figures] => c[1] !== null);
  const per = (f: Figures, v: number) => (f.samples > 0 ? v / f.samples : NaN);
  const rows: [string, (f: Figures) => string][] = [
    ['accuracy', (f) => pct(f.accuracy, 2)],
    ['loss', (f) => num(f.loss)],
    ['activity sparsity', (f) => pct(f.activity_sparsity)],
    ['backward sparsity', (f) => pct(f.backward_sparsity)],
    ['events / sample', (f) => compact(per(f, f.events))],
    ['messages / sample (fwd)', (f) => compact(per(f, f.messages.forward.packets))],
    ['message items / sample (fwd)', (f) => compact(per(f, f.messages.forward.items))],
    ['messages / sample (bwd)', (f) => (f.backward_sparsity === null ? '–' : compact(per(f, f.messages.backward.packets)))],
    ['MACs / dense (fwd)', (f) => pct(f.macs.dense_forward > 0 ? f.macs.forward / f.macs.dense_forward : NaN)],
    ['samples', (f) => String(f.samples)],
  ];
  if (cols.some(([, f]) => f.perplexity !== undefined)) rows.splice(2, 0, ['bits per character', (f) => num(f.bpc, 3)], ['perplexity', (f) => num(f.perplexity, 3)]);
  const body = rows.map(([name, fn]) => [name, ...cols.map(([, f]) => fn(f))]);
  if (wallSeconds !== undefined) body.push(['wall time', duration(wallSeconds), ...cols.slice(1).map(() => '')]);
  return table(['', ...cols.map(([n]) => n)], body);
}
