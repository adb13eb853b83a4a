/**
 * @file The after-kernel (entk-<step>.npy against probe-targets.npy): per width and probe step, the
 * eNTK's eigenvalues (largest first) and the cumulative target power C(k) (the share of ||y||² in the
 * top k eigenvectors), each averaged over the seeds that stored the kernel. A wider net whose C(k)
 * rises faster has a kernel better aligned with the target.
 */
import { cumulativeTargetPower, matrix, symmetricEigen } from '../observables/index.js';
import type { RunResult } from '../results.js';
import { probeIndex, readEntk, readProbeTargets } from './probe-files.js';

export interface AfterKernelPoint {
  width: number;
  step: number;
  seeds: number;
  /** Seed-mean eigenvalues, largest first. */
  spectrum: number[];
  /** Seed-mean C(k): index k - 1 holds C(k). */
  targetPower: number[];
}

function seedMean(rows: readonly Float64Array[]): number[] {
  const n = rows[0].length;
  return Array.from({ length: n }, (_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);
}

/** Empty when no run stored an eNTK (or the targets that go with it). */
export function afterKernelAnalysis(runs: readonly RunResult[]): AfterKernelPoint[] {
  const per = runs.flatMap((r) => {
    const targets = readProbeTargets(r.dir);
    if (!targets) return [];
    return probeIndex(r.dir).entk.map((step) => {
      const k = readEntk(r.dir, step)!;
      const eig = symmetricEigen(matrix(k.shape[0], k.shape[1], k.data, `entk step ${step}`));
      return { width: r.config.width, step, values: eig.values, power: cumulativeTargetPower(eig, targets.data) };
    });
  });
  const keys = [...new Set(per.map((p) => `${p.width}/${p.step}`))];
  return keys.map((key) => {
    const at = per.filter((p) => `${p.width}/${p.step}` === key);
    const sizes = new Set(at.map((p) => p.values.length));
    if (sizes.size > 1) throw new Error(`after-kernel: width ${at[0].width} step ${at[0].step}: the seeds' eNTKs differ in size (${[...sizes].join(', ')})`);
    return { width: at[0].width, step: at[0].step, seeds: at.length, spectrum: seedMean(at.map((p) => p.values)), targetPower: seedMean(at.map((p) => p.power)) };
  }).sort((a, b) => a.width - b.width || a.step - b.step);
}
