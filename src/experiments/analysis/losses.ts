/**
 * @file Loss (or any metric) against step, per width: the seed mean and spread.
 */
import { summarize } from './stats.js';

export interface MetricSeries {
  width: number;
  seed: number;
  steps: readonly number[];
  values: readonly (number | null)[];
}

export interface CurvePoint {
  width: number;
  step: number;
  /** Seeds with a finite value at this step (diverged seeds drop out). */
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** One point per (width, step): mean, sample std, min and max over seeds; sorted by width then step. */
export function metricCurves(series: readonly MetricSeries[]): CurvePoint[] {
  const cells = new Map<string, { width: number; step: number; values: number[] }>();
  for (const s of series) {
    if (s.steps.length !== s.values.length) throw new Error(`metricCurves: width ${s.width} seed ${s.seed}: ${s.steps.length} steps, ${s.values.length} values`);
    s.steps.forEach((step, i) => {
      const key = `${s.width}/${step}`;
      let c = cells.get(key);
      if (!c) cells.set(key, (c = { width: s.width, step, values: [] }));
      const v = s.values[i];
      c.values.push(v === null ? Number.NaN : v);
    });
  }
  return [...cells.values()]
    .map(({ width, step, values }) => ({ width, step, ...summarize(values) }))
    .sort((a, b) => a.width - b.width || a.step - b.step);
}
