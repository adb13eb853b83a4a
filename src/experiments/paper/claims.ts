/**
 * @file The paper's claims as checks over analysed sweeps. Each claim names the sweeps it reads
 * (by spec name, examples/paper/<name>.json), states itself in one line, and returns its numbers,
 * a verdict at this scale and the figure that shows it. Thresholds are part of each claim's text
 * so a reader sees what "holds" meant.
 */
import type { Analysis, SeriesAnalysis } from '../analysis/analyze.js';
import { ckaNarrowVsWidest, narrowEnsembleVsWideSingle, sharpnessRatios, targetPowerAt, w1NarrowVsWidest } from '../analysis/observable-claims.js';

export type Verdict = 'holds' | 'does not hold' | 'not measurable here';

export interface ClaimResult {
  id: string;
  claim: string;
  /** How the numbers were read, thresholds included. */
  test: string;
  sweeps: string[];
  numbers: Record<string, number | null>;
  verdict: Verdict;
  /** One line: why this verdict (or what was missing). */
  why: string;
  /** Path of the figure (relative to the claims page) that shows it, if any. */
  figure?: string;
}

export interface Claim {
  id: string;
  claim: string;
  test: string;
  sweeps: string[];
  /** Report figure of the first sweep that shows the claim. */
  figure?: string;
  evaluate(analyses: Record<string, Analysis>): Pick<ClaimResult, 'numbers' | 'verdict' | 'why'>;
}

const notMeasurable = (why: string): Pick<ClaimResult, 'numbers' | 'verdict' | 'why'> => ({ numbers: {}, verdict: 'not measurable here', why });

/** The first evaluation after step 0 and the last one, of a series' agreement. */
function earlyAndFinal(s: SeriesAnalysis): { early: number; final: number } | undefined {
  const steps = [...new Set(s.agreement.map((p) => p.step))].sort((a, b) => a - b).filter((t) => t > 0);
  if (steps.length < 2) return undefined;
  return { early: steps[0], final: steps[steps.length - 1] };
}

/**
 * D_N of the narrowest complete width at `step`, relative to the scale of what is predicted:
 * Var(y) = 1 on the standard teacher (its targets are normalised to unit variance), otherwise the
 * reference predictor's power (1/P) Σ ‖f̄_ref‖².
 */
function relativeD(s: SeriesAnalysis, step: number): number | null {
  const pts = s.agreement.filter((p) => p.step === step && p.complete).sort((a, b) => a.width - b.width);
  const p = pts[0];
  if (!p) return null;
  if (s.config.task.name === 'teacher-gaussian') return p.d;
  return p.refPower > 0 ? p.d / p.refPower : null;
}

/** max over widths of |L_N - L_ref| / L_ref of the seed-mean test loss at `step`. */
function lossSpread(s: SeriesAnalysis, step: number): number | null {
  const pts = (s.curves.testLoss ?? []).filter((p) => p.step === step && p.n > 0);
  if (pts.length < 2) return null;
  const ref = pts.reduce((a, b) => (b.width > a.width ? b : a));
  return Math.max(...pts.map((p) => Math.abs(p.mean - ref.mean) / Math.abs(ref.mean)));
}

/** The feature-learning series of a sweep (muP or mean field), else the first. */
function featureLearning(a: Analysis | undefined): SeriesAnalysis | undefined {
  return a?.series.find((s) => s.config.parameterization.name === 'mup' || s.config.parameterization.name === 'mf') ?? a?.series[0];
}

/** The teacher sweep's feature-learning series and what `read` takes from its probes; undefined when either is missing or empty. */
function fromProbes<T>(an: Record<string, Analysis>, read: (s: SeriesAnalysis) => readonly T[] | undefined | null): { s: SeriesAnalysis; got: readonly T[] } | undefined {
  const s = featureLearning(an.teacher);
  const got = s && read(s);
  return s && got && got.length > 0 ? { s, got } : undefined;
}

