import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { conv2d, conv2dGradInput, conv2dGradWeight } from '../../src/ops/conv2d.js';
import { conv2dRef } from '../../src/reference/conv.js';
import type { NDArray } from '../../src/reference/index.js';
import { Conv2d } from '../../src/nn/layers.js';
import { TOL, expectMatches, freshSeed, pair, recordDispatches } from '../helpers.js';
import { checkCase, checkEnsemble, checkReferenceBackward, type ConvCase } from './conv2d-checks.js';

/** A grouped case: groups always given. */
type Case = ConvCase & { opts: { groups: number } };

/**
 * Awkward grouped shapes: odd channel counts (C 9 -> 6 in 3 groups), depthwise C = 5 (with a
 * channel multiplier of 2 once), sizes 1/3/17, widths below and across the 4-column tile,
 * 1x1/3x3/5x5 and a 9-tap row (two wgrad tap tiles), stride 2, padding, dilation 2, and the
 * sliding window's cases (stride 1 and dilation 1 along W) next to those that load every tap.
 */
const CASES: Case[] = [
  { x: [2, 5, 7, 9], k: [3, 3], co: 6, opts: { groups: 3, padding: 1 } },
  { x: [1, 17, 17, 5], k: [3, 3], co: 5, opts: { groups: 5, padding: 1 } },
  { x: [2, 9, 8, 5], k: [3, 3], co: 5, opts: { groups: 5, stride: 2, padding: 1 } },
  { x: [1, 11, 13, 5], k: [3, 3], co: 10, opts: { groups: 5, dilation: 2, padding: 2 } },
  { x: [3, 3, 17, 9], k: [1, 1], co: 6, opts: { groups: 3 } },
  { x: [1, 1, 1, 3], k: [1, 1], co: 3, opts: { groups: 3 } },
  { x: [2, 6, 3, 4], k: [3, 3], co: 8, opts: { groups: 4, padding: 1 } },
  { x: [2, 7, 17, 3], k: [5, 5], co: 3, opts: { groups: 3, padding: [2, 1], stride: [2, 1] } },
  { x: [1, 9, 10, 6], k: [3, 3], co: 4, opts: { groups: 2, stride: [1, 2], dilation: [2, 1], padding: [2, 0] } },
  { x: [1, 5, 19, 4], k: [3, 9], co: 4, opts: { groups: 2, padding: [1, 4] } },
];

describe('grouped conv2d (groups > 1, depthwise) matches the f64 reference', () => {
  it('forward, grad-input, grad-weight and bias grad on awkward shapes', async () => {
    for (const c of CASES) await checkCase(c, 'grouped');
  });

  it("impl 'direct' takes the same grouped kernel", async () => {
    await checkCase(CASES[0], 'direct', { ...CASES[0].opts, impl: 'direct' });
  });

  it('grad-weight splits a long pixel walk into chunks (starting mid-row) and sums them', async () => {
    // N*OH*OW = 4*24*24 = 2304 pixels: several chunks of >= 256 that do not start at ow = 0 (the
    // sliding window must reload there).
    const rec = recordDispatches(ws.getDevice());
    try {
      await checkCase({ x: [4, 24, 24, 5], k: [3, 3], co: 5, opts: { groups: 5, padding: 1 } }, 'chunked');
    } finally {
      rec.stop();
    }
    const wgrad = rec.specs.find((s) => s.entry === 'wgrad' && s.kernel.startsWith('conv2d_grouped'));
    const p = wgrad?.params as { chunks: number; kchunk: number; ow: number };
    expect(p.chunks).toBeGreaterThan(1);
    expect(p.kchunk % p.ow).not.toBe(0);
  });

  it('an ensemble axis runs S independent grouped convolutions in one dispatch', async () => {
    await checkEnsemble({ x: [2, 6, 7, 6], k: [3, 3], co: 4, opts: { groups: 2, padding: 1, stride: [1, 2] } }, 3);
  });

  it('groups = 1 keeps the dense kernels; groups > 1 dispatches conv2d_grouped', () => {
    const device = ws.getDevice();
    const rec = recordDispatches(device);
    try {
      ws.tidy(() => {
        conv2d(ws.zeros([1, 5, 5, 4]), ws.zeros([3, 3, 4, 8]), null, { groups: 1, padding: 1 });
        conv2d(ws.zeros([1, 5, 5, 4]), ws.zeros([3, 3, 1, 8]), null, { groups: 4, padding: 1 });
      });
    } finally {
      rec.stop();
    }
    const kernels = rec.specs.map((s) => `${s.kernel}:${s.entry}`);
    expect(kernels.filter((k) => k.startsWith('conv2d'))).toEqual([
      expect.stringMatching(/^conv2d(_shuffle)?(@TM\d+_TN\d+)?:fwd$/),
      'conv2d_grouped@TW4:fwd',
    ]);
  });

  it('the reference backward agrees with central finite differences of the reference forward', () => {
    checkReferenceBackward({ x: [1, 5, 6, 4], k: [3, 2], co: 6, opts: { groups: 2, padding: 1, stride: 2, dilation: [1, 2] } });
  });
});

