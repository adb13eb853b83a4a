/**
 * @file conv2d throughput at CNN layer shapes: batch 8, 32x32 inputs, 3x3 kernels, padding 1,
 * widths 16..256 channels (Cin = Cout), forward, grad-input and grad-weight; against the FMA
 * ceiling of this run and the direct (one invocation per output) baseline kernel. The target
 * shape (64 -> 64) also times every implicit-GEMM tile configuration (the autotuner's choices).
 * Depthwise 3x3 rows (groups = C, conv2d_grouped.wgsl) at 64 and 256 channels (64 with --quick)
 * also give GB/s (each operand read once, the result written once): they are memory-bound.
 *   npx tsx bench/run.ts --suite conv2d [--quick]
 */
import type { BenchContext, BenchRow, BenchSuite } from '../harness.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { randn } from '../../src/ops/creation.js';
import {
  conv2d, conv2dFlops, conv2dGeometry, conv2dGradInput, conv2dGradWeight, CONV2D_TILES, conv2dKernelName, type Conv2dOptions,
} from '../../src/ops/conv2d.js';

/** The direct baseline is slow: time it only up to this width. */
const MAX_BASELINE_WIDTH = 64;
const N = 8;
const HW = 32;

type Timer = (f: () => Tensor) => Promise<number>;

/** Median ms of `f` (its outputs disposed after timing). */
function timer(ctx: BenchContext): Timer {
  return async (f) => {
    const live: Tensor[] = [];
    const ms = await ctx.time(() => void live.push(f()), { maxTimeS: ctx.quick ? 0.5 : 1.5 });
    for (const t of live) t.dispose();
    return ms;
  };
}

/** Depthwise 3x3, padding 1, C -> C (groups = C): forward, grad-input, grad-weight. */
async function depthwiseRows(ctx: BenchContext, time: Timer): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of ctx.quick ? [64] : [64, 256]) {
    const xShape = [N, HW, HW, c];
    const wShape = [3, 3, 1, c];
    const opts: Conv2dOptions = { padding: 1, groups: c };
    const g = conv2dGeometry('bench', xShape, wShape, opts);
    const x = randn(xShape, { seed: 1, device: ctx.device });
    const w = randn(wShape, { seed: 2, device: ctx.device });
    const dy = randn([N, g.OH, g.OW, c], { seed: 3, device: ctx.device });
    const act = N * HW * HW * c;
    const cases: [string, () => Tensor][] = [
      ['forward', () => conv2d(x, w, null, opts)],
      ['grad-input', () => conv2dGradInput(dy, w, xShape, opts)],
      ['grad-weight', () => conv2dGradWeight(x, dy, wShape, opts)],
    ];
    for (const [name, f] of cases) {
      const ms = await time(f);
      const gflops = conv2dFlops(g) / (ms * 1e6);
      // bytes: two activation-sized operands and the weight (read or written once each)
      const gbps = (4 * (2 * act + 9 * c)) / (ms * 1e6);
      rows.push({
        suite: 'conv2d', name: `depthwise ${name} ${conv2dKernelName(ctx.device, g, 'fwd')}`,
        shape: `${N}x${HW}x${HW}x${c} * 3x3x1x${c} groups ${c}`, medianMs: ms, gflops, gbps,
        pctCeiling: (100 * gflops) / ctx.ceilings.gflops, extra: { pctCopyCeiling: (100 * gbps) / ctx.ceilings.gbps },
      });
    }
    for (const t of [x, w, dy]) t.dispose();
  }
  return rows;
}

const suite: BenchSuite = {
  name: 'conv2d',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const widths = ctx.quick ? [16, 64] : [16, 32, 64, 128, 256];
    const time = timer(ctx);
    for (const c of widths) {
      const xShape = [N, HW, HW, c];
      const wShape = [3, 3, c, c];
      const opts: Conv2dOptions = { padding: 1 };
      const g = conv2dGeometry('bench', xShape, wShape, opts);
      const flops = conv2dFlops(g);
      const x = randn(xShape, { seed: 1, device: ctx.device });
      const w = randn(wShape, { seed: 2, device: ctx.device });
      const dy = randn([N, g.OH, g.OW, c], { seed: 3, device: ctx.device });
      const shape = `${N}x${HW}x${HW}x${c} * 3x3x${c}x${c}`;
      const cases: [string, 'fwd' | 'dgrad' | 'wgrad', (o: Conv2dOptions) => Tensor][] = [
        ['forward', 'fwd', (o) => conv2d(x, w, null, o)],
        ['grad-input', 'dgrad', (o) => conv2dGradInput(dy, w, xShape, o)],
        ['grad-weight', 'wgrad', (o) => conv2dGradWeight(x, dy, wShape, o)],
      ];
      for (const [name, entry, f] of cases) {
        const kernel = conv2dKernelName(ctx.device, g, entry);
        const ms = await time(() => f(opts));
        const baseMs = c <= MAX_BASELINE_WIDTH ? await time(() => f({ ...opts, impl: 'direct' })) : undefined;
        const gflops = flops / (ms * 1e6);
        rows.push({
          suite: 'conv2d', name: `${name} ${kernel}`, shape, medianMs: ms, gflops,
          pctCeiling: (100 * gflops) / ctx.ceilings.gflops,
          xBaseline: baseMs === undefined ? undefined : baseMs / ms, baseline: 'direct',
        });
        if (baseMs !== undefined) {
          const bg = flops / (baseMs * 1e6);
          rows.push({ suite: 'conv2d', name: `${name} direct (baseline)`, shape, medianMs: baseMs, gflops: bg, pctCeiling: (100 * bg) / ctx.ceilings.gflops });
        }
        if (kernel === 'shuffle') {
          // The register-tiled kernel the shuffle one replaces, in the same run.
          const igemmMs = await time(() => f({ ...opts, impl: 'igemm' }));
          const ig = flops / (igemmMs * 1e6);
          rows.push({
            suite: 'conv2d', name: `${name} igemm (register tiles, replaced)`,
            shape, medianMs: igemmMs, gflops: ig, pctCeiling: (100 * ig) / ctx.ceilings.gflops,
          });
        }
      }
      if (c === 64) {
        for (const tile of CONV2D_TILES) {
          const ms = await time(() => conv2d(x, w, null, { ...opts, tile }));
          const gflops = flops / (ms * 1e6);
          rows.push({ suite: 'conv2d', name: `forward tile ${tile.tm}x${tile.tn}`, shape, medianMs: ms, gflops, pctCeiling: (100 * gflops) / ctx.ceilings.gflops });
        }
      }
      for (const t of [x, w, dy]) t.dispose();
    }
    rows.push(...(await depthwiseRows(ctx, time)));
    return rows;
  },
};
export default suite;
