import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { checkLabels, crossEntropy, crossEntropyBackward, mseLoss, mseLossBackward, type Reduction } from '../../src/ops/loss.js';
import { crossEntropyBackwardRef, crossEntropyRef, mseBackwardRef, mseRef } from '../../src/reference/loss.js';
import { maxScaledDiff, numericVjp } from '../../src/reference/finite-diff.js';
import { TOL, expectMatches, freshSeed, pair, rng, rowsInput } from '../helpers.js';

/** Logits shapes [..., C]: C from 1 (a single class) to a vocabulary of 5000. */
const SHAPES: number[][] = [[1, 1], [3, 3], [17, 17], [257, 10], [2, 3, 17], [5, 257], [3, 1000], [2, 5000], [1, 3]];
const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

/** max |x| over row r of a [rows, c] array. */
function rowMaxAbs(data: Float64Array, r: number, c: number): number {
  let m = 0;
  for (let j = 0; j < c; j++) m = Math.max(m, Math.abs(data[r * c + j]));
  return m;
}

function randomLabels(n: number, c: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * c));
}

describe('cross-entropy matches the f64 reference', () => {
  it('forward (loss and saved lse), every reduction, both kernel variants', async () => {
    for (const shape of SHAPES) {
      for (const variant of ['invocation', 'workgroup'] as const) {
        for (const reduction of REDUCTIONS) {
          await ws.tidyAsync(async () => {
            const { last: c, seed, x } = rowsInput(shape, -4, 4);
            const lab = randomLabels(x.t.size / c, c, seed + 1);
            const labels = ws.fromArray(lab, shape.slice(0, -1));
            const ref = crossEntropyRef(x.r, lab, reduction);
            const out = crossEntropy(x.t, labels, { reduction, variant });
            const what = `ce ${shape} ${variant} ${reduction} seed ${seed}`;
            // NOTE: f32 rounds lse = m + log(sum exp(x - m)) against the row's largest logit m, and
            // both lse (a row of [-1.1, -1.1, -1.1] gives log 3 - 1.1 = -0.001) and loss = lse -
            // x[label] can cancel to ~0: errors are measured against |lse| + max |x| of each row.
            const rowScale = Float64Array.from(ref.lse.data, (v, r) => Math.abs(v) + rowMaxAbs(x.r.data, r, c));
            const lseScale = { shape: ref.lse.shape, data: rowScale };
            const lossScale = reduction === 'none' ? lseScale : { shape: ref.loss.shape, data: Float64Array.of(rowScale.reduce((a, v) => a + v, 0) / (reduction === 'mean' ? rowScale.length : 1)) };
            await expectMatches(out.loss, ref.loss, TOL.reduction, `${what} loss`, lossScale);
            await expectMatches(out.lse, ref.lse, TOL.reduction, `${what} lse`, lseScale);
          });
        }
      }
    }
  });

  it('backward (dlogits) for every reduction', async () => {
    for (const shape of SHAPES) {
      for (const reduction of REDUCTIONS) {
        await ws.tidyAsync(async () => {
          const { last: c, seed, x } = rowsInput(shape, -4, 4);
          const rows = x.t.size / c;
          const lab = randomLabels(rows, c, seed + 1);
          const labels = ws.fromArray(lab, shape.slice(0, -1));
          const up = reduction === 'none' ? pair(shape.slice(0, -1), seed + 2) : pair([], seed + 2);
          const { lse } = crossEntropy(x.t, labels, { reduction });
          const dx = crossEntropyBackward(up.t, x.t, labels, lse, { reduction });
          const ref = crossEntropyBackwardRef(up.r, x.r, lab, reduction);
          const what = `ce backward ${shape} ${reduction} seed ${seed}`;
          if (c === 1) {
            // softmax of one class is 1: dlogits is exactly 0.
            expect(Array.from(await dx.data()).every((v) => v === 0), what).toBe(true);
          } else {
            // NOTE: the label's entry is (p - 1) * g / N, which cancels when p ~ 1; measure every
            // row against its terms' size, (p + onehot) * |g| / N, not the cancelled result.
            const scale = { shape: ref.shape, data: ref.data.map((v, i) => Math.abs(v) + (lab[Math.floor(i / c)] === i % c ? Math.abs(up.r.data[reduction === 'none' ? Math.floor(i / c) : 0]) / (reduction === 'mean' ? rows : 1) : 0)) };
            await expectMatches(dx, ref, TOL.reduction, what, scale);
          }
        });
      }
    }
  });

  it('the f64 reference backward agrees with central finite differences', () => {
    for (const reduction of REDUCTIONS) {
      const seed = freshSeed();
      const x = pair([4, 6], seed, -3, 3).r;
      const lab = randomLabels(4, 6, seed + 1);
      const u = reduction === 'none' ? pair([4], seed + 2).r : pair([], seed + 2).r;
      const num = numericVjp((xx) => crossEntropyRef(xx, lab, reduction).loss, x, u);
      expect(maxScaledDiff(crossEntropyBackwardRef(u, x, lab, reduction), num), reduction).toBeLessThan(1e-7);
    }
  });

  it('stays finite for extreme logits (+-1e4)', async () => {
    const c = 300;
    const data = new Float32Array(4 * c).map((_, i) => (i % 7 === 0 ? 1e4 : -1e4));
    data[c + 5] = 1e4; // row 1: label 5 is one of the maxima
    const lab = Int32Array.of(1, 5, 299, 0);
    const x = { t: ws.fromArray(data, [4, c]), r: { shape: [4, c], data: Float64Array.from(data) } };
    const labels = ws.fromArray(lab);
    for (const variant of ['invocation', 'workgroup'] as const) {
      const out = crossEntropy(x.t, labels, { reduction: 'none', variant });
      const loss = await out.loss.data();
      expect(loss.every(Number.isFinite), `loss ${variant}: ${loss}`).toBe(true);
      await expectMatches(out.loss, crossEntropyRef(x.r, lab, 'none').loss, TOL.reduction, `extreme loss ${variant}`);
      const dx = crossEntropyBackward(ws.fromArray([1]), x.t, labels, out.lse, { reduction: 'mean' });
      expect((await dx.data()).every(Number.isFinite)).toBe(true);
      // NOTE: the saved lse ~ 1e4 + log(43) is an f32 with an ulp of ~1e-3, so exp(x - lse) carries a
      // relative error up to ~5e-4 by the f32 format alone: a looser tolerance here.
      await expectMatches(dx, crossEntropyBackwardRef({ shape: [], data: Float64Array.of(1) }, x.r, lab), 1e-3, 'extreme dx');
    }
  });

  it('an out-of-range label gives a NaN loss, never a silent answer, and checkLabels names it', async () => {
    const x = ws.randn([3, 5], { seed: 1 });
    const labels = ws.fromArray(Int32Array.of(0, 5, -1));
    // c % 4 == 0: the vec4 backward marks bad rows too.
    const x8 = ws.randn([3, 8], { seed: 2 });
    const labels8 = ws.fromArray(Int32Array.of(8, 7, -1));
    // each readback throws the first flagged label once (the flag is then cleared) and reads again
    const reread = async (t: ws.Tensor, message: string | RegExp) => {
      await expect(t.data()).rejects.toThrow(message);
      return t.data();
    };
    const lse8 = crossEntropy(x8, labels8, { reduction: 'none' }).lse;
    await expect(ws.getDevice().sync()).rejects.toThrow(
      // invocations race to set the flag: either bad label may be the one reported
      /^crossEntropy: label (8 at position \[0\] \(flat 0\)|-1 at position \[2\] \(flat 2\)) of labels \[3\] is outside \[0, 8\)/,
    );
    const dx8 = await reread(crossEntropyBackward(ws.ones([3]), x8, labels8, lse8, { reduction: 'none' }), /^crossEntropyBackward: label (8|-1) at position \[(0|2)\]/);
    expect(dx8.slice(0, 8).every(Number.isNaN) && dx8.slice(8, 16).every(Number.isFinite) && dx8.slice(16).every(Number.isNaN)).toBe(true);
    for (const variant of ['invocation', 'workgroup'] as const) {
      const out = crossEntropy(x, labels, { reduction: 'none', variant });
      const loss = await reread(out.loss, /^crossEntropy: label (5|-1) at position \[(1|2)\] .* is outside \[0, 5\)/);
      expect(Number.isFinite(loss[0])).toBe(true);
      expect(Number.isNaN(loss[1]) && Number.isNaN(loss[2])).toBe(true);
      expect(Number.isNaN((await reread(crossEntropy(x, labels, { variant }).loss, /^crossEntropy: label/))[0])).toBe(true);
      const dx = await reread(crossEntropyBackward(ws.ones([3]), x, labels, out.lse, { reduction: 'none' }), /^crossEntropyBackward: label/);
      expect(dx.slice(0, 5).every(Number.isFinite) && dx.slice(5).every(Number.isNaN)).toBe(true);
    }
    await expect(checkLabels(labels, 5)).rejects.toThrow('crossEntropy: label 5 at flat index 1 of labels [3] is outside [0, 5)');
    await expect(checkLabels(ws.fromArray(Int32Array.of(0, 4)), 5)).resolves.toBeUndefined();
  });

  it('rejects labels that are not i32 and shapes that disagree', () => {
    ws.tidy(() => {
      const x = ws.zeros([8, 10]);
      expect(() => crossEntropy(x, ws.zeros([8]))).toThrow('crossEntropy: labels [8] have dtype f32, expected i32 class indices');
      expect(() => crossEntropy(x, ws.zeros([7], { dtype: 'i32' }))).toThrow(
        'crossEntropy: logits [8, 10] and labels [7] disagree: expected labels of shape [8] (the logits without their last, class axis)',
      );
      expect(() => crossEntropy(x, ws.zeros([8], { dtype: 'i32' }), { reduction: 'avg' as Reduction })).toThrow(
        "crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'avg'",
      );
      const labels = ws.zeros([8], { dtype: 'i32' });
      const { lse } = crossEntropy(x, labels);
      expect(() => crossEntropyBackward(ws.zeros([8]), x, labels, lse)).toThrow(
        "crossEntropyBackward: dloss has shape [8], expected a scalar for reduction 'mean'",
      );
      expect(() => crossEntropyBackward(ws.zeros([]), x, labels, lse, { reduction: 'none' })).toThrow(
        "crossEntropyBackward: dloss has shape [], expected [8] for reduction 'none'",
      );
    });
  });
});

