/**
 * @file Narrow products (fewer than 16 columns: a classifier head, a matrix-vector product) on
 * the narrow register tile (`REG_NARROW`, 128 x 16 per workgroup) against `REG_4X4` (32 x 32),
 * against `REG_4X4` again (the control: the same pipeline timed twice) and against the
 * selector's pick, interleaved in one process (bench/harness.ts `timeInterleaved`). Prints each
 * shape's median ms and REG_4X4 / each other; the selector takes REG_NARROW below `NARROW_COLS`
 * columns, and the last shapes (16 columns) show why not at 16: the packed kernel's.
 *   npx tsx bench/ab-matmul-narrow.ts [--quick]
 */
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { chooseMatmulConfig, matmul } from '../src/ops/matmul.js';
import { randn } from '../src/ops/creation.js';
import { REG_4X4, REG_NARROW, configKey, type MatmulConfig } from '../src/ops/matmul-select.js';
import { timeInterleaved } from './harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const dev = await ws.init();
// the control is REG_4X4's pipeline under a copy of its config (a distinct object, the same key)
const configs: [string, MatmulConfig | undefined][] = [['reg 4x4', REG_4X4], ['narrow', REG_NARROW], ['reg 4x4 (control)', { ...REG_4X4 }], ['selector', undefined]];
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
    { name: `[${S}] 256x64 @ 64x16`, a: [S, 256, 64], b: [S, 64, 16] },
  );
}
console.log(`configs: ${configs.map(([n, c]) => `${n} = ${c ? configKey(c) : 'selectMatmul'}`).join('; ')}`);
console.log(`${'shape'.padEnd(40)} ${configs.map(([n]) => n.padStart(18)).join('')}   reg 4x4 / narrow, / control, / selector (its pick)`);
for (const s of shapes) {
  const a = randn(s.a, { seed: 1 });
  const b = randn(s.b, { seed: 2 });
  const r = await timeInterleaved(dev, configs.map(([, config]) => () => matmul(a, b, { transA: s.transA, config }).dispose()), {
    minRounds: values.quick ? 7 : 15, maxTimeS: values.quick ? 2 : 5,
  });
  const ms = r.medians.map((m) => `${m.toFixed(3)} ms`.padStart(18)).join('');
  const ratios = r.medians.slice(1).map((m) => `${(r.medians[0] / m).toFixed(2)}x`).join(', ');
  const pick = configKey(chooseMatmulConfig(dev, { M: s.a[s.transA ? 2 : 1], N: s.b[2], K: s.a[s.transA ? 1 : 2], batch: s.a[0], transA: !!s.transA, transB: false }));
  console.log(`${s.name.padEnd(40)} ${ms}   ${ratios} (${pick})`);
  a.dispose();
  b.dispose();
}
ws.shutdown();
