/**
 * @file Two register-tile choices of the selector on a CPU adapter, each against `REG_4X4` (the
 * register default), against `REG_4X4` again (the control: the same pipeline timed twice) and
 * against the selector's pick, interleaved in one process (bench/harness.ts `timeInterleaved`):
 * - narrow products (fewer than `NARROW_COLS` columns: a classifier head, a matrix-vector
 *   product) on `REG_NARROW` (128 x 16 per workgroup); the 16-column shapes show why not at 16:
 *   the packed kernel's;
 * - short products (K below `SHORT_K`: an MLP readout's input gradient, g W^T over 10 classes)
 *   on `REG_8X8`.
 * Prints each shape's median ms and REG_4X4 / each other.
 *   npx tsx bench/ab-matmul-narrow.ts [--quick]
 */
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { chooseMatmulConfig, matmul } from '../src/ops/matmul.js';
import { randn } from '../src/ops/creation.js';
import { REG_4X4, REG_8X8, REG_NARROW, configKey, type MatmulConfig } from '../src/ops/matmul-select.js';
import { timeInterleaved } from './harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const dev = await ws.init();
// the control is REG_4X4's pipeline under a copy of its config (a distinct object, the same key)
const control = { ...REG_4X4 };
interface Shape { name: string; a: number[]; b: number[]; transA?: boolean; transB?: boolean }
const narrow: Shape[] = [];
const short: Shape[] = [];
for (const S of values.quick ? [8] : [8, 1]) {
  narrow.push(
    { name: `[${S}] 256x64 @ 64x10 (MLP head fwd)`, a: [S, 256, 64], b: [S, 64, 10] },
    { name: `[${S}] (256x64)^T @ 256x10 (its dW)`, a: [S, 256, 64], b: [S, 256, 10], transA: true },
    { name: `[${S}] 256x128 @ 128x10`, a: [S, 256, 128], b: [S, 128, 10] },
    { name: `[${S}] 256x64 @ 64x1 (matrix-vector)`, a: [S, 256, 64], b: [S, 64, 1] },
    { name: `[${S}] (256x64)^T @ 256x3`, a: [S, 256, 64], b: [S, 256, 3], transA: true },
    { name: `[${S}] 32x16 @ 16x10 (CNN head fwd)`, a: [S, 32, 16], b: [S, 16, 10] },
    { name: `[${S}] 1000x300 @ 300x5`, a: [S, 1000, 300], b: [S, 300, 5] },
    { name: `[${S}] 256x64 @ 64x16`, a: [S, 256, 64], b: [S, 64, 16] },
  );
  short.push(
    { name: `[${S}] 256x10 @ (64x10)^T (MLP head dX)`, a: [S, 256, 10], b: [S, 64, 10], transB: true },
    { name: `[${S}] 256x10 @ (256x10)^T`, a: [S, 256, 10], b: [S, 256, 10], transB: true },
    { name: `[${S}] 1024x10 @ (64x10)^T`, a: [S, 1024, 10], b: [S, 64, 10], transB: true },
    { name: `[${S}] 256x10 @ (32x10)^T`, a: [S, 256, 10], b: [S, 32, 10], transB: true },
    { name: `[${S}] 256x3 @ (64x3)^T`, a: [S, 256, 3], b: [S, 64, 3], transB: true },
    { name: `[${S}] 256x10 @ 10x64`, a: [S, 256, 10], b: [S, 10, 64] },
  );
}

async function table(title: string, contender: [string, MatmulConfig], shapes: Shape[]): Promise<void> {
  const configs: [string, MatmulConfig | undefined][] = [['reg 4x4', REG_4X4], contender, ['reg 4x4 (control)', control], ['selector', undefined]];
  console.log(`${title}: ${configs.map(([n, c]) => `${n} = ${c ? configKey(c) : 'selectMatmul'}`).join('; ')}`);
  console.log(`${'shape'.padEnd(40)} ${configs.map(([n]) => n.padStart(18)).join('')}   reg 4x4 / ${contender[0]}, / control, / selector (its pick)`);
  for (const s of shapes) {
    const a = randn(s.a, { seed: 1 });
    const b = randn(s.b, { seed: 2 });
    const r = await timeInterleaved(dev, configs.map(([, config]) => () => matmul(a, b, { transA: s.transA, transB: s.transB, config }).dispose()), {
      minRounds: values.quick ? 7 : 15, maxTimeS: values.quick ? 2 : 5,
    });
    const ms = r.medians.map((m) => `${m.toFixed(3)} ms`.padStart(18)).join('');
    const ratios = r.medians.slice(1).map((m) => `${(r.medians[0] / m).toFixed(2)}x`).join(', ');
    const [M, K] = s.transA ? [s.a[2], s.a[1]] : [s.a[1], s.a[2]];
    const N = s.transB ? s.b[1] : s.b[2];
    const pick = configKey(chooseMatmulConfig(dev, { M, N, K, batch: s.a[0], transA: !!s.transA, transB: !!s.transB }));
    console.log(`${s.name.padEnd(40)} ${ms}   ${ratios} (${pick})`);
    a.dispose();
    b.dispose();
  }
}

await table('narrow products', ['narrow', REG_NARROW], narrow);
await table('short products', ['reg 8x8', REG_8X8], short);
ws.shutdown();
