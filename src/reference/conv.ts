/**
 * @file f64 reference of 2-D convolution in NHWC layout with HWIO weights (the layout of
 * src/ops/conv2d.ts): forward, grad-input, grad-weight and bias grad, as plain loops.
 *   out[n, oh, ow, co] = b[co] + sum_{kh, kw, j} x[n, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw, g*CG + j] * w[kh, kw, j, co]
 * with groups: CG = Cin / groups input channels per group, g = co / (Cout / groups) the group of
 * co (groups = 1: j = ci, all input channels). Positions outside [0, H) x [0, W) read as zero.
 */
import type { NDArray } from './ndarray.js';
import { ndZeros } from './ndarray.js';

export interface Conv2dRefOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  /** Channel groups (default 1); w is [KH, KW, Cin / groups, Cout]. */
  groups?: number;
}

function pair2(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : v;
}

interface Geometry {
  N: number; H: number; W: number; C: number; KH: number; KW: number; CO: number;
  OH: number; OW: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  /** Input and output channels per group. */
  CG: number; COG: number;
}

function geometry(xShape: number[], wShape: number[], opts: Conv2dRefOptions): Geometry {
  const [N, H, W, C] = xShape;
  const [KH, KW, , CO] = wShape;
  const [sh, sw] = pair2(opts.stride, 1);
  const [ph, pw] = pair2(opts.padding, 0);
  const [dh, dw] = pair2(opts.dilation, 1);
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  const groups = opts.groups ?? 1;
  if (!(groups >= 1) || C % groups !== 0 || CO % groups !== 0 || wShape[2] !== C / groups) {
    throw new Error(`conv2d reference: weight [${wShape}] must be [KH, KW, ${C} / groups, Cout] with groups ${groups} dividing Cin ${C} and Cout`);
  }
  return { N, H, W, C, KH, KW, CO, OH, OW, sh, sw, ph, pw, dh, dw, CG: C / groups, COG: CO / groups };
}

/** Calls f(xIndex, wIndex, outIndex) for every multiply of the convolution (padding skipped). */
function eachTerm(g: Geometry, f: (xi: number, wi: number, oi: number) => void): void {
  for (let n = 0; n < g.N; n++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++)
        for (let kh = 0; kh < g.KH; kh++) {
          const ih = oh * g.sh - g.ph + kh * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          for (let kw = 0; kw < g.KW; kw++) {
            const iw = ow * g.sw - g.pw + kw * g.dw;
            if (iw < 0 || iw >= g.W) continue;
            for (let co = 0; co < g.CO; co++)
              for (let j = 0; j < g.CG; j++) {
                const ci = Math.floor(co / g.COG) * g.CG + j;
                f(((n * g.H + ih) * g.W + iw) * g.C + ci, ((kh * g.KW + kw) * g.CG + j) * g.CO + co,
                  ((n * g.OH + oh) * g.OW + ow) * g.CO + co);
              }
          }
        }
}

/** Forward: x [N, H, W, Cin], w [KH, KW, Cin / groups, Cout], b [Cout] or null -> [N, OH, OW, Cout]. */
export function conv2dRef(x: NDArray, w: NDArray, b: NDArray | null, opts: Conv2dRefOptions = {}): NDArray {
  const g = geometry(x.shape, w.shape, opts);
  const out = ndZeros([g.N, g.OH, g.OW, g.CO]);
  if (b) for (let i = 0; i < out.data.length; i++) out.data[i] = b.data[i % g.CO];
  eachTerm(g, (xi, wi, oi) => (out.data[oi] += x.data[xi] * w.data[wi]));
  return out;
}

/** d(loss)/dx from dy [N, OH, OW, Cout]: dx[xi] = sum dy[oi] * w[wi] over the same terms. */
export function conv2dGradInputRef(dy: NDArray, w: NDArray, xShape: number[], opts: Conv2dRefOptions = {}): NDArray {
  const g = geometry(xShape, w.shape, opts);
  const dx = ndZeros(xShape);
  eachTerm(g, (xi, wi, oi) => (dx.data[xi] += dy.data[oi] * w.data[wi]));
  return dx;
}

/** d(loss)/dw: dw[wi] = sum dy[oi] * x[xi] over the same terms. */
export function conv2dGradWeightRef(x: NDArray, dy: NDArray, wShape: number[], opts: Conv2dRefOptions = {}): NDArray {
  const g = geometry(x.shape, wShape, opts);
  const dw = ndZeros(wShape);
  eachTerm(g, (xi, wi, oi) => (dw.data[wi] += dy.data[oi] * x.data[xi]));
  return dw;
}

/** d(loss)/db = dy summed over every axis but the last (channels). */
export function conv2dGradBiasRef(dy: NDArray): NDArray {
  const co = dy.shape[dy.shape.length - 1];
  const db = ndZeros([co]);
  for (let i = 0; i < dy.data.length; i++) db.data[i % co] += dy.data[i];
  return db;
}
