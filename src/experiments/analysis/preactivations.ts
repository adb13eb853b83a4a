/**
 * @file Preactivation distributions across widths (preact-<layer>-<step>.npy): per layer, bins fixed
 * once (binsFromReference on the widest complete width's samples at the layer's first probe step,
 * seeds pooled), a histogram per (step, width) over the pooled seeds, and the exact W1 of each
 * width's pooled sample against the reference width's (the widest whose seeds all have the file)
 * at the same step.
 */
import { binsFromReference, histogram, wasserstein1, type Bins } from '../observables/index.js';
import type { RunResult } from '../results.js';
import { probeIndex, readPreact } from './probe-files.js';

export interface PreactHistogram {
  layer: string;
  step: number;
  width: number;
  counts: number[];
  below: number;
  above: number;
  nan: number;
  total: number;
}

export interface PreactW1 {
  layer: string;
  step: number;
  width: number;
  refWidth: number;
  complete: boolean;
  w1: number;
}

export interface PreactivationAnalysis {
  /** Per layer, the fixed bins (null: the reference sample had no spread, so no histograms). */
  bins: { layer: string; bins: Bins | null }[];
  histograms: PreactHistogram[];
  w1: PreactW1[];
}

function pool(arrays: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
}

export function preactivationAnalysis(runs: readonly RunResult[]): PreactivationAnalysis {
  const indexes = runs.map((r) => probeIndex(r.dir).preact);
  const layers = [...new Set(indexes.flatMap((ix) => [...ix.keys()]))].sort();
  const widths = [...new Set(runs.map((r) => r.config.width))].sort((a, b) => a - b);
  const result: PreactivationAnalysis = { bins: [], histograms: [], w1: [] };
  for (const layer of layers) {
    const steps = [...new Set(indexes.flatMap((ix) => ix.get(layer) ?? []))].sort((a, b) => a - b);
    let layerBins: Bins | null | undefined;
    for (const step of steps) {
      const byWidth = widths.map((width) => {
        const all = runs.filter((r) => r.config.width === width);
        const samples = all.flatMap((r) => { const p = readPreact(r.dir, layer, step); return p ? [p.data] : []; });
        return { width, sample: pool(samples), n: samples.length, complete: samples.length === all.length };
      }).filter((w) => w.n > 0);
      const ref = byWidth.filter((w) => w.complete).at(-1);
      if (!ref) continue;
      if (layerBins === undefined) {
        try {
          layerBins = binsFromReference(ref.sample);
        } catch {
          layerBins = null; // a constant (or all non-finite) reference: no spread to bin over
        }
      }
      for (const w of byWidth) {
        if (layerBins) {
          const h = histogram(w.sample, layerBins);
          result.histograms.push({ layer, step, width: w.width, counts: [...h.counts], below: h.below, above: h.above, nan: h.nan, total: h.total });
        }
        result.w1.push({ layer, step, width: w.width, refWidth: ref.width, complete: w.complete, w1: wasserstein1(w.sample, ref.sample) });
      }
    }
    result.bins.push({ layer, bins: layerBins ?? null });
  }
  return result;
}
