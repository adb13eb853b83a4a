/**
 * @file Sharpness (the top Hessian eigenvalue of the training loss, probes.jsonl) across widths:
 * per width and probe step, the seed mean over the seeds that measured it, against the edge of
 * stability 2/lr of gradient descent at the series' learning rate. `finalRatio` per width is the
 * seed-mean sharpness at the width's last probe step over 2/lr (1: at the edge).
 */
import type { RunResult } from '../results.js';
import { readProbeLines } from './probe-files.js';
import { summarize } from './stats.js';

export interface SharpnessPoint {
  width: number;
  step: number;
  /** Seeds with a finite sharpness at this step. */
  n: number;
  mean: number;
  std: number;
}

export interface SharpnessAnalysis {
  lr: number;
  /** 2 / lr: gradient descent is unstable along a direction of curvature above it. */
  edge: number;
  points: SharpnessPoint[];
  finalRatio: { width: number; step: number; sharpness: number; ratio: number }[];
}

/** Null when no run of the series measured sharpness. */
export function sharpnessAnalysis(runs: readonly RunResult[]): SharpnessAnalysis | null {
  const cells = new Map<string, { width: number; step: number; values: number[] }>();
  for (const r of runs) {
    for (const line of readProbeLines(r.dir)) {
      if (line.sharpness === null) continue;
      const key = `${r.config.width}/${line.step}`;
      const c = cells.get(key) ?? { width: r.config.width, step: line.step, values: [] };
      c.values.push(line.sharpness);
      cells.set(key, c);
    }
  }
  if (cells.size === 0) return null;
  const lr = runs[0].config.lr;
  const edge = 2 / lr;
  const points = [...cells.values()].map(({ width, step, values }) => {
    const s = summarize(values);
    return { width, step, n: s.n, mean: s.mean, std: s.std };
  }).filter((p) => p.n > 0).sort((a, b) => a.width - b.width || a.step - b.step);
  const widths = [...new Set(points.map((p) => p.width))];
  const finalRatio = widths.map((width) => {
    const last = points.filter((p) => p.width === width).at(-1)!;
    return { width, step: last.step, sharpness: last.mean, ratio: last.mean / edge };
  });
  return { lr, edge, points, finalRatio };
}