type Evaluation = Pick<ClaimResult, 'numbers' | 'verdict' | 'why'>;

/** A measured verdict: 'holds' when `holds`, else 'does not hold'. */
const judged = (numbers: Record<string, number | null>, holds: boolean, why: string): Evaluation => ({ numbers, verdict: holds ? 'holds' : 'does not hold', why });

/** A teacher-sweep claim read from probes: not measurable when `read` finds fewer than `least` entries, else `judge` of the series and what was read. */
function probeClaim<T>(read: (s: SeriesAnalysis) => readonly T[] | undefined | null, meta: Omit<Claim, 'evaluate'>, judge: (s: SeriesAnalysis, got: readonly T[]) => Evaluation, least = 1): Claim {
  return {
    ...meta,
    evaluate(an) {
      const p = fromProbes(an, read);
      return p && p.got.length >= least ? judge(p.s, p.got) : notMeasurable(NO_PROBES);
    },
  };
}

const round = (v: number | null, digits = 4) => (v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(digits)));

const NO_PROBES = 'the sweep has no probe files (its spec needs a "probes" field)';
const FEW_EVALUATIONS = 'the teacher sweep has fewer than two evaluations after step 0';

/**
 * A claim read from the teacher sweep's feature-learning series at its first and last evaluations
 * after step 0: not measurable with fewer than two, else `judge` of the series, those steps and
 * every sweep's analysis.
 */
function teacherClaim(meta: Omit<Claim, 'evaluate'>, judge: (s: SeriesAnalysis, t: { early: number; final: number }, an: Record<string, Analysis>) => Evaluation): Claim {
  return {
    ...meta,
    evaluate(an) {
      const s = featureLearning(an.teacher);
      const t = s && earlyAndFinal(s);
      return s && t ? judge(s, t, an) : notMeasurable(FEW_EVALUATIONS);
    },
  };
}

/** The series of the lr grid's `table` whose label names parameterization `p` (one word of it). */
function lrGridSeries<K extends 'largeLr' | 'lrTransfer'>(an: Record<string, Analysis>, table: K, p: 'mup' | 'sp'): NonNullable<Analysis[K]>[number] | undefined {
  const series: readonly NonNullable<Analysis[K]>[number][] = an['lr-grid']?.[table] ?? [];
  return series.find((g) => ` ${g.label} `.includes(` ${p} `));
}

/** Whether ys, ordered by width, never falls (rises: +1) or never rises (-1) by more than `slack`. */
function monotone(ys: readonly number[], direction: 1 | -1, slack: number): boolean {
  return ys.every((y, i) => i === 0 || direction * (y - ys[i - 1]) >= -slack);
}

/** The narrowest width's value per layer against the widest complete width (ckaNarrowVsWidest, w1NarrowVsWidest). */
interface NarrowPoint {
  layer: string;
  step: number;
  width: number;
  refWidth: number;
}

/**
 * Per layer at the narrow points' step: whether `value` of the widths' points (those `keep`
 * admits, ordered by width) moves in `direction` with at most `slack(n)` against it, and the
 * claim's numbers (the step, the widths, `${key}_${layer}` the narrowest width's value).
 */
function perLayerTrend<N extends NarrowPoint, P extends { layer: string; step: number; width: number }>(
  narrow: readonly N[], points: readonly P[], o: { keep?: (p: P) => boolean; value: (p: P) => number; direction: 1 | -1; slack: (n: N) => number; key: string; headline: (n: N) => number },
): { monotone: boolean; numbers: Record<string, number | null> } {
  const ok = narrow.every((n) => {
    const pts = points.filter((p) => p.layer === n.layer && p.step === n.step && (o.keep?.(p) ?? true)).sort((a, b) => a.width - b.width);
    return monotone(pts.map(o.value), o.direction, o.slack(n));
  });
  const numbers: Record<string, number | null> = { step: narrow[0].step, narrowWidth: narrow[0].width, refWidth: narrow[0].refWidth };
  for (const n of narrow) numbers[`${o.key}_${n.layer}`] = round(o.headline(n));
  return { monotone: ok, numbers };
}

