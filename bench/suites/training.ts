/**
 * @file Training-kernel throughput (GB/s) against the copy ceiling measured in the same run and
 * an f32 copy of the same element count (the naive baseline): layerNorm forward/backward,
 * cross-entropy forward/backward, the embedding backward and fused Adam over an MLP's parameters.
 */
import { gbPerS, type BenchRow, type BenchSuite } from '../harness.js';
import { ceilingKernel } from '../ceilings.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { fromArray, randn } from '../../src/ops/creation.js';
import { layerNorm, layerNormBackward } from '../../src/ops/norm.js';
import { crossEntropy, crossEntropyBackward } from '../../src/ops/loss.js';
import { embeddingBackward } from '../../src/ops/embedding.js';
import { adamUpdate } from '../../src/ops/optim.js';
import { adamHyper, adamState } from '../../src/nn/optim.js';

const suite: BenchSuite = {
  name: 'training',
  async run(ctx) {
    const dev = ctx.device;
    const rows: BenchRow[] = [];
    const copyMsFor = async (n: number): Promise<number> => {
      const x = randn([n], { seed: 1, device: dev });
      const out = Tensor.empty(dev, [n], 'f32', 'bench');
      const ms = await ctx.time(() =>
        dev.dispatch({
          kernel: ceilingKernel(dev),
          entry: 'copy_naive',
          label: 'copy_naive',
          bindings: { x: x.binding('bench'), out: out.binding('bench') },
          params: { n },
          workgroups: [Math.min(65535, Math.ceil(n / 256))],
        }),
      );
      x.dispose();
      out.dispose();
      return ms;
    };
    const row = (name: string, shape: string, ms: number, bytes: number, n: number, copyMs: number): BenchRow => ({
      suite: 'training',
      name,
      shape,
      medianMs: ms,
      gbps: gbPerS(bytes, ms),
      pctCeiling: (100 * gbPerS(bytes, ms)) / ctx.ceilings.gbps,
      xBaseline: (copyMs / ms) * (bytes / (8 * n)),
      baseline: 'f32 copy',
    });

    const normShapes: [number, number][] = ctx.quick ? [[1024, 1024]] : [[16384, 64], [4096, 256], [4096, 1024], [256, 4096]];
    for (const [r, d] of normShapes) {
      const n = r * d;
      const copyMs = await copyMsFor(n);
      const x = randn([r, d], { seed: 3, device: dev });
      const dy = randn([r, d], { seed: 4, device: dev });
      const w = randn([d], { seed: 5, device: dev });
      const b = randn([d], { seed: 6, device: dev });
      const saved = layerNorm(x, d, w, b);
      saved.y.dispose();
      const shape = `[${r}, ${d}]`;
      const fwd = await ctx.time(() => {
        const o = layerNorm(x, d, w, b);
        for (const t of [o.y, o.mean, o.rstd]) t.dispose();
      });
      rows.push(row('layerNorm forward', shape, fwd, 8 * n, n, copyMs));
      const bwd = await ctx.time(() => {
        const g = layerNormBackward(dy, x, saved, d, w);
        for (const t of [g.dx, g.dweight, g.dbias]) t?.dispose();
      });
      // dx reads x, dy and writes dx; dweight/dbias read x and dy again.
      rows.push(row('layerNorm backward (dx, dw, db)', shape, bwd, 20 * n, n, copyMs));
      for (const t of [x, dy, w, b, saved.mean, saved.rstd]) t.dispose();
    }

    const ceShapes: [number, number][] = ctx.quick ? [[256, 4096]] : [[4096, 10], [512, 4096], [64, 50257]];
    for (const [r, c] of ceShapes) {
      const n = r * c;
      const copyMs = await copyMsFor(n);
      const x = randn([r, c], { seed: 7, device: dev });
      const labels = fromArray(Int32Array.from({ length: r }, (_, i) => (i * 7919) % c), [r], { device: dev });
      const one = fromArray([1], [1], { device: dev });
      const { loss, lse } = crossEntropy(x, labels);
      loss.dispose();
      const shape = `[${r}, ${c}]`;
      const fwd = await ctx.time(() => {
        const o = crossEntropy(x, labels);
        o.loss.dispose();
        o.lse.dispose();
      });
      rows.push(row('crossEntropy forward', shape, fwd, 4 * n, n, copyMs));
      const bwd = await ctx.time(() => crossEntropyBackward(one, x, labels, lse).dispose());
      rows.push(row('crossEntropy backward', shape, bwd, 8 * n, n, copyMs));
      for (const t of [x, labels, one, lse]) t.dispose();
    }

    const embCases: [number, number, number][] = ctx.quick ? [[1000, 128, 1024]] : [[1000, 128, 1024], [10000, 256, 4096]];
    for (const [vocab, d, nIdx] of embCases) {
      const n = nIdx * d;
      const copyMs = await copyMsFor(n);
      const dout = randn([nIdx, d], { seed: 8, device: dev });
      const idx = fromArray(Int32Array.from({ length: nIdx }, (_, i) => (i * 7919) % vocab), [nIdx], { device: dev });
      // counting: the one-lane counting sort (CPU adapters' default); sorted: the bitonic network (GPUs')
      for (const variant of ['counting', 'sorted'] as const) {
        const ms = await ctx.time(() => embeddingBackward(dout, idx, vocab, { variant }).dispose());
        rows.push(row(`embedding backward (${variant})`, `V=${vocab} D=${d} n=${nIdx}`, ms, 4 * (n + vocab * d), n, copyMs));
      }
      dout.dispose();
      idx.dispose();
    }

    const widths = ctx.quick ? [256] : [256, 1024, 2048];
    for (const wdt of widths) {
      // An MLP's parameters: in, two hidden and out layers with biases.
      const shapes = [[wdt, 784], [wdt], [wdt, wdt], [wdt], [wdt, wdt], [wdt], [10, wdt], [10]];
      const params = shapes.map((s, i) => randn(s, { seed: 10 + i, device: dev }));
      const grads = shapes.map((s, i) => randn(s, { seed: 20 + i, device: dev }));
      const state = adamState(params);
      const n = params.reduce((a, p) => a + p.size, 0);
      const copyMs = await copyMsFor(n);
      let dispatches = 0;
      const ms = await ctx.time(() => {
        const before = dev.dispatchCount;
        adamUpdate(params, grads, state, adamHyper({ lr: 1e-3, decoupled: true, weightDecay: 0.01 }));
        dispatches = dev.dispatchCount - before;
      });
      rows.push(row(`adamW update (${shapes.length} params, ${dispatches} dispatches)`, `MLP w=${wdt} (${n} floats)`, ms, 28 * n, n, copyMs));
      state.dispose();
      for (const t of [...params, ...grads]) t.dispose();
    }
    return rows;
  },
};
export default suite;
