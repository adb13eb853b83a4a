/**
 * @file The first set of analyses over a results directory, per series (all widths and seeds
 * of one setting): metric curves, point-wise agreement D_N = Var + Bias, and the log-log slope
 * of the variance against width at each evaluation. Writes CSV and JSON under <results>/analysis/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../atomic.js';
import { readPredictions, readResults, type ResultsDir, type RunResult, type SkippedRun } from '../results.js';
import { seriesLabel } from '../spec/resolve.js';
import { pointwiseAgreement } from './agreement.js';
import { metricCurves, type CurvePoint } from './losses.js';
import { slopesByStep } from './slope.js';
import { toCsv } from './csv.js';
import { lrTransfer, type LrTransfer } from './lr-transfer.js';
import type { LargeLr } from './large-lr.js';
import { analyzeObservables, largeLrTables, writeObservablesCsv } from './observables.js';
import type { SeriesAnalysis } from './series.js';

export type { SeriesAnalysis, SeriesObservables } from './series.js';


export interface Analysis {
  sweep?: string;
  series: SeriesAnalysis[];
  /** Series that differ only in lr, grouped: the final test loss per (width, lr) and the best lr per width. */
  lrTransfer: LrTransfer[];
  /** Series that differ only in lr: per width the largest lr that trains, and catapults per (width, lr). */
  largeLr?: LargeLr[];
  unfinished: string[];
  /** Run directories left out because a file is corrupt or missing, with what is wrong. */
  skipped: SkippedRun[];
}

/** Analyses one series; `load(run, step)` returns the run's predictions at step. */
export function analyzeSeries(runs: readonly RunResult[], load: (run: RunResult, step: number) => { data: Float32Array; shape: number[] }): SeriesAnalysis {
  const first = runs[0];
  const { width: _w, seed: _s, ...config } = first.config;
  const widths = [...new Set(runs.map((r) => r.config.width))].sort((a, b) => a - b);
  const seeds = [...new Set(runs.map((r) => r.config.seed))].sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of runs) statuses[r.done.status] = (statuses[r.done.status] ?? 0) + 1;

  const metricNames = [...new Set(runs.flatMap((r) => r.metrics.flatMap((m) => Object.keys(m).filter((k) => k !== 'step'))))].sort();
  const curves: Record<string, CurvePoint[]> = {};
  for (const name of metricNames)
    curves[name] = metricCurves(runs.map((r) => {
      const lines = r.metrics.filter((m) => name in m);
      return { width: r.config.width, seed: r.config.seed, steps: lines.map((m) => m.step), values: lines.map((m) => m[name] as number | null) };
    }));

  const agreement: SeriesAnalysis['agreement'] = [];
  const noReference: number[] = [];
  const runsAt = (width: number) => runs.filter((r) => r.config.width === width);
  const steps = [...new Set(runs.flatMap((r) => r.predictionSteps))].sort((a, b) => a - b);
  for (const step of steps) {
    // Seeds that diverged before `step` have no predictions there: their width is incomplete.
    const byWidth = widths.map((width) => {
      const all = runsAt(width);
      const arrays = all.filter((r) => r.predictionSteps.includes(step)).map((r) => load(r, step));
      return { width, arrays, complete: arrays.length === all.length };
    }).filter((w) => w.arrays.length > 0);
    const complete = byWidth.filter((w) => w.complete);
    if (complete.length === 0) {
      if (byWidth.length > 0) noReference.push(step);
      continue;
    }
    const shape = byWidth[0].arrays[0].shape;
    const points = shape.length > 0 ? shape[0] : 1;
    const refWidth = Math.max(...complete.map((w) => w.width));
    const isComplete = new Map(byWidth.map((w) => [w.width, w.complete]));
    for (const p of pointwiseAgreement(byWidth.map((w) => ({ width: w.width, seeds: w.arrays.map((a) => a.data) })), points, refWidth))
      agreement.push({ step, refWidth, complete: isComplete.get(p.width)!, ...p });
  }
  const varianceSlope = slopesByStep(agreement.filter((a) => a.complete).map((a) => ({ step: a.step, width: a.width, value: a.variance })));
  const divergedWidths = widths.flatMap((width) => {
    const all = runsAt(width);
    const dead = all.filter((r) => r.done?.status === 'diverged');
    if (dead.length === 0) return [];
    return [{ width, diverged: dead.length, of: all.length, firstStep: Math.min(...dead.map((r) => r.done?.step ?? 0)) }];
  });
  return { seriesId: first.seriesId, label: seriesLabel(first.config), config, widths, seeds, statuses, curves, agreement, varianceSlope, divergedWidths, noReference };
}

export function analyzeResults(results: ResultsDir): Analysis {
  const bySeries = new Map<string, RunResult[]>();
  for (const r of results.runs) {
    const list = bySeries.get(r.seriesId) ?? [];
    list.push(r);
    bySeries.set(r.seriesId, list);
  }
  const series = [...bySeries.values()].map((runs) => ({ ...analyzeSeries(runs, readPredictions), observables: analyzeObservables(runs) }));
  return { sweep: results.sweep?.name, series, lrTransfer: lrTransfer(series), largeLr: largeLrTables(series), unfinished: results.unfinished, skipped: results.skipped };
}

/** Reads `dir`, analyses it and writes analysis/{curves,agreement,variance_slope,lr_transfer}.csv, the observables' CSV files and summary.json. */
export function writeAnalysis(dir: string): Analysis {
  const analysis = analyzeResults(readResults(dir));
  const out = join(dir, 'analysis');
  mkdirSync(out, { recursive: true });
  const curveRows = analysis.series.flatMap((s) => Object.entries(s.curves).flatMap(([metric, pts]) => pts.map((p) => ({ series: s.seriesId, label: s.label, metric, ...p }))));
  writeFileAtomic(join(out, 'curves.csv'), toCsv(curveRows, ['series', 'label', 'metric', 'width', 'step', 'n', 'mean', 'std', 'min', 'max']));
  const agreementRows = analysis.series.flatMap((s) => s.agreement.map((a) => ({ series: s.seriesId, label: s.label, ...a })));
  writeFileAtomic(join(out, 'agreement.csv'), toCsv(agreementRows, ['series', 'label', 'step', 'width', 'refWidth', 'seeds', 'complete', 'd', 'variance', 'bias']));
  const slopeRows = analysis.series.flatMap((s) => s.varianceSlope.map((p) => ({ series: s.seriesId, label: s.label, ...p })));
  writeFileAtomic(join(out, 'variance_slope.csv'), toCsv(slopeRows, ['series', 'label', 'step', 'slope', 'intercept', 'r2', 'n']));
  const lrRows = analysis.lrTransfer.flatMap((g) => g.points.map((p) => ({ setting: g.label, metric: g.metric, ...p, best: g.best.some((b) => b.width === p.width && b.lr === p.lr) })));
  writeFileAtomic(join(out, 'lr_transfer.csv'), toCsv(lrRows, ['setting', 'metric', 'width', 'lr', 'value', 'n', 'of', 'best']));
  writeObservablesCsv(out, analysis.series, analysis.largeLr ?? []);
  writeJsonAtomic(join(out, 'summary.json'), analysis);
  return analysis;
}