export const CLAIMS: Claim[] = [
  teacherClaim({ id: 'early-agreement', sweeps: ['teacher'], figure: 'teacher/report/figures/metric-testLoss.svg',
    claim: 'Loss curves and test predictions agree across widths early in training.',
    test: 'At the first evaluation after step 0: the seed-mean test loss of every width is within 10% of the widest, and the narrowest width\'s D_N is under 10% of Var(y) (on the standard teacher, whose targets have unit variance; elsewhere of the reference predictor\'s power).',
  }, (s, t) => {
    const spread = lossSpread(s, t.early);
    const relD = relativeD(s, t.early);
    if (spread === null || relD === null) return notMeasurable('no test loss or agreement at the first evaluation');
    return judged(
      { step: t.early, lossSpread: round(spread), relativeD: round(relD) },
      spread < 0.1 && relD < 0.1,
      `at step ${t.early} (${s.label}): loss spread ${(100 * spread).toFixed(1)}%, narrowest D_N ${(100 * relD).toFixed(2)}% of ${s.config.task.name === 'teacher-gaussian' ? 'Var(y)' : 'the reference power'}`,
    );
  }),
  teacherClaim({ id: 'variance-1-over-width', sweeps: ['teacher'], figure: 'teacher/report/figures/variance-vs-width.svg',
    claim: 'The seed variance of the predictions falls like 1/width, and ensembling over seeds removes it.',
    test: 'The least-squares slope of log Var_N against log N, taken at every evaluation after step 0, has its median in [-1.1, -0.7] (the final one is reported too); ensembling the S seeds of the narrowest width removes the fraction (1 - 1/S) Var_N / D_N of its disagreement with the reference at the final evaluation.',
  }, (s, t) => {
    const slope = s.varianceSlope.find((p) => p.step === t.final);
    const slopes = s.varianceSlope.filter((p) => p.step > 0 && Number.isFinite(p.slope)).map((p) => p.slope).sort((a, b) => a - b);
    const narrow = s.agreement.filter((p) => p.step === t.final && p.complete).sort((a, b) => a.width - b.width)[0];
    if (!slope || !Number.isFinite(slope.slope) || !narrow || slopes.length === 0) return notMeasurable('no variance slope at the final evaluation (fewer than two complete widths)');
    const m = slopes.length >> 1;
    const median = slopes.length % 2 ? slopes[m] : (slopes[m - 1] + slopes[m]) / 2;
    const removed = narrow.d > 0 ? ((1 - 1 / narrow.seeds) * narrow.variance) / narrow.d : null;
    return judged(
      { medianSlope: round(median), evaluations: slopes.length, finalStep: t.final, finalSlope: round(slope.slope), finalR2: round(slope.r2), widths: slope.n, ensembleRemoves: round(removed) },
      median >= -1.1 && median <= -0.7,
      `median slope ${median.toFixed(3)} over ${slopes.length} evaluations (from ${slopes[0].toFixed(2)} to ${slopes[slopes.length - 1].toFixed(2)}); at step ${t.final} ${slope.slope.toFixed(3)} over ${slope.n} widths (R² ${slope.r2.toFixed(3)}); ensembling ${narrow.seeds} seeds at width ${narrow.width} removes ${removed === null ? '—' : `${(100 * removed).toFixed(0)}%`} of D_N`,
    );
  }),
  probeClaim(ckaNarrowVsWidest, { id: 'representations', sweeps: ['teacher'], figure: 'teacher/report/figures/cka-vs-width.svg',
    claim: 'Internal representations agree across widths: feature kernels approach the widest width\'s as width grows.',
    test: 'At the last probe step, for every hidden layer, the CKA of each width\'s feature kernel against the widest complete width rises with width (never falls by more than 0.02), and the narrowest width\'s CKA is at least 0.8.',
  }, (s, narrow) => {
    const { monotone: rising, numbers } = perLayerTrend(narrow, s.observables!.cka, { value: (p) => p.vsWidest, direction: 1, slack: () => 0.02, key: 'cka', headline: (n) => n.cka });
    const lowest = Math.min(...narrow.map((n) => n.cka));
    return judged(
      numbers,
      rising && lowest >= 0.8,
      `CKA of width ${narrow[0].width} vs ${narrow[0].refWidth}: ${narrow.map((n) => `${n.layer} ${n.cka.toFixed(3)}`).join(', ')}; ${rising ? 'rising' : 'not rising'} with width`,
    );
  }),
  probeClaim(w1NarrowVsWidest, { id: 'preactivations', sweeps: ['teacher'], figure: 'teacher/report/figures/preact-w1.svg',
    claim: 'Preactivation distributions agree across widths, closer the wider the net.',
    test: 'At the last probe step, for every layer, the 1-Wasserstein distance of each width\'s preactivations to the widest complete width\'s falls with width (never rises by more than 10% of the narrowest\'s).',
  }, (s, narrow) => {
    const { monotone: falling, numbers } = perLayerTrend(narrow, s.observables!.preactivations.w1, {
      keep: (p) => p.width !== p.refWidth, value: (p) => p.w1, direction: -1, slack: (n) => 0.1 * n.w1, key: 'w1', headline: (n) => n.w1,
    });
    return judged(
      numbers,
      falling,
      `W1 of width ${narrow[0].width} vs ${narrow[0].refWidth}: ${narrow.map((n) => `${n.layer} ${n.w1.toExponential(2)}`).join(', ')}; ${falling ? 'falling' : 'not falling'} with width`,
    );
  }),
  probeClaim(sharpnessRatios, { id: 'sharpness', sweeps: ['teacher'], figure: 'teacher/report/figures/sharpness.svg',
    claim: 'Sharpness (the top Hessian eigenvalue) evolves alike across widths and stays at or below the edge of stability 2/lr.',
    test: 'At the last probe step, the seed-mean sharpness of the two widest widths differs by under 20%, and every width\'s sharpness / (2/lr) is at most 1.1.',
  }, (s, r) => {
    const byWidth = [...r].sort((a, b) => a.width - b.width);
    const [a, b] = byWidth.slice(-2);
    const spread = Math.abs(a.sharpness - b.sharpness) / Math.max(Math.abs(a.sharpness), Math.abs(b.sharpness));
    const maxRatio = Math.max(...byWidth.map((p) => p.ratio));
    const numbers: Record<string, number | null> = { step: byWidth[0].step, wideSpread: round(spread), maxRatioTo2OverLr: round(maxRatio) };
    for (const p of byWidth) numbers[`sharpness_w${p.width}`] = round(p.sharpness);
    return judged(
      numbers,
      spread < 0.2 && maxRatio <= 1.1,
      `sharpness per width ${byWidth.map((p) => `${p.width}: ${p.sharpness.toFixed(3)}`).join(', ')} (2/lr = ${(2 / s.config.lr).toFixed(1)})`,
    );
  }, 2),
  { id: 'large-lr', sweeps: ['lr-grid'], figure: 'lr-grid/report/figures/large-lr.svg',
    claim: 'Large-learning-rate behaviour agrees at large width: the largest trainable learning rate (and a catapult, where it occurs) is the same for wide nets.',
    test: 'On the lr grid under muP, the largest lr at which every seed trains is the same at the two widest widths.',
    evaluate(an) {
      const mup = lrGridSeries(an, 'largeLr', 'mup');
      if (!mup || mup.largestTrainable.length < 2) return notMeasurable('the lr grid has no muP series with two widths');
      const byWidth = [...mup.largestTrainable].sort((a, b) => a.width - b.width);
      const [a, b] = byWidth.slice(-2);
      const catapults = mup.points.filter((p) => p.catapults !== null).reduce((n, p) => n + (p.catapults ?? 0), 0);
      const measured = mup.points.some((p) => p.catapults !== null);
      const numbers: Record<string, number | null> = { catapultRuns: measured ? catapults : null };
      for (const p of byWidth) numbers[`largestLr_w${p.width}`] = p.lr;
      return judged(
        numbers,
        a.lr !== null && a.lr === b.lr,
        `largest trainable lr per width ${byWidth.map((p) => `${p.width}: ${p.lr ?? 'none'}`).join(', ')}; catapults ${measured ? `in ${catapults} run(s)` : 'not measured (no sharpness probes)'}`,
      );
    },
  },
  probeClaim((s) => targetPowerAt(s, [1, 5, 10]), { id: 'spectral', sweeps: ['teacher'], figure: 'teacher/report/figures/target-power.svg',
    claim: 'The spectral view: a narrow net\'s after-kernel puts less of the target in its top eigenvectors than a wide net\'s, which is the bias of narrow width.',
    test: 'At the last probe step, the cumulative target power C(10) of the widest complete width exceeds the narrowest width\'s.',
  }, (_s, c) => {
    const widths = [...new Set(c.map((p) => p.width))].sort((x, y) => x - y);
    const at = (w: number, k: number) => c.find((p) => p.width === w && p.k === k)?.c ?? null;
    const k = Math.max(...c.map((p) => p.k));
    const [narrow, wide] = [widths[0], widths[widths.length - 1]];
    const cn = at(narrow, k);
    const cw = at(wide, k);
    if (cn === null || cw === null || widths.length < 2) return notMeasurable('fewer than two widths with an after-kernel');
    return judged(
      { step: c[0].step, k, narrowWidth: narrow, narrowC: round(cn), wideWidth: wide, wideC: round(cw), narrowC1: round(at(narrow, 1)), wideC1: round(at(wide, 1)) },
      cw > cn,
      `C(${k}) width ${narrow}: ${cn.toFixed(3)}, width ${wide}: ${cw.toFixed(3)}`,
    );
  }),
  { id: 'narrow-ensemble-bias', sweeps: ['teacher'], figure: 'teacher/report/figures/agreement.svg',
    claim: 'An ensemble of narrow nets is worse than one wide net: narrow width has a bias that ensembling cannot remove.',
    test: 'At the final evaluation, the test loss of the narrowest width\'s seed-averaged predictor (its ensemble) is above the seed-mean test loss of one net of the widest complete width. Without stored targets: the narrowest width\'s bias (its ensemble\'s distance to the reference) exceeds the variance of one widest net.',
    evaluate(an) {
      const s = featureLearning(an.teacher);
      const loss = s && narrowEnsembleVsWideSingle(s);
      if (loss) {
        return judged(
          { step: loss.step, narrowWidth: loss.width, narrowEnsembleLoss: round(loss.narrowEnsemble), wideWidth: loss.refWidth, wideSingleLoss: round(loss.widestSingle), wideEnsembleLoss: round(loss.widestEnsemble) },
          loss.gap > 0,
          `test loss at step ${loss.step}: ensemble of width ${loss.width} ${loss.narrowEnsemble.toExponential(3)}, one width-${loss.refWidth} net ${loss.widestSingle.toExponential(3)}, their ensemble ${loss.widestEnsemble.toExponential(3)}`,
        );
      }
      const t = s && earlyAndFinal(s);
      if (!s || !t) return notMeasurable(FEW_EVALUATIONS);
      const pts = s.agreement.filter((p) => p.step === t.final && p.complete).sort((a, b) => a.width - b.width);
      if (pts.length < 2) return notMeasurable('fewer than two complete widths at the final evaluation');
      const narrow = pts[0];
      const wide = pts[pts.length - 1];
      return judged(
        { step: t.final, narrowWidth: narrow.width, narrowBias: round(narrow.bias), wideWidth: wide.width, wideVariance: round(wide.variance), ratio: round(narrow.bias / wide.variance) },
        narrow.bias > wide.variance,
        `bias of the width-${narrow.width} ensemble ${narrow.bias.toExponential(2)} vs variance of one width-${wide.width} net ${wide.variance.toExponential(2)}`,
      );
    },
  },
  teacherClaim({ id: 'deviations-grow', sweeps: ['teacher', 'harder-cnn', 'harder-text'], figure: 'harder-cnn/report/figures/agreement.svg',
    claim: 'Finite-width deviations grow later in training and on harder tasks.',
    test: 'The narrowest width\'s relative D_N (over Var(y) on the teacher, over the reference predictor\'s power on the classification and text tasks) is larger at the final evaluation than at the first one after step 0, and larger on the harder tasks (CNN on Fashion-MNIST, transformer on Moby Dick) than on the teacher task at the final evaluation.',
  }, (teacher, tt, an) => {
    const base = relativeD(teacher, tt.final);
    const early = relativeD(teacher, tt.early);
    const harder = [...(an['harder-cnn']?.series ?? []), ...(an['harder-text']?.series ?? [])].map((s) => {
      const t = earlyAndFinal(s);
      return { label: s.label, rel: t ? relativeD(s, t.final) : null };
    }).filter((h): h is { label: string; rel: number } => h.rel !== null);
    if (base === null || early === null) return notMeasurable('no agreement at the first or final evaluation of the teacher sweep');
    const later = base > early;
    const numbers: Record<string, number | null> = { teacherEarly: round(early), teacherFinal: round(base) };
    harder.forEach((h, i) => { numbers[`harder${i}Final`] = round(h.rel); });
    if (harder.length === 0) return { numbers, verdict: 'not measurable here', why: 'the harder-task sweep has no agreement to compare' };
    const harderLarger = harder.every((h) => h.rel > base);
    return judged(
      numbers,
      later && harderLarger,
      `teacher: ${early.toExponential(2)} early -> ${base.toExponential(2)} final; ${harder.map((h) => `${h.label}: ${h.rel.toExponential(2)}`).join('; ')}`,
    );
  }),
  { id: 'lr-transfer', sweeps: ['lr-grid'], figure: 'lr-grid/report/figures/lr-transfer.svg',
    claim: 'Under muP the best learning rate transfers across widths; under SP it drifts.',
    test: 'On the lr grid, log2(best lr at the widest width / best lr at the narrowest) is within ±1 (one grid step of 2x) for muP.',
    evaluate(an) {
      const mup = lrGridSeries(an, 'lrTransfer', 'mup');
      const sp = lrGridSeries(an, 'lrTransfer', 'sp');
      if (!mup || mup.drift === null) return notMeasurable('the lr grid has no muP series with a trainable lr at both ends of the widths');
      return judged(
        { mupDrift: round(mup.drift), spDrift: sp ? round(sp.drift) : null },
        Math.abs(mup.drift) <= 1,
        `muP best lr per width ${mup.best.map((b) => `${b.width}: ${b.lr}`).join(', ')}${sp ? `; SP ${sp.best.map((b) => `${b.width}: ${b.lr}`).join(', ')}` : ''}`,
      );
    },
  },
];

/** Evaluates every claim; a claim whose sweep is missing is 'not measurable here' and says which. */
export function evaluateClaims(analyses: Record<string, Analysis>, claims: readonly Claim[] = CLAIMS): ClaimResult[] {
  return claims.map((c) => {
    const missing = c.sweeps.filter((s) => !analyses[s]);
    const r = missing.length === c.sweeps.length ? notMeasurable(`sweep ${missing.join(', ')} was not run`) : c.evaluate(analyses);
    return { id: c.id, claim: c.claim, test: c.test, sweeps: c.sweeps, figure: c.figure, ...r };
  });
}
