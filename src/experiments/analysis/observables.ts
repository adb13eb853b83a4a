/**
 * @file The observables of one series read from its runs' probe files (probe-files.ts): CKA of
 * representations, preactivation histograms and W1, sharpness against 2/lr, the after-kernel's
 * spectrum and target power, each run's loss endpoints and catapult verdict, and the test loss of
 * the seed-averaged predictor. Each part is empty (or null) when the runs hold no such files: the
 * report then says "not measured". Also the large-lr tables over series that differ only in lr,
 * and the CSV files under <results>/analysis/.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import type { RunResult } from '../results.js';
import type { SeriesAnalysis, SeriesObservables } from './series.js';
import { afterKernelAnalysis } from './after-kernel.js';
import { toCsv, type Cell } from './csv.js';
import { ensembleAnalysis } from './ensemble-loss.js';
import { largeLr, runDynamics, type LargeLr } from './large-lr.js';
import { groupByLr, lrGroupLabel } from './lr-transfer.js';
import { preactivationAnalysis } from './preactivations.js';
import { representationAnalysis } from './representations.js';
import { sharpnessAnalysis } from './sharpness.js';

export type { SeriesObservables } from './series.js';

/**
 * The observables of one series. A part whose files are malformed (a corrupt .npy, a Gram of the
 * wrong shape, a bad probes.jsonl line) is left empty and its error, naming the file, goes to
 * `problems`: the rest of the analysis and the report still come out.
 */
export function analyzeObservables(runs: readonly RunResult[]): SeriesObservables {
  const problems: string[] = [];
  const part = <T,>(name: string, compute: () => T, empty: T): T => {
    try {
      return compute();
    } catch (e) {
      problems.push(`${name}: ${(e as Error).message}`);
      return empty;
    }
  };
  return {
    cka: part('CKA', () => representationAnalysis(runs), []),
    preactivations: part('preactivations', () => preactivationAnalysis(runs), { bins: [], histograms: [], w1: [] }),
    sharpness: part('sharpness', () => sharpnessAnalysis(runs), null),
    afterKernel: part('after-kernel', () => afterKernelAnalysis(runs), []),
    dynamics: part('large lr', () => runs.map(runDynamics), []),
    ensemble: part('ensemble loss', () => ensembleAnalysis(runs), null),
    problems,
  };
}

/** The large-lr table of every group of at least two series differing only in lr. */
export function largeLrTables(series: readonly SeriesAnalysis[]): LargeLr[] {
  return groupByLr(series)
    .filter((g) => new Set(g.map((s) => s.config.lr)).size >= 2)
    .map((g) => largeLr(lrGroupLabel(g), g.flatMap((s) => s.observables?.dynamics ?? [])));
}

/** The CSV files writeObservablesCsv writes under <results>/analysis/ (with only a header when nothing was measured). */
export const OBSERVABLE_CSVS = ['cka.csv', 'preact_w1.csv', 'preact_hist.csv', 'sharpness.csv', 'large_lr.csv', 'after_kernel.csv', 'ensemble_loss.csv'] as const;

/** Writes every file of OBSERVABLE_CSVS. */
export function writeObservablesCsv(out: string, series: readonly SeriesAnalysis[], tables: readonly LargeLr[]): void {
  // rows of plain numbers and strings, each with the series' id and label in front
  const rows = <T extends object>(pick: (o: SeriesObservables) => readonly T[]): Record<string, Cell>[] =>
    series.flatMap((s) => (s.observables ? pick(s.observables) : []).map((r) => ({ series: s.seriesId, label: s.label, ...(r as Record<string, Cell>) })));
  writeFileAtomic(join(out, 'cka.csv'), toCsv(rows((o) => o.cka), ['series', 'label', 'layer', 'step', 'width', 'refWidth', 'complete', 'vsWidest', 'vsWidestStd', 'acrossSeeds', 'pairs']));
  writeFileAtomic(join(out, 'preact_w1.csv'), toCsv(rows((o) => o.preactivations.w1), ['series', 'label', 'layer', 'step', 'width', 'refWidth', 'complete', 'w1']));
  const hist = rows((o) => o.preactivations.histograms.flatMap((h) => {
    const b = o.preactivations.bins.find((x) => x.layer === h.layer)!.bins!;
    const w = (b.hi - b.lo) / b.count;
    return h.counts.map((count, k) => ({ layer: h.layer, step: h.step, width: h.width, lo: b.lo + k * w, hi: b.lo + (k + 1) * w, count, below: h.below, above: h.above, nan: h.nan, total: h.total }));
  }));
  writeFileAtomic(join(out, 'preact_hist.csv'), toCsv(hist, ['series', 'label', 'layer', 'step', 'width', 'lo', 'hi', 'count', 'below', 'above', 'nan', 'total']));
  const sharp = series.flatMap((s) => (s.observables?.sharpness?.points ?? []).map((p) => ({ series: s.seriesId, label: s.label, lr: s.config.lr, edge: s.observables!.sharpness!.edge, ...p, ratio: p.mean / s.observables!.sharpness!.edge })));
  writeFileAtomic(join(out, 'sharpness.csv'), toCsv(sharp, ['series', 'label', 'lr', 'edge', 'width', 'step', 'n', 'mean', 'std', 'ratio']));
  const lrRows = tables.flatMap((t) => t.points.map((p) => ({ setting: t.label, ...p, largestTrainable: t.largestTrainable.find((l) => l.width === p.width)?.lr ?? null })));
  writeFileAtomic(join(out, 'large_lr.csv'), toCsv(lrRows, ['setting', 'width', 'lr', 'seeds', 'trained', 'catapults', 'largestTrainable']));
  const ak = rows((o) => o.afterKernel.flatMap((p) => p.spectrum.map((eigenvalue, i) => ({ width: p.width, step: p.step, seeds: p.seeds, k: i + 1, eigenvalue, targetPower: p.targetPower[i] }))));
  writeFileAtomic(join(out, 'after_kernel.csv'), toCsv(ak, ['series', 'label', 'width', 'step', 'seeds', 'k', 'eigenvalue', 'targetPower']));
  writeFileAtomic(join(out, 'ensemble_loss.csv'), toCsv(rows((o) => o.ensemble?.points ?? []), ['series', 'label', 'step', 'width', 'seeds', 'complete', 'ensembleLoss', 'singleLoss', 'refWidth', 'widestSingle', 'widestEnsemble']));
}
