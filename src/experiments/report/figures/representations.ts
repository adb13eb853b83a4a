/**
 * @file Figures of the representations (kernel CKA) and the preactivations (histograms, W1).
 */
import type { Analysis } from '../../analysis/analyze.js';
import { facettedFigure, lastStepOf, widthColor, type Figure } from './common.js';

const log2Width = { field: 'width', type: 'quantitative', scale: { type: 'log', base: 2 } };

export function ckaWidthFigure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => {
    const cka = s.observables?.cka ?? [];
    return [...new Set(cka.map((p) => p.layer))].flatMap((layer) => {
      const at = cka.filter((p) => p.layer === layer);
      const last = lastStepOf(at);
      return at.filter((p) => p.step === last && Number.isFinite(p.vsWidest)).map((p) => ({ series: s.label, layer, width: p.width, cka: p.vsWidest, lo: p.vsWidest - p.vsWidestStd, hi: p.vsWidest + p.vsWidestStd }));
    });
  });
  return facettedFigure({
    name: 'cka-vs-width', title: 'CKA against the widest width (last probe step)',
    caption: 'Kernel CKA of each width\'s hidden representation against the widest complete width\'s, mean ± std over seed pairs, one line per layer. 1 means the same representation up to rotation and scale.',
  }, rows, 'series', {
    layer: [
      { mark: { type: 'errorband' }, encoding: { x: log2Width, y: { field: 'lo', type: 'quantitative', title: 'CKA' }, y2: { field: 'hi' }, color: { field: 'layer', type: 'nominal' } } },
      { mark: { type: 'line', point: true }, encoding: { x: log2Width, y: { field: 'cka', type: 'quantitative', title: 'CKA', scale: { zero: false } }, color: { field: 'layer', type: 'nominal' } } },
    ],
  }, 2);
}

export function ckaStepFigure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => (s.observables?.cka ?? []).filter((p) => Number.isFinite(p.vsWidest)).map((p) => ({ panel: `${s.label} · ${p.layer}`, width: p.width, step: p.step, cka: p.vsWidest })));
  return facettedFigure({
    name: 'cka-vs-step', title: 'CKA against the widest width over training',
    caption: 'Kernel CKA (seed-pair mean) of each width against the widest complete width at every probe step, one panel per series and layer.',
  }, rows, 'panel', { mark: { type: 'line', point: true }, encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'cka', type: 'quantitative', title: 'CKA', scale: { zero: false } }, color: widthColor } });
}

export function preactHistogramFigure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => {
    const p = s.observables?.preactivations;
    if (!p) return [];
    return p.bins.flatMap(({ layer, bins }) => {
      if (!bins) return [];
      const hs = p.histograms.filter((h) => h.layer === layer);
      const last = lastStepOf(hs);
      const w = (bins.hi - bins.lo) / bins.count;
      return hs.filter((h) => h.step === last).flatMap((h) => h.counts.map((c, k) => ({ panel: `${s.label} · ${layer}`, width: h.width, x: bins.lo + (k + 0.5) * w, density: c / (h.total * w) })));
    });
  });
  return facettedFigure({
    name: 'preact-histograms', title: 'preactivation histograms (last probe step)',
    caption: 'Density of each layer\'s preactivations per width, seeds pooled, over bins fixed per layer from the widest width at the first probe step (mass outside the bins is not drawn).',
  }, rows, 'panel', { mark: { type: 'line', interpolate: 'step' }, encoding: { x: { field: 'x', type: 'quantitative', title: 'preactivation' }, y: { field: 'density', type: 'quantitative' }, color: widthColor } });
}

export function preactW1Figure(a: Analysis): Figure | undefined {
  const rows = a.series.flatMap((s) => {
    const w1 = s.observables?.preactivations.w1 ?? [];
    return [...new Set(w1.map((p) => p.layer))].flatMap((layer) => {
      const at = w1.filter((p) => p.layer === layer);
      const last = lastStepOf(at);
      return at.filter((p) => p.step === last && p.width !== p.refWidth && Number.isFinite(p.w1)).map((p) => ({ series: s.label, layer, width: p.width, w1: p.w1 }));
    });
  });
  return facettedFigure({
    name: 'preact-w1', title: 'W1 of the preactivations against the widest width (last probe step)',
    caption: 'Exact 1-Wasserstein distance between each width\'s pooled preactivation sample and the widest complete width\'s, one line per layer; it falls to 0 as the distribution stops depending on width.',
  }, rows, 'series', { mark: { type: 'line', point: true }, encoding: { x: log2Width, y: { field: 'w1', type: 'quantitative', title: 'W1' }, color: { field: 'layer', type: 'nominal' } } }, 2);
}
