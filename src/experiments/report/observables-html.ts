/**
 * @file The report page's sections on the observables (notes/observables.md): one per observable,
 * each with a paragraph on what its number means and a table of the numbers, or "not measured"
 * when the runs hold no such probe files.
 */
import type { Analysis, SeriesAnalysis } from '../analysis/analyze.js';
import { ckaNarrowVsWidest, narrowEnsembleVsWideSingle, sharpnessRatios, targetPowerAt } from '../analysis/observable-claims.js';
import { escapeHtml, fmt } from './format.js';

const notMeasured = (id: string, what: string) => `<p class="not-measured" id="${id}">Not measured: ${escapeHtml(what)}</p>`;

function table(id: string, head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table id="${id}"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
}

/** Rows of every series that has the measurement, or the "not measured" line. */
function perSeries(a: Analysis, id: string, missing: string, head: readonly string[], rowsOf: (s: SeriesAnalysis) => string[][]): string {
  const rows = a.series.flatMap((s) => rowsOf(s).map((r) => [escapeHtml(s.label), ...r]));
  return rows.length === 0 ? notMeasured(`${id}-none`, missing) : table(id, ['series', ...head], rows);
}

const incomplete = (complete: boolean) => (complete ? '' : ' <small class="warn">(incomplete)</small>');

function representations(a: Analysis): string {
  return `<h2>Representations</h2>
<p>Kernel CKA compares two representations of the same probe inputs through their Gram matrices: 1 means the same up to rotation and scale, lower means the widths see the inputs differently. Each width is compared with the widest width whose seeds all stored the layer (mean ± std over seed pairs); "across seeds" is the CKA between different seeds of one width, the level that width-consistency can reach. Numbers at each layer's last probe step.</p>
${perSeries(a, 'cka', 'the runs hold no gram-<layer>-<step>.npy files.', ['layer', 'step', 'width', 'CKA vs widest', 'CKA across seeds'], (s) => {
    const cka = s.observables?.cka ?? [];
    return (ckaNarrowVsWidest(s) ?? []).flatMap(({ layer, step }) => cka.filter((p) => p.layer === layer && p.step === step).map((p) => [escapeHtml(layer), String(step), `${p.width}${incomplete(p.complete)}`, `${fmt(p.vsWidest)} ± ${fmt(p.vsWidestStd)}`, fmt(p.acrossSeeds)]));
  })}`;
}

function preactivations(a: Analysis): string {
  return `<h2>Preactivations</h2>
<p>The distribution of a layer's preactivations, seeds pooled, per width. W1 is the 1-Wasserstein distance of a width's distribution from the widest complete width's, in the preactivations' own units: the average distance a unit of probability mass must move to turn one into the other. Under a width-consistent parameterization it falls towards 0 as width grows. Numbers at each layer's last probe step.</p>
${perSeries(a, 'preact-w1', 'the runs hold no preact-<layer>-<step>.npy files.', ['layer', 'step', 'width', 'reference', 'W1'], (s) => {
    const w1 = s.observables?.preactivations.w1 ?? [];
    const layers = [...new Set(w1.map((p) => p.layer))];
    return layers.flatMap((layer) => {
      const at = w1.filter((p) => p.layer === layer);
      const last = Math.max(...at.map((p) => p.step));
      return at.filter((p) => p.step === last).map((p) => [escapeHtml(layer), String(last), `${p.width}${incomplete(p.complete)}`, String(p.refWidth), fmt(p.w1)]);
    });
  })}`;
}

function sharpness(a: Analysis): string {
  return `<h2>Sharpness</h2>
<p>Sharpness is the largest eigenvalue of the training loss's Hessian. Gradient descent at learning rate lr is unstable along directions curved more than 2/lr, so training tends to drive sharpness up to 2/lr and hover there (the edge of stability). The ratio is the seed-mean sharpness at the last probe step over 2/lr: near 1 the width trains at the edge, well below 1 it does not reach it.</p>
${perSeries(a, 'sharpness', 'the runs hold no probes.jsonl with a sharpness.', ['width', 'step', 'sharpness', '2/lr', 'ratio'], (s) =>
    (sharpnessRatios(s) ?? []).map((r) => [String(r.width), String(r.step), fmt(r.sharpness), fmt(s.observables!.sharpness!.edge), fmt(r.ratio)]))}`;
}

