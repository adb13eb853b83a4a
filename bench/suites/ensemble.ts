/**
 * @file Seed-batched training (issue 7): training steps per second of S = 8 seeds trained as one
 * ensemble model (parameters [S, ...], batched kernels) against the same 8 seeds trained as 8
 * single-seed models one after another, for the MLP at widths 32..2048 and the CNN at widths
 * 16..128 (muP, Adam, depth 2, one shared batch per step as in a sweep). One row per width; `x baseline`
 * is the speed-up of the ensemble (8 sequential steps' time / one ensemble step's time).
 *   npx tsx bench/run.ts --suite ensemble [--quick]
 */
import type { BenchRow, BenchSuite } from '../harness.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { fromArray, randn } from '../../src/ops/creation.js';
import { buildModel, type Model, type ModelSpec } from '../../src/nn/models.js';
import { Adam } from '../../src/nn/optim.js';
import { ensembleTrainStep, trainStep } from '../../src/experiments/model-trainer.js';
import type { Task } from '../../src/experiments/tasks.js';

const S = 8;
/**
 * Per-example input: the sweeps' default task (teacher-image, 8x8x3 = 192 inputs). Set
 * WIDTHSCOPE_BENCH_ENSEMBLE_INPUT=28,28,1 for MNIST-sized inputs (the MLP's input layer then
 * dominates the FLOPs even at width 32).
 */
const INPUT = (process.env.WIDTHSCOPE_BENCH_ENSEMBLE_INPUT ?? '8,8,3').split(',').map(Number);

const suite: BenchSuite = {
  name: 'ensemble',
  async run(ctx) {
    const dev = ctx.device;
    const rows: BenchRow[] = [];
    const seeds = Array.from({ length: S }, (_, i) => i + 1);
    const cases: { family: 'mlp' | 'cnn'; width: number; batch: number; input: number[] }[] = [
      ...(ctx.quick ? [32, 256, 1024] : [32, 64, 128, 256, 512, 1024, 2048]).map((width) => ({ family: 'mlp' as const, width, batch: 64, input: INPUT })),
      ...(ctx.quick ? [16, 64] : [16, 32, 64, 128]).map((width) => ({ family: 'cnn' as const, width, batch: 32, input: INPUT })),
    ];
    for (const c of cases) {
      const classes = 10;
      const spec: ModelSpec = { family: c.family, width: c.width, baseWidth: 16, depth: 2, inputShape: c.input, classes };
      // only lossOf's kind and outputs are used by the step functions
      const task = { kind: 'classification', inputShape: c.input, outputs: classes } as Task;
      const x = randn([c.batch, ...c.input], { seed: 1, device: dev });
      const y = fromArray(Int32Array.from({ length: c.batch }, (_, i) => (i * 7) % classes), [c.batch], { device: dev });
      const batch = { x, y };
      const param = { parameterization: 'mup', optimizer: 'adam' } as const;
      const ens = buildModel({ device: dev, seed: 0, seeds, param }, spec);
      const ensOpt = new Adam(ens.parameters(), { lr: 1e-3 });
      const singles: Model[] = seeds.map((seed) => buildModel({ device: dev, seed, param }, spec));
      const opts = singles.map((m) => new Adam(m.parameters(), { lr: 1e-3 }));
      // interleaved: one ensemble step, then 8 single steps, then again, so the VM's slow spells
      // fall on both sides of the ratio
      const { medians, ratios } = await ctx.timeInterleaved(
        [
          () => ensembleTrainStep(ens, ensOpt, task, batch).dispose(),
          () => singles.forEach((m, i) => (trainStep(m, opts[i], task, batch) as Tensor).dispose()),
        ],
        { minRounds: 5, maxTimeS: ctx.quick ? 2 : 4 },
      );
      const [ensMs, seqMs] = medians;
      const perRound = [...ratios[1]].sort((a, b) => a - b);
      for (const o of [ensOpt, ...opts]) o.dispose();
      for (const m of [ens, ...singles]) m.dispose();
      x.dispose();
      y.dispose();

      rows.push({
        suite: 'ensemble',
        name: `${c.family} S=${S} batched vs ${S} sequential`,
        shape: `width ${c.width}, batch ${c.batch}, input ${c.input.join('x')}`,
        medianMs: ensMs,
        xBaseline: seqMs / ensMs,
        baseline: `${S} sequential single-seed steps`,
        extra: {
          batchedStepsPerS: +(1000 / ensMs).toFixed(2),
          sequentialStepsPerS: +(1000 / seqMs).toFixed(2),
          sequentialMs: +seqMs.toFixed(3),
          rounds: perRound.length,
          speedupLowestRound: +perRound[0].toFixed(3),
          speedupHighestRound: +perRound[perRound.length - 1].toFixed(3),
        },
      });
      console.log(`  ${c.family} width ${c.width}: batched ${ensMs.toFixed(2)} ms (${(1000 / ensMs).toFixed(1)} steps/s of all ${S}), ` +
        `sequential ${seqMs.toFixed(2)} ms (${(1000 / seqMs).toFixed(1)} steps/s), speed-up ${(seqMs / ensMs).toFixed(2)}x ` +
        `(rounds: ${perRound.length}, ${perRound[0].toFixed(2)}-${perRound[perRound.length - 1].toFixed(2)}x)`);
    }
    return rows;
  },
};
export default suite;
