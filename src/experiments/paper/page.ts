/**
 * @file The claims page: one row per claim with its one-line statement, how it was tested, the
 * numbers measured, the verdict at this scale and its figure; links to each sweep's report.
 */
import { escapeHtml, pageHead } from '../report/html.js';
import type { ClaimResult } from './claims.js';

const verdictClass: Record<ClaimResult['verdict'], string> = { holds: 'ok', 'does not hold': 'bad', 'not measurable here': 'na' };

function numbers(n: ClaimResult['numbers']): string {
  const cells = Object.entries(n).map(([k, v]) => `<code>${escapeHtml(k)}</code> ${v === null ? '—' : escapeHtml(String(v))}`);
  return cells.length > 0 ? cells.join('<br>') : '—';
}

export function claimsHtml(opts: { title: string; quick: boolean; claims: ClaimResult[]; sweeps: { name: string; report: string; wallSeconds: number }[] }): string {
  const rows = opts.claims.map((c) => `<tr id="claim-${escapeHtml(c.id)}">
<td><strong>${escapeHtml(c.claim)}</strong><br><small>${escapeHtml(c.test)}</small></td>
<td>${numbers(c.numbers)}</td>
<td class="${verdictClass[c.verdict]}">${escapeHtml(c.verdict)}<br><small>${escapeHtml(c.why)}</small></td>
<td>${c.figure ? `<a href="${escapeHtml(c.figure)}"><img src="${escapeHtml(c.figure)}" alt="${escapeHtml(c.id)}" width="320"></a>` : '—'}</td>
</tr>`);
  const sweeps = opts.sweeps.map((s) => `<li><a href="${escapeHtml(s.report)}">${escapeHtml(s.name)}</a> (${s.wallSeconds.toFixed(0)} s)</li>`);
  return `${pageHead(opts.title, `th, td { vertical-align: top; text-align: left; }
.ok { background: #e6f4e6; } .bad { background: #fbe3e3; } .na { background: #f0f0f0; }`)}
<body>
<h1>${escapeHtml(opts.title)}</h1>
<p>Each claim of Vyas et al. (2023), "Feature-Learning Networks Are Consistent Across Widths At Realistic Scales", measured at this scale${opts.quick ? ' (the quick set: fewer widths, seeds and steps)' : ''}. The verdict says whether the numbers meet the test written under the claim; "not measurable here" says what was missing. All numbers: <a href="claims.json">claims.json</a>.</p>
<table id="claims"><thead><tr><th>claim and test</th><th>measured</th><th>verdict</th><th>figure</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<h2>Sweeps</h2>
<ul>${sweeps.join('\n')}</ul>
</body>
</html>
`;
}