function largeLr(a: Analysis): string {
  const tables = a.largeLr ?? [];
  const rows = tables.flatMap((t) => t.largestTrainable.map((l) => [
    escapeHtml(t.label),
    String(l.width),
    l.lr === null ? 'none' : String(l.lr),
    t.points.filter((p) => p.width === l.width).map((p) => `${p.lr}: ${p.trained}/${p.seeds} trained${p.catapults === null ? '' : `, ${p.catapults} catapult${p.catapults === 1 ? '' : 's'}`}`).join('; '),
  ]));
  return `<h2>Large learning rates</h2>
<p>Over series that differ only in the learning rate: per width, the largest lr at which every seed trains (the final test loss is finite and below the one at step 0), and per lr how many seeds trained and how many went through a catapult (the loss spikes early, comes back below its start, and the sharpness has dropped by then). A largest trainable lr that does not shrink with width is the stability muP promises.</p>
${rows.length === 0 ? notMeasured('large-lr-none', 'no series differ only in their learning rate.') : table('large-lr', ['setting', 'width', 'largest trainable lr', 'per lr'], rows)}
${rows.length > 0 && tables.every((t) => t.points.every((p) => p.catapults === null)) ? notMeasured('catapult-none', 'catapults need the sharpness of probes.jsonl, which the runs do not hold.') : ''}`;
}

function afterKernel(a: Analysis): string {
  return `<h2>After-kernel</h2>
<p>The empirical NTK of the trained net on the probe points, and C(k): the share of the targets' squared norm that lies in the kernel's top k eigenvectors (seed mean). C(1) = 1 is a kernel whose top direction is the target; a kernel that learned features from the data raises C(k) at small k above what the initial kernel gives. Numbers at the last probe step with an eNTK.</p>
${perSeries(a, 'after-kernel', 'the runs hold no entk-<step>.npy with probe-targets.npy.', ['width', 'step', 'top eigenvalue', 'C(1)', 'C(5)', 'C(10)'], (s) => {
    const c = targetPowerAt(s) ?? [];
    return [...new Set(c.map((p) => p.width))].map((width) => {
      const at = (k: number) => fmt(c.find((p) => p.width === width && p.k === k)?.c);
      const p = s.observables!.afterKernel.find((q) => q.width === width && q.step === c[0].step)!;
      return [String(width), String(p.step), fmt(p.spectrum[0]), at(1), at(5), at(10)];
    });
  })}`;
}

function ensemble(a: Analysis): string {
  return `<h2>Bias of narrower width</h2>
<p>The test loss of each width's seed-averaged predictor (the mean of its seeds' outputs; for classification and text the cross-entropy of the averaged logits), next to the seed mean of its single nets' losses. Averaging seeds removes the variance part of a width's error but not its bias: if the narrowest width's ensemble stays above the widest width's single net, width buys something that more seeds cannot. Numbers at the last evaluation; the reference is the widest width whose seeds are all finite there.</p>
${perSeries(a, 'ensemble-loss', 'the runs hold no targets.npy (older results), so the loss of the seed-averaged predictor cannot be computed.', ['width', 'step', 'ensemble loss', 'single-net loss', 'widest single', 'widest ensemble'], (s) => {
    const e = narrowEnsembleVsWideSingle(s);
    if (!e) return [];
    return s.observables!.ensemble!.points.filter((p) => p.step === e.step).map((p) => [`${p.width}${incomplete(p.complete)}`, String(p.step), fmt(p.ensembleLoss), fmt(p.singleLoss), `${fmt(p.widestSingle)} <small>(width ${p.refWidth})</small>`, fmt(p.widestEnsemble)]);
  })}`;
}

/** Observables left out because a probe file is malformed, with the errors. */
function problems(a: Analysis): string {
  const marked = a.series.filter((s) => (s.observables?.problems ?? []).length > 0);
  if (marked.length === 0) return '';
  return `<div id="observable-problems" class="warn"><p>Some observables are left out because a probe file is malformed:</p>
<ul>${marked.flatMap((s) => s.observables!.problems.map((p) => `<li>${escapeHtml(s.label)}: ${escapeHtml(p)}</li>`)).join('\n')}</ul></div>`;
}

export function observableSections(a: Analysis): string {
  return [problems(a), representations(a), preactivations(a), sharpness(a), largeLr(a), afterKernel(a), ensemble(a)].join('\n');
}
