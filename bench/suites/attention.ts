/**
 * @file Scaled dot-product attention: fused (online softmax, no T x T scores) against the
 * composed path (batched matmul + mask + softmax + matmul), forward and forward + backward, at
 * d_model 64..1024 (head dim 64, H = d_model / 64, batch 1) and T = 128..1024, plus the issue's
 * target shape B*H = 8, T = 256, D = 64 (causal and not). FLOPs count the matmuls of the math:
 * forward 4*pairs*D (pairs = visible (query, key) pairs), forward + backward 3x that.
 *   npx tsx bench/run.ts --suite attention [--quick]
 */
import type { BenchRow, BenchSuite } from '../harness.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { randn } from '../../src/ops/creation.js';
import {
  attentionBackward, attentionComposed, attentionComposedBackward, attentionFlops, attentionForward,
} from '../../src/ops/attention.js';

const HEAD_DIM = 64;

const suite: BenchSuite = {
  name: 'attention',
  async run(ctx) {
    const rows: BenchRow[] = [];
    // [B, H, T, causal]: the target shape first.
    const shapes: [number, number, number, boolean][] = [[1, 8, 256, true], [1, 8, 256, false]];
    const models = ctx.quick ? [64] : [64, 256, 1024];
    const lengths = ctx.quick ? [128] : [128, 256, 512, 1024];
    for (const dm of models) for (const T of lengths) shapes.push([1, dm / HEAD_DIM, T, true]);
    const opt = { maxTimeS: ctx.quick ? 0.5 : 1, minSamples: 3 };
    for (const [B, H, T, causal] of shapes) {
      const shape = [B, H, T, HEAD_DIM];
      const q = randn(shape, { seed: 1, device: ctx.device });
      const k = randn(shape, { seed: 2, device: ctx.device });
      const v = randn(shape, { seed: 3, device: ctx.device });
      const dout = randn(shape, { seed: 4, device: ctx.device });
      const opts = { causal, scale: 1 / HEAD_DIM };
      const time = async (f: () => Tensor[]) => {
        const live: Tensor[] = [];
        const ms = await ctx.time(() => void live.push(...f()), opt);
        for (const t of live) t.dispose();
        return ms;
      };
      const fusedFwd = await time(() => {
        const { out, lse } = attentionForward(q, k, v, opts);
        return [out, lse];
      });
      const composedFwd = await time(() => {
        const { out, probs } = attentionComposed(q, k, v, opts);
        return [out, probs];
      });
      const fusedAll = await time(() => {
        const { out, lse } = attentionForward(q, k, v, opts);
        const g = attentionBackward(q, k, v, out, lse, dout, opts);
        return [out, lse, g.dq, g.dk, g.dv];
      });
      const composedAll = await time(() => {
        const { out, probs } = attentionComposed(q, k, v, opts);
        const g = attentionComposedBackward(q, k, v, probs, dout, opts);
        return [out, probs, g.dq, g.dk, g.dv];
      });
      const flops = attentionFlops(B * H, T, T, HEAD_DIM, causal);
      const label = `B${B} H${H} T${T} D${HEAD_DIM}${causal ? ' causal' : ''}`;
      const row = (name: string, ms: number, f: number, baseMs?: number): BenchRow => {
        const gflops = f / (ms * 1e6);
        return {
          suite: 'attention', name, shape: label, medianMs: ms, gflops, pctCeiling: (100 * gflops) / ctx.ceilings.gflops,
          xBaseline: baseMs === undefined ? undefined : baseMs / ms, baseline: baseMs === undefined ? undefined : 'composed',
        };
      };
      rows.push(row('forward fused', fusedFwd, flops, composedFwd));
      rows.push(row('forward composed (baseline)', composedFwd, flops));
      rows.push(row('fwd+bwd fused', fusedAll, 3 * flops, composedAll));
      rows.push(row('fwd+bwd composed (baseline)', composedAll, 3 * flops));
      for (const t of [q, k, v, dout]) t.dispose();
    }
    return rows;
  },
};
export default suite;
