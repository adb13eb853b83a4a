// The reliability catalogue of the non-finite edge cases a user meets in a model: an infinite or
// NaN weight at a convolution's padding (every conv kernel), NaN in a future token's key or value
// under causal attention (D 6, the padded fused path, and composed: true), a row whose visible
// scores are all -Inf, and an infinite logit in cross-entropy: each as in the f64 reference.
import { expect } from 'vitest';
import * as ws from '../../src/index.js';
import * as o from '../../src/autograd/ops.js';
import { gradients } from '../../src/autograd/backward.js';
import { F64Tensor } from '../../src/autograd/f64.js';
import { conv2d, conv2dGradInput, conv2dGradWeight, type Conv2dOptions } from '../../src/ops/conv2d.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { conv2dGradInputRef, conv2dGradWeightRef, conv2dRef, crossEntropyRef } from '../../src/reference/index.js';
import { catalogue, type FaultCase } from './catalogue.js';

/** Deterministic values in [-1, 1). */
const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 12.9898) * 0.999);

/** out equals ref element by element: the same NaN and infinities, finite values within 1e-4 (relative, floor 1). */
function expectLikeRef(out: ArrayLike<number>, ref: ArrayLike<number>, what: string): void {
  expect(out.length, what).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const [g, r] = [out[i], ref[i]];
    const ok = Number.isNaN(r) ? Number.isNaN(g) : !Number.isFinite(r) ? g === r : Math.abs(g - r) <= 1e-4 * Math.max(1, Math.abs(r));
    if (!ok) throw new Error(`${what}: element ${i} is ${g}, reference ${r}`);
  }
}

/** A 3x3 conv, padding 1, whose weight is +Inf at the corner tap (kh 0, kw 0) and dy NaN in the first row. */
function convPaddingCase(impl: Conv2dOptions['impl'] | 'grouped'): FaultCase {
  return {
    name: `conv2d (${impl}): an Inf weight and a NaN cotangent at padded taps give the reference, not NaN everywhere`,
    run: async () => {
      const groups = impl === 'grouped' ? 4 : 1;
      const opts: Conv2dOptions = impl === 'grouped' ? { padding: 1, groups } : { padding: 1, impl };
      const xs = [1, 5, 6, 4];
      const wsh = [3, 3, 4 / groups, 4];
      const x = values(120, 1);
      const w = values(9 * 4 * 4 / groups, 2);
      w[0] = Infinity;
      const dy = values(120, 3);
      dy[0] = NaN; // output pixel (0, 0): its row-0 and column-0 taps are padding
      const nd = (shape: number[], d: Float32Array) => ({ shape, data: Float64Array.from(d) });
      const ro = { padding: 1, groups };
      await ws.tidyAsync(async () => {
        const [xt, wt, dyt] = [ws.fromArray(x, xs), ws.fromArray(w, wsh), ws.fromArray(dy, xs)];
        expectLikeRef(await conv2d(xt, wt, null, opts).data(), conv2dRef(nd(xs, x), nd(wsh, w), null, ro).data, 'forward');
        expectLikeRef(await conv2dGradInput(dyt, wt, xs, opts).data(), conv2dGradInputRef(nd(xs, dy), nd(wsh, w), xs, ro).data, 'grad-input');
        expectLikeRef(await conv2dGradWeight(xt, dyt, wsh, opts).data(), conv2dGradWeightRef(nd(xs, x), nd(xs, dy), wsh, ro).data, 'grad-weight');
      });
    },
  };
}

/** Causal attention with NaN in the last key's k and v: rows before it are finite and equal the reference, forward and backward. */
function futureNanCase(d: number, composed: boolean): FaultCase {
  return {
    name: `attention causal D ${d}${composed ? ' composed: true' : ''}: NaN in a future key's k and v stays out of earlier rows`,
    run: async () => {
      const t = 6;
      const data = [1, 2, 3].map((s) => values(t * d, s));
      data[1][(t - 1) * d] = NaN;
      data[2][(t - 1) * d + 1] = NaN;
      const shape = [1, t, d];
      const up = values(t * d, 4);
      const xr = data.map((v) => { const r = F64Tensor.from(v, shape); r.requiresGrad = true; return r; });
      const yr = o.scaledDotProductAttention(xr[0], xr[1], xr[2], { causal: true });
      const ref = gradients(yr, xr, { grad: F64Tensor.from(up, shape) });
      expect(Number.isFinite(yr.data[0])).toBe(true);
      await ws.tidyAsync(async () => {
        const xg = data.map((v) => { const g = ws.fromArray(v, shape); g.requiresGrad = true; return g; });
        const yg = o.scaledDotProductAttention(xg[0], xg[1], xg[2], { causal: true, composed });
        expectLikeRef(await yg.data(), yr.data, 'forward');
        const gs = gradients(yg, xg, { grad: ws.fromArray(up, shape) });
        for (let i = 0; i < 3; i++) expectLikeRef(await gs[i].data(), ref[i].data, `gradient of input ${i}`);
      });
    },
  };
}

const faults: FaultCase[] = [
  ...(['igemm', 'shuffle', 'direct', 'grouped'] as const).map(convPaddingCase),
  futureNanCase(6, false),
  futureNanCase(6, true),
  futureNanCase(8, true),
  {
    name: 'attention causal D 6: a row whose only visible score is -Inf is NaN (the reference), not a finite average of masked keys',
    run: async () => {
      const [t, d] = [4, 6];
      const q = values(t * d, 5);
      const k = Float32Array.from(values(t * d, 6), Math.abs);
      q[0] = -Infinity;
      k[0] = 0.5;
      const v = values(t * d, 7);
      for (const composed of [false, true]) {
        await ws.tidyAsync(async () => {
          const y = await o.scaledDotProductAttention(ws.fromArray(q, [t, d]), ws.fromArray(k, [t, d]), ws.fromArray(v, [t, d]), { causal: true, composed }).data();
          const ref = o.scaledDotProductAttention(F64Tensor.from(q, [t, d]), F64Tensor.from(k, [t, d]), F64Tensor.from(v, [t, d]), { causal: true });
          expectLikeRef(y, ref.data, `composed ${composed}`);
          expect(Number.isNaN(y[0])).toBe(true);
        });
      }
    },
  },
  {
    name: 'crossEntropy: a +Inf logit gives a NaN loss for its row (the reference), in both kernels',
    run: async () => {
      const [rows, c] = [3, 5];
      const x = values(rows * c, 8);
      x[c + 2] = Infinity;
      const labels = Int32Array.of(0, 1, 4);
      const ref = crossEntropyRef({ shape: [rows, c], data: Float64Array.from(x) }, labels, 'none');
      expect(Number.isNaN(ref.loss.data[1])).toBe(true);
      for (const variant of ['invocation', 'workgroup'] as const) {
        await ws.tidyAsync(async () => {
          const out = crossEntropy(ws.fromArray(x, [rows, c]), ws.fromArray(labels, [rows]), { reduction: 'none', variant });
          expectLikeRef(await out.loss.data(), ref.loss.data, variant);
        });
      }
    },
  },
];

catalogue('gaps', [], faults);
