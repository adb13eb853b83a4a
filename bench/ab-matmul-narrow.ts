/**
 * @file Narrow products (fewer than 16 columns: a classifier head, a matrix-vector product) on
 * the narrow register tile (`REG_NARROW`, 128 x 16 per workgroup) against `REG_4X4` (32 x 32)
 * and against `REG_4X4` again under its own key (the control: the same pipeline timed twice),
 * interleaved in one process (bench/harness.ts `timeInterleaved`). Prints each shape's median
 * ms and REG_4X4 / config per shape; the selector takes REG_NARROW below `NARROW_COLS` columns.
 *   npx tsx bench/ab-matmul-narrow.ts [--quick]
 */
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { matmul } from '../src/ops/matmul.js';
import { randn } from '../src/ops/creation.js';
import { REG_4X4, REG_NARROW, configKey, type MatmulConfig } from '../src/ops/matmul-select.js';
import { timeInterleaved } from './harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const dev = await ws.init();
// the control is REG_4X4's pipeline under a copy of its config (a distinct object, the same key)
const configs: [string, MatmulConfig][] = [['reg 4x4', REG_4X4], ['narrow', REG_NARROW], ['reg 4x4 (control)', { ...REG_4X4 }]];
const shapes: { name: string; a: number[]; b: number[]; transA?: boolean }[] = [];
for (const S of values.quick ? [8] : [8, 1]) {
  shapes.push(
    { name: `[${S}] 256x64 @ 64x10 (MLP head fwd)`, a: [S, 256, 64], b: [S, 64, 10] },
    { name: `[${S}] (256x64)^T @ 256x10 (its dW)`, a: [S, 256, 64], b: [S, 256, 10], transA: true },
    { name: `[${S}] 256x128 @ 128x10`, a: [S, 256, 128], b: [S, 128, 10] },
    { name: `[${S}] 256x64 @ 64x1 (matrix-vector)`, a: [S, 256, 64], b: [S, 64, 1] },
    { name: `[${S}] (256x64)^T @ 256x3`, a: [S, 256, 64], b: [S, 256, 3], transA: true },
    { name: `[${S}] 32x16 @ 16x10 (CNN head fwd)`, a: [S, 32, 16], b: [S, 16, 10] },
    { name: `[${S}] 1000x300 @ 300x5`, a: [S, 1000, 300], b: [S, 300, 5] },
  );
}
console.log(`configs: ${configs.map(([n, c]) => `${n} = ${configKey(c)}`).join('; ')}`);
console.log(`${'shape'.padEnd(40)} ${configs.map(([n]) => n.padStart(18)).join('')}   reg 4x4 / narrow, / control`);
for (const s of shapes) {
  const a = randn(s.a, { seed: 1 });
  const b = randn(s.b, { seed: 2 });
  const r = await timeInterleaved(dev, configs.map(([, config]) => () => matmul(a, b, { transA: s.transA, config }).dispose()), {
    minRounds: values.quick ? 7 : 15, maxTimeS: values.quick ? 2 : 5,
  });
  const ms = r.medians.map((m) => `${m.toFixed(3)} ms`.padStart(18)).join('');
  console.log(`${s.name.padEnd(40)} ${ms}   ${(r.medians[0] / r.medians[1]).toFixed(2)}x, ${(r.medians[0] / r.medians[2]).toFixed(2)}x`);
  a.dispose();
  b.dispose();
}
ws.shutdown();
