/**
 * @file Representations across widths: kernel CKA of the stored Gram matrices (gram-<layer>-<step>.npy)
 * per layer and probe step,
 *   vs widest:    every seed of width N against every seed of the reference width (the widest
 *                 width whose seeds all have the file), mean ± sample std over those pairs (at the
 *                 reference itself, pairs s ≠ s');
 *   across seeds: within one width, the mean over seed pairs s ≠ s'.
 * CKA is 1 for identical representations up to rotation and isotropic scale.
 */
import { kernelCKA, matrix, type Matrix } from '../observables/index.js';
import type { RunResult } from '../results.js';
import { probeIndex, readGram } from './probe-files.js';
import { summarize } from './stats.js';

export interface CkaPoint {
  layer: string;
  step: number;
  width: number;
  refWidth: number;
  /** False when some of this width's seeds lack the Gram (diverged): the numbers are over the rest. */
  complete: boolean;
  /** CKA against the reference width: mean and sample std over seed pairs. */
  vsWidest: number;
  vsWidestStd: number;
  /** Mean CKA between distinct seeds of this width (NaN with one seed). */
  acrossSeeds: number;
  pairs: number;
}

function pairwise(a: readonly Matrix[], b: readonly Matrix[], distinct: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) for (let j = distinct ? i + 1 : 0; j < b.length; j++) out.push(kernelCKA(a[i], b[j]));
  return out;
}

/** CKA points of one series, sorted by layer, step, width; empty when no run stored Grams. */
export function representationAnalysis(runs: readonly RunResult[]): CkaPoint[] {
  const indexes = runs.map((r) => probeIndex(r.dir).gram);
  const layers = [...new Set(indexes.flatMap((ix) => [...ix.keys()]))].sort();
  const widths = [...new Set(runs.map((r) => r.config.width))].sort((a, b) => a - b);
  const out: CkaPoint[] = [];
  for (const layer of layers) {
    const steps = [...new Set(indexes.flatMap((ix) => ix.get(layer) ?? []))].sort((a, b) => a - b);
    for (const step of steps) {
      const byWidth = widths.map((width) => {
        const all = runs.filter((r) => r.config.width === width);
        const grams = all.flatMap((r) => {
          const g = readGram(r.dir, layer, step);
          return g ? [matrix(g.shape[0], g.shape[1], g.data, `gram ${layer} step ${step}`)] : [];
        });
        return { width, grams, complete: grams.length === all.length };
      }).filter((w) => w.grams.length > 0);
      const ref = byWidth.filter((w) => w.complete).at(-1);
      if (!ref) continue;
      for (const w of byWidth) {
        const vs = summarize(pairwise(w.grams, ref.grams, w === ref));
        const within = summarize(pairwise(w.grams, w.grams, true));
        out.push({ layer, step, width: w.width, refWidth: ref.width, complete: w.complete, vsWidest: vs.mean, vsWidestStd: vs.std, acrossSeeds: within.mean, pairs: vs.n });
      }
    }
  }
  return out;
}
