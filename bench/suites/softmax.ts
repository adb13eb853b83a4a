/**
 * @file Fused softmax / log-softmax throughput (GB/s; forward bytes = read + write of the tensor,
 * 8 n; backward reads y and g and writes dx, 12 n). Every row is timed in rounds with a vec4 copy
 * of the same tensor (% ceiling: its GB/s over that copy's, same rounds) and, forward, with the
 * composed path (5 dispatches: max, broadcast subtract, exp, sum, broadcast divide; x baseline);
 * every kernel variant at [4096, 1024]. Also the per-row broadcast of binary ops: [R, C] - [R, 1] on its
 * per_row entry, on the broadcast3 entry it replaces, and a same-shape subtract.
 *   npx tsx bench/run.ts --suite softmax [--quick]
 */
import { gbPerS, type BenchRow, type BenchSuite, type Interleaved, median } from '../harness.js';
import { ceilingKernel } from '../ceilings.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randn } from '../../src/ops/creation.js';
import { BINARY_OPS, binary } from '../../src/ops/elementwise.js';
import { index3Plan, pad8 } from '../../src/ops/launch.js';
import { logSoftmaxComposed, softmaxComposed } from '../../src/ops/reduce.js';
import {
  logSoftmax, logSoftmaxBackward, softmax, softmaxBackward, softmaxPlan, type SoftmaxVariant,
} from '../../src/ops/softmax.js';

/**
 * Row i of an interleaved timing whose launch 0 is a vec4 copy of the same n floats: % ceiling is
 * its GB/s over the copy's in the same rounds; xBaseline its speed-up over launch `base` (-1: none).
 */
function row(
  name: string, shape: string, t: Interleaved, i: number, bytes: number, n: number, base: number, baseline = 'composed (same rounds)',
): BenchRow {
  const ms = t.medians[i];
  return {
    suite: 'softmax', name, shape, medianMs: ms, gbps: bytes / (ms * 1e6),
    pctCeiling: (100 * bytes) / (8 * n) / median(t.ratios[i]),
    ...(base >= 0 ? { xBaseline: median(t.ratios[base].map((v, r) => v / t.ratios[i][r])), baseline } : {}),
  };
}

