/**
 * Zero-size operands: every op returns the right (possibly empty) result or a clear error, and no
 * WebGPU validation error is left to surface at a later sync (each case syncs a fresh readback).
 */
import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { NAIVE, PACKED_16, REG_4X4, TILED_64 } from '../../src/ops/matmul-select.js';
import { adamHyper, adamState } from '../../src/nn/optim.js';

const noIdx = () => ws.fromArray(new Int32Array(0), [0]);

/** The values of `t`, then a readback of a fresh tensor: a validation error left behind throws there. */
async function valuesThenSync(t: ws.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  expect(await ws.fromArray([7]).toArray()).toEqual([7]);
  return v;
}

describe('zero-size inner dimensions give the empty sum (0), then the epilogue', () => {
  it('matmul [2, 0] x [0, 4] is zeros [2, 4], on every kernel of the ladder', async () => {
    for (const config of [undefined, NAIVE, TILED_64, REG_4X4, PACKED_16]) {
      const y = ws.raw.matmul(ws.zeros([2, 0]), ws.zeros([0, 4]), { config });
      expect(y.shape).toEqual([2, 4]);
      expect(await valuesThenSync(y)).toEqual(new Array(8).fill(0));
    }
  });

  it('with a bias and each activation: act(bias) per row; batched and transposed', async () => {
    const bias = [1, -2, 0.5, -0.25];
    for (const activation of ['none', 'relu', 'gelu', 'tanh'] as const) {
      const y = ws.matmul(ws.zeros([3, 2, 0]), ws.zeros([4, 0]), { transB: true, bias: ws.fromArray(bias), activation, alpha: 3 });
      expect(y.shape).toEqual([3, 2, 4]);
      const want = activation === 'none' ? bias : await ws.raw.unary(activation, ws.fromArray(bias)).toArray();
      const got = await valuesThenSync(y);
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i % 4], 6);
    }
  });

  it('gradients through a K = 0 matmul are empty, and dB of an M = 0 matmul is zeros', async () => {
    const a = ws.zeros([2, 0]);
    a.requiresGrad = true;
    const b = ws.zeros([0, 4]);
    b.requiresGrad = true;
    ws.sum(ws.matmul(a, b)).backward();
    expect(a.grad!.shape).toEqual([2, 0]);
    expect(await valuesThenSync(b.grad!)).toEqual([]);
    const c = ws.zeros([0, 3]);
    const w = ws.ones([3, 4]);
    w.requiresGrad = true;
    ws.sum(ws.matmul(c, w)).backward();
    expect(await valuesThenSync(w.grad!)).toEqual(new Array(12).fill(0));
  });

  it('conv2d with no input channels writes the bias (zeros without one), groups or not', async () => {
    const y = ws.conv2d(ws.zeros([1, 5, 5, 0]), ws.zeros([3, 3, 0, 4]), ws.fromArray([1, 2, 3, 4]));
    expect(y.shape).toEqual([1, 3, 3, 4]);
    expect(await valuesThenSync(y)).toEqual(new Array(9).fill([1, 2, 3, 4]).flat());
    expect(await valuesThenSync(ws.conv2d(ws.zeros([1, 5, 5, 0]), ws.zeros([3, 3, 0, 4]), null, { groups: 2 }))).toEqual(new Array(36).fill(0));
  });

  it('conv2d weight gradient of an empty batch is zeros', async () => {
    expect(await valuesThenSync(ws.raw.conv2dGradWeight(ws.zeros([0, 5, 5, 3]), ws.zeros([0, 3, 3, 4]), [3, 3, 3, 4]))).toEqual(new Array(108).fill(0));
    const x = ws.zeros([0, 5, 5, 2]);
    const w = ws.ones([3, 3, 2, 4]);
    w.requiresGrad = true;
    ws.sum(ws.conv2d(x, w)).backward();
    expect(await valuesThenSync(w.grad!)).toEqual(new Array(72).fill(0));
  });

  it('attention with no queries: empty output, zero dK and dV', async () => {
    const q = ws.zeros([1, 0, 4]);
    q.requiresGrad = true;
    const k = ws.ones([1, 2, 4]);
    k.requiresGrad = true;
    const y = ws.scaledDotProductAttention(q, k, k);
    expect(y.shape).toEqual([1, 0, 4]);
    ws.sum(y).backward();
    expect(await valuesThenSync(k.grad!)).toEqual(new Array(8).fill(0));
  });
});

