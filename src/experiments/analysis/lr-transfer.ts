/**
 * @file Learning-rate transfer: over series that differ only in their learning rate, the final
 * loss per (width, lr) and, per width, the best learning rate. Under muP the optimum stays put as
 * width grows; under SP it drifts (the paper's motivation for muP).
 */
import { canonicalJson } from '../spec/canonical.js';
import type { SeriesAnalysis } from './series.js';

export interface LrPoint {
  width: number;
  lr: number;
  /** Seed mean of the metric at the last step where this width has it; NaN when every seed diverged. */
  value: number;
  /** Seeds with a finite value there. */
  n: number;
  /** Seeds the width has (diverged ones included). */
  of: number;
}

export interface LrTransfer {
  /** The setting shared by the series (every config field but lr), as a short label. */
  label: string;
  metric: string;
  lrs: number[];
  points: LrPoint[];
  /** Per width, the lr with the lowest value among those whose seeds all trained (null if none did). */
  best: { width: number; lr: number | null; value: number }[];
  /** log2 of the widest width's best lr over the narrowest's (0: the optimum transfers). */
  drift: number | null;
}

/** Series grouped by every config field but lr (each group's series differ only in lr). */
export function groupByLr(series: readonly SeriesAnalysis[]): SeriesAnalysis[][] {
  const groups = new Map<string, SeriesAnalysis[]>();
  for (const s of series) {
    const { lr: _lr, ...rest } = s.config;
    const key = canonicalJson(rest);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
}

/** The label of a group of series that differ only in lr. */
export const lrGroupLabel = (group: readonly SeriesAnalysis[]) => group[0].label.replace(/ lr=[^ ]+/, '');

/**
 * Groups series by everything but lr and, for each group with at least two learning rates,
 * reads `metric` (default testLoss) at the final evaluation of each width.
 */
export function lrTransfer(series: readonly SeriesAnalysis[], metric = 'testLoss'): LrTransfer[] {
  const out: LrTransfer[] = [];
  for (const group of groupByLr(series)) {
    const lrs = [...new Set(group.map((s) => s.config.lr))].sort((a, b) => a - b);
    if (lrs.length < 2 || !group.some((s) => s.curves[metric])) continue;
    const points: LrPoint[] = [];
    for (const s of group) {
      const curve = s.curves[metric] ?? [];
      for (const width of s.widths) {
        const pts = curve.filter((p) => p.width === width);
        const last = pts.length > 0 ? Math.max(...pts.map((p) => p.step)) : undefined;
        const p = pts.find((q) => q.step === last);
        points.push({ width, lr: s.config.lr, value: p && p.n > 0 ? p.mean : Number.NaN, n: p?.n ?? 0, of: s.seeds.length });
      }
    }
    const widths = [...new Set(points.map((p) => p.width))].sort((a, b) => a - b);
    const best = widths.map((width) => {
      const ok = points.filter((p) => p.width === width && p.n === p.of && Number.isFinite(p.value));
      if (ok.length === 0) return { width, lr: null, value: Number.NaN };
      const b = ok.reduce((x, y) => (y.value < x.value ? y : x));
      return { width, lr: b.lr, value: b.value };
    });
    const first = best[0]?.lr;
    const last = best[best.length - 1]?.lr;
    const label = lrGroupLabel(group);
    out.push({ label, metric, lrs, points, best, drift: first && last ? Math.log2(last / first) : null });
  }
  return out;
}