const suite: BenchSuite = {
  name: 'softmax',
  async run(ctx) {
    const dev = ctx.device;
    const rows: BenchRow[] = [];
    const opts = { minRounds: ctx.quick ? 5 : 11, maxTimeS: ctx.quick ? 2 : 5 };
    const variants: SoftmaxVariant[] = dev.subgroupLanes > 0
      ? ['invocation', 'workgroup', 'subgroup', 'subgroup-registers']
      : ['invocation', 'workgroup'];
    const shapes: [number, number][] = [[4096, 1024], [256, 10], [8192, 64], [1024, 4096]];
    for (const [r, c] of shapes) {
      const n = r * c;
      const shape = `[${r}, ${c}]`;
      const x = randn([r, c], { seed: 1, device: dev });
      const g = randn([r, c], { seed: 2, device: dev });
      const all = r === 4096 && c === 1024;
      const copyOut = Tensor.empty(dev, [n], 'f32', 'bench');
      const copy = () => dev.dispatch({
        kernel: ceilingKernel(dev),
        entry: 'copy',
        label: 'copy',
        bindings: { x4: x.binding('bench'), out4: copyOut.binding('bench') },
        params: { n: n / 4 },
        workgroups: [Math.min(65535, Math.ceil(n / 4 / 256))],
      });
      for (const mode of ['softmax', 'logSoftmax'] as const) {
        const fwd = mode === 'softmax' ? softmax : logSoftmax;
        const bwd = mode === 'softmax' ? softmaxBackward : logSoftmaxBackward;
        const composed = mode === 'softmax' ? softmaxComposed : logSoftmaxComposed;
        const y = fwd(x);
        const auto = softmaxPlan(mode, dev, r, c, 1).entry;
        // forward: a vec4 copy of the tensor first (the same-rounds ceiling), the composed path
        // (the speed-up's denominator), then auto, then each variant
        const fwdCases: [string, () => void][] = [
          ['copy', copy],
          [`${mode} composed (5 dispatches)`, () => composed(x).dispose()],
          [`${mode} fused (auto: ${auto})`, () => fwd(x).dispose()],
          ...(all ? variants.map((v): [string, () => void] => [`${mode} fused ${v}`, () => fwd(x, -1, { variant: v }).dispose()]) : []),
        ];
        const f = await ctx.timeInterleaved(fwdCases.map((k) => k[1]), opts);
        fwdCases.forEach(([name], i) => { if (i > 0) rows.push(row(`${name} forward`, shape, f, i, 8 * n, n, i > 1 ? 1 : -1)); });
        const bwdCases: [string, () => void][] = [
          ['copy', copy],
          [`${mode} backward (auto: ${auto})`, () => bwd(g, y).dispose()],
          ...(all ? variants.map((v): [string, () => void] => [`${mode} backward ${v}`, () => bwd(g, y, -1, { variant: v }).dispose()]) : []),
        ];
        const b = await ctx.timeInterleaved(bwdCases.map((k) => k[1]), opts);
        bwdCases.forEach(([name], i) => { if (i > 0) rows.push(row(name, shape, b, i, 12 * n, n, i > 1 ? 1 : -1, 'auto backward (same rounds)')); });
        y.dispose();
      }
      x.dispose();
      g.dispose();
      copyOut.dispose();
    }

    // Per-row broadcast: [R, C] - [R, 1] (per_row_vec4), the same on broadcast3 (the general
    // path it replaces, dispatched directly), and a same-shape subtract.
    for (const [r, c] of [[4096, 1024], [1024, 4096]] as [number, number][]) {
      const n = r * c;
      const a = randn([r, c], { seed: 3, device: dev });
      const b = randn([r, c], { seed: 4, device: dev });
      const m = randn([r, 1], { seed: 5, device: dev });
      const plan = index3Plan([r, c], [[c, 1], [1, 0]])!;
      const general = () => {
        const out = Tensor.empty(dev, [r, c], 'f32', 'bench');
        dev.dispatch({
          kernel: 'binary',
          entry: plan.vec4 ? 'broadcast3_vec4' : 'broadcast3',
          label: 'sub broadcast3',
          constants: { OP: BINARY_OPS.sub, ...plan.constants },
          bindings: { a: a.binding('bench'), b: m.binding('bench'), out: out.binding('bench') },
          params: { n: plan.n, rank: 3, swap: 0, s: 0, shape: pad8(plan.dims), sa: pad8(plan.strides[0]), sb: pad8(plan.strides[1]) },
          workgroups: plan.workgroups,
        });
        out.dispose();
      };
      const cases: [string, () => void, number][] = [
        ['sub same shape [R, C] - [R, C]', () => binary('sub', a, b).dispose(), 12 * n],
        ['sub per row [R, C] - [R, 1] (per_row entry)', () => binary('sub', a, m).dispose(), 8 * n],
        ['sub per row [R, C] - [R, 1] (broadcast3 entry)', general, 8 * n],
      ];
      const t = await ctx.timeInterleaved(cases.map((k) => k[1]), opts);
      cases.forEach(([name, , bytes], i) => rows.push({
        suite: 'softmax', name, shape: `[${r}, ${c}]`, medianMs: t.medians[i], gbps: gbPerS(bytes, t.medians[i]),
        pctCeiling: (100 * gbPerS(bytes, t.medians[i])) / ctx.ceilings.gbps,
        ...(i > 0 ? { xBaseline: 1 / median(t.ratios[i]), baseline: 'same-shape sub time (same rounds)' } : {}),
      }));
      for (const tt of [a, b, m]) tt.dispose();
    }
    return rows;
  },
};

export default suite;
