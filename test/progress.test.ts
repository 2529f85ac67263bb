import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressLine } from '../cli/progress-line.js';
import { makeProgress } from '../cli/progress.js';

const STATE = { step: 1234, total: 3750, epoch: 1, epochs: 2, loss: 0.1234, accuracy: 0.974, sparsity: 0.782 };
const RATE = 12.3; // steps per second → ETA 3m25s
const BAR = { label: 'train', unit: 'steps', barCells: 16, separator: ' ' };
const PLAIN = { label: 'train', unit: 'steps', barCells: 0, separator: '  ' };

describe('progress line fitted to the terminal width', () => {
  it('shows every field when there is room', () => {
    const line = progressLine(STATE, RATE, PLAIN);
    expect(line).toBe('train 1234/3750  epoch 1/2  loss 0.1234  acc 97.4 %  sparsity 78.2 %  12.3 steps/s  ETA 3m25s');
  });

  it('at 80 columns drops the rate and sparsity, keeps the bar, step, loss, accuracy and ETA', () => {
    const line = progressLine(STATE, RATE, BAR, 80);
    expect(line.length).toBeLessThanOrEqual(80);
    expect(line).toMatch(/^train [█░]{16} 1234\/3750 ep 1\/2 loss 0\.1234 acc 97\.4% ETA 3m25s$/);
  });

  it('at 60 columns also drops the epoch and the bar; never cuts a field', () => {
    const bar = progressLine(STATE, RATE, BAR, 60);
    expect(bar).toBe('train 1234/3750 loss 0.1234 acc 97.4% ETA 3m25s');
    const plain = progressLine(STATE, RATE, PLAIN, 60);
    expect(plain).toBe('train 1234/3750  loss 0.1234  acc 97.4 %  ETA 3m25s');
  });

  it('below the essentials the label and step count stay whole', () => {
    expect(progressLine(STATE, RATE, BAR, 10)).toBe('train 1234/3750');
  });

  function captured(columns: number) {
    const out = Object.assign(new PassThrough(), { columns, isTTY: false });
    let text = '';
    out.on('data', (d: Buffer) => (text += String(d)));
    return { out, text: () => text };
  }

  it.each([80, 60])('plain lines on a %i-column terminal fit it', (columns) => {
    const sink = captured(columns);
    const p = makeProgress('plain', { label: 'train', unit: 'steps', out: sink.out, intervalMs: 0 });
    p.start({ ...STATE, step: 0 });
    p.update(STATE);
    const lines = sink.text().trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(l.length).toBeLessThanOrEqual(columns);
      expect(l).toMatch(/^train 1234\/3750 .*loss 0\.1234 {2}acc 97\.4 % .*ETA /);
    }
  });

  it.each([80, 60])('the bar on a %i-column terminal fits it', (columns) => {
    const sink = captured(columns);
    const p = makeProgress('bar', { label: 'train', unit: 'steps', out: sink.out });
    p.start({ ...STATE, step: 0 });
    p.update(STATE);
    p.stop();
    // Cursor moves and line clears become line breaks; what is left are the drawn lines.
    const lines = sink.text().replace(/\x1b\[[0-9;]*[A-Za-z]/g, '\n').split(/[\r\n]+/).filter((l) => l.startsWith('train'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.length).toBeLessThan(columns);
    expect(lines.at(-1)).toMatch(/1234\/3750 .*loss 0\.1234 acc 97\.4% ETA /);
  });
});
