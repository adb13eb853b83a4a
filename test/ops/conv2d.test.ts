import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { conv2d, conv2dGradInput, conv2dGradWeight, CONV2D_TILES, type Conv2dOptions } from '../../src/ops/conv2d.js';
import { conv2dGradInputRef, conv2dGradWeightRef, conv2dRef } from '../../src/reference/conv.js';
import type { NDArray } from '../../src/reference/index.js';
import { TOL, expectMatches, freshSeed, pair } from '../helpers.js';
import { checkCase, checkEnsemble, checkReferenceBackward, describeCase, setup, type ConvCase as Case } from './conv2d-checks.js';
import { ACTIVATION_REF } from '../../src/reference/matmul.js';
import { relativeError } from '../../src/reference/relative-error.js';
import { fromArray } from '../../src/ops/creation.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/** Awkward shapes: 1/3/17 channels, odd sizes, 1x1/3x3/5x5, stride 2, padding, dilation 2. */
const CASES: Case[] = [
  { x: [1, 1, 1, 1], k: [1, 1], co: 1, opts: {} },
  { x: [2, 5, 7, 3], k: [3, 3], co: 17, opts: { padding: 1 } },
  { x: [3, 9, 8, 17], k: [1, 1], co: 3, opts: {} },
  { x: [2, 11, 9, 3], k: [5, 5], co: 17, opts: { padding: 2, stride: 2 } },
  { x: [1, 13, 10, 17], k: [3, 3], co: 9, opts: { dilation: 2, padding: [1, 2] } },
  { x: [2, 7, 7, 1], k: [3, 5], co: 1, opts: { stride: [2, 1], padding: [0, 2] } },
  { x: [1, 6, 6, 3], k: [5, 5], co: 3, opts: { stride: 3, dilation: [1, 2], padding: 3 } },
  { x: [2, 10, 10, 16], k: [3, 3], co: 32, opts: { padding: 1 } },
];

