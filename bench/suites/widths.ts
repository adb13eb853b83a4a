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
import { median, timeLaunch, timeStepsInRounds, type BenchRow, type BenchSuite } from '../harness.js';
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
        ].map((v) => ({ ...v, dispatches: 0, append: [] as number[] }));
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
        const { times, roundMedians } = await timeStepsInRounds(variants.length, async (i, timed, round) => {
          await step(variants[i], `round ${round + 1}`);
          if (timed) variants[i].append.push(variants[i].step.appendMs);
        }, { rounds, perRound, untimed: 1 });
        const [UNCAPTURED, SINGLE, ENSEMBLE] = [0, 1, 2];
        // per round: how many times faster variant `fast` was than `slow` (times `steps` steps of slow)
        const roundRatios = (slow: number, fast: number, steps = 1) => roundMedians[slow].map((ms, r) => (steps * ms) / roundMedians[fast][r]);
        const row = (i: number, ratios?: number[], baseline?: string, more: BenchRow['extra'] = {}): BenchRow => {
          const v = variants[i];
          const ms = median(times[i]);
          return {
            suite: 'widths', name: v.name, shape: `w=${w}`, medianMs: ms, gflops: v.step.flop / (ms * 1e6),
            pctCeiling: (100 * v.step.flop) / (ms * 1e6) / ctx.ceilings.gflops,
            ...(ratios ? { xBaseline: median(ratios), baseline } : {}),
            extra: {
              dispatches: v.dispatches, jsUsPerDispatch: Number(((1000 * median(v.append)) / v.dispatches).toFixed(2)), ...more,
              ...(ratios ? { roundRatios: ratios.map((x) => x.toFixed(2)).join(' ') } : {}),
            },
          };
        };
        rows.push(row(UNCAPTURED));
        rows.push(row(SINGLE, roundRatios(UNCAPTURED, SINGLE), 'uncaptured'));
        if (withEnsemble) {
          const rate = Math.max(rateBefore, await matmulRate());
          const ratioBound = Number(((median(times[SINGLE]) * rate * 1e6) / variants[SINGLE].step.executedFlop).toFixed(2));
          rows.push(row(ENSEMBLE, roundRatios(SINGLE, ENSEMBLE, 8), `8 single steps (ratioBound ${ratioBound}x)`, {
            ratioBound, matmulGflops: Number(rate.toFixed(1)),
          }));
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
