/**
 * @file Tabulates the reliability catalogue's outcomes per area: clear, unclear, silent, crash
 * for error cases, held / failed for fault cases. Usage:
 *   rm -rf /tmp/cat && WIDTHSCOPE_CATALOGUE_OUT=/tmp/cat npx vitest run test/reliability
 *   npx tsx test/reliability/counts.ts /tmp/cat
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: tsx test/reliability/counts.ts <WIDTHSCOPE_CATALOGUE_OUT dir>');
  process.exit(2);
}
const cols = ['clear', 'unclear', 'silent', 'crash', 'ok', 'failed'] as const;
const rows = new Map<string, Record<string, number>>();
for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
  for (const line of readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { area: string; outcome: string };
    const row = rows.get(r.area) ?? Object.fromEntries(cols.map((c) => [c, 0]));
    row[r.outcome]++;
    rows.set(r.area, row);
  }
}
const total: Record<string, number> = Object.fromEntries(cols.map((c) => [c, 0]));
console.log(`| area | ${cols.map((c) => (c === 'ok' ? 'faults held' : c === 'failed' ? 'faults failed' : c)).join(' | ')} |`);
console.log(`|---|${cols.map(() => '---').join('|')}|`);
for (const [area, row] of rows) {
  for (const c of cols) total[c] += row[c];
  console.log(`| ${area} | ${cols.map((c) => row[c]).join(' | ')} |`);
}
console.log(`| all | ${cols.map((c) => total[c]).join(' | ')} |`);