describe('conv2d (NHWC, HWIO) matches the f64 reference', () => {
  for (const impl of ['igemm', 'direct'] as const) {
    it(`forward, grad-input, grad-weight and bias grad (${impl})`, async () => {
      for (const c of CASES) await checkCase(c, impl, { ...c.opts, impl });
    });
  }

  it('the shuffle kernels (CPU adapters with subgroups) on channel counts that are multiples of 4', async () => {
    // Pixels not a multiple of the 32-pixel tile, one lane of channels (co 4), a partial channel
    // tile (co 36), padding, stride, dilation, 1x1 and 5x5 kernels.
    const shuffleCases: Case[] = [
      { x: [1, 3, 5, 4], k: [3, 3], co: 4, opts: { padding: 1 } },
      { x: [2, 9, 7, 8], k: [5, 5], co: 36, opts: { padding: 2, stride: 2 } },
      { x: [1, 13, 10, 12], k: [3, 3], co: 8, opts: { dilation: 2, padding: [1, 2], stride: [2, 1] } },
      { x: [3, 6, 6, 4], k: [1, 1], co: 68, opts: {} },
      // grad-input by stride phase: a 1x1 kernel at stride 2 leaves phases no tap reaches (zeros),
      // stride 3 with dilation 2 steps its taps by 3, an image smaller than the stride on one axis.
      { x: [2, 7, 8, 4], k: [1, 1], co: 8, opts: { stride: 2 } },
      { x: [1, 11, 9, 8], k: [5, 4], co: 4, opts: { stride: 3, dilation: 2, padding: [4, 3] } },
      { x: [2, 2, 9, 4], k: [2, 3], co: 4, opts: { stride: [3, 2], padding: [1, 1] } },
      // grad-weight lane groups (shuffleWgradLanes): 2 groups of 4 lanes at co 16 with 32 input
      // channels (two row tiles of 16), 12 (a partial row tile) and an odd pixel count that
      // leaves the last group of a chunk without a pixel; co 12 (4-lane groups, 3 live lanes).
      { x: [3, 13, 11, 32], k: [3, 3], co: 16, opts: { padding: 1 } },
      { x: [1, 7, 5, 12], k: [3, 3], co: 16, opts: { padding: 1, stride: 2 } },
      { x: [2, 9, 9, 16], k: [3, 3], co: 12, opts: { padding: 1 } },
    ];
    for (const c of shuffleCases) await checkCase(c, 'shuffle', { ...c.opts, impl: 'shuffle' });
    const c: Case = { x: [2, 5, 6, 4], k: [3, 3], co: 8, opts: { padding: 1 } };
    const seed = freshSeed();
    await ws.tidyAsync(async () => {
      const x = pair([3, ...c.x], seed);
      const w = pair([3, 3, 3, 4, 8], seed + 1);
      const b = pair([3, 8], seed + 2);
      const asRef = async (t: ws.Tensor): Promise<NDArray> => ({ shape: [...t.shape], data: Float64Array.from(await t.toArray()) });
      const direct: Conv2dOptions = { ...c.opts, impl: 'direct' };
      const shuffle: Conv2dOptions = { ...c.opts, impl: 'shuffle' };
      const y = conv2d(x.t, w.t, b.t, direct);
      await expectMatches(conv2d(x.t, w.t, b.t, shuffle), await asRef(y), TOL.matmul, `shuffle ensemble forward seed ${seed}`);
      const dy = pair([...y.shape], seed + 3);
      await expectMatches(conv2dGradInput(dy.t, w.t, [3, ...c.x], shuffle), await asRef(conv2dGradInput(dy.t, w.t, [3, ...c.x], direct)), TOL.matmul, `shuffle ensemble grad-input seed ${seed}`);
      await expectMatches(conv2dGradWeight(x.t, dy.t, [3, 3, 3, 4, 8], shuffle), await asRef(conv2dGradWeight(x.t, dy.t, [3, 3, 3, 4, 8], direct)), TOL.matmul, `shuffle ensemble grad-weight seed ${seed}`);
    });
    expect(() => conv2d(ws.zeros([1, 4, 4, 3]), ws.zeros([3, 3, 3, 8]), null, { impl: 'shuffle' })).toThrow(
      /conv2d: impl 'shuffle' needs input and output channels that are multiples of 4 \(got 3 and 8\)/,
    );
  });

  it('the forward epilogue: act(conv + bias) in every forward kernel, NaN kept where the input has one', async () => {
    // igemm and direct on 3 -> 17 channels; shuffle on 8 -> 36 (a partial channel tile, stride
    // 2) and 12 -> 16 (lane groups); grouped (conv2d_grouped.wgsl) 6 -> 9 in 3 groups; x[0] is NaN, which every output that reads it carries
    // through the activation (relu_nan), the others not.
    const cases: [Case, Conv2dOptions['impl']][] = [
      [{ x: [2, 5, 7, 3], k: [3, 3], co: 17, opts: { padding: 1 } }, 'igemm'],
      [{ x: [2, 5, 7, 3], k: [3, 3], co: 17, opts: { padding: 1 } }, 'direct'],
      [{ x: [2, 9, 7, 8], k: [5, 5], co: 36, opts: { padding: 2, stride: 2 } }, 'shuffle'],
      [{ x: [1, 7, 5, 12], k: [3, 3], co: 16, opts: { padding: 1, stride: 2 } }, 'shuffle'],
      [{ x: [2, 5, 7, 6], k: [3, 3], co: 9, opts: { padding: 1, groups: 3 } }, 'auto'],
    ];
    for (const [c, impl] of cases) {
      for (const activation of ['relu', 'gelu', 'tanh'] as const) {
        const seed = freshSeed();
        const at = `${impl} ${activation} ${describeCase(c)} seed ${seed}`;
        await ws.tidyAsync(async () => {
          const { x, w, b } = setup(c, seed);
          x.r.data[0] = NaN;
          const xt = fromArray(Float32Array.from(x.r.data), x.r.shape);
          const z = conv2dRef(x.r, w.r, b.r, c.opts);
          const ref = Float64Array.from(z.data, ACTIVATION_REF[activation]);
          const out = await conv2d(xt, w.t, b.t, { ...c.opts, impl, activation }).data();
          const nan = (v: number) => Number.isNaN(v);
          expect(Array.from(out, nan), `NaN positions ${at}`).toEqual(Array.from(ref, nan));
          expect(ref.some(nan) && !ref.every(nan), `the case has NaN and finite outputs ${at}`).toBe(true);
          const finite = (a: ArrayLike<number>) => Float64Array.from(a, (v) => (nan(v) ? 0 : v));
          expect(relativeError(finite(out), finite(ref)), at).toBeLessThan(TOL.matmul);
        });
      }
    }
    expect(() => conv2d(ws.zeros([1, 4, 4, 4]), ws.zeros([3, 3, 4, 4]), null, { activation: 'sigmoid' as 'relu' })).toThrow(
      /conv2d: activation "sigmoid" is not one of 'none', 'relu', 'gelu', 'tanh'/,
    );
  });

  it('a padded tap adds nothing: an infinite value that only padded taps would read leaves those outputs finite', async () => {
    // Each kernel reads an in-range stand-in where a tap is padding (the first pixel, the
    // first output pixel); an infinite value there (or in the weight of a tap that is padding
    // for the border outputs) must reach exactly the outputs the reference reaches, and as the
    // same +Inf, -Inf or NaN: 0 * Inf, or a stand-in read not dropped, would put NaN or Inf at
    // the others. Shuffle cases: 32 channels (one lane group) and 16 and 12 (two groups).
    const cases: [Case, Conv2dOptions['impl']][] = [
      [{ x: [2, 5, 7, 3], k: [3, 3], co: 17, opts: { padding: 1 } }, 'igemm'],
      [{ x: [2, 5, 7, 3], k: [3, 3], co: 17, opts: { padding: 1 } }, 'direct'],
      [{ x: [2, 5, 7, 32], k: [3, 3], co: 32, opts: { padding: 1 } }, 'shuffle'],
      [{ x: [2, 9, 9, 16], k: [3, 3], co: 16, opts: { padding: 1 } }, 'shuffle'],
      [{ x: [1, 7, 5, 12], k: [3, 3], co: 16, opts: { padding: 1, stride: 2 } }, 'shuffle'],
    ];
    const kind = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite');
    for (const [c, impl] of cases) {
      const seed = freshSeed();
      await ws.tidyAsync(async () => {
        const { x, w, dy } = setup(c, seed);
        const opts = { ...c.opts, impl };
        const poisoned = (a: NDArray, count: number) => {
          const data = Float64Array.from(a.data);
          data.fill(Infinity, 0, count);
          return { r: { shape: a.shape, data }, t: fromArray(Float32Array.from(data), a.shape) };
        };
        // x's first pixel, the weight's tap (0, 0) and dy's first output pixel, all channels
        const xi = poisoned(x.r, c.x[3]);
        const wi = poisoned(w.r, c.x[3] * c.co);
        const dyi = poisoned(dy.r, c.co);
        const checks: [string, () => Tensor, () => NDArray][] = [
          ['forward, infinite x', () => conv2d(xi.t, w.t, null, opts), () => conv2dRef(xi.r, w.r, null, c.opts)],
          ['forward, infinite weight', () => conv2d(x.t, wi.t, null, opts), () => conv2dRef(x.r, wi.r, null, c.opts)],
          ['grad-input, infinite dy', () => conv2dGradInput(dyi.t, w.t, c.x, opts), () => conv2dGradInputRef(dyi.r, w.r, c.x, c.opts)],
          ['grad-input, infinite weight', () => conv2dGradInput(dy.t, wi.t, c.x, opts), () => conv2dGradInputRef(dy.r, wi.r, c.x, c.opts)],
          ['grad-weight, infinite x', () => conv2dGradWeight(xi.t, dy.t, w.r.shape, opts), () => conv2dGradWeightRef(xi.r, dy.r, w.r.shape, c.opts)],
          ['grad-weight, infinite dy', () => conv2dGradWeight(x.t, dyi.t, w.r.shape, opts), () => conv2dGradWeightRef(x.r, dyi.r, w.r.shape, c.opts)],
        ];
        for (const [what, run, reference] of checks) {
          const at = `${what} ${impl} ${describeCase(c)} seed ${seed}`;
          const out = await run().data();
          const ref = reference().data;
          expect(Array.from(out, kind), at).toEqual(Array.from(ref, kind));
          expect(ref.some((v) => !Number.isFinite(v)) && ref.some(Number.isFinite), `the case has infinite and finite outputs: ${at}`).toBe(true);
          const finite = (a: ArrayLike<number>) => Float64Array.from(a, (v) => (Number.isFinite(v) ? v : 0));
          expect(relativeError(finite(out), finite(ref)), at).toBeLessThan(TOL.matmul);
        }
      });
    }
  });

  it('every tile configuration gives the same answer (autotuner candidates)', async () => {
    const c: Case = { x: [2, 9, 7, 5], k: [3, 3], co: 11, opts: { padding: 1, stride: 2 } };
    for (const tile of CONV2D_TILES) {
      const seed = freshSeed();
      await ws.tidyAsync(async () => {
        const { x, w, ref, dy } = setup(c, seed);
        const what = `tile ${tile.tm}x${tile.tn} seed ${seed}`;
        await expectMatches(conv2d(x.t, w.t, null, { ...c.opts, tile }), conv2dRef(x.r, w.r, null, c.opts), TOL.matmul, `forward ${what}`);
        expect(ref.shape).toEqual([2, 5, 4, 11]);
        await expectMatches(conv2dGradInput(dy.t, w.t, c.x, { ...c.opts, tile }), conv2dGradInputRef(dy.r, w.r, c.x, c.opts), TOL.matmul, `grad-input ${what}`);
        await expectMatches(conv2dGradWeight(x.t, dy.t, w.r.shape, { ...c.opts, tile }), conv2dGradWeightRef(x.r, dy.r, w.r.shape, c.opts), TOL.matmul, `grad-weight ${what}`);
      });
    }
  });

  it('grad-weight splits a long K axis into chunks and sums them', async () => {
    // N*OH*OW = 4*24*24 = 2304 output pixels: several chunks of >= 256.
    const c: Case = { x: [4, 24, 24, 3], k: [3, 3], co: 5, opts: { padding: 1 } };
    const seed = freshSeed();
    await ws.tidyAsync(async () => {
      const { x, w, dy } = setup(c, seed);
      await expectMatches(conv2dGradWeight(x.t, dy.t, w.r.shape, c.opts), conv2dGradWeightRef(x.r, dy.r, w.r.shape, c.opts), TOL.matmul, `seed ${seed}`);
    });
  });

  it('an ensemble axis runs S independent convolutions in one dispatch', async () => {
    await checkEnsemble({ x: [2, 6, 5, 3], k: [3, 3], co: 4, opts: { padding: 1, stride: [1, 2] } }, 3);
  });

  it('the reference backward agrees with central finite differences of the reference forward', () => {
    checkReferenceBackward({ x: [1, 5, 4, 2], k: [3, 3], co: 2, opts: { padding: 1, stride: 2, dilation: [1, 2] } });
  });
});

