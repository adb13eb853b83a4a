/**
 * @file Histograms over fixed bins, so distributions of one layer compare across widths, seeds and
 * steps. The bins of a layer are fixed once from a reference sample (e.g. the widest width at
 * initialisation): `count` equal bins over mean ± `stds` standard deviations of the reference.
 * Values below the range are counted in `below`, above it in `above`, NaN in `nan`; none of them
 * enter `counts`, so counts + below + above + nan = samples always. A value equal to `hi` falls in
 * the last bin.
 */

export interface Bins {
  lo: number;
  hi: number;
  count: number;
}

export interface Histogram {
  bins: Bins;
  counts: Float64Array;
  below: number;
  above: number;
  nan: number;
  /** Every sample, whichever group it went to. */
  total: number;
}

/** `count` equal bins over [lo, hi]; throws unless lo < hi are finite and count a positive integer. */
export function bins(lo: number, hi: number, count: number): Bins {
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw new Error(`histogram bins: expected finite lo < hi, got lo ${lo}, hi ${hi}`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`histogram bins: expected a positive integer bin count, got ${count}`);
  return { lo, hi, count };
}

/** Bins over mean ± stds * std of the finite values of `reference` (default 64 bins, ± 4 std). */
export function binsFromReference(reference: ArrayLike<number>, opts: { count?: number; stds?: number } = {}): Bins {
  const { count = 64, stds = 4 } = opts;
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < reference.length; i++) {
    const x = reference[i];
    if (!Number.isFinite(x)) continue;
    n++;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  const std = n > 0 ? Math.sqrt(m2 / n) : NaN;
  if (!(std > 0)) throw new Error(`histogram bins: the reference needs finite values with a positive spread, got ${n} finite values with std ${std}`);
  return bins(mean - stds * std, mean + stds * std, count);
}

/** The histogram of `samples` over `b`. */
export function histogram(samples: ArrayLike<number>, b: Bins): Histogram {
  const counts = new Float64Array(b.count);
  let [below, above, nan] = [0, 0, 0];
  const width = (b.hi - b.lo) / b.count;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    if (Number.isNaN(x)) nan++;
    else if (x < b.lo) below++;
    else if (x > b.hi) above++;
    else counts[Math.min(b.count - 1, Math.floor((x - b.lo) / width))]++;
  }
  return { bins: b, counts, below, above, nan, total: samples.length };
}
