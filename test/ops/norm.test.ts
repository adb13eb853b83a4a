import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, type RowVariant } from '../../src/ops/norm.js';
import { normBackwardRef, normRef } from '../../src/reference/norm.js';
import { maxScaledDiff, numericVjp } from '../../src/reference/finite-diff.js';
import { TOL, expectMatches, freshSeed, pair, rowsInput } from '../helpers.js';

/** [rows..., d]: d from 1 to 4096, rows from 1 to 257, non-multiples of the workgroup size. */
const SHAPES: number[][] = [[1, 1], [3, 3], [17, 17], [257, 3], [2, 3, 17], [5, 257], [3, 1000], [2, 4096], [257, 64]];
const VARIANTS: RowVariant[] = ['invocation', 'workgroup', 'auto'];

describe('layerNorm and rmsNorm forward match the f64 reference', () => {
  for (const kind of ['layer', 'rms'] as const) {
    for (const affine of [true, false]) {
      it(`${kind}Norm ${affine ? 'with' : 'without'} weight/bias, both kernel variants`, async () => {
        for (const shape of SHAPES) {
          for (const variant of VARIANTS) {
            await ws.tidyAsync(async () => {
              const { last: d, seed, x } = rowsInput(shape, -2, 3);
              const w = affine ? pair([d], seed + 1, 0.5, 1.5) : null;
              const b = affine && kind === 'layer' ? pair([d], seed + 2) : null;
              const ref = normRef(kind, x.r, d, w?.r ?? null, b?.r ?? null, 1e-5);
              const what = `${kind} ${shape} ${variant} seed ${seed}`;
              if (kind === 'layer') {
                const out = layerNorm(x.t, d, w?.t, b?.t, { variant });
                await expectMatches(out.y, ref.y, TOL.reduction, `${what} y`);
                await expectMatches(out.mean, ref.mean, TOL.reduction, `${what} mean`);
                await expectMatches(out.rstd, ref.rstd, TOL.reduction, `${what} rstd`);
              } else {
                const out = rmsNorm(x.t, d, w?.t, { variant });
                await expectMatches(out.y, ref.y, TOL.reduction, `${what} y`);
                await expectMatches(out.rstd, ref.rstd, TOL.reduction, `${what} rstd`);
              }
            });
          }
        }
      });
    }
  }

  it('layerNorm of rows with a large offset keeps its precision (two-pass variance)', async () => {
    const seed = freshSeed();
    const x = pair([4, 300], seed, 999, 1001);
    const ref = normRef('layer', x.r, 300, null, null, 1e-5);
    for (const variant of ['invocation', 'workgroup'] as const) {
      await expectMatches(layerNorm(x.t, 300, null, null, { variant }).y, ref.y, 1e-3, `offset rows ${variant}`);
    }
  });

  it('normalizes over several trailing axes', async () => {
    const x = pair([3, 4, 5], freshSeed());
    const w = pair([4, 5], freshSeed());
    const ref = normRef('layer', x.r, 20, w.r, null);
    const out = layerNorm(x.t, [4, 5], w.t);
    expect(out.mean.shape).toEqual([3]);
    await expectMatches(out.y, ref.y, TOL.reduction, 'layerNorm over [4, 5]');
  });
});

