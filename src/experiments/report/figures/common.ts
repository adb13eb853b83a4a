/**
 * @file What every figure shares: the Figure type, the Vega-Lite schema, page style, the width
 * colour scale, and picking a series' last probe step.
 */
export type VegaLiteSpec = Record<string, unknown>;

/** One figure of the report: a Vega-Lite spec and the words around it. */
export interface Figure {
  /** File stem: `<name>.svg`, `<name>.png`. */
  name: string;
  title: string;
  caption: string;
  spec: VegaLiteSpec;
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const widthColor = { field: 'width', type: 'ordinal', title: 'width', scale: { scheme: 'viridis' }, legend: { symbolOpacity: 1 } };
export const base = { $schema: SCHEMA, background: 'white', config: { font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif', view: { stroke: '#ddd' } } };

/** The largest step of `points` (undefined when there are none). */
export const lastStepOf = (points: readonly { step: number }[]) => (points.length === 0 ? undefined : Math.max(...points.map((p) => p.step)));

/** A panel per facet value, `columns` to a row, each panel's y scale its own. */
export function facetted(rows: readonly object[], field: string, spec: Record<string, unknown>, columns = 3): Record<string, unknown> {
  return { ...base, data: { values: rows }, facet: { field, type: 'nominal', title: null }, columns, spec: { width: 260, height: 180, ...spec }, resolve: { scale: { y: 'independent' } } };
}

/** A figure drawing `rows` with the Vega-Lite spec `spec(rows)`; undefined when there are no rows. */
export function figureOf<R>(meta: Omit<Figure, 'spec'>, rows: readonly R[], spec: (rows: readonly R[]) => Record<string, unknown>): Figure | undefined {
  return rows.length === 0 ? undefined : { ...meta, spec: spec(rows) };
}

/** A figure of `rows` in panels by `field` (see facetted), or undefined when there are no rows. */
export function facettedFigure(meta: Omit<Figure, 'spec'>, rows: readonly object[], field: string, spec: Record<string, unknown>, columns = 3): Figure | undefined {
  return figureOf(meta, rows, (r) => facetted(r, field, spec, columns));
}

/** One panel per lr-grid setting (series equal but for lr), lr on a log x axis. */
export function perSetting(rows: readonly object[], height: number, mark: Record<string, unknown>, encoding: Record<string, unknown>): Record<string, unknown> {
  return {
    ...base,
    data: { values: rows },
    facet: { column: { field: 'setting', type: 'nominal', title: null } },
    spec: { width: 280, height, mark, encoding: { x: { field: 'lr', type: 'quantitative', scale: { type: 'log' } }, ...encoding } },
  };
}
