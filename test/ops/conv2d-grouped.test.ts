import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { conv2d, conv2dGradBias, conv2dGradInput, conv2dGradWeight, type Conv2dOptions } from '../../src/ops/conv2d.js';
import {
  conv2dGradBiasRef, conv2dGradInputRef, conv2dGradWeightRef, conv2dRef, type Conv2dRefOptions,
} from '../../src/reference/conv.js';
import type { NDArray } from '../../src/reference/index.js';
import { Conv2d } from '../../src/nn/layers.js';
import { TOL, expectMatches, freshSeed, pair, randomArray, recordDispatches } from '../helpers.js';

interface Case {
  x: number[]; // [N, H, W, C]
  k: [number, number];
  co: number;
  opts: Conv2dRefOptions & { groups: number };
}

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

function describeCase(c: Case): string {
  return `x ${JSON.stringify(c.x)} k ${c.k} co ${c.co} ${JSON.stringify(c.opts)}`;
}

function setup(c: Case, seed: number) {
  const x = pair(c.x, seed);
  const w = pair([...c.k, c.x[3] / c.opts.groups, c.co], seed + 1);
  const b = pair([c.co], seed + 2);
  const ref = conv2dRef(x.r, w.r, b.r, c.opts);
  const dy = pair(ref.shape, seed + 3);
  return { x, w, b, ref, dy };
}

/** Forward (with bias), grad-input, grad-weight and bias grad of `c` against the f64 reference. */
async function checkCase(c: Case, what: string, opts: Conv2dOptions = c.opts): Promise<void> {
  const seed = freshSeed();
  const at = `${what} ${describeCase(c)} seed ${seed}`;
  await ws.tidyAsync(async () => {
    const { x, w, b, ref, dy } = setup(c, seed);
    await expectMatches(conv2d(x.t, w.t, b.t, opts), ref, TOL.matmul, `forward ${at}`);
    await expectMatches(conv2dGradInput(dy.t, w.t, c.x, opts), conv2dGradInputRef(dy.r, w.r, c.x, c.opts), TOL.matmul, `grad-input ${at}`);
    await expectMatches(conv2dGradWeight(x.t, dy.t, w.r.shape, opts), conv2dGradWeightRef(x.r, dy.r, w.r.shape, c.opts), TOL.matmul, `grad-weight ${at}`);
    await expectMatches(conv2dGradBias(dy.t), conv2dGradBiasRef(dy.r), TOL.matmul, `grad-bias ${at}`);
  });
}

/** S members of `shape` drawn as one [S, ...shape] tensor, and each member's f64 array. */
function members(shape: number[], S: number, seed: number): { t: ws.Tensor; r: NDArray[] } {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = randomArray(n * S, seed);
  const r = Array.from({ length: S }, (_, s) => ({ shape: [...shape], data: Float64Array.from(data.subarray(s * n, (s + 1) * n)) }));
  return { t: ws.fromArray(data, [S, ...shape]), r };
}

/** The members' f64 arrays as one [S, ...] array. */
function stacked(parts: NDArray[]): NDArray {
  const data = new Float64Array(parts.length * parts[0].data.length);
  parts.forEach((p, s) => data.set(p.data, s * p.data.length));
  return { shape: [parts.length, ...parts[0].shape], data };
}

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
    const S = 3;
    const c: Case = { x: [2, 6, 7, 6], k: [3, 3], co: 4, opts: { groups: 2, padding: 1, stride: [1, 2] } };
    const seed = freshSeed();
    await ws.tidyAsync(async () => {
      const wShape = [...c.k, 3, c.co];
      const x = members(c.x, S, seed);
      const w = members(wShape, S, seed + 1);
      const b = members([c.co], S, seed + 2);
      const refs = x.r.map((xr, s) => conv2dRef(xr, w.r[s], b.r[s], c.opts));
      await expectMatches(conv2d(x.t, w.t, b.t, c.opts), stacked(refs), TOL.matmul, `forward seed ${seed}`);
      const dy = members(refs[0].shape, S, seed + 3);
      const dxs = dy.r.map((d, s) => conv2dGradInputRef(d, w.r[s], c.x, c.opts));
      await expectMatches(conv2dGradInput(dy.t, w.t, [S, ...c.x], c.opts), stacked(dxs), TOL.matmul, `grad-input seed ${seed}`);
      const dws = dy.r.map((d, s) => conv2dGradWeightRef(x.r[s], d, wShape, c.opts));
      await expectMatches(conv2dGradWeight(x.t, dy.t, [S, ...wShape], c.opts), stacked(dws), TOL.matmul, `grad-weight seed ${seed}`);
      await expectMatches(conv2dGradBias(dy.t), stacked(dy.r.map(conv2dGradBiasRef)), TOL.matmul, 'grad-bias');
    });
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
    const c: Case = { x: [1, 5, 6, 4], k: [3, 2], co: 6, opts: { groups: 2, padding: 1, stride: 2, dilation: [1, 2] } };
    const seed = freshSeed();
    const { x, w, dy } = setup(c, seed);
    const loss = (xr: NDArray, wr: NDArray) => conv2dRef(xr, wr, null, c.opts).data.reduce((s, v, i) => s + v * dy.r.data[i], 0);
    const grads: [NDArray, NDArray, (a: NDArray) => number][] = [
      [x.r, conv2dGradInputRef(dy.r, w.r, c.x, c.opts), (a) => loss(a, w.r)],
      [w.r, conv2dGradWeightRef(x.r, dy.r, w.r.shape, c.opts), (a) => loss(x.r, a)],
    ];
    const h = 1e-6;
    for (const [arr, grad, f] of grads) {
      for (let i = 0; i < arr.data.length; i++) {
        const keep = arr.data[i];
        arr.data[i] = keep + h;
        const up = f(arr);
        arr.data[i] = keep - h;
        const down = f(arr);
        arr.data[i] = keep;
        expect(Math.abs((up - down) / (2 * h) - grad.data[i]), `[${i}] seed ${seed}`).toBeLessThan(1e-7);
      }
    }
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
