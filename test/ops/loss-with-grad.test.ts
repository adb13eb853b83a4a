// crossEntropyWithGrad (one dispatch: the 'mean'/'sum' loss and its gradient for an upstream
// value of 1) against the f64 reference, and the differentiable crossEntropy that takes it when
// the logits' gradient will be wanted.
import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { CE_WITH_GRAD_MAX, crossEntropyWithGrad } from '../../src/ops/loss.js';
import { crossEntropyBackwardRef, crossEntropyRef } from '../../src/reference/loss.js';
import { crossEntropy as ceOp, mul } from '../../src/autograd/ops.js';
import { backward } from '../../src/autograd/index.js';
import { TOL, expectMatches, recordDispatches, rng, rowsInput } from '../helpers.js';

const SHAPES: number[][] = [[1, 1], [1, 3], [3, 3], [17, 10], [257, 10], [2, 3, 17], [5, 257], [2048, 10], [16, 1000]];
const UNIT = { shape: [], data: Float64Array.of(1) };

function randomLabels(n: number, c: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * c));
}

/** |dlogits| terms: the label's entry (p - 1) / N cancels when p ~ 1; measured against (p + 1) / N. */
function dxScale(ref: { shape: number[]; data: Float64Array }, lab: Int32Array, c: number, per: number) {
  return { shape: ref.shape, data: ref.data.map((v, i) => Math.abs(v) + (lab[Math.floor(i / c)] === i % c ? per : 0)) };
}

describe('crossEntropyWithGrad matches the f64 reference', () => {
  it('loss and dlogits for mean and sum on awkward shapes', async () => {
    for (const shape of SHAPES) {
      for (const reduction of ['mean', 'sum'] as const) {
        await ws.tidyAsync(async () => {
          const { last: c, seed, x } = rowsInput(shape, -4, 4);
          const rows = x.t.size / c;
          const lab = randomLabels(rows, c, seed + 1);
          const labels = ws.fromArray(lab, shape.slice(0, -1));
          const ref = crossEntropyRef(x.r, lab, reduction);
          const out = crossEntropyWithGrad(x.t, labels, { reduction });
          const what = `ce with grad ${shape} ${reduction} seed ${seed}`;
          // NOTE: row losses lse - x[label] cancel: measured against the sum of |lse| + max |x| per row
          let s = 0;
          for (let r = 0; r < rows; r++) {
            let m = 0;
            for (let j = 0; j < c; j++) m = Math.max(m, Math.abs(x.r.data[r * c + j]));
            s += Math.abs(ref.lse.data[r]) + m;
          }
          await expectMatches(out.loss, ref.loss, TOL.reduction, `${what} loss`, { shape: [], data: Float64Array.of(s / (reduction === 'mean' ? rows : 1)) });
          const dref = crossEntropyBackwardRef(UNIT, x.r, lab, reduction);
          if (c === 1) expect(Array.from(await out.dlogits.data()).every((v) => v === 0), what).toBe(true);
          else await expectMatches(out.dlogits, dref, TOL.reduction, `${what} dlogits`, dxScale(dref, lab, c, 1 / (reduction === 'mean' ? rows : 1)));
        });
      }
    }
  });

  it('NaN and +-Inf logits propagate as in the reference; a bad label gives NaN and is flagged', async () => {
    await ws.tidyAsync(async () => {
      const data = Float32Array.from({ length: 4 * 5 }, (_, i) => Math.sin(i));
      data[1 * 5 + 2] = NaN;
      data[2 * 5 + 0] = Infinity;
      data[3 * 5 + 4] = -Infinity;
      const lab = Int32Array.of(0, 1, 2, 3);
      const x = { t: ws.fromArray(data, [4, 5]), r: { shape: [4, 5], data: Float64Array.from(data) } };
      const out = crossEntropyWithGrad(x.t, ws.fromArray(lab), { reduction: 'sum' });
      const ref = crossEntropyBackwardRef(UNIT, x.r, lab, 'sum');
      const dx = await out.dlogits.data();
      ref.data.forEach((v, i) => {
        if (Number.isNaN(v) !== Number.isNaN(dx[i]) || (!Number.isNaN(v) && Math.abs(v - dx[i]) > 1e-6)) {
          throw new Error(`dlogits element ${i}: ${dx[i]}, reference ${v}`);
        }
      });
      expect(Number.isNaN((await out.loss.data())[0])).toBe(Number.isNaN(crossEntropyRef(x.r, lab, 'sum').loss.data[0]));
      const bad = crossEntropyWithGrad(ws.randn([3, 5], { seed: 2 }), ws.fromArray(Int32Array.of(0, 7, 1)));
      await expect(bad.loss.data()).rejects.toThrow(/^crossEntropyWithGrad: label 7 at position \[1\] .* is outside \[0, 5\)/);
      expect(Number.isNaN((await bad.loss.data())[0])).toBe(true);
      const bdx = await bad.dlogits.data();
      expect(bdx.slice(0, 5).every(Number.isFinite) && bdx.slice(5, 10).every(Number.isNaN) && bdx.slice(10).every(Number.isFinite)).toBe(true);
    });
  });

  it('refuses a reduction it does not compute and logits beyond one workgroup', () => {
    ws.tidy(() => {
      const labels = ws.zeros([4], { dtype: 'i32' });
      expect(() => crossEntropyWithGrad(ws.zeros([4, 3]), labels, { reduction: 'none' as 'sum' })).toThrow(
        "crossEntropyWithGrad: reduction must be 'mean' or 'sum', got 'none'",
      );
      const max = CE_WITH_GRAD_MAX[ws.getDevice().isSoftware ? 'software' : 'gpu'];
      const c = max / 4 + 1;
      expect(() => crossEntropyWithGrad(ws.zeros([4, c]), labels)).toThrow(`crossEntropyWithGrad: logits [4, ${c}] hold ${4 * c} items, expected 1 .. ${max}`);
    });
  });
});

