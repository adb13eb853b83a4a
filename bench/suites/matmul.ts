/**
 * @file Matmul throughput (GFLOP/s) at the shapes width sweeps use: MLP layers [256, w] x [w, w]
 * for w = 64 ... 4096 (forward, and the backward shapes dX = dY W^T and dW = X^T dY), squares
 * 256 ... 2048, and the kernel ladder (naive, workgroup-memory tiled, register blocked) at one
 * size; against the FMA ceiling of this run and against the naive kernel on the same shape
 * (measured only where it finishes in reasonable time; otherwise the x-baseline cell is blank).
 */
import type { BenchContext, BenchRow, BenchSuite } from '../harness.js';
import { randn } from '../../src/ops/creation.js';
import { matmul, tuneMatmul } from '../../src/ops/matmul.js';
import { configureAutotune, defaultCacheDir } from '../../src/ops/autotune.js';
import {
  NAIVE, PACKED_16, PACKED_32, REG_4X4, REG_8X8, TILED_64, configKey, matmulTraits, selectMatmul, type MatmulConfig,
} from '../../src/ops/matmul-select.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/** The naive kernel is timed only up to this many flops per launch (~1-2 s on lavapipe). */
const NAIVE_MAX_FLOPS = 2.2e9;
const NAIVE_MAX_FLOPS_QUICK = 3e8;

interface Case {
  name: string;
  /** [rows, cols] of the stored A and B. */
  a: [number, number];
  b: [number, number];
  transA?: boolean;
  transB?: boolean;
  M: number;
  N: number;
  K: number;
}

/** Forward and backward shapes of y = x W with x [batch, w], W [w, w]. */
function mlpCases(batch: number, w: number): Case[] {
  return [
    { name: `mlp fwd y=xW w=${w}`, a: [batch, w], b: [w, w], M: batch, N: w, K: w },
    { name: `mlp bwd dx=dy W^T w=${w}`, a: [batch, w], b: [w, w], transB: true, M: batch, N: w, K: w },
    { name: `mlp bwd dW=x^T dy w=${w}`, a: [batch, w], b: [batch, w], transA: true, M: w, N: w, K: batch },
  ];
}

function squareCases(n: number): Case[] {
  return [
    { name: `square ${n}^3`, a: [n, n], b: [n, n], M: n, N: n, K: n },
    { name: `square ${n}^3 A^T B`, a: [n, n], b: [n, n], transA: true, M: n, N: n, K: n },
    { name: `square ${n}^3 A B^T`, a: [n, n], b: [n, n], transB: true, M: n, N: n, K: n },
  ];
}

async function timeCase(ctx: BenchContext, c: Case, a: Tensor, b: Tensor, config: MatmulConfig): Promise<number> {
  const big = 2 * c.M * c.N * c.K > 4e9;
  return ctx.time(
    () => matmul(a, b, { transA: c.transA, transB: c.transB, config }).dispose(),
    big || config.kernel === 'naive' ? { minSamples: 2, maxTimeS: 0.5 } : undefined,
  );
}

const suite: BenchSuite = {
  name: 'matmul',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const device = ctx.device;
    const traits = matmulTraits(device);
    const naiveMax = ctx.quick ? NAIVE_MAX_FLOPS_QUICK : NAIVE_MAX_FLOPS;
    const shape = (c: Case) => `${c.M}x${c.K}x${c.N}${c.transA ? ' TN' : c.transB ? ' NT' : ''}`;
    const row = (name: string, c: Case, ms: number, naiveMs?: number, extra?: Record<string, string | number>): BenchRow => {
      const gflops = (2 * c.M * c.N * c.K) / (ms * 1e6);
      return {
        suite: 'matmul', name, shape: shape(c), medianMs: ms, gflops,
        pctCeiling: (100 * gflops) / ctx.ceilings.gflops,
        xBaseline: naiveMs === undefined ? undefined : naiveMs / ms,
        baseline: 'naive',
        extra: { ...(naiveMs === undefined ? { naive: 'n/a' } : {}), ...extra },
      };
    };
    const operands = (c: Case) => ({
      a: randn(c.a, { seed: 1, device }),
      b: randn(c.b, { seed: 2, device }),
    });

    // 1. The ladder at one size: what each version buys.
    const n = ctx.quick ? 512 : 1024;
    const lad: Case = { name: 'ladder', a: [n, n], b: [n, n], M: n, N: n, K: n };
    {
      const { a, b } = operands(lad);
      const naiveMs = await timeCase(ctx, lad, a, b, NAIVE);
      const ladder: [string, MatmulConfig][] = [
        ['ladder v1 naive', NAIVE],
        ['ladder v2 tiled (workgroup memory)', TILED_64],
        ['ladder v3 register 4x4', REG_4X4],
        ['ladder v3 register 8x8', REG_8X8],
        ...(traits.subgroups ? [
          ['ladder v4 packed + subgroup shuffle (16 rows)', PACKED_16],
          ['ladder v4 packed + subgroup shuffle (32 rows)', PACKED_32],
        ] as [string, MatmulConfig][] : []),
      ];
      for (const [name, cfg] of ladder) {
        const ms = cfg === NAIVE ? naiveMs : await timeCase(ctx, lad, a, b, cfg);
        rows.push(row(name, lad, ms, naiveMs, { config: configKey(cfg) }));
      }
      if (!ctx.quick) {
        // The autotuner's pick for this shape class (cached under the user's cache dir).
        configureAutotune(device, { enabled: true, dir: process.env.WIDTHSCOPE_CACHE_DIR ?? defaultCacheDir() });
        const tuned = await tuneMatmul(device, { M: n, N: n, K: n, batch: 1, transA: false, transB: false });
        const ms = await timeCase(ctx, lad, a, b, tuned.winner);
        rows.push(row('ladder autotuned', lad, ms, naiveMs, { config: configKey(tuned.winner) }));
        configureAutotune(device, {});
      }
      a.dispose();
      b.dispose();
    }

    // 2. Width sweep (MLP layers, batch 256) and squares, forward and backward shapes.
    const widths = ctx.quick ? [64, 256, 1024] : [64, 128, 256, 512, 1024, 2048, 4096];
    const squares = ctx.quick ? [256, 1024] : [256, 512, 1024, 2048];
    // an MLP's first layer on 784 inputs (MNIST), forward
    const first = (ctx.quick ? [64, 256] : [64, 128, 256, 1024]).map((w): Case => ({
      name: `mlp first layer y=xW 784->${w}`, a: [256, 784], b: [784, w], M: 256, N: w, K: 784,
    }));
    const cases = [...first, ...widths.flatMap((w) => mlpCases(256, w)), ...squares.flatMap(squareCases)];
    for (const c of cases) {
      const { a, b } = operands(c);
      const cfg = selectMatmul({ M: c.M, N: c.N, K: c.K, batch: 1, transA: !!c.transA, transB: !!c.transB }, traits);
      const ms = await timeCase(ctx, c, a, b, cfg);
      const naiveMs = 2 * c.M * c.N * c.K <= naiveMax ? await timeCase(ctx, c, a, b, NAIVE) : undefined;
      rows.push(row(c.name, c, ms, naiveMs, { config: configKey(cfg) }));
      a.dispose();
      b.dispose();
    }
    return rows;
  },
};
export default suite;
