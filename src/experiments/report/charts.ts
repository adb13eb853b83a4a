/**
 * @file Vega-Lite specs of the report's figures, built from an Analysis (pure data → spec): the
 * loss curves, agreement, variance and lr transfer here, the observables' in figures/.
 */
import type { Analysis } from '../analysis/analyze.js';
import { base, figureOf, perSetting, widthColor, type Figure } from './figures/common.js';
import { observableFigures } from './figures/index.js';

export type { Figure, VegaLiteSpec } from './figures/common.js';


const METRIC_TITLES: Record<string, string> = { trainLoss: 'train loss', testLoss: 'test loss', testAccuracy: 'test accuracy' };

/** Loss-like metric vs step per width, seed mean with a min–max band, one panel per series. */
function metricFigure(a: Analysis, metric: string): Figure | undefined {
  const rows = a.series.flatMap((s) => (s.curves[metric] ?? []).filter((p) => p.n > 0).map((p) => ({ series: s.label, width: p.width, step: p.step, mean: p.mean, lo: p.min, hi: p.max })));
  if (rows.length === 0) return undefined;
  const log = rows.every((r) => r.lo > 0);
  const title = METRIC_TITLES[metric] ?? metric;
  const y = { type: 'quantitative', title, scale: log ? { type: 'log', nice: false } : { zero: false } };
  return {
    name: `metric-${metric}`,
    title: `${title} vs step`,
    caption: `Seed mean (line) and min–max over seeds (band) of ${title}, per width. Under muP the curves of different widths should coincide.`,
    spec: {
      ...base,
      data: { values: rows },
      facet: { field: 'series', type: 'nominal', title: null },
      columns: 2,
      spec: {
        width: 300,
        height: 200,
        layer: [
          { mark: { type: 'area', opacity: 0.2 }, encoding: { x: { field: 'step', type: 'quantitative' }, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color: widthColor } },
          { mark: { type: 'line', point: true }, encoding: { x: { field: 'step', type: 'quantitative' }, y: { ...y, field: 'mean' }, color: widthColor } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

function agreementFigure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => s.agreement.flatMap((p) => [
    { series: s.label, part: 'variance (across seeds)', width: p.width, step: p.step, value: p.variance },
    { series: s.label, part: 'bias (seed-averaged)', width: p.width, step: p.step, value: p.bias },
  ])).filter((r) => r.value > 0 && Number.isFinite(r.value));
  return figureOf({
    name: 'agreement', title: 'point-wise agreement with the widest complete width',
    caption: 'D_N(t) = mean over test points of ‖f_N − f̄_ref‖², split into the variance across seeds and the bias of the seed average; f̄_ref is the seed average of the widest width whose seeds are all finite (its own bias is 0 and not drawn).',
  }, rows, (rows) => ({
    ...base,
    data: { values: rows },
    facet: { row: { field: 'series', type: 'nominal', title: null }, column: { field: 'part', type: 'nominal', title: null } },
    spec: {
      width: 280,
      height: 180,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'step', type: 'quantitative' },
        y: { field: 'value', type: 'quantitative', title: 'mean ‖·‖²', scale: { type: 'log' } },
        color: widthColor,
      },
    },
  }));
}

function varianceWidthFigure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => {
    const last = Math.max(...s.agreement.map((p) => p.step));
    return s.agreement.filter((p) => p.step === last && p.complete && p.variance > 0).map((p) => ({ series: s.label, width: p.width, variance: p.variance, step: p.step }));
  });
  if (rows.length < 2) return undefined;
  return {
    name: 'variance-vs-width',
    title: 'seed variance vs width (final evaluation)',
    caption: 'Variance part of D_N at the last evaluation against width, log-log, over the widths with all their seeds; a slope of −1 is variance ∝ 1/N.',
    spec: {
      ...base,
      width: 420,
      height: 300,
      data: { values: rows },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'width', type: 'quantitative', scale: { type: 'log', base: 2 } },
        y: { field: 'variance', type: 'quantitative', scale: { type: 'log' } },
        color: { field: 'series', type: 'nominal' },
      },
    },
  };
}

function slopeFigure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => s.varianceSlope.filter((p) => Number.isFinite(p.slope)).map((p) => ({ series: s.label, step: p.step, slope: p.slope, r2: p.r2 })));
  return figureOf({
    name: 'variance-slope', title: 'log-log slope of the variance against width',
    caption: 'Least-squares slope of log Var_N against log N at each evaluation; the dashed rule marks −1.',
  }, rows, (rows) => ({
    ...base,
    width: 420,
    height: 260,
    layer: [
      { data: { values: rows }, mark: { type: 'line', point: true }, encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'slope', type: 'quantitative' }, color: { field: 'series', type: 'nominal' } } },
      { data: { values: [{ y: -1 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  }));
}

function lrTransferFigure(a: Analysis): Figure | undefined {
  const rows = a.lrTransfer.flatMap((g) => g.points.filter((p) => Number.isFinite(p.value)).map((p) => ({ setting: g.label, width: p.width, lr: p.lr, value: p.value })));
  return figureOf({
    name: 'lr-transfer', title: 'learning-rate transfer',
    caption: 'Final test loss against the learning rate, one line per width (seed mean; widths whose seeds all diverged at an lr have no point there). Under muP the minimum stays at the same lr as width grows.',
  }, rows, (rows) => perSetting(rows, 200, { type: 'line', point: true }, {
    y: { field: 'value', type: 'quantitative', title: 'final test loss', scale: { zero: false } },
    color: widthColor,
  }));
}

export function buildFigures(a: Analysis): Figure[] {
  const metrics = [...new Set(a.series.flatMap((s) => Object.keys(s.curves)))];
  const ordered = [...['trainLoss', 'testLoss', 'testAccuracy'].filter((m) => metrics.includes(m)), ...metrics.filter((m) => !['trainLoss', 'testLoss', 'testAccuracy'].includes(m)).sort()];
  return [...ordered.map((m) => metricFigure(a, m)), agreementFigure(a), varianceWidthFigure(a), slopeFigure(a), lrTransferFigure(a), ...observableFigures(a)].filter((f): f is Figure => f !== undefined);
}
