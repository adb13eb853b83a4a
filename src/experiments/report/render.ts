/**
 * @file Headless rendering: Vega-Lite → Vega → SVG (vega's string renderer, no browser), and
 * SVG → PNG with resvg (a prebuilt native binary; system fonts).
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import type { VegaLiteSpec } from './charts.js';

export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const compiled = compile(spec as unknown as Parameters<typeof compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return Buffer.from(r.render().asPng());
}
