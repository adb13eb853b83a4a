/**
 * @file The bias of narrower width: at every evaluation step, the test loss of the seed-averaged
 * predictor f̄_N = (1/S) Σ_s f_N^s of each width, next to the seed mean of the single nets' test
 * losses, both computed from the prediction files and targets.npy. The reference is the widest
 * width whose seeds all have predictions at that step: its single nets ("widest single") and its
 * seed average ("widest ensemble"). A narrow ensemble that stays above the widest single net shows
 * a bias that averaging seeds cannot remove.
 *
 * Losses: regression mean (f - y)² over every test point and output, times the task's loss scale
 * (0.5 for 'half-mse', see regressionLossScale); classification the cross-entropy of the logits
 * (for the ensemble: of the seed-averaged logits, i.e. the ensemble is the average of the functions
 * the nets compute, the same f̄ as in the agreement D_N, not an average of probabilities); text the
 * same cross-entropy per token.
 */
import { readPredictions, type RunResult } from '../results.js';
import type { RunConfig } from '../spec/resolve.js';
import { regressionLossScale, type Task } from '../tasks.js';
import { readTargets } from './probe-files.js';

export type LossKind = 'regression' | 'classification' | 'text';

export interface EnsemblePoint {
  step: number;
  width: number;
  /** Seeds with predictions at this step (diverged seeds drop out). */
  seeds: number;
  complete: boolean;
  /** Test loss of the seed-averaged predictor of this width. */
  ensembleLoss: number;
  /** Seed mean of the single nets' test losses. */
  singleLoss: number;
  refWidth: number;
  /** The reference width's single-net loss (seed mean) and ensemble loss at this step. */
  widestSingle: number;
  widestEnsemble: number;
}

export interface EnsembleAnalysis {
  kind: LossKind;
  /** 0.5 for a 'half-mse' regression task, 1 otherwise. */
  scale: number;
  points: EnsemblePoint[];
}

export function lossKind(c: Pick<RunConfig, 'task'>): LossKind {
  switch (c.task.name) {
    case 'teacher-regression':
    case 'teacher-gaussian':
      return 'regression';
    case 'markov-text':
    case 'moby-dick':
      return 'text';
    default:
      return 'classification';
  }
}

/** The test loss of `pred` (C order) against `targets` under the convention of `kind` (see the file comment). */
export function predictionLoss(kind: LossKind, pred: ArrayLike<number>, predShape: readonly number[], targets: ArrayLike<number>, scale = 1): number {
  if (kind === 'regression') {
    if (pred.length !== targets.length) throw new Error(`predictionLoss: regression predictions of ${pred.length} values against ${targets.length} targets (expected equal)`);
    let s = 0;
    for (let i = 0; i < pred.length; i++) s += (pred[i] - targets[i]) ** 2;
    return (scale * s) / pred.length;
  }
  const classes = predShape[predShape.length - 1];
  const rows = pred.length / classes;
  if (!Number.isInteger(rows) || rows !== targets.length) {
    throw new Error(`predictionLoss: ${kind} logits of shape [${predShape.join(', ')}] against ${targets.length} labels (expected one label per row of ${classes} logits)`);
  }
  let s = 0;
  for (let r = 0; r < rows; r++) {
    const y = targets[r];
    if (!(Number.isInteger(y) && y >= 0 && y < classes)) throw new Error(`predictionLoss: label ${y} at row ${r} (expected an integer in [0, ${classes}))`);
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, pred[r * classes + k]);
    let z = 0;
    for (let k = 0; k < classes; k++) z += Math.exp(pred[r * classes + k] - max);
    s += max + Math.log(z) - pred[r * classes + y];
  }
  return s / rows;
}

function seedAverage(arrays: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(arrays[0].length);
  for (const a of arrays) for (let i = 0; i < a.length; i++) out[i] += a[i] / arrays.length;
  return out;
}

/** Null when the series' runs hold no targets.npy (not measurable). */
export function ensembleAnalysis(runs: readonly RunResult[], load = readPredictions): EnsembleAnalysis | null {
  const withTargets = runs.find((r) => readTargets(r.dir) !== undefined);
  if (!withTargets) return null;
  const targets = readTargets(withTargets.dir)!.data;
  const config = withTargets.config;
  const kind = lossKind(config);
  const scale = kind === 'regression' ? regressionLossScale({ loss: 'loss' in config.task ? config.task.loss : undefined } as Task) : 1;
  const widths = [...new Set(runs.map((r) => r.config.width))].sort((a, b) => a - b);
  const steps = [...new Set(runs.flatMap((r) => r.predictionSteps))].sort((a, b) => a - b);
  const points: EnsemblePoint[] = [];
  for (const step of steps) {
    const byWidth = widths.map((width) => {
      const all = runs.filter((r) => r.config.width === width);
      const preds = all.filter((r) => r.predictionSteps.includes(step)).map((r) => load(r, step));
      if (preds.length === 0) return undefined;
      const shape = preds[0].shape;
      const single = preds.reduce((s, p) => s + predictionLoss(kind, p.data, p.shape, targets, scale), 0) / preds.length;
      const ensemble = predictionLoss(kind, seedAverage(preds.map((p) => p.data)), shape, targets, scale);
      return { width, seeds: preds.length, complete: preds.length === all.length, single, ensemble };
    }).filter((w) => w !== undefined);
    const ref = byWidth.filter((w) => w.complete).at(-1);
    if (!ref) continue;
    for (const w of byWidth) {
      points.push({ step, width: w.width, seeds: w.seeds, complete: w.complete, ensembleLoss: w.ensemble, singleLoss: w.single, refWidth: ref.width, widestSingle: ref.single, widestEnsemble: ref.ensemble });
    }
  }
  return { kind, scale, points };
}
