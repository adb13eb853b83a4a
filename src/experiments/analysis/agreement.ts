/**
 * @file Point-wise agreement across widths (the paper's D_N).
 *
 *   D_N(t) = (1/S) Σ_s (1/P) Σ_x ‖f_N^s(x,t) − f̄_ref(x,t)‖²,
 *
 * with f̄_ref the seed average of the widest width. Writing f_N^s − f̄_ref = (f_N^s − f̄_N) +
 * (f̄_N − f̄_ref), the cross term averages to zero over seeds, so exactly
 *
 *   D_N = Var_N + Bias_N,  Var_N = (1/P) Σ_x (1/S) Σ_s ‖f_N^s − f̄_N‖²,  Bias_N = (1/P) Σ_x ‖f̄_N − f̄_ref‖².
 *
 * NOTE: Var_N uses 1/S (not 1/(S−1)) so that the identity is exact; multiply by S/(S−1) for the
 * unbiased estimate of the seed variance. At the reference width Bias = 0 and D = Var.
 * Sums run in f64 over f32 inputs.
 */

export interface WidthPredictions {
  width: number;
  /** One array per seed, each [points × outputs] in C order. */
  seeds: readonly Float32Array[];
}

export interface AgreementPoint {
  width: number;
  seeds: number;
  d: number;
  variance: number;
  bias: number;
  /** (1/P) Σ_x ‖f̄_ref(x)‖²: the scale D_N is read against (D_N / refPower is a relative error). */
  refPower: number;
}

function seedMean(seeds: readonly Float32Array[]): Float64Array {
  const m = new Float64Array(seeds[0].length);
  for (const s of seeds) for (let i = 0; i < m.length; i++) m[i] += s[i];
  for (let i = 0; i < m.length; i++) m[i] /= seeds.length;
  return m;
}

/**
 * D_N, Var_N and Bias_N for every width at one evaluation; `points` = test points (P). The
 * reference is `refWidth` (default: the widest width given).
 */
export function pointwiseAgreement(byWidth: readonly WidthPredictions[], points: number, refWidth?: number): AgreementPoint[] {
  if (byWidth.length === 0) return [];
  const len = byWidth[0].seeds[0]?.length;
  for (const w of byWidth) {
    if (w.seeds.length === 0) throw new Error(`pointwiseAgreement: width ${w.width} has no seeds`);
    for (const s of w.seeds) if (s.length !== len) throw new Error(`pointwiseAgreement: width ${w.width}: prediction size ${s.length}, expected ${len}`);
  }
  if (len % points !== 0) throw new Error(`pointwiseAgreement: ${len} values are not ${points} points`);
  const ref = refWidth === undefined ? byWidth.reduce((a, b) => (b.width > a.width ? b : a)) : byWidth.find((w) => w.width === refWidth);
  if (!ref) throw new Error(`pointwiseAgreement: reference width ${refWidth} is not among the widths ${byWidth.map((w) => w.width).join(', ')}`);
  const refMean = seedMean(ref.seeds);
  let refPower = 0;
  for (let i = 0; i < len; i++) refPower += refMean[i] ** 2;
  refPower /= points;
  return [...byWidth].sort((a, b) => a.width - b.width).map((w) => {
    const mean = w === ref ? refMean : seedMean(w.seeds);
    let variance = 0;
    for (const s of w.seeds) for (let i = 0; i < len; i++) variance += (s[i] - mean[i]) ** 2;
    variance /= w.seeds.length * points;
    let bias = 0;
    for (let i = 0; i < len; i++) bias += (mean[i] - refMean[i]) ** 2;
    bias /= points;
    return { width: w.width, seeds: w.seeds.length, d: variance + bias, variance, bias, refPower };
  });
}

/** D_N computed directly from its definition (the oracle for the decomposition). */
export function agreementDirect(seeds: readonly Float32Array[], refMean: ArrayLike<number>, points: number): number {
  let d = 0;
  for (const s of seeds) for (let i = 0; i < s.length; i++) d += (s[i] - refMean[i]) ** 2;
  return d / (seeds.length * points);
}
