/**
 * @file The fused primitives (embedding, crossEntropy, layerNorm, rmsNorm, attention): their
 * createGraph (composed) gradients equal their fused ones, HVPs through them match on the GPU and
 * in f64, larger shapes take the other kernel variants, and they free what they save.
 */
import { describe, expect, it } from 'vitest';
import { fromArray, getDevice, keep, memoryStats, tidy, tidyAsync, type Tensor } from '../../src/index.js';
import { freshSeed, randomArray, recordDispatches } from '../helpers.js';
import * as o from '../../src/autograd/ops.js';
import { F64Tensor, backward, grad, gradients, hvp, hvpFiniteDiff, noGrad } from '../../src/autograd/index.js';
import {
  FUSED_PRIMITIVES, PRIMITIVE_CASES, transformerLoss,
  type Case,
} from '../../src/autograd/suite.js';
import type { GradTensor } from '../../src/autograd/primitive.js';
import { relativeError as rel } from '../../src/reference/relative-error.js';
import { GPU_VS_REF_TOL, backwardMismatch, caseData, f64Inputs, gpuInputs } from '../../src/cli/gradcheck.js';

function cotangent(n: number, seed = 3): Float32Array {
  let a = seed;
  return Float32Array.from({ length: n }, () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return (a / 2 ** 31) * 2 - 1;
  });
}

/** Gradients of <r, fn(xs)> without and with createGraph (fused rule vs composed rule). */
function bothGradients<A extends GradTensor>(c: Case, xs: A[], seed: (y: A, r: Float32Array) => A): [A[], A[]] {
  for (const x of xs) x.requiresGrad = true;
  const y = c.fn(...xs) as A;
  const g = seed(y, cotangent(y.size));
  const fusedGrads = gradients(y, xs, { grad: g, retainGraph: true });
  const composedGrads = gradients(y, xs, { grad: g, createGraph: true });
  return [fusedGrads, composedGrads];
}

describe('fused primitives: the createGraph gradient (composed) equals the fused gradient', () => {
  for (const p of FUSED_PRIMITIVES) {
    it(p, async () => {
      for (const c of PRIMITIVE_CASES[p]) {
        const data = caseData(c);
        const [fr, cr] = bothGradients(c, f64Inputs(c, data), (y, r) => F64Tensor.from(r, y.shape));
        fr.forEach((g, i) => expect(rel(cr[i].data, g.data), `${c.name} f64 input ${i}`).toBeLessThan(1e-12));
        const gpu = await tidyAsync(async () => {
          const [fg, cg] = bothGradients(c, gpuInputs(c, data), (y, r) => fromArray(r, y.shape));
          return Promise.all([...fg, ...cg].map((t) => t.data()));
        });
        fr.forEach((g, i) => {
          expect(rel(gpu[i], g.data), `${c.name} GPU fused input ${i}`).toBeLessThan(GPU_VS_REF_TOL);
          expect(rel(gpu[fr.length + i], g.data), `${c.name} GPU composed input ${i}`).toBeLessThan(GPU_VS_REF_TOL);
        });
      }
    });
  }
});

const BLOCK: Case = {
  name: 'transformer block',
  inputs: [
    { shape: [5, 4] }, { shape: [4, 4], lo: -1, hi: 1 }, { shape: [4, 4], lo: -1, hi: 1 }, { shape: [4, 4], lo: -1, hi: 1 },
    { shape: [4], lo: 0.5, hi: 1.5 }, { shape: [4] }, { shape: [4, 5], lo: -1, hi: 1 },
  ],
  fn: transformerLoss as Case['fn'],
};

describe('double backward through the fused ops', () => {
  it('HVP of a transformer block: f64 exact HVP matches finite differences, and the GPU HVP matches f64', async () => {
    const data = caseData(BLOCK);
    const dirs = caseData(BLOCK, 11).map((d) => d.map((v) => v / 2));
    const params = f64Inputs(BLOCK, data);
    for (const p of params) p.requiresGrad = true;
    const v = f64Inputs(BLOCK, dirs);
    const f = (...ps: F64Tensor[]) => transformerLoss(...(ps as [F64Tensor, F64Tensor, F64Tensor, F64Tensor, F64Tensor, F64Tensor, F64Tensor]));
    const exact = hvp(f, params, v);
    const fd = hvpFiniteDiff(f, params, v, 1e-5);
    exact.forEach((h, i) => expect(rel(h.data, fd[i].data), `f64 hvp vs finite differences, param ${i}`).toBeLessThan(1e-6));
    const gpu = await tidyAsync(async () => {
      const ps = gpuInputs(BLOCK, data);
      for (const p of ps) p.requiresGrad = true;
      const hs = hvp((...xs: Tensor[]) => (BLOCK.fn as (...a: Tensor[]) => Tensor)(...xs), ps, gpuInputs(BLOCK, dirs));
      return Promise.all(hs.map((h) => h.data()));
    });
    exact.forEach((h, i) => expect(rel(gpu[i], h.data), `GPU hvp param ${i}`).toBeLessThan(2e-4));
  });
});

