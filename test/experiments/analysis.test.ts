import { describe, expect, it } from 'vitest';
import { agreementDirect, analyzeSeries, linearFit, logLogSlope, metricCurves, pointwiseAgreement, slopesByStep, summarize, type RunResult } from '../../src/experiments/index.js';
import { toCsv } from '../../src/experiments/analysis/csv.js';
import { lrTransfer } from '../../src/experiments/analysis/lr-transfer.js';

describe('metric curves per width', () => {
  it('seed mean, sample std, min, max; non-finite values drop out', () => {
    const pts = metricCurves([
      { width: 8, seed: 0, steps: [0, 10], values: [1, 3] },
      { width: 8, seed: 1, steps: [0, 10], values: [3, null] },
      { width: 4, seed: 0, steps: [0], values: [2] },
    ]);
    expect(pts.map((p) => [p.width, p.step])).toEqual([[4, 0], [8, 0], [8, 10]]);
    expect(pts[1]).toMatchObject({ n: 2, mean: 2, min: 1, max: 3 });
    expect(pts[1].std).toBeCloseTo(Math.SQRT2, 12);
    expect(pts[2]).toMatchObject({ n: 1, mean: 3, std: 0 });
    expect(summarize([Number.NaN]).n).toBe(0);
  });
});

describe('point-wise agreement D_N = variance + bias', () => {
  // f_N^s(x) = g(x) + b/N + (±c/sqrt N) with two seeds of opposite sign: seed mean g + b/N,
  // variance exactly c²/N, bias against the widest width (b/N − b/Nmax)².
  const P = 5, K = 2, b = 3, c = 0.5;
  const widths = [16, 64, 256];
  const g = (i: number) => Math.sin(i);
  const make = (N: number, sign: number) => Float32Array.from({ length: P * K }, (_, i) => g(i) + b / N + (sign * c) / Math.sqrt(N));
  const byWidth = widths.map((width) => ({ width, seeds: [make(width, 1), make(width, -1)] }));
  const res = pointwiseAgreement(byWidth, P);

  it('recovers the known variance and bias', () => {
    for (const r of res) {
      // per point the squared norm sums K outputs
      expect(r.variance).toBeCloseTo((K * c * c) / r.width, 6);
      expect(r.bias).toBeCloseTo(K * (b / r.width - b / 256) ** 2, 6);
      expect(r.d).toBeCloseTo(r.variance + r.bias, 12);
    }
    expect(res[2].bias).toBe(0);
    // refPower = (1/P) Σ_x ‖f̄_ref(x)‖², with f̄_ref = g + b/256
    let power = 0;
    for (let i = 0; i < P * K; i++) power += (g(i) + b / 256) ** 2;
    for (const r of res) expect(r.refPower).toBeCloseTo(power / P, 5);
  });
  it('takes another reference width when asked, and refuses one it was not given', () => {
    const at64 = pointwiseAgreement(byWidth, P, 64);
    expect(at64.find((r) => r.width === 64)!.bias).toBe(0);
    expect(at64.find((r) => r.width === 256)!.bias).toBeCloseTo(K * (b / 256 - b / 64) ** 2, 6);
    expect(() => pointwiseAgreement(byWidth, P, 32)).toThrow(/reference width 32 is not among the widths 16, 64, 256/);
  });
  it('equals its definition on random data (the decomposition is exact)', () => {
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const data = [8, 32].map((width) => ({ width, seeds: [0, 1, 2].map(() => Float32Array.from({ length: 12 }, rnd)) }));
    const out = pointwiseAgreement(data, 4);
    const refMean = new Float64Array(12);
    for (const a of data[1].seeds) a.forEach((v, i) => (refMean[i] += v / 3));
    expect(out[0].d).toBeCloseTo(agreementDirect(data[0].seeds, refMean, 4), 10);
    expect(out[1].d).toBeCloseTo(agreementDirect(data[1].seeds, refMean, 4), 10);
  });
  it('refuses mismatched predictions', () => {
    expect(() => pointwiseAgreement([{ width: 1, seeds: [new Float32Array(4)] }, { width: 2, seeds: [new Float32Array(6)] }], 2)).toThrow(/prediction size/);
  });
});

describe('log-log slope of the variance against width', () => {
  it('variance = c/N gives slope −1 exactly; c/N² gives −2', () => {
    const w = [32, 64, 128, 256, 512];
    const f1 = logLogSlope(w, w.map((n) => 7 / n));
    expect(f1.slope).toBeCloseTo(-1, 12);
    expect(f1.intercept).toBeCloseTo(Math.log(7), 10);
    expect(f1.r2).toBeCloseTo(1, 12);
    expect(logLogSlope(w, w.map((n) => 3 / (n * n))).slope).toBeCloseTo(-2, 12);
  });
  it('per evaluation step, skipping non-positive values', () => {
    const rows = [8, 16, 32].flatMap((width) => [{ step: 0, width, value: 1 / width }, { step: 5, width, value: width === 8 ? 0 : 2 / Math.sqrt(width) }]);
    const s = slopesByStep(rows);
    expect(s.map((p) => p.step)).toEqual([0, 5]);
    expect(s[0].slope).toBeCloseTo(-1, 12);
    expect(s[1].slope).toBeCloseTo(-0.5, 12);
    expect(s[1].n).toBe(2);
    expect(linearFit([1], [1]).n).toBe(1);
  });
});