describe('mean-squared error matches the f64 reference', () => {
  it('forward and backward for every reduction on awkward shapes', async () => {
    for (const shape of [[1], [3], [17], [257, 3], [2, 3, 17], [70001]]) {
      for (const reduction of REDUCTIONS) {
        await ws.tidyAsync(async () => {
          const seed = freshSeed();
          const p = pair(shape, seed);
          const t = pair(shape, seed + 1);
          const up = reduction === 'none' ? pair(shape, seed + 2) : pair([], seed + 2);
          const what = `mse ${shape} ${reduction} seed ${seed}`;
          await expectMatches(mseLoss(p.t, t.t, { reduction }), mseRef(p.r, t.r, reduction), TOL.reduction, what);
          await expectMatches(
            mseLossBackward(up.t, p.t, t.t, { reduction }),
            mseBackwardRef(up.r, p.r, t.r, reduction),
            TOL.elementwise,
            `${what} backward`,
          );
        });
      }
    }
  });

  it('the f64 reference backward agrees with central finite differences', () => {
    for (const reduction of REDUCTIONS) {
      const seed = freshSeed();
      const p = pair([3, 4], seed).r;
      const t = pair([3, 4], seed + 1).r;
      const u = reduction === 'none' ? pair([3, 4], seed + 2).r : pair([], seed + 2).r;
      const num = numericVjp((pp) => mseRef(pp, t, reduction), p, u);
      expect(maxScaledDiff(mseBackwardRef(u, p, t, reduction), num), reduction).toBeLessThan(1e-8);
    }
  });

  it('rejects shapes that disagree', () => {
    ws.tidy(() => {
      expect(() => mseLoss(ws.zeros([3, 4]), ws.zeros([4]))).toThrow(
        'mseLoss: prediction [3, 4] and target [4] must have the same shape (no broadcasting)',
      );
      expect(() => mseLoss(ws.zeros([3]), ws.zeros([3], { dtype: 'i32' }))).toThrow('mseLoss: target [3] has dtype i32, expected f32');
    });
  });
});
