import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { analyzeResults, readResults, resolveSweep, runSweep, validateSpec } from '../../src/experiments/index.js';
import { createModelTrainer } from '../../src/experiments/model-trainer.js';
import { tmp } from './util.js';

// The paper's first two results on a tiny problem, with real models: under muP the test-loss
// curves of widths 128..512 lie closer together than under SP at the same base learning rate,
// and the seed variance of the test predictions falls with width.
describe('a tiny real sweep: muP is consistent across widths, SP is not', () => {
  it('trains, writes results, and shows the width consistency of muP', async () => {
    const spec = validateSpec({
      name: 'tiny-real',
      task: { name: 'teacher-image', size: 8, testSize: 128 },
      model: { family: 'mlp', depth: 2 },
      parameterization: ['mup', 'sp'],
      baseWidth: 32,
      widths: [128, 256, 512],
      seeds: 2,
      optimizer: { name: 'sgd', momentum: 0.9 },
      lr: 0.05,
      batchSize: 32,
      steps: 40,
      eval: { every: 10 },
    });
    const dir = tmp();
    const summary = await runSweep(resolveSweep(spec), {
      resultsDir: dir, trainer: createModelTrainer({ device: ws.getDevice() }), progress: false, log: () => {}, handleSignals: false,
    });
    expect(summary.counts).toMatchObject({ ok: 12, failed: 0, diverged: 0 });
    const analysis = analyzeResults(readResults(dir));
    const spread = (p: string) => {
      const s = analysis.series.find((x) => x.config.parameterization.name === p)!;
      const pts = s.curves.testLoss.filter((c) => c.step > 0);
      const steps = [...new Set(pts.map((c) => c.step))];
      // mean over evaluations of (max - min over widths of the seed-mean test loss)
      return steps.reduce((acc, t) => {
        const m = pts.filter((c) => c.step === t).map((c) => c.mean);
        return acc + (Math.max(...m) - Math.min(...m)) / steps.length;
      }, 0);
    };
    const [mup, sp] = [spread('mup'), spread('sp')];
    expect(mup, `muP spread ${mup}, SP spread ${sp}`).toBeLessThan(0.7 * sp);
    const mupSeries = analysis.series.find((x) => x.config.parameterization.name === 'mup')!;
    for (const v of mupSeries.varianceSlope.filter((p) => p.step > 0)) {
      expect(v.slope, `variance slope at step ${v.step}`).toBeLessThan(-0.3);
    }
  }, 180_000);
});
