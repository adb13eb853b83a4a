/**
 * @file Elementwise and reduction throughput (GB/s) at 1M-64M elements, against the copy
 * ceiling measured in the same run and against a one-f32-per-item copy (the naive baseline).
 */
import { gbPerS, type BenchRow, type BenchSuite } from '../harness.js';
import { ceilingKernel } from '../ceilings.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randn } from '../../src/ops/creation.js';
import { binary, unary } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';

const suite: BenchSuite = {
  name: 'elementwise',
  async run(ctx) {
    const rows: BenchRow[] = [];
    // Up to 64M elements, capped by the adapter's storage binding limit (128 MiB = 32M f32 on lavapipe).
    const cap = Math.floor(ctx.device.limits.maxStorageBufferBindingSize / 4);
    const sizes = (ctx.quick ? [1 << 20, 1 << 22] : [1 << 20, 1 << 22, 1 << 24, 1 << 26]).filter((n) => n <= cap);
    for (const n of sizes) {
      const x = randn([n], { seed: 1, device: ctx.device });
      const y = randn([n], { seed: 2, device: ctx.device });
      const naive = Tensor.empty(ctx.device, [n], 'f32', 'bench');
      const copyMs = await ctx.time(() =>
        ctx.device.dispatch({
          kernel: ceilingKernel(ctx.device),
          entry: 'copy_naive',
          label: 'copy_naive',
          bindings: { x: x.binding('bench'), out: naive.binding('bench') },
          params: { n },
          workgroups: [Math.min(65535, Math.ceil(n / 256))],
        }),
      );
      const row = (name: string, ms: number, bytes: number): BenchRow => ({
        suite: 'elementwise',
        name,
        shape: `${n}`,
        medianMs: ms,
        gbps: gbPerS(bytes, ms),
        pctCeiling: (100 * gbPerS(bytes, ms)) / ctx.ceilings.gbps,
        xBaseline: copyMs / ms * (bytes / (8 * n)),
        baseline: 'f32 copy',
      });
      rows.push(row('copy f32 (baseline)', copyMs, 8 * n));
      const cases: [string, () => Tensor, number][] = [
        ['exp', () => unary('exp', x), 8 * n],
        ['gelu', () => unary('gelu', x), 8 * n],
        ['add', () => binary('add', x, y), 12 * n],
        ['mul scalar', () => binary('mul', x, 2), 8 * n],
        ['sum (all)', () => sum(x), 4 * n],
        ['sum rows [n/1024, 1024]', () => sum(x.reshape([n / 1024, 1024]), 1), 4 * n],
        ['sum cols [n/1024, 1024]', () => sum(x.reshape([n / 1024, 1024]), 0), 4 * n],
        ['sum short rows [n/8, 8]', () => sum(x.reshape([n / 8, 8]), 1), 4 * n],
      ];
      for (const [name, f, bytes] of cases) {
        // Disposing at once lets the pool hand the same buffer to the next launch (dispatches
        // run in order), as a training step would; fresh buffers would time page faults.
        const ms = await ctx.time(() => f().dispose());
        rows.push(row(name, ms, bytes));
      }
      for (const t of [x, y, naive]) t.dispose();
    }
    return rows;
  },
};
export default suite;
