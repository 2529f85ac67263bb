import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { PRESETS, loadPreset, PARAMETER_NAMES, PARAMETERS } from '../hardware/index.js';
import { si, memory } from '../hardware/format.js';
it('gen', () => {
  const ps = PRESETS.map(loadPreset);
  const units: Record<string,string> = { B: 'B', bit: 'bit', J: 'J', 's': 's', 'B/s': 'B/s', W: 'W' };
  let md = '| parameter | unit | ' + PRESETS.join(' | ') + ' |\n|---|---|' + PRESETS.map(() => '---').join('|') + '|\n';
  md += '| topology | | ' + ps.map((p) => p.topology).join(' | ') + ' |\n';
  for (const k of PARAMETER_NAMES) {
    const u = PARAMETERS[k].unit;
    md += `| \`${k}\` | ${u} | ` + ps.map((p) => { const v = p.params[k]; const txt = u === 'B' ? memory(v.value) : units[u] ? si(v.value, u) : String(v.value); return v.assumption ? `${txt} **A**` : txt; }).join(' | ') + ' |\n';
  }
  md += '\n';
  for (const p of ps) {
    md += `**${p.name}** — ${p.description}. Topology: ${p.topologySource}.\n\n`;
    for (const k of PARAMETER_NAMES) { const v = p.params[k]; md += `- \`${k}\`${v.assumption ? ' (assumption)' : ''}: ${v.source}\n`; }
    md += '\n';
  }
  writeFileSync('/tmp/presets-table.md', md);
});
