/**
 * @file Figures of the training dynamics: sharpness against the edge of stability 2/lr, and the
 * large-lr map (which lrs train, where a catapult appears).
 */
import type { Analysis } from '../../analysis/analyze.js';
import { facettedFigure, figureOf, perSetting, widthColor, type Figure } from './common.js';

export function sharpnessFigure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => {
    const sh = s.observables?.sharpness;
    return sh ? sh.points.map((p) => ({ series: s.label, width: p.width, step: p.step, sharpness: p.mean, edge: sh.edge })) : [];
  });
  return facettedFigure({
    name: 'sharpness', title: 'sharpness over training, against 2/lr',
    caption: 'Seed mean of the top Hessian eigenvalue of the training loss per width; the dashed rule is 2/lr, the edge of stability of gradient descent at the series\' learning rate.',
  }, rows, 'series', {
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'sharpness', type: 'quantitative', title: 'sharpness' }, color: widthColor } },
      { mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'edge', type: 'quantitative', aggregate: 'max' } } },
    ],
  }, 2);
}

export function largeLrFigure(a: Analysis): Figure | undefined {
  const rows = (a.largeLr ?? []).flatMap((t) => t.points.map((p) => ({
    setting: t.label,
    width: p.width,
    lr: p.lr,
    outcome: p.trained < p.seeds ? (p.trained === 0 ? 'does not train' : 'some seeds do not train') : p.catapults === null ? 'trains (catapult not measured)' : p.catapults > 0 ? 'trains, catapult' : 'trains, no catapult',
    seeds: `${p.trained} of ${p.seeds} trained${p.catapults === null ? '' : `, ${p.catapults} catapult(s)`}`,
  })));
  return figureOf({
    name: 'large-lr', title: 'large learning rates: training and catapults',
    caption: 'Per width and learning rate: whether every seed trains (final test loss finite and below the one at step 0; the training loss where no test loss was recorded) and whether a catapult appears (the loss spikes early, recovers, and the sharpness drops).',
  }, rows, (rows) => perSetting(rows, 160, { type: 'point', filled: true, size: 120 }, {
    y: { field: 'width', type: 'ordinal', sort: 'descending' },
    color: { field: 'outcome', type: 'nominal', title: null, legend: { labelLimit: 260 }, scale: { domain: ['trains, no catapult', 'trains, catapult', 'trains (catapult not measured)', 'some seeds do not train', 'does not train'], range: ['#4c78a8', '#f58518', '#9ecae9', '#e45756', '#222222'] } },
    tooltip: [{ field: 'seeds', type: 'nominal' }],
  }));
}