describe('larger shapes take the other kernel variants and still match the reference backward', () => {
  const cases: Case[] = [
    {
      name: 'embedding, 200 indices (sorted backward)',
      inputs: [{ shape: [50, 8] }],
      fn: (t) => o.embedding(t, o.indicesLike(t, [200], Array.from({ length: 200 }, (_, i) => (i * 37) % 50))),
    },
    {
      name: 'attention causal [1, 2, 70, 8] (more rows than a workgroup)',
      inputs: [{ shape: [1, 2, 70, 8] }, { shape: [1, 2, 70, 8] }, { shape: [1, 2, 70, 8] }],
      fn: (q, k, v) => o.scaledDotProductAttention(q, k, v, { causal: true }),
    },
    {
      name: 'attention head dim 3 (composed path on the GPU)',
      inputs: [{ shape: [2, 3, 3] }, { shape: [2, 4, 3] }, { shape: [2, 4, 3] }],
      fn: (q, k, v) => o.scaledDotProductAttention(q, k, v),
    },
    { name: 'layerNorm [40, 96] weight bias', inputs: [{ shape: [40, 96] }, { shape: [96] }, { shape: [96] }], fn: (x, w, b) => o.layerNorm(x, 96, w, b) },
    { name: 'rmsNorm [3, 300] weight', inputs: [{ shape: [3, 300] }, { shape: [300] }], fn: (x, w) => o.rmsNorm(x, 300, w) },
    { name: 'crossEntropy mean [70, 33]', inputs: [{ shape: [70, 33] }], fn: (x) => o.crossEntropy(x, o.indicesLike(x, [70], Array.from({ length: 70 }, (_, i) => (i * 7) % 33))) },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      expect(await backwardMismatch(c, caseData(c))).toBeLessThan(GPU_VS_REF_TOL);
    });
  }
});

