/**
 * @file Figures of the after-kernel at the last probe step: the eNTK's seed-mean eigen-spectrum and
 * the cumulative target power C(k), narrowest against widest width.
 */
import type { Analysis } from '../../analysis/analyze.js';
import type { AfterKernelPoint } from '../../analysis/after-kernel.js';
import { facettedFigure, lastStepOf, widthColor, type Figure } from './common.js';

/** Per series, the narrowest and widest widths' points at the last step with an eNTK. */
function narrowAndWide(a: Analysis): { series: string; p: AfterKernelPoint }[] {
  return a.series.flatMap((s) => {
    const ak = s.observables?.afterKernel ?? [];
    const last = lastStepOf(ak);
    const at = ak.filter((p) => p.step === last);
    if (at.length === 0) return [];
    return [...new Set([at[0], at[at.length - 1]])].map((p) => ({ series: s.label, p }));
  });
}

export function entkSpectrumFigure(a: Analysis): Figure | undefined {
  const rows = narrowAndWide(a).flatMap(({ series, p }) => p.spectrum.map((v, i) => ({ series, width: p.width, k: i + 1, eigenvalue: v })).filter((r) => r.eigenvalue > 0));
  return facettedFigure({
    name: 'entk-spectrum', title: 'eNTK eigen-spectrum, narrowest vs widest (last probe step)',
    caption: 'Eigenvalues of the empirical NTK on the probe points, largest first, seed mean; log-log.',
  }, rows, 'series', { mark: { type: 'line', point: true }, encoding: { x: { field: 'k', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'eigenvalue', type: 'quantitative', scale: { type: 'log' } }, color: widthColor } }, 2);
}

export function targetPowerFigure(a: Analysis): Figure | undefined {
  const rows = narrowAndWide(a).flatMap(({ series, p }) => p.targetPower.map((c, i) => ({ series, width: p.width, k: i + 1, c })));
  return facettedFigure({
    name: 'target-power', title: 'cumulative target power C(k), narrowest vs widest (last probe step)',
    caption: 'C(k): the share of the probe targets\' squared norm in the eNTK\'s top k eigenvectors, seed mean. A curve that rises sooner is a kernel better aligned with the target.',
  }, rows, 'series', { mark: { type: 'line' }, encoding: { x: { field: 'k', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'c', type: 'quantitative', title: 'C(k)', scale: { domain: [0, 1] } }, color: widthColor } }, 2);
}
