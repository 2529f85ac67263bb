/**
 * Training and evaluation progress on stderr: a cli-progress bar on a terminal, plain periodic lines otherwise
 * (`--progress auto|bar|plain|none`). stdout stays free for results (tables, `--json`).
 */
import cliProgress from 'cli-progress';
import { duration, num, pct } from './summary.js';

export type ProgressMode = 'auto' | 'bar' | 'plain' | 'none';
export const PROGRESS_MODES: ProgressMode[] = ['auto', 'bar', 'plain', 'none'];

export interface ProgressState {
  /** Optimiser steps done (train) or batches done (eval). */
  step: number;
  total: number;
  /** 1-based epoch in progress (train only). */
  epoch?: number;
  epochs?: number;
  loss: number;
  accuracy: number;
  sparsity: number;
}

export interface Progress {
  start(state: ProgressState): void;
  update(state: ProgressState): void;
  /** A whole line (epoch results, notices), printed above the bar or as is. */
  note(line: string): void;
  stop(): void;
}

/** Steps per second over a sliding window of recent updates (robust to a slow first step). */
class Rate {
  private readonly marks: [number, number][] = [];
  add(step: number, now = performance.now()): void {
    this.marks.push([step, now]);
    while (this.marks.length > 2 && now - this.marks[0]![1] > 30_000) this.marks.shift();
  }
  reset(): void {
    this.marks.length = 0;
  }
  get perSecond(): number {
    if (this.marks.length < 2) return NaN;
    const [s0, t0] = this.marks[0]!;
    const [s1, t1] = this.marks[this.marks.length - 1]!;
    return t1 > t0 ? ((s1 - s0) * 1000) / (t1 - t0) : NaN;
  }
}

function fields(s: ProgressState, rate: number, unit: string) {
  const left = s.total - s.step;
  return {
    epoch: s.epoch !== undefined ? `epoch ${s.epoch}${s.epochs ? `/${s.epochs}` : ''}` : '',
    loss: num(s.loss),
    acc: pct(s.accuracy),
    sparsity: pct(s.sparsity),
    rate: Number.isFinite(rate) ? `${rate.toFixed(rate < 10 ? 2 : 1)} ${unit}/s` : `– ${unit}/s`,
    eta: Number.isFinite(rate) && rate > 0 ? duration(left / rate) : '–',
  };
}

class NoProgress implements Progress {
  start(): void {}
  update(): void {}
  note(): void {}
  stop(): void {}
}

class PlainProgress implements Progress {
  private last = -Infinity;
  private readonly rate = new Rate();
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
    private readonly unit: string,
    private readonly intervalMs: number,
  ) {}
  start(s: ProgressState): void {
    this.rate.reset();
    this.rate.add(s.step);
    this.last = performance.now();
  }
  update(s: ProgressState): void {
    this.rate.add(s.step);
    const now = performance.now();
    if (now - this.last < this.intervalMs && s.step < s.total) return;
    this.last = now;
    this.print(s);
  }
  private print(s: ProgressState): void {
    const f = fields(s, this.rate.perSecond, this.unit);
    const parts = [`${this.label} ${s.step}/${s.total}`, f.epoch, `loss ${f.loss}`, `acc ${f.acc}`, `sparsity ${f.sparsity}`, f.rate, `ETA ${f.eta}`];
    this.out.write(parts.filter(Boolean).join('  ') + '\n');
  }
  note(line: string): void {
    this.out.write(line + '\n');
  }
  stop(): void {}
}

class BarProgress implements Progress {
  private readonly multi: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | null = null;
  private readonly rate = new Rate();
  constructor(
    out: NodeJS.WritableStream,
    label: string,
    private readonly unit: string,
  ) {
    this.multi = new cliProgress.MultiBar(
      {
        stream: out,
        format: `${label} {bar} {value}/{total}{epoch} loss {loss} acc {acc} sparsity {sparsity} {rate} ETA {eta2}`,
        barsize: 16,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        fps: 5,
        // Print even when the stream is not a terminal (the user asked for a bar).
        noTTYOutput: true,
        notTTYSchedule: 2000,
      },
      cliProgress.Presets.shades_classic,
    );
  }
  private payload(s: ProgressState) {
    const f = fields(s, this.rate.perSecond, this.unit);
    const tight = (p: string) => p.replace(' %', '%');
    return { epoch: f.epoch ? ` ${f.epoch.replace('epoch', 'ep')}` : '', loss: f.loss, acc: tight(f.acc), sparsity: tight(f.sparsity), rate: f.rate, eta2: f.eta };
  }
  start(s: ProgressState): void {
    this.rate.reset();
    this.rate.add(s.step);
    this.bar?.stop();
    this.bar = this.multi.create(s.total, s.step, this.payload(s));
  }
  update(s: ProgressState): void {
    this.rate.add(s.step);
    if (!this.bar) return this.start(s);
    this.bar.setTotal(s.total);
    this.bar.update(s.step, this.payload(s));
  }
  note(line: string): void {
    this.multi.log(line + '\n');
    // Flush now (the buffer is otherwise written at the next redraw, and dropped by stop()).
    (this.multi as unknown as { update(): void }).update();
  }
  stop(): void {
    if (!this.bar) return;
    this.multi.stop();
    this.bar = null;
  }
}

/**
 * A progress reporter. `auto` = a bar when `out` is a terminal, plain lines otherwise.
 * `label` starts each line (`train`, `eval`); `unit` names the rate (`steps`, `batches`).
 */
export function makeProgress(
  mode: ProgressMode,
  opts: { label: string; unit: string; out?: NodeJS.WritableStream & { isTTY?: boolean }; intervalMs?: number },
): Progress {
  const out = opts.out ?? process.stderr;
  const m = mode === 'auto' ? (out.isTTY ? 'bar' : 'plain') : mode;
  if (m === 'none') return new NoProgress();
  if (m === 'bar') return new BarProgress(out, opts.label, opts.unit);
  return new PlainProgress(out, opts.label, opts.unit, opts.intervalMs ?? 10_000);
}
