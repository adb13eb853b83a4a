/**
 * @file The observables' headline numbers of one series, for claims and the report: each takes a
 * SeriesAnalysis from analyzeResults and returns undefined when the series' runs did not measure
 * it (no probe files). "Narrowest" is the series' narrowest width with a value; "widest" is the
 * reference each analysis used (the widest width whose seeds all have the file at that step).
 */
import type { SeriesAnalysis } from './analyze.js';

const lastStep = (steps: readonly number[]) => (steps.length === 0 ? undefined : Math.max(...steps));

/** Per layer, the point of the narrowest width at the layer's last step (undefined: no points). */
function narrowestPerLayer<P extends { layer: string; step: number; width: number }>(points: readonly P[]): { layer: string; step: number; narrow: P }[] | undefined {
  if (points.length === 0) return undefined;
  return [...new Set(points.map((p) => p.layer))].map((layer) => {
    const at = points.filter((p) => p.layer === layer);
    const step = lastStep(at.map((p) => p.step))!;
    return { layer, step, narrow: at.filter((p) => p.step === step).sort((x, y) => x.width - y.width)[0] };
  });
}

/** Per layer, the CKA (seed-pair mean) of the narrowest width against the widest at the layer's last probe step. */
export function ckaNarrowVsWidest(s: SeriesAnalysis): { layer: string; step: number; width: number; refWidth: number; cka: number }[] | undefined {
  return narrowestPerLayer(s.observables?.cka ?? [])?.map(({ layer, step, narrow }) => ({ layer, step, width: narrow.width, refWidth: narrow.refWidth, cka: narrow.vsWidest }));
}

/** Per layer, W1 of the narrowest width's preactivations against the widest's at the layer's last probe step. */
export function w1NarrowVsWidest(s: SeriesAnalysis): { layer: string; step: number; width: number; refWidth: number; w1: number }[] | undefined {
  return narrowestPerLayer(s.observables?.preactivations.w1 ?? [])?.map(({ layer, step, narrow }) => ({ layer, step, width: narrow.width, refWidth: narrow.refWidth, w1: narrow.w1 }));
}

/** Per width, the seed-mean sharpness at its last probe step over 2/lr (1: at the edge of stability). */
export function sharpnessRatios(s: SeriesAnalysis): { width: number; step: number; sharpness: number; ratio: number }[] | undefined {
  return s.observables?.sharpness?.finalRatio;
}

/** C(k) (seed mean) at each k of `ks` for every width at the last probe step with an eNTK (k beyond n_e is left out). */
export function targetPowerAt(s: SeriesAnalysis, ks: readonly number[] = [1, 5, 10]): { width: number; step: number; k: number; c: number }[] | undefined {
  const ak = s.observables?.afterKernel ?? [];
  if (ak.length === 0) return undefined;
  const step = lastStep(ak.map((p) => p.step))!;
  return ak.filter((p) => p.step === step).flatMap((p) => ks.filter((k) => k <= p.targetPower.length).map((k) => ({ width: p.width, step, k, c: p.targetPower[k - 1] })));
}

/**
 * At the last evaluation: the narrowest width's seed-averaged predictor's test loss against the
 * widest complete width's single nets (seed-mean loss) and its ensemble. `gap` = narrowEnsemble -
 * widestSingle (> 0: the narrow ensemble stays worse than one wide net).
 */
export function narrowEnsembleVsWideSingle(s: SeriesAnalysis): { step: number; width: number; refWidth: number; narrowEnsemble: number; widestSingle: number; widestEnsemble: number; gap: number } | undefined {
  const pts = s.observables?.ensemble?.points ?? [];
  if (pts.length === 0) return undefined;
  const step = lastStep(pts.map((p) => p.step))!;
  const narrow = pts.filter((p) => p.step === step).sort((a, b) => a.width - b.width)[0];
  return { step, width: narrow.width, refWidth: narrow.refWidth, narrowEnsemble: narrow.ensembleLoss, widestSingle: narrow.widestSingle, widestEnsemble: narrow.widestEnsemble, gap: narrow.ensembleLoss - narrow.widestSingle };
}
