/**
 * @file The observables' figures, in the order of the report's sections; each is left out when
 * the runs did not measure it.
 */
import type { Analysis } from '../../analysis/analyze.js';
import type { Figure } from './common.js';
import { entkSpectrumFigure, targetPowerFigure } from './after-kernel.js';
import { largeLrFigure, sharpnessFigure } from './dynamics.js';
import { ensembleLossFigure } from './ensemble.js';
import { ckaStepFigure, ckaWidthFigure, preactHistogramFigure, preactW1Figure } from './representations.js';

export function observableFigures(a: Analysis): (Figure | undefined)[] {
  return [ckaWidthFigure(a), ckaStepFigure(a), preactHistogramFigure(a), preactW1Figure(a), sharpnessFigure(a), largeLrFigure(a), entkSpectrumFigure(a), targetPowerFigure(a), ensembleLossFigure(a)];
}
