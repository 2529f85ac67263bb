import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { compare, emulate, eventTraceFrom, formatComparison, formatReport } from '../hardware/index.js';
it('example', () => {
  const shape = { inputSize: 28, layers: [256, 256], classes: 10, readout: 'trace' as const };
  let x = 3;
  const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const trace = eventTraceFrom(shape, 100, 28, (_s, _t, l) => { const o: number[] = []; for (let u = 0; u < shape.layers[l]!; u++) if (rnd() < 0.05) o.push(u); return o; }, () => Math.floor(rnd() * 28));
  const a = formatReport(emulate(trace, 'loihi2', { coresPerChip: 2 }));
  const b = formatComparison(compare(trace, ['spinnaker1', 'spinnaker2', 'loihi1', 'loihi2', 'truenorth']));
  writeFileSync('/tmp/example.txt', a + '\n\n' + b + '\n');
});