describe('reductions over empty axes follow NumPy', () => {
  it('sum is 0, mean is NaN, logsumexp is -Inf; max and min have no identity', async () => {
    expect(await valuesThenSync(ws.sum(ws.zeros([3, 0]), 1))).toEqual([0, 0, 0]);
    expect(await valuesThenSync(ws.sum(ws.zeros([0])))).toEqual([0]);
    expect(await valuesThenSync(ws.mean(ws.zeros([3, 0]), 1))).toEqual([NaN, NaN, NaN]);
    expect(await valuesThenSync(ws.mean(ws.zeros([0])))).toEqual([NaN]);
    expect(await valuesThenSync(ws.logsumexp(ws.zeros([2, 0]), 1))).toEqual([-Infinity, -Infinity]);
    expect(await valuesThenSync(ws.raw.logsumexp(ws.zeros([2, 0]), 1))).toEqual([-Infinity, -Infinity]);
    expect(() => ws.max(ws.zeros([3, 0]), 1)).toThrow(/max: cannot reduce \[3, 0\] over empty axes \[1\] \(no identity; expected axes of size >= 1\)/);
    expect(() => ws.argmax(ws.zeros([3, 0]), 1)).toThrow(/argmax: axis 1 of \[3, 0\] is empty/);
  });

  it('softmax and logSoftmax of an empty tensor are empty; the mean losses of an empty batch are NaN', async () => {
    for (const f of [ws.softmax, ws.logSoftmax, ws.raw.softmax, ws.raw.logSoftmax]) {
      expect(f(ws.zeros([3, 0])).shape).toEqual([3, 0]);
      expect(await valuesThenSync(f(ws.zeros([0, 3])))).toEqual([]);
    }
    expect(await valuesThenSync(ws.crossEntropy(ws.zeros([0, 5]), noIdx()))).toEqual([NaN]);
    expect(await valuesThenSync(ws.mseLoss(ws.zeros([0]), ws.zeros([0])))).toEqual([NaN]);
  });
});

describe('zero-size outputs', () => {
  it('elementwise, layout, norms, conv, embedding, optimizers and creation return empty results', async () => {
    const empties: ws.Tensor[] = [
      ws.add(ws.zeros([0, 3]), ws.zeros([3])), ws.exp(ws.zeros([0])), ws.where(ws.zeros([0]), ws.zeros([0]), 1),
      ws.layerNorm(ws.zeros([0, 5]), 5), ws.rmsNorm(ws.zeros([0, 5]), 5),
      ws.conv2d(ws.zeros([0, 5, 5, 3]), ws.zeros([3, 3, 3, 4])), ws.conv2d(ws.zeros([1, 5, 5, 3]), ws.zeros([3, 3, 3, 0])),
      ws.embedding(ws.zeros([5, 3]), noIdx()), ws.slice(ws.zeros([5, 3]), 0, 2, 2), ws.permute(ws.zeros([0, 3, 2]), [2, 0, 1]),
      ws.expand(ws.zeros([0, 1]), [0, 4]), ws.matmul(ws.zeros([0, 4]), ws.zeros([4, 2])), ws.cast(ws.zeros([0]), 'i32'),
      ws.rand([0, 3]), ws.arange(0), ws.max(ws.zeros([0, 3]), 1),
    ];
    for (const t of empties) {
      expect(t.size).toBe(0);
      expect(await valuesThenSync(t)).toEqual([]);
    }
    const p = [ws.zeros([0]), ws.zeros([4])];
    const state = adamState(p);
    ws.raw.adamUpdate(p, [ws.zeros([0]), ws.ones([4])], state, adamHyper({ lr: 0.1 }));
    expect((await valuesThenSync(p[1])).map((v) => v.toFixed(4))).toEqual(new Array(4).fill('-0.1000'));
  });

  it('degenerate shapes with no result to give get a clear error', () => {
    expect(() => ws.scaledDotProductAttention(ws.zeros([1, 3, 0]), ws.zeros([1, 3, 0]), ws.zeros([1, 3, 0]))).toThrow(/attention: q \[1, 3, 0\] has head dim D = 0; expected D >= 1/);
    expect(() => ws.scaledDotProductAttention(ws.zeros([1, 3, 4]), ws.zeros([1, 0, 4]), ws.zeros([1, 0, 4]))).toThrow(/attention: k \[1, 0, 4\] has no keys/);
    expect(() => ws.layerNorm(ws.zeros([3, 0]), 0)).toThrow(/layerNorm: normalized shape \[0\] is empty/);
    expect(() => ws.crossEntropy(ws.zeros([2, 0]), ws.fromArray(Int32Array.of(0, 0)))).toThrow(/crossEntropy: logits \[2, 0\] have no classes/);
  });
});
