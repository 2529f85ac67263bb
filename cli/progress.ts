/**
 * Training and evaluation progress on stderr: a cli-progress bar on a terminal, plain periodic lines otherwise
 * (`--progress auto|bar|plain|none`). stdout stays free for results (tables, `--json`).
 */
import cliProgress from 'cli-progress';
import { type LineState, progressLine } from './progress-line.js';

export type ProgressMode = 'auto' | 'bar' | 'plain' | 'none';
export const PROGRESS_MODES: ProgressMode[] = ['auto', 'bar', 'plain', 'none'];

export type ProgressState = LineState;

/** Cells of the bar drawn in `bar` mode (dropped when the terminal is narrow). */
const BAR_CELLS = 16;

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
    private readonly out: NodeJS.WritableStream & { columns?: number },
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
    // A terminal's width when printing to one; a log file takes whole lines.
    const style = { label: this.label, unit: this.unit, barCells: 0, separator: '  ' };
    this.out.write(`${progressLine(s, this.rate.perSecond, style, this.out.columns)}\n`);
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
  constructor(out: NodeJS.WritableStream, label: string, unit: string) {
    const style = { label, unit, barCells: BAR_CELLS, separator: ' ' };
    this.multi = new cliProgress.MultiBar(
      {
        stream: out,
        // One column short of the width: a line that fills the last column wraps on some terminals.
        format: (_options, params, payload: { state: ProgressState; rate: number }) => progressLine(payload.state, payload.rate, style, params.maxWidth - 1),
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
    return { state: s, rate: this.rate.perSecond };
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
