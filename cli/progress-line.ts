/**
 * One progress line fitted to the terminal width: fields are dropped whole, least useful first, instead of the
 * terminal cutting the line mid-word. Kept to the last: the step count, loss, accuracy and ETA.
 */
import { duration, num, pct } from './summary.js';

export interface LineState {
  /** Optimiser steps done (train) or batches done (eval). */
  step: number;
  total: number;
  /** 1-based epoch in progress (train only). */
  epoch?: number;
  epochs?: number;
  loss: number;
  accuracy: number;
  sparsity: number;
  /** Learning rate of the last step (train only). */
  lr?: number;
  /** Bits per character (language models): shown after the loss when given. */
  bpc?: number;
}

export interface LineStyle {
  /** Starts the line: `train`, `eval`. */
  label: string;
  /** Names the rate: `steps`, `batches`. */
  unit: string;
  /** Draw a bar of this many cells after the label (0: none). */
  barCells: number;
  /** Between fields. */
  separator: string;
}

interface Field {
  text: string;
  /** Fields go in increasing order of this rank when the line is too wide; the label and count never go. */
  dropRank: number;
}

/** Which field goes first when the line is too wide: the rate, the learning rate, sparsity, epoch, bar, then ETA, accuracy, loss. */
const DROP = { rate: 1, lr: 1.5, sparsity: 2, epoch: 3, bar: 4, eta: 5, acc: 6, loss: 7, never: Infinity } as const;

function bar(cells: number, done: number): string {
  const full = Math.max(0, Math.min(cells, Math.round(done * cells)));
  return '\u2588'.repeat(full) + '\u2591'.repeat(cells - full);
}

function lineFields(s: LineState, rate: number, style: LineStyle): Field[] {
  const compact = style.barCells > 0; // the bar line is denser: "ep 1/2", "97.4%"
  const p = (x: number) => (compact ? pct(x).replace(' %', '%') : pct(x));
  const count = `${s.step}/${s.total}`;
  const fields: Field[] = [];
  if (style.barCells > 0) {
    fields.push({ text: style.label, dropRank: DROP.never });
    fields.push({ text: bar(style.barCells, s.total > 0 ? s.step / s.total : 0), dropRank: DROP.bar });
    fields.push({ text: count, dropRank: DROP.never });
  } else fields.push({ text: `${style.label} ${count}`, dropRank: DROP.never });
  if (s.epoch !== undefined) fields.push({ text: `${compact ? 'ep' : 'epoch'} ${s.epoch}${s.epochs ? `/${s.epochs}` : ''}`, dropRank: DROP.epoch });
  fields.push({ text: `loss ${num(s.loss)}`, dropRank: DROP.loss });
  if (s.bpc !== undefined) fields.push({ text: `bpc ${num(s.bpc, 3)}`, dropRank: DROP.loss });
  fields.push({ text: `acc ${p(s.accuracy)}`, dropRank: DROP.acc });
  fields.push({ text: `sparsity ${p(s.sparsity)}`, dropRank: DROP.sparsity });
  if (s.lr !== undefined) fields.push({ text: `lr ${s.lr.toExponential(2)}`, dropRank: DROP.lr });
  const known = Number.isFinite(rate);
  fields.push({ text: known ? `${rate.toFixed(rate < 10 ? 2 : 1)} ${style.unit}/s` : `– ${style.unit}/s`, dropRank: DROP.rate });
  fields.push({ text: `ETA ${known && rate > 0 ? duration((s.total - s.step) / rate) : '–'}`, dropRank: DROP.eta });
  return fields;
}

/** The progress line for `s` at `rate` steps per second, at most `columns` characters wide where fields allow. */
export function progressLine(s: LineState, rate: number, style: LineStyle, columns = Infinity): string {
  const fields = lineFields(s, rate, style);
  const width = () => fields.reduce((w, f) => w + f.text.length, 0) + style.separator.length * (fields.length - 1);
  while (width() > columns) {
    const next = fields.reduce<Field | null>((m, f) => (f.dropRank < (m?.dropRank ?? Infinity) ? f : m), null);
    if (!next) break;
    fields.splice(fields.indexOf(next), 1);
  }
  return fields.map((f) => f.text).join(style.separator);
}