describe('the Conv2d layer takes groups', () => {
  const ctx = () => ({ device: ws.getDevice(), param: { parameterization: 'mup', optimizer: 'adam' }, seed: 3 }) as const;

  it('depthwise: weight [k, k, 1, C], fan-in k^2 at every width; its forward is the grouped conv', async () => {
    const layer = new Conv2d(ctx(), 'dw', { inChannels: 6, outChannels: 6, baseIn: 2, baseOut: 2, kernel: 3, padding: 1, groups: 6 });
    expect(layer.weight.info).toMatchObject({ shape: [3, 3, 1, 6], fanIn: 9, baseFanIn: 9, fanOut: 6, baseFanOut: 2 });
    const fixed = new Conv2d(ctx(), 'g2', { inChannels: 8, outChannels: 4, baseIn: 4, baseOut: 2, kernel: 3, groups: 2 });
    expect(fixed.weight.info).toMatchObject({ shape: [3, 3, 4, 4], fanIn: 36, baseFanIn: 18 });
    const seed = freshSeed();
    await ws.tidyAsync(async () => {
      const x = pair([2, 5, 4, 6], seed);
      const w: NDArray = { shape: [3, 3, 1, 6], data: Float64Array.from(await layer.weight.value.data()) };
      const b: NDArray = { shape: [6], data: Float64Array.from(await layer.bias!.value.data()) };
      const ref = conv2dRef(x.r, w, null, { groups: 6, padding: 1 });
      const m = layer.weight.rule.multiplier;
      ref.data.forEach((v, i) => (ref.data[i] = v * m + b.data[i % 6]));
      await expectMatches(layer.forward(x.t), ref, TOL.matmul, `layer forward seed ${seed}`);
    });
    layer.dispose();
    fixed.dispose();
  });

  it('refuses groups that do not divide the channels', () => {
    expect(() => new Conv2d(ctx(), 'bad', { inChannels: 6, outChannels: 4, kernel: 3, groups: 4 })).toThrow(
      /Conv2d 'bad': groups 4 must be an integer >= 1 dividing inChannels 6, outChannels 4 and baseIn 6/,
    );
  });
});

describe('grouped conv2d rejects bad inputs with clear errors', () => {
  it('groups that do not divide the channels, and a weight of the wrong per-group size', () => {
    expect(() => conv2d(ws.zeros([1, 4, 4, 9]), ws.zeros([3, 3, 4, 6]), null, { groups: 2 })).toThrow(
      /conv2d: groups 2 must divide the input channels: input \[1, 4, 4, 9\] has 9 \(last axis, NHWC\)/,
    );
    expect(() => conv2d(ws.zeros([1, 4, 4, 6]), ws.zeros([3, 3, 3, 5]), null, { groups: 2 })).toThrow(
      /conv2d: groups 2 must divide the output channels: weight \[3, 3, 3, 5\] has 5 \(last axis, HWIO\)/,
    );
    expect(() => conv2d(ws.zeros([1, 4, 4, 6]), ws.zeros([3, 3, 6, 6]), null, { groups: 3 })).toThrow(
      /conv2d: channel mismatch: input \[1, 4, 4, 6\] has 6 channels in 3 groups, so weight \[3, 3, 6, 6\] must have 2 input channels per group \(axis -2, \[KH, KW, Cin \/ groups, Cout\]\), got 6/,
    );
    expect(() => conv2dGradWeight(ws.zeros([1, 4, 4, 6]), ws.zeros([1, 2, 2, 6]), [3, 3, 1, 6], { groups: 3 })).toThrow(
      /conv2dGradWeight: channel mismatch: .* must have 2 input channels per group/,
    );
  });
  it('groups that are not a positive integer', () => {
    const x = ws.zeros([1, 4, 4, 2]);
    const w = ws.zeros([3, 3, 1, 2]);
    expect(() => conv2d(x, w, null, { groups: 0 })).toThrow(/conv2d: groups must be an integer >= 1, got 0/);
    expect(() => conv2d(x, w, null, { groups: 1.5 })).toThrow(/conv2d: groups must be an integer >= 1, got 1.5/);
  });
  it('a groups = 1 implementation or tile forced with groups > 1', () => {
    const x = ws.zeros([1, 4, 4, 4]);
    const w = ws.zeros([3, 3, 2, 4]);
    expect(() => conv2d(x, w, null, { groups: 2, impl: 'igemm' })).toThrow(
      /conv2d: impl 'igemm' is for groups = 1 only; groups 2 takes the grouped kernel \(impl 'auto' or 'direct', no tile\)/,
    );
    expect(() => conv2dGradInput(ws.zeros([1, 2, 2, 4]), w, [1, 4, 4, 4], { groups: 2, tile: { tm: 4, tn: 8 } })).toThrow(
      /conv2dGradInput: a tile is for groups = 1 only/,
    );
  });
  it('a dy of the wrong shape', () => {
    expect(() => conv2dGradInput(ws.zeros([1, 3, 3, 4]), ws.zeros([3, 3, 1, 4]), [1, 4, 4, 4], { groups: 4 })).toThrow(
      /conv2dGradInput: dy \[1, 3, 3, 4\] must have the conv2d output shape \[1, 2, 2, 4\]/,
    );
  });
});
