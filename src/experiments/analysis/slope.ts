/**
 * @file How fast a quantity falls with width: the least-squares slope of log y against log N.
 * A seed variance ~ 1/N gives slope −1.
 */
import { linearFit } from './stats.js';

export interface SlopeFit {
  slope: number;
  intercept: number;
  r2: number;
  /** Widths used (those with a finite, positive value). */
  n: number;
}

export function logLogSlope(widths: readonly number[], values: readonly number[]): SlopeFit {
  const xs: number[] = [];
  const ys: number[] = [];
  widths.forEach((w, i) => {
    if (w > 0 && values[i] > 0 && Number.isFinite(values[i])) { xs.push(Math.log(w)); ys.push(Math.log(values[i])); }
  });
  return linearFit(xs, ys);
}

export interface SlopePoint extends SlopeFit {
  step: number;
}

/** The slope at every evaluation step, from rows {step, width, value}. */
export function slopesByStep(rows: readonly { step: number; width: number; value: number }[]): SlopePoint[] {
  const byStep = new Map<number, { widths: number[]; values: number[] }>();
  for (const r of rows) {
    let e = byStep.get(r.step);
    if (!e) byStep.set(r.step, (e = { widths: [], values: [] }));
    e.widths.push(r.width);
    e.values.push(r.value);
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, e]) => ({ step, ...logLogSlope(e.widths, e.values) }));
}