describe('one series from run results', () => {
  it('curves, agreement and slopes over widths and seeds; diverged seeds drop out after divergence', () => {
    const runs: RunResult[] = [];
    const preds = new Map<string, Float32Array>();
    for (const width of [10, 40, 160])
      for (const seed of [0, 1]) {
        const id = `w${width}s${seed}`;
        const diverged = width === 10 && seed === 1;
        runs.push({
          id, configId: `c${width}`, seriesId: 'S', label: id, dir: '',
          config: { width, seed, task: { name: 'mnist' }, model: { family: 'mlp', depth: 2, activation: 'relu', bias: true }, parameterization: { name: 'mup' }, baseWidth: 10, optimizer: { name: 'sgd', momentum: 0, weightDecay: 0 }, lr: 0.1, batchSize: 4, steps: 2, evalSteps: [0, 2] } as RunResult['config'],
          done: { status: diverged ? 'diverged' : 'ok', evaluations: 2, wallSeconds: 0, finishedAt: '' },
          metrics: [{ step: 0, testLoss: 1 }, { step: 2, testLoss: diverged ? null : 0.5 }],
          predictionSteps: diverged ? [0] : [0, 2],
        });
        for (const step of [0, 2]) preds.set(`${id}@${step}`, Float32Array.from({ length: 4 }, (_, i) => i + (seed ? 1 : -1) / Math.sqrt(width)));
      }
    const a = analyzeSeries(runs, (r, step) => ({ data: preds.get(`${r.id}@${step}`)!, shape: [2, 2] }));
    expect(a.widths).toEqual([10, 40, 160]);
    expect(a.statuses).toEqual({ ok: 5, diverged: 1 });
    expect(a.curves.testLoss.find((p) => p.width === 10 && p.step === 2)).toMatchObject({ n: 1, mean: 0.5 });
    const at0 = a.agreement.filter((p) => p.step === 0);
    expect(at0.map((p) => p.variance)).toEqual(at0.map((p) => expect.closeTo(2 / p.width, 6)));
    expect(a.agreement.find((p) => p.step === 2 && p.width === 10)).toMatchObject({ seeds: 1, variance: 0, complete: false });
    expect(a.varianceSlope[0].slope).toBeCloseTo(-1, 5);
    expect(a.divergedWidths).toEqual([{ width: 10, diverged: 1, of: 2, firstStep: 0 }]);
  });

  it('a widest width that lost seeds is marked and is not the reference; the slope uses complete widths only', () => {
    const runs: RunResult[] = [];
    const preds = new Map<string, Float32Array>();
    // 4 seeds per width; at the widest width, 2 seeds diverge at step 3 (a dead net would predict 0 forever)
    for (const width of [16, 64, 256, 1024])
      for (const seed of [0, 1, 2, 3]) {
        const id = `w${width}s${seed}`;
        const diverged = width === 1024 && seed >= 2;
        runs.push({
          id, configId: `c${width}`, seriesId: 'S', label: id, dir: '',
          config: { width, seed, task: { name: 'mnist' }, model: { family: 'mlp', depth: 2, activation: 'relu', bias: true }, parameterization: { name: 'mup' }, baseWidth: 16, optimizer: { name: 'sgd', momentum: 0, weightDecay: 0 }, lr: 0.1, batchSize: 4, steps: 6, evalSteps: [0, 6] } as RunResult['config'],
          done: diverged ? { status: 'diverged', step: 3, evaluations: 1, wallSeconds: 0, finishedAt: '' } : { status: 'ok', evaluations: 2, wallSeconds: 0, finishedAt: '' },
          metrics: [{ step: 0, testLoss: 1 }],
          predictionSteps: diverged ? [0] : [0, 6],
        });
        // f = limit + bias 1/N + seed noise of variance ~ 1/N
        const noise = [1, -1, 1, -1][seed] * (seed < 2 ? 1 : 0.5) / Math.sqrt(width);
        for (const step of [0, 6]) preds.set(`${id}@${step}`, Float32Array.from({ length: 4 }, (_, i) => i + 1 / width + noise));
      }
    const a = analyzeSeries(runs, (r, step) => ({ data: preds.get(`${r.id}@${step}`)!, shape: [4, 1] }));
    // at step 0 every seed is there: the reference is the widest; at step 6, the widest complete width (256)
    expect(new Set(a.agreement.filter((p) => p.step === 0).map((p) => p.refWidth))).toEqual(new Set([1024]));
    const at6 = a.agreement.filter((p) => p.step === 6);
    expect(new Set(at6.map((p) => p.refWidth))).toEqual(new Set([256]));
    expect(at6.find((p) => p.width === 256)!.bias).toBe(0);
    expect(at6.find((p) => p.width === 1024)).toMatchObject({ seeds: 2, complete: false });
    expect(at6.filter((p) => p.complete).map((p) => p.width)).toEqual([16, 64, 256]);
    // the slope at step 6 is over the three complete widths, each with 4 seeds of variance 0.625 / N
    const slope6 = a.varianceSlope.find((p) => p.step === 6)!;
    expect(slope6.n).toBe(3);
    expect(slope6.slope).toBeCloseTo(-1, 6);
    expect(a.divergedWidths).toEqual([{ width: 1024, diverged: 2, of: 4, firstStep: 3 }]);
    expect(a.noReference).toEqual([]);
  });
});

