/**
 * @file The packed kernel (`PACKED_32`) against register blocking (`REG_4X4`, `REG_8X8`) at the
 * small and medium shapes around the CPU selector's thresholds (`PACKED_MIN_MACS`,
 * `PACKED_ONE_PASS_MIN_MACS` in src/ops/matmul-select.ts), timed in turn in one run. Prints each
 * shape's median times, the median per-round ratio to the packed kernel, and what the selector
 * picks there.
 *
 *   npx tsx bench/ab-matmul-packed.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { init, shutdown } from '../src/index.js';
import { randn } from '../src/ops/creation.js';
import { matmul } from '../src/ops/matmul.js';
import { PACKED_32, REG_4X4, REG_8X8, configKey, matmulTraits, selectMatmul } from '../src/ops/matmul-select.js';
import { timeInterleaved, median } from './harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const dev = await init();
const traits = matmulTraits(dev);
if (!traits.subgroups) throw new Error('ab-matmul-packed: the packed kernel needs subgroups of at least 8 lanes');
console.log(`adapter: ${dev.describe()}`);

/** [batch, M, K, N, transB]: C[M, N] = A[M, K] B[K, N] (B stored [N, K] when transB). */
const shapes: [number, number, number, number, boolean][] = [
  [1, 32, 32, 32, false],
  [1, 64, 48, 40, true],
  [1, 64, 66, 64, false],
  [1, 16, 784, 32, false],
  [1, 64, 784, 32, false],
  [1, 128, 64, 64, true],
  [8, 64, 32, 32, true],
  [1, 256, 64, 64, true],
  [1, 256, 128, 128, false],
  [1, 256, 512, 512, false],
];
const configs = [PACKED_32, REG_4X4, REG_8X8];
console.log(`shape (batch x M x K x N)      MACs   ${configs.map((c) => configKey(c).padEnd(22)).join('')}selector`);
for (const [batch, M, K, N, transB] of shapes) {
  const lead = batch > 1 ? [batch] : [];
  const a = randn([...lead, M, K], { seed: 1, device: dev });
  const b = randn([...lead, ...(transB ? [N, K] : [K, N])], { seed: 2, device: dev });
  const got = await timeInterleaved(
    dev,
    configs.map((config) => () => matmul(a, b, { transB, config }).dispose()),
    { maxTimeS: values.quick ? 1 : 3 },
  );
  const picked = configKey(selectMatmul({ M, N, K, batch, transA: false, transB }, traits));
  const cells = configs.map((_, i) => `${got.medians[i].toFixed(3)} ms x${median(got.ratios[i]).toFixed(2)}`.padEnd(22));
  const shape = `${batch > 1 ? `[${batch}] ` : ''}${M} x ${K} x ${N}${transB ? ' NT' : ''}`;
  console.log(`${shape.padEnd(30)} ${String(batch * M * N * K).padStart(8)}  ${cells.join('')}${picked}`);
  a.dispose();
  b.dispose();
}
shutdown();
