import { describe, expect, it } from 'vitest';
import { binsFromReference, kernelCKA, matrix } from '../../src/experiments/observables/index.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeObservables, buildFigures, ckaNarrowVsWidest, encodeNpy, largeLr, narrowEnsembleVsWideSingle, predictionLoss, report, runDynamics, sharpnessRatios, targetPowerAt, w1NarrowVsWidest, writeAnalysis, type Analysis, type RunResult } from '../../src/experiments/index.js';
import { reportHtml } from '../../src/experiments/report/html.js';
import { observableSections } from '../../src/experiments/report/observables-html.js';
import { representationAnalysis } from '../../src/experiments/analysis/representations.js';
import { preactivationAnalysis } from '../../src/experiments/analysis/preactivations.js';
import { sharpnessAnalysis } from '../../src/experiments/analysis/sharpness.js';
import { afterKernelAnalysis } from '../../src/experiments/analysis/after-kernel.js';
import { ensembleAnalysis } from '../../src/experiments/analysis/ensemble-loss.js';
import { fakeSweep, gramOf, memoryRun, square, writeEntk, writeGram, writePreact, writeProbeLines, writeProbeTargets, writeTargets } from './observables-analysis-helpers.js';

/** Deterministic numbers in [-1, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1;
}
const features = (seed: number, n: number, cols: number) => { const r = lcg(seed); return Array.from({ length: n }, () => Array.from({ length: cols }, r)); };
const byWidth = (runs: RunResult[], width: number) => runs.filter((r) => r.config.width === width);

describe('representations: kernel CKA of stored Grams', () => {
  it('identical and rotated (and scaled) copies give 1; pairs average as computed by hand', () => {
    const phi = features(1, 6, 4);
    const [c, s] = [Math.cos(0.7), Math.sin(0.7)];
    // Φ Q with Q a rotation in the (0, 1) plane times 3: the same representation
    const rotated = phi.map((r) => [3 * (c * r[0] - s * r[1]), 3 * (s * r[0] + c * r[1]), 3 * r[2], 3 * r[3]]);
    const K = gramOf(phi);
    const L = gramOf(features(2, 6, 4));
    const runs = [16, 64].flatMap((width) => [0, 1].map((seed) => memoryRun({ width, seed })));
    const [w16s0, w16s1] = byWidth(runs, 16);
    const [w64s0, w64s1] = byWidth(runs, 64);
    for (const step of [0, 5]) {
      writeGram(w64s0.dir, 'hidden1.act', step, K);
      writeGram(w64s1.dir, 'hidden1.act', step, gramOf(rotated));
      writeGram(w16s0.dir, 'hidden1.act', step, K);
      writeGram(w16s1.dir, 'hidden1.act', step, L);
    }
    const cka = representationAnalysis(runs);
    expect(cka.length).toBe(4);
    const kl = kernelCKA(matrix(6, 6, Float32Array.from(K)), matrix(6, 6, Float32Array.from(L)));
    expect(kl).toBeLessThan(0.95);
    const wide = cka.find((p) => p.width === 64 && p.step === 5)!;
    expect(wide).toMatchObject({ refWidth: 64, complete: true, pairs: 1 });
    expect(wide.vsWidest).toBeCloseTo(1, 6); // K against its rotated copy
    expect(wide.acrossSeeds).toBeCloseTo(1, 6);
    const narrow = cka.find((p) => p.width === 16 && p.step === 5)!;
    // pairs (K,K) = 1, (K,rotK) = 1, (L,K) = (L,rotK) = kl: mean (1 + kl)/2, sample std (1 - kl)/sqrt(3)
    expect(narrow.pairs).toBe(4);
    expect(narrow.vsWidest).toBeCloseTo((1 + kl) / 2, 6);
    expect(narrow.vsWidestStd).toBeCloseTo((1 - kl) / Math.sqrt(3), 6);
    expect(narrow.acrossSeeds).toBeCloseTo(kl, 6);
  });

  it('a width whose seed lacks the Gram is marked incomplete and is not the reference', () => {
    const runs = [16, 64].flatMap((width) => [0, 1].map((seed) => memoryRun({ width, seed })));
    const K = gramOf(features(3, 5, 3));
    for (const r of runs) if (!(r.config.width === 64 && r.config.seed === 1)) writeGram(r.dir, 'block0.out', 0, K);
    const cka = representationAnalysis(runs);
    expect(cka.map((p) => [p.width, p.refWidth, p.complete])).toEqual([[16, 16, true], [64, 16, false]]);
  });
});

describe('preactivations: fixed bins and W1', () => {
  it('W1 of a shifted sample is the shift; the bins stay those of the widest width at the first probe step', () => {
    const runs = [16, 64].flatMap((width) => [0, 1].map((seed) => memoryRun({ width, seed })));
    const base = (seed: number) => Array.from({ length: 100 }, (_, i) => (i - 50) / 10 + seed * 0.05);
    for (const r of runs) {
      const shift = r.config.width === 16 ? 0.5 : 0;
      writePreact(r.dir, 'hidden1.act', 0, base(r.config.seed).map((x) => x + shift));
      writePreact(r.dir, 'hidden1.act', 5, base(r.config.seed).map((x) => 5 * x + shift));
    }
    const p = preactivationAnalysis(runs);
    const ref0 = Float32Array.from([...base(0), ...base(1)]);
    expect(p.bins).toEqual([{ layer: 'hidden1.act', bins: binsFromReference(ref0) }]);
    for (const step of [0, 5]) {
      expect(p.w1.find((w) => w.step === step && w.width === 16)!.w1).toBeCloseTo(0.5, 5);
      expect(p.w1.find((w) => w.step === step && w.width === 64)!.w1).toBe(0);
    }
    for (const h of p.histograms) {
      expect(h.total).toBe(200);
      expect(h.counts.reduce((a, b) => a + b, 0) + h.below + h.above + h.nan).toBe(200);
    }
    // ± 4 std of the step-0 sample holds all of it; at step 5 five times the spread leaves the range
    expect(p.histograms.find((h) => h.step === 0 && h.width === 64)!.below + p.histograms.find((h) => h.step === 0 && h.width === 64)!.above).toBe(0);
    expect(p.histograms.find((h) => h.step === 5 && h.width === 64)!.above).toBeGreaterThan(0);
  });
});

describe('sharpness against 2/lr', () => {
  it('the final ratio is the seed-mean sharpness over 2/lr; null sharpness drops out', () => {
    const runs = [16, 64].flatMap((width) => [0, 1].map((seed) => memoryRun({ width, seed, lr: 0.1 })));
    const values: Record<string, [number | null, number | null]> = { '16/0': [5, 10], '16/1': [7, 14], '64/0': [9, 18], '64/1': [9, null] };
    for (const r of runs) {
      const [a, b] = values[`${r.config.width}/${r.config.seed}`];
      writeProbeLines(r.dir, [{ step: 0, sharpness: a, sharpnessIterations: 20, seconds: 1 }, { step: 5, sharpness: b, sharpnessIterations: 20, seconds: 1 }]);
    }
    const s = sharpnessAnalysis(runs)!;
    expect(s.edge).toBeCloseTo(20, 12);
    expect(s.finalRatio).toEqual([
      { width: 16, step: 5, sharpness: 12, ratio: expect.closeTo(0.6, 12) },
      { width: 64, step: 5, sharpness: 18, ratio: expect.closeTo(0.9, 12) },
    ]);
    expect(s.points.find((p) => p.width === 64 && p.step === 5)!.n).toBe(1);
    expect(sharpnessAnalysis([memoryRun({ width: 16, seed: 0 })])).toBeNull();
  });
});

describe('after-kernel: spectrum and target power', () => {
  it('a target along the top eigenvector has C(1) = 1; a diagonal kernel splits the target by hand', () => {
    const runs = [8, 32].flatMap((width) => [0, 1].map((seed) => memoryRun({ width, seed })));
    const v = [1 / 3, 2 / 3, 2 / 3];
    for (const r of runs) {
      if (r.config.width === 32) {
        writeEntk(r.dir, 4, square(3, (i, j) => 5 * v[i] * v[j] + (i === j ? 0.1 : 0)));
        writeProbeTargets(r.dir, v.map((x) => 2 * x));
      } else {
        const scale = r.config.seed + 1; // diag(3, 2, 1) and diag(6, 4, 2)
        writeEntk(r.dir, 4, square(3, (i, j) => (i === j ? scale * (3 - i) : 0)));
        writeProbeTargets(r.dir, [1, 1, 0]);
      }
    }
    const ak = afterKernelAnalysis(runs);
    const wide = ak.find((p) => p.width === 32)!;
    expect(wide.seeds).toBe(2);
    expect(wide.targetPower[0]).toBeCloseTo(1, 5);
    expect(wide.spectrum[0]).toBeCloseTo(5.1, 5);
    const narrow = ak.find((p) => p.width === 8)!;
    expect(narrow.spectrum.map((x) => +x.toFixed(6))).toEqual([4.5, 3, 1.5]);
    expect(narrow.targetPower.map((x) => +x.toFixed(6))).toEqual([0.5, 1, 1]);
  });
});

describe('the seed-averaged predictor against the widest single net', () => {
  const preds = new Map<string, { data: Float32Array; shape: number[] }>();
  const load = (r: RunResult, step: number) => preds.get(`${r.config.width}/${r.config.seed}/${step}`)!;

  it('regression: mean (f̄ - y)² times the loss scale, by hand', () => {
    const task = { name: 'teacher-gaussian', loss: 'half-mse' } as RunResult['config']['task'];
    const runs = [4, 16].flatMap((width) => [0, 1].map((seed) => memoryRun({ width, seed, task, evalSteps: [0], predictionSteps: [0] })));
    writeTargets(runs[0].dir, [0, 0], [2, 1]);
    // width 4: seeds [1, 1] and [-1, 3]: ensemble [0, 2] → mse 2; singles 1 and 5 → 3. width 16: both seeds [0, 1] → 0.5
    preds.set('4/0/0', { data: Float32Array.of(1, 1), shape: [2, 1] });
    preds.set('4/1/0', { data: Float32Array.of(-1, 3), shape: [2, 1] });
    for (const s of [0, 1]) preds.set(`16/${s}/0`, { data: Float32Array.of(0, 1), shape: [2, 1] });
    const e = ensembleAnalysis(runs, load)!;
    expect(e).toMatchObject({ kind: 'regression', scale: 0.5 });
    expect(e.points.find((p) => p.width === 4)).toMatchObject({ ensembleLoss: 1, singleLoss: 1.5, refWidth: 16, widestSingle: 0.25, widestEnsemble: 0.25, complete: true, seeds: 2 });
  });

  it('classification: cross-entropy of the seed-averaged logits, by hand', () => {
    const task = { name: 'mnist' } as RunResult['config']['task'];
    const runs = [4].flatMap((width) => [0, 1].map((seed) => memoryRun({ width, seed, task, evalSteps: [0], predictionSteps: [0] })));
    writeTargets(runs[1].dir, [0], [1]);
    preds.set('4/0/0', { data: Float32Array.of(2, 0), shape: [1, 2] });
    preds.set('4/1/0', { data: Float32Array.of(0, 0), shape: [1, 2] });
    const e = ensembleAnalysis(runs, load)!;
    const p = e.points[0];
    // averaged logits [1, 0]: log(1 + e^-1) = 0.3133 (averaged probabilities would give -log(0.6904) = 0.3705)
    expect(p.ensembleLoss).toBeCloseTo(Math.log(1 + Math.exp(-1)), 6);
    expect(p.singleLoss).toBeCloseTo((Math.log(1 + Math.exp(-2)) + Math.log(2)) / 2, 6);
  });

  it('text: the same per token; bad labels and shapes are refused by name', () => {
    // 1 sequence of 2 tokens, vocab 2: logits [[0, 0], [5, 0]], targets [1, 0]
    expect(predictionLoss('text', Float32Array.of(0, 0, 5, 0), [1, 2, 2], [1, 0])).toBeCloseTo((Math.log(2) + Math.log(1 + Math.exp(-5))) / 2, 6);
    expect(() => predictionLoss('classification', Float32Array.of(0, 0), [1, 2], [2])).toThrow(/predictionLoss: label 2 at row 0 \(expected an integer in \[0, 2\)\)/);
    expect(() => predictionLoss('regression', Float32Array.of(0, 0), [2, 1], [1])).toThrow(/2 values against 1 targets/);
  });

  it('without targets.npy the ensemble loss is not measurable (null), not an error', () => {
    expect(ensembleAnalysis([memoryRun({ width: 4, seed: 0, evalSteps: [0] })], load)).toBeNull();
  });
});

describe('large learning rates: largest trainable lr and catapults', () => {
  it('the table from synthetic curves', () => {
    const steps = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const calm = [1, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3, 0.3, 0.3];
    const catapult = [1, 5, 3, 0.6, 0.4, 0.3, 0.3, 0.2, 0.2];
    const blowUp = [1, 50, null, null, null, null, null, null, null];
    const runs: RunResult[] = [];
    for (const width of [16, 64])
      for (const seed of [0, 1])
        for (const lr of [0.1, 1]) {
          const diverges = width === 16 && lr === 1;
          const r = memoryRun({ width, seed, lr, evalSteps: steps, trainLoss: lr === 0.1 ? calm : diverges ? blowUp : catapult, diverged: diverges });
          writeProbeLines(r.dir, lr === 0.1
            ? [0, 4, 8].map((step) => ({ step, sharpness: 10 + step / 4, sharpnessIterations: 20, seconds: 1 }))
            : diverges ? [{ step: 0, sharpness: 10, sharpnessIterations: 20, seconds: 1 }]
              : [[0, 10], [4, 4], [8, 4]].map(([step, sharpness]) => ({ step, sharpness, sharpnessIterations: 20, seconds: 1 })));
          runs.push(r);
        }
    const t = largeLr('setting', runs.map(runDynamics));
    expect(t.lrs).toEqual([0.1, 1]);
    expect(t.points).toEqual([
      { width: 16, lr: 0.1, seeds: 2, trained: 2, catapults: 0 },
      { width: 16, lr: 1, seeds: 2, trained: 0, catapults: 0 },
      { width: 64, lr: 0.1, seeds: 2, trained: 2, catapults: 0 },
      { width: 64, lr: 1, seeds: 2, trained: 2, catapults: 2 },
    ]);
    expect(t.largestTrainable).toEqual([{ width: 16, lr: 0.1 }, { width: 64, lr: 1 }]);
    // without probes.jsonl the catapult is not measured
    expect(runDynamics(memoryRun({ width: 16, seed: 0, trainLoss: calm })).catapult).toBeNull();
  });

  it('a spike already under way at the first training-loss record is measured from the test loss at step 0', () => {
    // as a trainer writes them: step 0 has only the test loss; the training loss starts at step 10
    const r = memoryRun({ width: 64, seed: 0, lr: 0.4 });
    r.metrics = [
      { step: 0, testLoss: 1 },
      { step: 10, trainLoss: 6, testLoss: 4 },
      { step: 25, trainLoss: 0.8, testLoss: 0.7 },
      { step: 50, trainLoss: 0.5, testLoss: 0.5 },
      { step: 100, trainLoss: 0.3, testLoss: 0.3 },
      { step: 150, trainLoss: 0.2, testLoss: 0.2 },
    ];
    writeProbeLines(r.dir, [[0, 30], [25, 8], [50, 6]].map(([step, sharpness]) => ({ step, sharpness, sharpnessIterations: 10, seconds: 1 })));
    expect(runDynamics(r).catapult).toBe(true);
    // the same curves without the spike: the loss falls from step 0, the sharpness too, no catapult
    r.metrics[1] = { step: 10, trainLoss: 0.9, testLoss: 0.9 };
    expect(runDynamics(r).catapult).toBe(false);
  });
});

describe('the report of a fake sweep with probe files', async () => {
  // widths 16, 64; 2 seeds; lr 0.1 and 0.3; eval steps 0, 3, 6 (all probe steps); fake predictions [16, 3];
  // the fake trainer writes every probe file of an MLP of depth 2, and the hidden layer's are replaced here
  const { dir, runs } = await fakeSweep({ widths: [16, 64], seeds: 2, lr: [0.1, 0.3], steps: 6, eval: 3, probes: { size: 4, entk: { size: 4 } } });
  for (const r of runs) {
    const w = r.config.width;
    writeTargets(r.dir, Array.from({ length: 48 }, (_, i) => Math.sin(i)), [16, 3]);
    writeProbeTargets(r.dir, [1, -1, 0.5, 0]);
    writeProbeLines(r.dir, r.config.evalSteps.map((step) => ({ step, sharpness: 2 + step + 8 / w, sharpnessIterations: 20, seconds: 0.1 })));
    for (const step of r.config.evalSteps) {
      writeGram(r.dir, 'hidden1.act', step, gramOf(features(w + r.config.seed + step, 4, 8)));
      writePreact(r.dir, 'hidden1', step, Array.from({ length: 64 }, (_, i) => (i - 32) / 8 + 1 / w + r.config.seed * 0.01));
      writeEntk(r.dir, step, square(4, (i, j) => (i === j ? 4 - i + 1 / w : 0.1)));
    }
  }
  const out = await report(dir, { png: false });

  it('adds the observables\' figures, CSV files and sections', () => {
    expect(out.figures.map((f) => f.name)).toEqual(['metric-trainLoss', 'metric-testLoss', 'agreement', 'variance-vs-width', 'variance-slope', 'lr-transfer',
      'cka-vs-width', 'cka-vs-step', 'preact-histograms', 'preact-w1', 'sharpness', 'large-lr', 'entk-spectrum', 'target-power', 'ensemble-loss']);
    for (const f of out.figures) expect(readFileSync(f.svg, 'utf8')).toContain('</svg>');
    expect(readFileSync(join(dir, 'analysis', 'cka.csv'), 'utf8').split('\n')[0]).toBe('series,label,layer,step,width,refWidth,complete,vsWidest,vsWidestStd,acrossSeeds,pairs');
    // 2 series x 3 steps x 2 widths x 2 layers
    expect(readFileSync(join(dir, 'analysis', 'cka.csv'), 'utf8').trim().split('\n').length - 1).toBe(24);
    expect(readFileSync(join(dir, 'analysis', 'ensemble_loss.csv'), 'utf8').trim().split('\n').length - 1).toBe(12);
    const html = readFileSync(out.html, 'utf8');
    for (const id of ['cka', 'preact-w1', 'sharpness', 'large-lr', 'after-kernel', 'ensemble-loss']) expect(html, id).toContain(`<table id="${id}">`);
    expect(html).not.toContain('Not measured');
    const s = out.analysis.series.find((x) => x.config.lr === 0.1)!;
    // sharpness at step 6: 2 + 6 + 8/16 = 8.5 at width 16 against 2/lr = 20
    expect(sharpnessRatios(s)!.find((r) => r.width === 16)!.ratio).toBeCloseTo(8.5 / 20, 5);
    // the narrowest width's preactivations are the widest's shifted by 1/16 - 1/64
    expect(w1NarrowVsWidest(s)![0].w1).toBeCloseTo(1 / 16 - 1 / 64, 5);
    expect(ckaNarrowVsWidest(s)![0]).toMatchObject({ layer: 'hidden1.act', step: 6, width: 16, refWidth: 64 });
    expect(targetPowerAt(s, [1, 4])!.filter((p) => p.k === 4).map((p) => p.c)).toEqual([expect.closeTo(1, 6), expect.closeTo(1, 6)]);
    // the fake losses fall at both lrs and the sharpness only rises: every seed trains, no catapult
    expect(out.analysis.largeLr).toEqual([expect.objectContaining({ lrs: [0.1, 0.3], largestTrainable: [{ width: 16, lr: 0.3 }, { width: 64, lr: 0.3 }] })]);
    expect(out.analysis.largeLr![0].points.every((p) => p.trained === 2 && p.catapults === 0)).toBe(true);
    const e = narrowEnsembleVsWideSingle(s)!;
    expect(e).toMatchObject({ step: 6, width: 16, refWidth: 64 });
    expect(e.gap).toBeCloseTo(e.narrowEnsemble - e.widestSingle, 12);
  });

  it('a results directory without probe files says "not measured" for each observable', async () => {
    const bare = await fakeSweep({ widths: [16, 64], seeds: 2 });
    const a = writeAnalysis(bare.dir);
    const html = reportHtml({ title: 't', analysis: a, figures: buildFigures(a), spec: null, figureDir: 'figures' });
    for (const id of ['cka-none', 'preact-w1-none', 'sharpness-none', 'large-lr-none', 'after-kernel-none', 'ensemble-loss-none']) expect(html, id).toContain(`id="${id}"`);
    expect(buildFigures(a).map((f) => f.name)).toEqual(['metric-trainLoss', 'metric-testLoss', 'agreement', 'variance-vs-width', 'variance-slope']);
    expect(readFileSync(join(bare.dir, 'analysis', 'cka.csv'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(a.series[0].observables!.ensemble).toBeNull();
  });
});

describe('malformed probe files', () => {
  it('leave their part out with an error naming the file; the other parts still come out', () => {
    const runs = [16, 64].map((width) => memoryRun({ width, seed: 0 }));
    writeGram(runs[0].dir, 'hidden1.act', 0, gramOf(features(1, 3, 2)));
    writeFileSync(join(runs[1].dir, 'gram-hidden1.act-00000000.npy'), encodeNpy(Float32Array.from({ length: 6 }), [2, 3]));
    writeFileSync(join(runs[0].dir, 'entk-00000000.npy'), Buffer.from('not an npy file'));
    writeProbeTargets(runs[0].dir, [1, 0, 0]);
    writeFileSync(join(runs[1].dir, 'probes.jsonl'), '{"step": 0, "sharpness": "big"}\n');
    writePreact(runs[0].dir, 'hidden1', 0, [1, 2, 3]);
    writePreact(runs[1].dir, 'hidden1', 0, [1, 2, 4]);
    const o = analyzeObservables(runs);
    expect(o.problems).toHaveLength(4); // CKA, sharpness, after-kernel, and the catapult check reads probes.jsonl too
    expect(o.problems.find((p) => p.startsWith('CKA:'))).toMatch(/gram-hidden1\.act-00000000\.npy: expected a square n x n matrix, got shape \[2, 3\]/);
    expect(o.problems.find((p) => p.startsWith('after-kernel:'))).toMatch(/entk-00000000\.npy: npy: not a \.npy file/);
    expect(o.problems.find((p) => p.startsWith('sharpness:'))).toMatch(/probes\.jsonl line 1: expected \{ step: integer, sharpness: number \| null/);
    expect(o.preactivations.w1.find((w) => w.width === 16)!.w1).toBeCloseTo(1 / 3, 6);
    const a = { series: [{ label: 'L', observables: o }], lrTransfer: [], unfinished: [], skipped: [] } as unknown as Analysis;
    expect(observableSections(a)).toContain('<div id="observable-problems" class="warn">');
  });

  it('Grams of different sizes across widths are refused by name', () => {
    const runs = [16, 64].map((width) => memoryRun({ width, seed: 0 }));
    writeGram(runs[0].dir, 'hidden1.act', 0, gramOf(features(1, 3, 2)));
    writeGram(runs[1].dir, 'hidden1.act', 0, gramOf(features(1, 4, 2)));
    expect(analyzeObservables(runs).problems).toEqual([expect.stringMatching(/^CKA: kernelCKA: Gram matrices of 3 and 4 examples must share the examples/)]);
  });
});
