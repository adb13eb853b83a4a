/**
 * @file The report page: figures (SVG, with PNG links), the numbers at the final evaluation, the
 * variance slopes, the observables' sections, run statuses and the sweep's config.
 * Self-contained except for the figure files.
 */
import type { Analysis } from '../analysis/analyze.js';
import { OBSERVABLE_CSVS } from '../analysis/observables.js';
import type { Figure } from './charts.js';
import { escapeHtml, fmt, pageHead } from './format.js';
import { observableSections } from './observables-html.js';

export { escapeHtml, pageHead } from './format.js';

function finalTable(a: Analysis): string {
  const metrics = [...new Set(a.series.flatMap((s) => Object.keys(s.curves)))].sort();
  const head = ['series', 'width', ...metrics.map((m) => `${m} (mean ± std)`), 'D_N', 'variance', 'bias'];
  const rows: string[] = [];
  for (const s of a.series) {
    const lastAgree = Math.max(...s.agreement.map((p) => p.step));
    for (const w of s.widths) {
      const cells = [escapeHtml(s.label), String(w)];
      for (const m of metrics) {
        const pts = (s.curves[m] ?? []).filter((p) => p.width === w && p.n > 0);
        const p = pts[pts.length - 1];
        cells.push(p ? `${fmt(p.mean)} ± ${fmt(p.std)} <small>(n=${p.n}, step ${p.step})</small>` : '—');
      }
      const ag = s.agreement.find((p) => p.step === lastAgree && p.width === w);
      const mark = ag && !ag.complete ? ` <small class="warn">(incomplete: ${ag.seeds} of ${s.seeds.length} seeds)</small>` : '';
      cells.push(fmt(ag?.d) + mark, fmt(ag?.variance), fmt(ag?.bias));
      rows.push(`<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`);
    }
  }
  return `<table id="final"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function slopeTable(a: Analysis): string {
  const rows = a.series.map((s) => {
    const p = s.varianceSlope[s.varianceSlope.length - 1];
    return `<tr><td>${escapeHtml(s.label)}</td><td>${p?.step ?? '—'}</td><td>${fmt(p?.slope)}</td><td>${fmt(p?.r2)}</td><td>${p?.n ?? 0}</td></tr>`;
  });
  return `<table id="slopes"><thead><tr><th>series</th><th>step</th><th>slope of log Var vs log N</th><th>R²</th><th>widths (complete only)</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** Widths that lost seeds to divergence and the reference width each series' agreement used. */
function divergenceSection(a: Analysis): string {
  const marked = a.series.filter((s) => s.divergedWidths.length > 0 || s.noReference.length > 0);
  if (marked.length === 0) return '<p id="divergence">No seed diverged: every width has all its seeds, and the reference is the widest width.</p>';
  const rows = marked.map((s) => {
    const widest = Math.max(...s.widths);
    const refs = [...new Set(s.agreement.map((p) => p.refWidth))].sort((x, y) => x - y);
    const lost = s.divergedWidths.map((d) => `width ${d.width}: ${d.diverged} of ${d.of} seeds diverged (first at step ${d.firstStep})`).join('; ');
    const ref = refs.length === 0 ? 'none' : refs.map((r) => (r === widest ? `${r} (the widest)` : `${r} (not the widest, ${widest}, whose seeds are not all finite)`)).join(', ');
    const none = s.noReference.length > 0 ? ` No width had all its seeds at steps ${s.noReference.join(', ')}: no agreement there.` : '';
    return `<tr><td>${escapeHtml(s.label)}</td><td>${escapeHtml(lost || '—')}</td><td>${escapeHtml(ref + none)}</td></tr>`;
  });
  return `<p class="warn" id="divergence">Some seeds diverged. Widths that lost seeds are marked <em>incomplete</em>: their D_N, variance and bias are over the surviving seeds, they are left out of the variance slope, and the reference of the agreement is the widest width whose seeds are all finite.</p>
<table id="diverged"><thead><tr><th>series</th><th>widths with diverged seeds</th><th>reference width</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function lrTable(a: Analysis): string {
  if (a.lrTransfer.length === 0) return '';
  const rows = a.lrTransfer.map((g) => `<tr><td>${escapeHtml(g.label)}</td><td>${g.best.map((b) => `${b.width}: ${b.lr ?? '—'}`).join(', ')}</td><td>${g.drift === null ? '—' : g.drift.toFixed(2)}</td></tr>`);
  return `<h2>Learning-rate transfer</h2>
<table id="lr-transfer"><thead><tr><th>setting</th><th>best lr per width (final ${escapeHtml(a.lrTransfer[0].metric)}, all seeds trained)</th><th>drift, log2(best lr widest / narrowest)</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function statusTable(a: Analysis): string {
  const rows = a.series.map((s) => `<tr><td>${escapeHtml(s.label)}</td><td>${s.widths.join(', ')}</td><td>${s.seeds.length}</td><td>${escapeHtml(Object.entries(s.statuses).map(([k, v]) => `${k}: ${v}`).join(', '))}</td></tr>`);
  return `<table id="runs"><thead><tr><th>series</th><th>widths</th><th>seeds</th><th>runs</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

export function reportHtml(opts: { title: string; description?: string; analysis: Analysis; figures: Figure[]; spec: unknown; figureDir: string }): string {
  const { analysis: a } = opts;
  const figs = opts.figures.map((f) => `<figure id="fig-${escapeHtml(f.name)}">
<h3>${escapeHtml(f.title)}</h3>
<img src="${opts.figureDir}/${escapeHtml(f.name)}.svg" alt="${escapeHtml(f.title)}">
<figcaption>${escapeHtml(f.caption)} <a href="${opts.figureDir}/${escapeHtml(f.name)}.png">PNG</a></figcaption>
</figure>`).join('\n');
  const unfinished = a.unfinished.length > 0 ? `<p class="warn">${a.unfinished.length} run(s) of the sweep are not finished and are left out.</p>` : '';
  const skipped = a.skipped.length > 0 ? `<div id="skipped" class="warn"><p>${a.skipped.length} run(s) are left out because a file is corrupt or missing (<code>widthscope sweep</code> on the same spec trains them again):</p>
<ul>${a.skipped.map((s) => `<li><code>${escapeHtml(s.dir)}</code>: ${escapeHtml(s.problems.join('; '))}</li>`).join('\n')}</ul></div>` : '';
  return `${pageHead(opts.title, `th, td { text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 2em 0; } figure img { max-width: 100%; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.85em; }
.warn { color: #a40; }`)}
<body data-images-total="${opts.figures.length}">
<h1>${escapeHtml(opts.title)}</h1>
${opts.description ? `<p>${escapeHtml(opts.description)}</p>` : ''}
${unfinished}
${skipped}
<h2>Runs</h2>
${statusTable(a)}
${divergenceSection(a)}
<h2>Figures</h2>
${figs}
<h2>Numbers at the final evaluation</h2>
${finalTable(a)}
<h2>Variance against width</h2>
${slopeTable(a)}
${lrTable(a)}
${observableSections(a)}
<p>All numbers: <a href="../analysis/curves.csv">curves.csv</a>, <a href="../analysis/agreement.csv">agreement.csv</a>, <a href="../analysis/variance_slope.csv">variance_slope.csv</a>, <a href="../analysis/lr_transfer.csv">lr_transfer.csv</a>, ${OBSERVABLE_CSVS.map((f) => `<a href="../analysis/${f}">${f}</a>`).join(', ')}, <a href="../analysis/summary.json">summary.json</a>.</p>
<h2>Sweep spec</h2>
<pre id="spec">${escapeHtml(JSON.stringify(opts.spec, null, 2))}</pre>
<script>
// Marks the page once its figures have loaded, so a headless browser can check it rendered.
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.dataset.imagesLoaded = String(imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
});
</script>
</body>
</html>
`;
}
