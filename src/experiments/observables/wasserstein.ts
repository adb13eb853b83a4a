/**
 * @file The 1-Wasserstein distance W1(P, Q) = ∫ |F_P(t) - F_Q(t)| dt between two one-dimensional
 * distributions: exactly from two empirical samples (sizes may differ), and from two histograms
 * over the same bins, each bin's mass at its centre and the out-of-range mass at the range's
 * edges (`below` at lo, `above` at hi; a lower bound on the samples' W1 when tails leave the
 * range). NaN in a sample (or counted in a histogram) gives NaN; an infinite value gives Infinity
 * unless both samples hold it equally.
 */
import type { Histogram } from './histogram.js';

/** W1 between the empirical distributions of `a` and `b` (exact; O((n + m) log(n + m))). */
export function wasserstein1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 || b.length === 0) throw new Error(`wasserstein1: expected non-empty samples, got ${a.length} and ${b.length} values`);
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  if (Number.isNaN(x[x.length - 1]) || Number.isNaN(y[y.length - 1])) return NaN;
  // walk the merged support; between consecutive points the CDFs are constant
  let [i, j] = [0, 0];
  let total = 0;
  let prev = Math.min(x[0], y[0]);
  while (i < x.length || j < y.length) {
    const t = j >= y.length || (i < x.length && x[i] <= y[j]) ? x[i] : y[j];
    const gap = t - prev;
    const diff = Math.abs(i / x.length - j / y.length);
    if (gap > 0 && diff > 0) total += diff * gap;
    while (i < x.length && x[i] === t) i++;
    while (j < y.length && y[j] === t) j++;
    prev = t;
  }
  return total;
}

/** W1 between two histograms over the same bins (mass at bin centres, out-of-range mass at the edges). */
export function wasserstein1Histogram(p: Histogram, q: Histogram): number {
  const [bp, bq] = [p.bins, q.bins];
  if (bp.lo !== bq.lo || bp.hi !== bq.hi || bp.count !== bq.count) {
    throw new Error(`wasserstein1Histogram: the histograms must share their bins, got [${bp.lo}, ${bp.hi}] x ${bp.count} and [${bq.lo}, ${bq.hi}] x ${bq.count}`);
  }
  if (p.nan > 0 || q.nan > 0) return NaN;
  const mass = (h: Histogram) => h.total - h.nan;
  if (mass(p) === 0 || mass(q) === 0) throw new Error(`wasserstein1Histogram: expected non-empty histograms, got ${mass(p)} and ${mass(q)} samples`);
  const width = (bp.hi - bp.lo) / bp.count;
  // support: lo (below), the bin centres, hi (above)
  const points = [bp.lo, ...Array.from({ length: bp.count }, (_, k) => bp.lo + (k + 0.5) * width), bp.hi];
  const weights = (h: Histogram) => [h.below, ...h.counts, h.above].map((c) => c / mass(h));
  const [wp, wq] = [weights(p), weights(q)];
  let [cp, cq, total] = [0, 0, 0];
  for (let k = 0; k < points.length - 1; k++) {
    cp += wp[k];
    cq += wq[k];
    total += Math.abs(cp - cq) * (points[k + 1] - points[k]);
  }
  return total;
}
