/**
 * @file The analysis of one series (its runs over widths and seeds), as types: what
 * analyze.ts computes and the observables' part (observables.ts). Kept apart from both so the
 * modules that fill it import its shape without importing each other.
 */
import type { RunConfig } from '../spec/resolve.js';
import type { AgreementPoint } from './agreement.js';
import type { CurvePoint } from './losses.js';
import type { SlopePoint } from './slope.js';
import type { AfterKernelPoint } from './after-kernel.js';
import type { EnsembleAnalysis } from './ensemble-loss.js';
import type { RunDynamics } from './large-lr.js';
import type { PreactivationAnalysis } from './preactivations.js';
import type { CkaPoint } from './representations.js';
import type { SharpnessAnalysis } from './sharpness.js';

export interface SeriesAnalysis {
  seriesId: string;
  label: string;
  /** The setting shared by the series' runs (width and seed removed). */
  config: Omit<RunConfig, 'width' | 'seed'>;
  widths: number[];
  seeds: number[];
  /** Runs per status, e.g. { ok: 11, diverged: 1 }. */
  statuses: Record<string, number>;
  /** metric name → curve points. */
  curves: Record<string, CurvePoint[]>;
  /**
   * Per evaluation step: D_N = Var + Bias against the widest width whose seeds are all finite
   * there (`refWidth`); `complete` is false for a width that lost seeds to divergence by then
   * (`seeds` counts the survivors).
   */
  agreement: (AgreementPoint & { step: number; refWidth: number; complete: boolean })[];
  /** The slope of log Var against log N over the complete widths only. */
  varianceSlope: SlopePoint[];
  /** Widths with diverged seeds: how many of how many, and the first step one diverged. */
  divergedWidths: { width: number; diverged: number; of: number; firstStep: number }[];
  /** Steps with predictions at which no width had all its seeds, so nothing could be the reference. */
  noReference: number[];
  /** What the runs' probe files measure (notes/observables.md); set by analyzeResults. */
  observables?: SeriesObservables;
}

export interface SeriesObservables {
  /** Kernel CKA per layer, probe step and width (empty: no Gram files). */
  cka: CkaPoint[];
  preactivations: PreactivationAnalysis;
  /** Null: no run measured sharpness. */
  sharpness: SharpnessAnalysis | null;
  /** Empty: no eNTK files. */
  afterKernel: AfterKernelPoint[];
  /** Per run: first and final train loss and the catapult verdict (null without sharpness). */
  dynamics: RunDynamics[];
  /** Null: the runs hold no targets.npy, so the ensemble's loss is not measurable. */
  ensemble: EnsembleAnalysis | null;
  /** Parts left out because a probe file is malformed, each with the error that names the file. */
  problems: string[];
}