describe('conv2d rejects bad inputs with clear errors', () => {
  it('channel mismatch', () => {
    const x = ws.zeros([2, 5, 5, 3]);
    const w = ws.zeros([3, 3, 4, 8]);
    expect(() => conv2d(x, w)).toThrow(/conv2d: channel mismatch: input \[2, 5, 5, 3\] has 3 channels .* weight \[3, 3, 4, 8\] expects 4/);
  });
  it('kernel larger than padded input', () => {
    const x = ws.zeros([1, 4, 4, 2]);
    expect(() => conv2d(x, ws.zeros([5, 5, 2, 1]))).toThrow(/conv2d: kernel larger than padded input: kernel 5x5 .* input 4x4 padded by 0,0 \(4x4\)/);
    expect(() => conv2d(x, ws.zeros([3, 3, 2, 1]), null, { dilation: 3 })).toThrow(/kernel 3x3 \(dilated 7x7\)/);
    expect(() => conv2d(x, ws.zeros([5, 5, 2, 1]), null, { padding: 1 })).not.toThrow();
  });
  it('bad rank, bias, stride and dy shapes', () => {
    const x = ws.zeros([1, 4, 4, 2]);
    const w = ws.zeros([3, 3, 2, 6]);
    expect(() => conv2d(ws.zeros([4, 4, 2]), w)).toThrow(/conv2d: input \[4, 4, 2\] must be \[N, H, W, Cin\]/);
    expect(() => conv2d(x, w, ws.zeros([5]))).toThrow(/conv2d: bias \[5\] must be \[6\]/);
    expect(() => conv2d(x, w, null, { stride: 0 })).toThrow(/conv2d: stride must be an integer >= 1/);
    expect(() => conv2dGradInput(ws.zeros([1, 3, 3, 6]), w, [1, 4, 4, 2])).toThrow(/conv2dGradInput: dy \[1, 3, 3, 6\] must have the conv2d output shape \[1, 2, 2, 6\]/);
  });
});