describe('learning-rate transfer', () => {
  // final test loss (log lr - log lr*(N))^2 + 1/N: muP's optimum lr* is 0.1 at every width, SP's halves as width doubles
  const runsFor = (p: 'mup' | 'sp', lr: number, diverge?: (width: number, seed: number) => boolean): RunResult[] =>
    [64, 128, 256].flatMap((width) => [0, 1].map((seed) => {
      const best = p === 'mup' ? 0.1 : 0.1 * (64 / width);
      const dead = diverge?.(width, seed) ?? false;
      const loss = (Math.log(lr) - Math.log(best)) ** 2 + 1 / width + seed * 1e-3;
      return {
        id: `${p}${lr}w${width}s${seed}`, configId: `${p}${lr}w${width}`, seriesId: `${p}${lr}`, label: '', dir: '',
        config: { width, seed, task: { name: 'mnist' }, model: { family: 'mlp', depth: 2, activation: 'relu', bias: true }, parameterization: { name: p }, baseWidth: 64, optimizer: { name: 'sgd', momentum: 0, weightDecay: 0 }, lr, batchSize: 4, steps: 10, evalSteps: [0, 10] } as RunResult['config'],
        done: dead ? { status: 'diverged', step: 5, evaluations: 1, wallSeconds: 0, finishedAt: '' } : { status: 'ok', evaluations: 2, wallSeconds: 0, finishedAt: '' },
        metrics: [{ step: 0, testLoss: 3 }, ...(dead ? [] : [{ step: 10, testLoss: loss }])],
        predictionSteps: [],
      } satisfies RunResult;
    }));
  const lrs = [0.025, 0.05, 0.1, 0.2];
  const series = (p: 'mup' | 'sp', diverge?: (lr: number, width: number, seed: number) => boolean) =>
    lrs.map((lr) => analyzeSeries(runsFor(p, lr, diverge && ((w, s) => diverge(lr, w, s))), () => { throw new Error('no predictions'); }));

  it('finds the best lr per width: fixed under muP, drifting under SP', () => {
    const [mup, sp] = [lrTransfer(series('mup')), lrTransfer(series('sp'))];
    expect(mup).toHaveLength(1);
    expect(mup[0].lrs).toEqual(lrs);
    expect(mup[0].best.map((b) => b.lr)).toEqual([0.1, 0.1, 0.1]);
    expect(mup[0].drift).toBe(0);
    expect(sp[0].best.map((b) => [b.width, b.lr])).toEqual([[64, 0.1], [128, 0.05], [256, 0.025]]);
    expect(sp[0].drift).toBeCloseTo(-2, 12);
    // one group per setting: muP and SP series together give two
    expect(lrTransfer([...series('mup'), ...series('sp')])).toHaveLength(2);
  });

  it('an lr at which a seed diverged is not the best, even if its survivors look better', () => {
    // at width 128 the optimum lr 0.1 loses seed 1 (its survivor, seed 0, has the lowest loss of all)
    const g = lrTransfer(series('mup', (lr, w, s) => lr === 0.1 && w === 128 && s === 1))[0];
    expect(g.points.find((p) => p.width === 128 && p.lr === 0.1)).toMatchObject({ n: 1, of: 2 });
    expect(g.best.find((b) => b.width === 128)!.lr).not.toBe(0.1);
    expect(g.best.find((b) => b.width === 64)!.lr).toBe(0.1);
  });
});

describe('CSV', () => {
  it('quotes when needed and leaves non-finite cells empty', () => {
    expect(toCsv([{ a: 'x,y', b: Number.NaN, c: 1.5 }], ['a', 'b', 'c'])).toBe('a,b,c\n"x,y",,1.5\n');
  });
});