describe('norm backward rules', () => {
  it('the f64 reference backward agrees with central finite differences', () => {
    for (const kind of ['layer', 'rms'] as const) {
      const seed = freshSeed();
      const shape = [3, 7];
      const x = pair(shape, seed).r;
      const w = pair([7], seed + 1, 0.5, 1.5).r;
      const b = pair([7], seed + 2).r;
      const u = pair(shape, seed + 3).r;
      const g = normBackwardRef(kind, u, x, 7, w);
      const bias = kind === 'layer' ? b : null;
      const fx = numericVjp((xx) => normRef(kind, xx, 7, w, bias).y, x, u);
      const fw = numericVjp((ww) => normRef(kind, x, 7, ww, bias).y, w, u);
      expect(maxScaledDiff(g.dx, fx), `${kind} dx`).toBeLessThan(1e-6);
      expect(maxScaledDiff(g.dweight, fw), `${kind} dweight`).toBeLessThan(1e-6);
      if (kind === 'layer') {
        const fb = numericVjp((bb) => normRef(kind, x, 7, w, bb).y, b, u);
        expect(maxScaledDiff(g.dbias, fb), 'layer dbias').toBeLessThan(1e-6);
      }
    }
  });

  for (const kind of ['layer', 'rms'] as const) {
    it(`${kind}Norm backward (dx, dweight${kind === 'layer' ? ', dbias' : ''}) matches the f64 reference`, async () => {
      for (const shape of [...SHAPES, [1000, 3], [600, 17]]) {
        for (const variant of ['invocation', 'workgroup'] as const) {
          for (const affine of [true, false]) {
            await ws.tidyAsync(async () => {
              const { last: d, seed, x } = rowsInput(shape, -2, 3);
              const dy = pair(shape, seed + 3);
              const w = affine ? pair([d], seed + 1, 0.5, 1.5) : null;
              const ref = normBackwardRef(kind, dy.r, x.r, d, w?.r ?? null);
              const what = `${kind} ${shape} ${variant} ${affine} seed ${seed}`;
              const g =
                kind === 'layer'
                  ? layerNormBackward(dy.t, x.t, layerNorm(x.t, d, w?.t), d, w?.t, { variant, weightGrad: true })
                  : rmsNormBackward(dy.t, x.t, rmsNorm(x.t, d, w?.t), d, w?.t, { variant, weightGrad: true });
              if (kind === 'rms' && d === 1) {
                // NOTE: for d = 1, RMSNorm's dx = rstd * g * eps / (x^2 + eps) is a cancellation of two
                // O(1) terms: compare against the size of those terms, not of the tiny result.
                const out = await g.dx.data();
                const rs = normRef('rms', x.r, 1, null, null).rstd.data;
                out.forEach((v, i) => {
                  const term = rs[i] * Math.abs(dy.r.data[i] * (w?.r.data[0] ?? 1));
                  expect(Math.abs(v - ref.dx.data[i]), what).toBeLessThan(1e-5 * term + 1e-7);
                });
              } else {
                await expectMatches(g.dx, ref.dx, 1e-4, `${what} dx`);
              }
              await expectMatches(g.dweight!, ref.dweight, TOL.reduction, `${what} dweight`);
              if (kind === 'layer') await expectMatches(g.dbias!, ref.dbias, TOL.reduction, `${what} dbias`);
              else expect(g.dbias).toBeNull();
            });
          }
        }
      }
    });
  }
});

describe('norm input errors', () => {
  it('rejects a normalized shape that does not match, bad weight shapes and dtypes', () => {
    ws.tidy(() => {
      const x = ws.zeros([8, 32]);
      expect(() => layerNorm(x, 64)).toThrow('layerNorm: normalized shape [64] does not match the last 1 axes of input [8, 32]');
      expect(() => rmsNorm(x, [4, 32])).toThrow('rmsNorm: normalized shape [4, 32] does not match the last 2 axes of input [8, 32]');
      expect(() => layerNorm(x, 32, ws.zeros([31]))).toThrow('layerNorm: weight has shape [31], expected the normalized shape [32]');
      expect(() => layerNorm(x, 32, null, ws.zeros([2, 16]))).toThrow('layerNorm: bias has shape [2, 16], expected the normalized shape [32]');
      expect(() => layerNorm(ws.zeros([8, 32], { dtype: 'i32' }), 32)).toThrow('layerNorm: input [8, 32] has dtype i32, expected f32');
      expect(() => layerNorm(x, 32, null, null, { eps: -1 })).toThrow('layerNorm: eps must be finite and >= 0, got -1');
      const s = layerNorm(x, 32);
      expect(() => layerNormBackward(ws.zeros([8, 31]), x, s, 32)).toThrow('layerNormBackward: dy has shape [8, 31], expected the input\'s [8, 32]');
      expect(() => layerNormBackward(ws.zeros([8, 32]), x, { mean: s.mean, rstd: ws.zeros([4]) }, 32)).toThrow(
        'layerNormBackward: saved rstd has shape [4], expected [8]',
      );
    });
  });
});
