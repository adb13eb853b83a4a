/**
 * @file Text of the report page: HTML escaping and numbers to 4 significant digits ('—' for none).
 */
export const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const fmt = (v: number | null | undefined) => (v === undefined || v === null || !Number.isFinite(v) ? '—' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(3));
