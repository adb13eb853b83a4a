/**
 * @file Large learning rates: over series that differ only in lr (grouped as for lr transfer),
 * per width the largest lr at which every seed trains (largestTrainableLr: the final test loss
 * finite and below the first) and, per (width, lr), how many seeds show a catapult (detectCatapult
 * on the trainLoss curve of metrics.jsonl, from the test loss at step 0, and the sharpness curve
 * of probes.jsonl; not measured without sharpness).
 */
import { detectCatapult, largestTrainableLr, trains, type CurvePoint, type LrRun } from '../observables/index.js';
import type { RunResult } from '../results.js';
import { readProbeLines } from './probe-files.js';

/** One run's loss endpoints and catapult verdict (null: no sharpness measured). */
export interface RunDynamics {
  width: number;
  seed: number;
  lr: number;
  initialLoss: number;
  finalLoss: number;
  catapult: boolean | null;
}

export interface LargeLrPoint {
  width: number;
  lr: number;
  seeds: number;
  /** Seeds that trained (final test loss finite and below the one at step 0; the training loss where no test loss was recorded). */
  trained: number;
  /** Seeds with a catapult; null when no seed measured sharpness. */
  catapults: number | null;
}

export interface LargeLr {
  label: string;
  lrs: number[];
  points: LargeLrPoint[];
  /** Per width, the largest lr at which all seeds trained (null: none did). */
  largestTrainable: { width: number; lr: number | null }[];
}

/** The `metric` curve of `run` (non-finite and null values as NaN, i.e. diverged). */
function lossCurve(run: RunResult, metric: 'trainLoss' | 'testLoss'): CurvePoint[] {
  return run.metrics.filter((m) => metric in m).map((m) => ({ step: m.step, value: typeof m[metric] === 'number' ? (m[metric] as number) : Number.NaN }));
}

/**
 * The training-loss curve with the loss at step 0 in front. The training loss is first recorded
 * after some steps (a mean over them), when a catapult's spike may already be under way; the test
 * loss at step 0 (the same distribution on the online tasks) is then the baseline the spike is
 * measured against.
 */
function withStartingLoss(train: readonly CurvePoint[], test: readonly CurvePoint[]): CurvePoint[] {
  const start = test.find((p) => p.step === 0);
  return start && train[0].step > 0 ? [start, ...train] : [...train];
}

export function runDynamics(run: RunResult): RunDynamics {
  const loss = lossCurve(run, 'trainLoss');
  // whether it trains: the test loss from step 0 to the end where recorded (the training loss
  // starts after the first steps), else the training loss
  const test = lossCurve(run, 'testLoss');
  const trend = test.length >= 2 ? test : loss;
  const sharp = readProbeLines(run.dir).filter((l) => l.sharpness !== null && Number.isFinite(l.sharpness)).map((l) => ({ step: l.step, value: l.sharpness! }));
  const diverged = run.done.status === 'diverged';
  return {
    width: run.config.width,
    seed: run.config.seed,
    lr: run.config.lr,
    initialLoss: trend[0]?.value ?? Number.NaN,
    finalLoss: diverged ? Number.NaN : (trend.at(-1)?.value ?? Number.NaN),
    catapult: loss.length > 0 && sharp.length > 0 ? detectCatapult(withStartingLoss(loss, test), sharp).catapult : null,
  };
}

/** The large-lr table of one group of series differing only in lr (`label` names the group). */
export function largeLr(label: string, runs: readonly RunDynamics[]): LargeLr {
  const lrs = [...new Set(runs.map((r) => r.lr))].sort((a, b) => a - b);
  const widths = [...new Set(runs.map((r) => r.width))].sort((a, b) => a - b);
  const points: LargeLrPoint[] = [];
  for (const width of widths) {
    for (const lr of lrs) {
      const at = runs.filter((r) => r.width === width && r.lr === lr);
      if (at.length === 0) continue;
      const measured = at.filter((r) => r.catapult !== null);
      const lrRuns: LrRun[] = at.map((r) => ({ lr, initialLoss: r.initialLoss, finalLoss: r.finalLoss }));
      points.push({ width, lr, seeds: at.length, trained: lrRuns.filter(trains).length, catapults: measured.length === 0 ? null : measured.filter((r) => r.catapult).length });
    }
  }
  const largestTrainable = widths.map((width) => ({
    width,
    lr: largestTrainableLr(runs.filter((r) => r.width === width).map((r) => ({ lr: r.lr, initialLoss: r.initialLoss, finalLoss: r.finalLoss }))),
  }));
  return { label, lrs, points, largestTrainable };
}