describe('fused ops keep the tape honest', () => {
  it('free their saved tensors: training steps and HVPs through them leak nothing', async () => {
    const params = gpuInputs(BLOCK, caseData(BLOCK)).map((p) => {
      p.requiresGrad = true;
      return keep(p);
    });
    const step = () => {
      tidy(() => backward((BLOCK.fn as (...a: Tensor[]) => Tensor)(...params)));
      for (const p of params) {
        p.grad!.dispose();
        p.grad = null;
      }
    };
    step();
    const before = memoryStats();
    for (let i = 0; i < 3; i++) step();
    const dirs = gpuInputs(BLOCK, caseData(BLOCK, 5)).map((d) => keep(d));
    await tidyAsync(async () => {
      const hs = hvp((...xs: Tensor[]) => (BLOCK.fn as (...a: Tensor[]) => Tensor)(...xs), params, dirs);
      await hs[0].data();
    });
    for (const d of dirs) d.dispose();
    const after = memoryStats();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.liveBytes).toBe(before.liveBytes);
    for (const p of params) p.dispose();
  });

  it("a fused cross-entropy's backward writes no seed of ones (its rule never reads one); roots that read theirs still get it", async () => {
    const seed = freshSeed();
    const xv = randomArray(12, seed, -3, 3);
    const labelValues = Array.from(randomArray(4, seed + 1, 0, 3), (v) => Math.min(2, Math.floor(v)));
    // fills other than the test run's NaN poisoning of new tensors (which the seed gets too, so a
    // rule that read an unwritten seed would give NaN gradients below)
    const fills = (r: ReturnType<typeof recordDispatches>) =>
      r.specs.filter((d) => d.kernel === 'fill' && d.entry === 'fill' && !d.label.startsWith('poison')).length;
    const x = keep(fromArray(xv, [4, 3]));
    const y = keep(fromArray(xv, [4, 3]));
    x.requiresGrad = true;
    y.requiresGrad = true;
    const [gx, gy, gLoss, gLossInputs] = await tidyAsync(async () => {
      const labels = o.indicesLike(x, [4], labelValues);
      const r = recordDispatches(getDevice());
      backward(o.crossEntropy(x, labels));
      r.stop();
      expect(fills(r)).toBe(0);
      // a sum's rule reads its seed: one fill, and d sum / dy = 1
      const rs = recordDispatches(getDevice());
      backward(o.sum(y));
      rs.stop();
      expect(fills(rs)).toBe(1);
      // gradients() asked for the loss itself hands the seed out: it is written (d loss / d loss = 1)
      const loss = o.crossEntropy(x, labels);
      const rg = recordDispatches(getDevice());
      const [dl, dx] = gradients(loss, [loss, x]);
      rg.stop();
      expect(fills(rg)).toBe(1);
      return [await x.grad!.data(), await y.grad!.data(), await dl.data(), await dx.data()];
    });
    const [want] = grad((w: F64Tensor) => o.crossEntropy(w, o.indicesLike(w, [4], labelValues)))(F64Tensor.from(xv, [4, 3]));
    expect(rel(gx, want.data)).toBeLessThan(1e-5);
    expect(rel(gLossInputs, want.data)).toBeLessThan(1e-5);
    expect([...gy]).toEqual(new Array(12).fill(1));
    expect([...gLoss]).toEqual([1]);
    x.dispose();
    y.dispose();
  });

  it('integer inputs cannot require grad, and bad shapes are refused before any kernel', () => {
    const t = keep(fromArray([1, 2, 3, 4, 5, 6], [3, 2]));
    t.requiresGrad = true;
    const idx = F64Tensor.from([0, 2]);
    idx.requiresGrad = true;
    expect(() => o.embedding(F64Tensor.from([1, 2, 3, 4, 5, 6], [3, 2]), idx)).toThrow(/embedding: indices \[2\] are integers and cannot require grad/);
    expect(() => tidy(() => o.crossEntropy(t, o.indicesLike(t, [2], [0, 1])))).toThrow(/crossEntropy: logits \[3, 2\] and labels \[2\] disagree/);
    expect(() => tidy(() => o.layerNorm(t, 3))).toThrow(/layerNorm: normalized shape \[3\] does not match the last 1 axes of input \[3, 2\]/);
    expect(() => tidy(() => o.scaledDotProductAttention(t, t, o.reshape(t, [2, 3])))).toThrow(/attention: q \[3, 2\]/);
    t.dispose();
  });

  it('matmul uses the fused bias/activation epilogue when nothing is recorded, with the same values', async () => {
    const av = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const bv = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i));
    const a = keep(fromArray(av, [3, 4]));
    const b = keep(fromArray(bv, [4, 2]));
    const bias = keep(fromArray([0.5, -0.25], [2]));
    const [fused, composed, grad_] = await tidyAsync(async () => {
      const rf = recordDispatches(getDevice());
      const f = noGrad(() => o.matmul(a, b, { bias, activation: 'gelu' }));
      rf.stop();
      expect(f.node).toBeNull();
      b.requiresGrad = true;
      const rc = recordDispatches(getDevice());
      const c = o.matmul(a, b, { bias, activation: 'gelu' });
      rc.stop();
      expect(c.node).not.toBeNull();
      // fused: one matmul dispatch that adds the bias and applies the activation; recorded: the
      // matmul (bias fused, differentiable) and the activation as its own dispatch
      const kernels = (r: typeof rf) => r.specs.filter((d) => d.kernel !== 'fill');
      expect(kernels(rf).map((d) => d.kernel)).toEqual([expect.stringMatching(/^matmul/)]);
      expect(kernels(rf)[0].params).toMatchObject({ has_bias: 1, act: expect.any(Number) });
      expect((kernels(rf)[0].params as { act: number }).act).not.toBe(0);
      expect(kernels(rc).map((d) => d.kernel)).toEqual([expect.stringMatching(/^matmul/), 'unary']);
      expect((kernels(rc)[0].params as { act: number }).act).toBe(0);
      const [g] = gradients(o.sum(c), [b]);
      b.requiresGrad = false;
      return [await f.data(), await c.data(), await g.data()];
    });
    expect(rel(fused, composed)).toBeLessThan(1e-6);
    // d/db of the recorded path against the f64 reference path
    const [want] = grad((w: F64Tensor) => o.sum(o.matmul(F64Tensor.from(av, [3, 4]), w, { bias: F64Tensor.from([0.5, -0.25], [2]), activation: 'gelu' })))(F64Tensor.from(bv, [4, 2]));
    expect(rel(grad_, want.data)).toBeLessThan(1e-5);
    for (const t of [a, b, bias]) t.dispose();
  });
});
