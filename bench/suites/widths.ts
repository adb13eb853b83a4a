/**
 * @file The training steps users run, across widths: one SGD step (forward, backward, update,
 * loss read back) of the MLP 784-w-w-10 (batch 256) and the CNN conv3x3-conv3x3-pool-dense on
 * 16x16xw inputs (batch 32), single and as a seed-batched ensemble of 8 (bench/widths-models.ts).
 * Median of at least 11 steps after 2 warm-up steps; GFLOP/s against the FMA ceiling of the
 * same run; dispatches per step. The ensemble rows' baseline is 8 single steps of the same
 * width, timed in the same run. Steps are captured (src/nn/captured-step.ts); each single step
 * also has an uncaptured row, timed in the same run, with its ratio, and both report the JS time
 * a step takes to append its dispatches, per dispatch (jsUsPerDispatch).
 * The ensemble rows' `ratioBound` is the most their ratio could be if the whole ensemble step
 * ran at the rate of a 1024^3 matmul (the engine's best kernel rate; the better of two timings,
 * before the width's single step and after its ensemble step, so that the machine's drift lands
 * on both; `matmulGflops`): the single step's ms x that rate / the FLOP the single step's
 * products execute (`executedFlop`). Below 3, a 3x ensemble would need kernels faster than that
 * matmul.
 */
import { matmul } from '../../src/ops/matmul.js';
import { randn } from '../../src/ops/creation.js';
import { timeLaunch, type BenchRow, type BenchSuite, median } from '../harness.js';
import { widthsStep, type WidthsFamily } from '../widths-models.js';

const suite: BenchSuite = {
  name: 'widths',
  async run(ctx) {
    const dev = ctx.device;
    const rows: BenchRow[] = [];
    const cases: [WidthsFamily, number[]][] = ctx.quick
      ? [['mlp', [64, 256]], ['cnn', [16, 32]]]
      : [['mlp', [64, 128, 256, 512, 1024, 2048]], ['cnn', [16, 32, 64, 128]]];
    const steps = ctx.quick ? 11 : 21;
    const n = 1024;
    const [a, b] = [randn([n, n], { seed: 1, device: dev }), randn([n, n], { seed: 2, device: dev })];
    // the 1024^3 matmul's GFLOP/s now
    const matmulRate = async () => (2 * n ** 3) / ((await timeLaunch(dev, () => matmul(a, b).dispose(), { minSamples: 3, maxTimeS: 0.5 })) * 1e6);
    // one step's median time and dispatches
    const measure = async (family: WidthsFamily, w: number, seeds: number, capture = true) => {
      const s = widthsStep(dev, family, w, seeds, capture);
      for (let i = 0; i < 2; i++) await s.step();
      const before = dev.dispatchCount;
      await s.step();
      const dispatches = dev.dispatchCount - before;
      const times: number[] = [];
      const append: number[] = [];
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        const loss = await s.step();
        times.push(performance.now() - t0);
        append.push(s.appendMs);
        if (!Number.isFinite(loss)) throw new Error(`widths: ${family} w=${w} seeds=${seeds}: loss ${loss} at step ${i + 3}`);
      }
      const { flop, executedFlop } = s;
      s.dispose();
      return { ms: median(times), dispatches, flop, executedFlop, jsUs: (1000 * median(append)) / dispatches };
    };
    for (const [family, widths] of cases) {
      for (const w of widths) {
        const withEnsemble = ctx.quick ? w === widths[0] : w <= 256;
        const rateBefore = withEnsemble ? await matmulRate() : 0;
        const uncaptured = await measure(family, w, 1, false);
        const single = await measure(family, w, 1);
        const row = (name: string, r: typeof single, extra: Partial<BenchRow> = {}): BenchRow => ({
          suite: 'widths', name, shape: `w=${w}`, medianMs: r.ms, gflops: r.flop / (r.ms * 1e6),
          pctCeiling: (100 * r.flop) / (r.ms * 1e6) / ctx.ceilings.gflops,
          extra: { dispatches: r.dispatches, jsUsPerDispatch: Number(r.jsUs.toFixed(2)) }, ...extra,
        });
        rows.push(row(`${family} SGD step, uncaptured`, uncaptured));
        rows.push(row(`${family} SGD step`, single, { xBaseline: uncaptured.ms / single.ms, baseline: 'uncaptured' }));
        if (withEnsemble) {
          const ens = await measure(family, w, 8);
          const rate = Math.max(rateBefore, await matmulRate());
          const ratioBound = Number(((single.ms * rate * 1e6) / single.executedFlop).toFixed(2));
          const r = row(`${family} SGD step, ensemble of 8`, ens, { xBaseline: (8 * single.ms) / ens.ms, baseline: `8 single steps (ratioBound ${ratioBound}x)` });
          r.extra = { ...r.extra, ratioBound, matmulGflops: Number(rate.toFixed(1)) };
          rows.push(r);
        }
      }
    }
    a.dispose();
    b.dispose();
    return rows;
  },
};
export default suite;
