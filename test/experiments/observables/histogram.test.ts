import { describe, expect, it } from 'vitest';
import { bins, binsFromReference, histogram } from '../../../src/experiments/observables/histogram.js';
import { wasserstein1, wasserstein1Histogram } from '../../../src/experiments/observables/wasserstein.js';
import { normals } from './util.js';

describe('histograms over fixed bins', () => {
  it('conserve counts: in-range + below + above + NaN = samples; hi falls in the last bin', () => {
    const b = bins(-1, 1, 4);
    const h = histogram([-2, -1, -0.5, 0, 0.49, 0.5, 1, 1.5, NaN, 3], b);
    expect(Array.from(h.counts)).toEqual([1, 1, 2, 2]);
    expect([h.below, h.above, h.nan, h.total]).toEqual([1, 2, 1, 10]);
    const x = normals(5000, 3).map((v) => v * 2);
    const g = histogram(x, binsFromReference(normals(1000, 4), { count: 32, stds: 3 }));
    expect(g.counts.reduce((s, c) => s + c, 0) + g.below + g.above + g.nan).toBe(5000);
    expect(g.below + g.above).toBeGreaterThan(0);
  });

  it('bins from a reference span mean ± stds * std', () => {
    const b = binsFromReference([1, 3, 1, 3], { count: 8, stds: 2 });
    expect(b).toEqual({ lo: 0, hi: 4, count: 8 });
    expect(() => binsFromReference([2, 2, 2])).toThrow(/histogram bins: the reference needs finite values with a positive spread, got 3 finite values with std 0/);
    expect(() => bins(1, 1, 4)).toThrow(/histogram bins: expected finite lo < hi, got lo 1, hi 1/);
    expect(() => bins(0, 1, 2.5)).toThrow(/histogram bins: expected a positive integer bin count, got 2.5/);
  });
});

describe('W1', () => {
  it('is 0 for identical samples and the shift for a shifted sample (exact)', () => {
    const a = normals(300, 1);
    expect(wasserstein1(a, Float64Array.from(a).reverse())).toBe(0);
    expect(wasserstein1(a, a.map((x) => x + 0.75))).toBeCloseTo(0.75, 12);
    expect(wasserstein1([0, 1], [0, 0, 1, 1])).toBe(0);
    expect(wasserstein1([0], [0, 2])).toBe(1);
    expect(wasserstein1([0, NaN], [0, 2])).toBeNaN();
  });

  it('from histograms: 0 for equal histograms, the shift for a whole-bin shift inside the range', () => {
    const b = bins(-4, 4, 80);
    const a = normals(2000, 2).map((x) => x * 0.5);
    const ha = histogram(a, b);
    expect(wasserstein1Histogram(ha, histogram(Float64Array.from(a).reverse(), b))).toBe(0);
    const shifted = histogram(a.map((x) => x + 0.3), b); // 3 bins
    expect(wasserstein1Histogram(ha, shifted)).toBeCloseTo(0.3, 6);
    expect(Math.abs(wasserstein1Histogram(ha, shifted) - wasserstein1(a, a.map((x) => x + 0.3)))).toBeLessThan(0.05);
    expect(() => wasserstein1Histogram(ha, histogram(a, bins(-4, 4, 40)))).toThrow(/wasserstein1Histogram: the histograms must share their bins, got \[-4, 4\] x 80 and \[-4, 4\] x 40/);
  });
});
