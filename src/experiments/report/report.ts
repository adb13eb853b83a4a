/**
 * @file `report(resultsDir)`: analyses a results directory and writes <results>/report/ with
 * every figure as SVG and PNG, the Vega-Lite specs, and index.html. Runs whose files fail the
 * check (results.ts) are left out and listed in `analysis.skipped` and on the page.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../atomic.js';
import { writeAnalysis, type Analysis } from '../analysis/analyze.js';
import { readSweepFile } from '../sweep-file.js';
import { buildFigures } from './charts.js';
import { reportHtml } from './html.js';
import { renderSvg, svgToPng } from './render.js';

export interface ReportOutput {
  dir: string;
  html: string;
  figures: { name: string; svg: string; png: string }[];
  analysis: Analysis;
}

export async function report(resultsDir: string, opts: { png?: boolean } = {}): Promise<ReportOutput> {
  const analysis = writeAnalysis(resultsDir);
  const sweep = readSweepFile(resultsDir);
  const dir = join(resultsDir, 'report');
  const figDir = join(dir, 'figures');
  mkdirSync(figDir, { recursive: true });
  const figures = buildFigures(analysis);
  const written: ReportOutput['figures'] = [];
  for (const f of figures) {
    const svg = await renderSvg(f.spec);
    const svgPath = join(figDir, `${f.name}.svg`);
    const pngPath = join(figDir, `${f.name}.png`);
    writeFileAtomic(svgPath, svg);
    writeJsonAtomic(join(figDir, `${f.name}.vl.json`), f.spec);
    if (opts.png ?? true) writeFileAtomic(pngPath, svgToPng(svg));
    written.push({ name: f.name, svg: svgPath, png: pngPath });
  }
  const html = join(dir, 'index.html');
  writeFileAtomic(html, reportHtml({
    title: `widthscope report: ${sweep?.name ?? resultsDir}`,
    description: sweep?.spec.description,
    analysis,
    figures,
    spec: sweep?.spec ?? null,
    figureDir: 'figures',
  }));
  return { dir, html, figures: written, analysis };
}
