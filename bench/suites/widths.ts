/**
 * @file The training steps users run, across widths: one SGD step (forward, backward, update,
 * loss read back) of the MLP 784-w-w-10 (batch 256) and the CNN conv3x3-conv3x3-pool-dense on
 * 16x16xw inputs (batch 32), single and as a seed-batched ensemble of 8 (bench/widths-models.ts).
 * Each width's variants (uncaptured, captured, and the ensemble where there is one) are built and
 * warmed (2 steps) first, then timed interleaved: in each of 7 rounds (4 with --quick) every variant takes one
 * untimed step (its readback's wait re-learns its own length) and then its share of the timed steps,
 * so that a machine whose speed drifts over seconds slows all of them alike. A row's ms is the
 * median of all its timed steps (at least 11), and its `x baseline` the median over the rounds of
 * the ratio within each round (the uncaptured step / the captured one; 8 captured single steps / the
 * ensemble step); `roundRatios` lists them. GFLOP/s against the FMA ceiling of the same run;
 * dispatches per step. Steps are captured (src/nn/captured-step.ts); each single step also has an
 * uncaptured row, and both report the JS time a step takes to append its dispatches, per dispatch
 * (jsUsPerDispatch).
 * The ensemble rows' `ratioBound` is the most their ratio could be if the whole ensemble step
 * ran at the rate of a 1024^3 matmul (the engine's best kernel rate; the better of two timings,
 * before the width's steps and after them, so that the machine's drift lands
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
    const rounds = ctx.quick ? 4 : 7;
    const perRound = 3;
    const n = 1024;
    const [a, b] = [randn([n, n], { seed: 1, device: dev }), randn([n, n], { seed: 2, device: dev })];
    // the 1024^3 matmul's GFLOP/s now
    const matmulRate = async () => (2 * n ** 3) / ((await timeLaunch(dev, () => matmul(a, b).dispose(), { minSamples: 3, maxTimeS: 0.5 })) * 1e6);
    for (const [family, widths] of cases) {
      for (const w of widths) {
        const withEnsemble = ctx.quick ? w === widths[0] : w <= 256;
        const rateBefore = withEnsemble ? await matmulRate() : 0;
        const variants = [
          { name: `${family} SGD step, uncaptured`, step: widthsStep(dev, family, w, 1, false) },
          { name: `${family} SGD step`, step: widthsStep(dev, family, w, 1) },
          ...(withEnsemble ? [{ name: `${family} SGD step, ensemble of 8`, step: widthsStep(dev, family, w, 8) }] : []),
        ].map((v) => ({ ...v, dispatches: 0, times: [] as number[], roundMs: [] as number[], append: [] as number[] }));
        const step = async (v: (typeof variants)[number], at: string) => {
          const loss = await v.step.step();
          if (!Number.isFinite(loss)) throw new Error(`widths: ${v.name} w=${w}: loss ${loss} at ${at}`);
        };
        for (const v of variants) {
          for (let i = 0; i < 2; i++) await step(v, `warm-up step ${i + 1}`);
          const before = dev.dispatchCount;
          await step(v, 'step 3');
          v.dispatches = dev.dispatchCount - before;
        }
        for (let r = 0; r < rounds; r++) {
          for (const v of variants) {
            await step(v, `round ${r + 1}`);
            const times: number[] = [];
            for (let i = 0; i < perRound; i++) {
              const t0 = performance.now();
              await step(v, `round ${r + 1}`);
              times.push(performance.now() - t0);
              v.append.push(v.step.appendMs);
            }
            v.times.push(...times);
            v.roundMs.push(median(times));
          }
        }
        const [uncaptured, single, ens] = variants;
        const row = (v: (typeof variants)[number], extra: Partial<BenchRow> = {}): BenchRow => {
          const ms = median(v.times);
          const flop = v.step.flop;
          return {
            suite: 'widths', name: v.name, shape: `w=${w}`, medianMs: ms, gflops: flop / (ms * 1e6),
            pctCeiling: (100 * flop) / (ms * 1e6) / ctx.ceilings.gflops,
            extra: { dispatches: v.dispatches, jsUsPerDispatch: Number(((1000 * median(v.append)) / v.dispatches).toFixed(2)) }, ...extra,
          };
        };
        // per round: how many times faster `fast` was than `slow` (times `times` steps of slow)
        const roundRatios = (slow: (typeof variants)[number], fast: (typeof variants)[number], times = 1) =>
          slow.roundMs.map((ms, i) => (times * ms) / fast.roundMs[i]);
        const capturedRatios = roundRatios(uncaptured, single);
        rows.push(row(uncaptured));
        rows.push(row(single, { xBaseline: median(capturedRatios), baseline: 'uncaptured' }));
        rows[rows.length - 1].extra!.roundRatios = capturedRatios.map((x) => x.toFixed(2)).join(' ');
        if (ens) {
          const rate = Math.max(rateBefore, await matmulRate());
          const singleMs = median(single.times);
          const ratioBound = Number(((singleMs * rate * 1e6) / single.step.executedFlop).toFixed(2));
          const ratios = roundRatios(single, ens, 8);
          const r = row(ens, { xBaseline: median(ratios), baseline: `8 single steps (ratioBound ${ratioBound}x)` });
          r.extra = { ...r.extra, ratioBound, matmulGflops: Number(rate.toFixed(1)), roundRatios: ratios.map((x) => x.toFixed(2)).join(' ') };
          rows.push(r);
        }
        for (const v of variants) v.step.dispose();
      }
    }
    a.dispose();
    b.dispose();
    return rows;
  },
};
export default suite;