describe('the differentiable crossEntropy computes its gradient in the forward when it will be wanted', () => {
  it('backward from the loss itself adds no cross-entropy dispatch and gives the reference gradient', async () => {
    const { seed, x } = rowsInput([33, 10], -3, 3);
    const lab = randomLabels(33, 10, seed + 1);
    const labels = ws.fromArray(lab);
    const logits = ws.fromArray(await x.t.data(), [33, 10]);
    logits.requiresGrad = true;
    const dev = ws.getDevice();
    const { entries, stop } = recordDispatches(dev);
    try {
      const loss = ceOp(logits, labels);
      backward(loss);
      loss.dispose();
    } finally {
      stop();
    }
    expect(entries.filter((e) => e.startsWith('ce_'))).toEqual(['ce_fwd_grad']);
    const dref = crossEntropyBackwardRef(UNIT, x.r, lab, 'mean');
    await expectMatches(logits.grad!, dref, TOL.reduction, `grad seed ${seed}`, dxScale(dref, lab, 10, 1 / 33));
    logits.dispose();
    labels.dispose();
    x.t.dispose();
  });

  it('an upstream value other than 1 scales the forward gradient', async () => {
    const { seed, x } = rowsInput([5, 7], -3, 3);
    const lab = randomLabels(5, 7, seed + 1);
    const labels = ws.fromArray(lab);
    const logits = ws.fromArray(await x.t.data(), [5, 7]);
    logits.requiresGrad = true;
    const loss = mul(ceOp(logits, labels, { reduction: 'sum' }), -2.5);
    backward(loss);
    const dref = crossEntropyBackwardRef({ shape: [], data: Float64Array.of(-2.5) }, x.r, lab, 'sum');
    await expectMatches(logits.grad!, dref, TOL.reduction, `grad seed ${seed}`, dxScale(dref, lab, 7, 2.5));
    for (const t of [loss, logits, labels, x.t]) t.dispose();
  });
});
