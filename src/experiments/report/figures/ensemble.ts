/**
 * @file Figure of the bias of narrower width: the seed-averaged predictor's test loss per width over
 * training, against the widest single net and the widest ensemble.
 */
import type { Analysis } from '../../analysis/analyze.js';
import { facettedFigure, type Figure } from './common.js';

export function ensembleLossFigure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => {
    const pts = s.observables?.ensemble?.points ?? [];
    const steps = [...new Set(pts.map((p) => p.step))];
    const refs = steps.map((step) => pts.find((p) => p.step === step)!);
    return [
      ...pts.filter((p) => p.width !== p.refWidth).map((p) => ({ series: s.label, curve: `ensemble, width ${p.width}`, step: p.step, loss: p.ensembleLoss })),
      ...refs.map((p) => ({ series: s.label, curve: 'widest single net', step: p.step, loss: p.widestSingle })),
      ...refs.map((p) => ({ series: s.label, curve: 'widest ensemble', step: p.step, loss: p.widestEnsemble })),
    ].filter((r) => Number.isFinite(r.loss));
  });
  const log = rows.every((r) => r.loss > 0);
  return facettedFigure({
    name: 'ensemble-loss', title: 'test loss of the seed-averaged predictor vs the widest single net',
    caption: 'Test loss of each width\'s seed-averaged predictor over training, against the widest complete width\'s single nets (seed mean of their losses) and its own seed average. A narrow ensemble that stays above the widest single net has a bias that averaging seeds does not remove.',
  }, rows, 'series', {
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'quantitative' },
      y: { field: 'loss', type: 'quantitative', title: 'test loss', scale: log ? { type: 'log', nice: false } : { zero: false } },
      color: { field: 'curve', type: 'nominal', title: null },
      strokeDash: { condition: { test: "indexof(datum.curve, 'widest') === 0", value: [4, 3] }, value: [1, 0] },
    },
  }, 2);
}
