/**
 * NaN, +Inf and -Inf planted at random positions reach every op's result exactly as in the f64
 * reference: NaN where the reference is NaN, the same infinity where it is infinite, finite
 * elements within the usual relative tolerance. The op tables drive it (UNARY_OPS, BINARY_OPS,
 * the gradcheck suite's PRIMITIVE_CASES and COMPOSITE_CASES, forward and backward), so a new op
 * cannot be left out; matmul (every kernel of the ladder, each activation, the transposes),
 * reductions and the optimizers get their own sweeps on awkward shapes.
 */
import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp } from '../../src/index.js';
import { binaryRef, unaryRef, reduceRef, argReduceRef, matmulRef, sgdStepRef, adamStepRef, adamRefState } from '../../src/reference/index.js';
import type { NDArray } from '../../src/reference/index.js';
import { matmul, type MatmulActivation } from '../../src/ops/matmul.js';
import { conv2d, conv2dGradInput, conv2dGradWeight, type Conv2dOptions } from '../../src/ops/conv2d.js';
import { conv2dGradInputRef, conv2dGradWeightRef, conv2dRef } from '../../src/reference/conv.js';
import { crossEntropyBackwardRef, crossEntropyRef } from '../../src/reference/loss.js';
import { crossEntropy, crossEntropyBackward } from '../../src/ops/loss.js';
import { NAIVE, PACKED_16, REG_4X4, TILED_64, type MatmulConfig } from '../../src/ops/matmul-select.js';
import { sgdUpdate, adamUpdate } from '../../src/ops/optim.js';
import { adamHyper, adamState, sgdHyper, sgdState } from '../../src/nn/optim.js';
import { COMPOSITE_CASES, PRIMITIVE_CASES, type Case } from '../../src/autograd/suite.js';
import { caseData, f64Inputs, gpuInputs } from '../../src/cli/gradcheck.js';
import { F64Tensor } from '../../src/autograd/f64.js';
import * as o from '../../src/autograd/ops.js';
import type { GradTensor } from '../../src/autograd/primitive.js';
import { isTracked } from '../../src/autograd/tape.js';
import { gradients } from '../../src/autograd/backward.js';
import { mulberry32 } from '../../src/data/prng.js';
import { freshSeed, randomArray } from '../helpers.js';

const SPECIALS = [NaN, Infinity, -Infinity];

/** A copy of `data` with about `frac` of its elements (at least one) replaced by NaN, +Inf or -Inf. */
function plant(data: Float32Array, seed: number, frac = 0.1): Float32Array {
  const out = Float32Array.from(data);
  if (out.length === 0) return out;
  const r = mulberry32(seed);
  const count = Math.max(1, Math.round(out.length * frac));
  for (let i = 0; i < count; i++) out[Math.floor(r() * out.length)] = SPECIALS[Math.floor(r() * 3)];
  return out;
}

/** An f32 tensor with planted non-finite values and the f64 array holding the same values. */
function plantedPair(shape: number[], seed: number, lo = -2, hi = 2, frac = 0.1): { t: ws.Tensor; r: NDArray } {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = plant(randomArray(n, seed, lo, hi), seed + 7919, frac);
  return { t: ws.fromArray(data, shape), r: { shape: [...shape], data: Float64Array.from(data) } };
}

/**
 * NaN where ref is NaN, the same infinity where ref is infinite, and over the finite elements
 * ||out - ref|| / ||ref|| < tol (|ref| floored at 1 per element, so tiny results near
 * cancellation do not dominate).
 */
function expectSameNonfinite(out: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string): void {
  expect(out.length, `${what}: length`).toBe(ref.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const o = out[i];
    const r = ref[i];
    const bad = Number.isNaN(r) ? !Number.isNaN(o) : !Number.isFinite(r) ? o !== r : !Number.isFinite(o);
    if (bad) throw new Error(`${what}: element ${i} is ${o}, reference ${r}`);
    if (Number.isFinite(r)) {
      num += (o - r) ** 2;
      den += Math.max(1, Math.abs(r)) ** 2;
    }
  }
  const e = den === 0 ? 0 : Math.sqrt(num / den);
  expect(e, `${what}: relative error of the finite elements`).toBeLessThan(tol);
}

const TOL = 1e-4;
const SHAPES = [[1], [3], [17], [257], [4, 17], [3, 1, 5]];

describe('elementwise ops propagate NaN and Inf as the f64 reference does', () => {
  for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
    it(`unary ${op}`, async () => {
      for (const shape of SHAPES) {
        const seed = freshSeed();
        const x = plantedPair(shape, seed, -3, 3, 0.3);
        await ws.tidyAsync(async () => {
          expectSameNonfinite(await ws.unary(op, x.t).data(), unaryRef(op, x.r).data, TOL, `${op} ${shape} seed ${seed}`);
        });
        x.t.dispose();
      }
    });
  }

  const PAIRS: [number[], number[]][] = [[[1], [1]], [[17], [17]], [[4, 17], [17]], [[3, 1], [1, 17]], [[257], [257]], [[2, 3, 40], [3, 1]], [[64], [64]]];
  for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
    it(`binary ${op} (same shape, broadcast, vec4 and scalar)`, async () => {
      for (const [sa, sb] of PAIRS) {
        const seed = freshSeed();
        const a = plantedPair(sa, seed, -3, 3, 0.3);
        const b = plantedPair(sb, seed + 1, -3, 3, 0.3);
        await ws.tidyAsync(async () => {
          const what = `${op} ${sa} by ${sb} seed ${seed}`;
          expectSameNonfinite(await ws.raw.binary(op, a.t, b.t).data(), binaryRef(op, a.r, b.r).data, TOL, what);
          for (const s of [...SPECIALS, 1, 0, -2.5]) {
            const sr = { shape: [], data: Float64Array.of(s) };
            expectSameNonfinite(await ws.raw.binary(op, a.t, s).data(), binaryRef(op, a.r, sr).data, TOL, `${what} by scalar ${s}`);
            expectSameNonfinite(await ws.raw.binary(op, s, a.t).data(), binaryRef(op, sr, a.r).data, TOL, `scalar ${s} ${what}`);
          }
        });
        a.t.dispose();
        b.t.dispose();
      }
    });
  }

  it('max and min against +-Inf and NaN follow IEEE maximum/minimum (NaN wins)', async () => {
    const a = ws.fromArray([NaN, Infinity, -Infinity, 1, NaN, Infinity]);
    const b = ws.fromArray([Infinity, NaN, NaN, NaN, -Infinity, -Infinity]);
    expect(await ws.maximum(a, b).toArray()).toEqual([NaN, NaN, NaN, NaN, NaN, Infinity]);
    expect(await ws.minimum(a, b).toArray()).toEqual([NaN, NaN, NaN, NaN, NaN, -Infinity]);
    expect(await ws.relu(ws.fromArray([NaN, Infinity, -Infinity, -1, 2])).toArray()).toEqual([NaN, Infinity, 0, 0, 2]);
  });
});

describe('reductions propagate NaN and Inf as the f64 reference does', () => {
  const CASES: [number[], (number | number[] | undefined)[]][] = [
    [[1], [undefined, 0]],
    [[257], [undefined, 0]],
    [[3, 17], [0, 1, undefined]],
    [[17, 3], [0, 1]],
    [[3, 1, 5], [[0, 2], 1]],
    [[2, 5000], [1, undefined]],
    [[5000, 3], [0]],
    // vec4 rows (strided_vec4), one pass and chunked
    [[5000, 8], [0]],
    [[3, 17, 12], [1]],
    [[70001, 4], [0]],
  ];
  for (const op of ['sum', 'mean', 'max', 'min'] as const) {
    it(op, async () => {
      for (const [shape, axesList] of CASES) {
        for (const frac of [0.002, 0.05]) {
          const seed = freshSeed();
          const x = plantedPair(shape, seed, -2, 2, frac);
          await ws.tidyAsync(async () => {
            for (const axes of axesList) {
              const what = `${op} ${shape} axes ${axes} seed ${seed}`;
              expectSameNonfinite(await ws.reduce(op, x.t, axes as number[]).data(), reduceRef(op, x.r, axes as number[]).data, TOL, what);
            }
          });
          x.t.dispose();
        }
      }
    });
  }
  for (const op of ['argmax', 'argmin'] as const) {
    it(`${op}: the first NaN wins`, async () => {
      for (const [shape] of CASES) {
        const seed = freshSeed();
        const x = plantedPair(shape, seed, -2, 2, 0.01);
        for (let a = 0; a < shape.length; a++) {
          const got = await ws[op](x.t, a).toArray();
          expect(got, `${op} ${shape} axis ${a} seed ${seed}`).toEqual(Array.from(argReduceRef(op, x.r, a).data));
        }
        x.t.dispose();
      }
    });
  }
});

describe('matmul propagates NaN and Inf through every kernel, transpose and epilogue', () => {
  const LADDER: [string, MatmulConfig][] = [['naive', NAIVE], ['tiled', TILED_64], ['reg 4x4', REG_4X4], ['packed', PACKED_16]];
  const DIMS: [number, number, number][] = [[1, 3, 17], [17, 257, 3], [64, 64, 64], [3, 17, 257], [20, 36, 260]];
  for (const [name, config] of LADDER) {
    it(`${name}: each activation, bias, transposes`, async () => {
      for (const [M, K, N] of DIMS) {
        for (const activation of ['none', 'relu', 'gelu', 'tanh'] as (MatmulActivation | 'none')[]) {
          const seed = freshSeed();
          const transA = seed % 2 === 0;
          const transB = (seed >> 1) % 2 === 0;
          // sparse specials in the operands (each spoils a whole row or column), more in the bias
          const a = plantedPair(transA ? [K, M] : [M, K], seed, -1, 1, 0.5 / (M * K));
          const b = plantedPair(transB ? [N, K] : [K, N], seed + 1, -1, 1, 0.5 / (K * N));
          const bias = plantedPair([N], seed + 2, -1, 1, 0.2);
          await ws.tidyAsync(async () => {
            const opts = { transA, transB, activation, alpha: 0.5 };
            const out = await matmul(a.t, b.t, { ...opts, bias: bias.t, config }).data();
            const ref = matmulRef(a.r, b.r, { ...opts, bias: bias.r });
            expectSameNonfinite(out, ref.data, TOL, `${name} [${M}, ${K}, ${N}] ${activation} transA ${transA} transB ${transB} seed ${seed}`);
          });
          for (const t of [a.t, b.t, bias.t]) t.dispose();
        }
      }
    });
  }
});

describe('optimizers: a non-finite gradient gives a non-finite parameter, as in the reference', () => {
  const OPT_SHAPES = [[1], [3], [17], [257], [64]];
  it('sgd (momentum, nesterov, weight decay) and adam / adamw', async () => {
    for (const kind of ['sgd', 'sgd-nesterov', 'adam', 'adamw'] as const) {
      const seed = freshSeed();
      const init = OPT_SHAPES.map((s, i) => randomArray(s[0], seed + i));
      const grads = [0, 1].map((t) => OPT_SHAPES.map((s, i) => plant(randomArray(s[0], seed + 100 * (t + 1) + i), seed + 31 * t + i, 0.1)));
      const params = init.map((d, i) => ws.fromArray(d, OPT_SHAPES[i]));
      const refW = init.map((d) => Float64Array.from(d));
      const sgd = sgdState(params);
      const adam = adamState(params);
      const refSgd = OPT_SHAPES.map(() => ({ buf: null as Float64Array | null }));
      const refAdam = OPT_SHAPES.map((s) => adamRefState(s[0]));
      for (const g of grads) {
        const gt = g.map((d, i) => ws.fromArray(d, OPT_SHAPES[i]));
        if (kind === 'sgd' || kind === 'sgd-nesterov') {
          const h = sgdHyper({ lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: kind === 'sgd-nesterov' });
          sgdUpdate(params, gt, sgd, h);
          refW.forEach((w, i) => sgdStepRef(w, g[i], refSgd[i], h));
        } else {
          const h = adamHyper({ lr: 0.01, weightDecay: 0.1, decoupled: kind === 'adamw' });
          adamUpdate(params, gt, adam, h);
          refW.forEach((w, i) => adamStepRef(w, g[i], refAdam[i], h));
        }
        for (let i = 0; i < params.length; i++) {
          expectSameNonfinite(await params[i].data(), refW[i], TOL, `${kind} param ${i} seed ${seed}`);
        }
        gt.forEach((t) => t.dispose());
      }
      params.forEach((p) => p.dispose());
      sgd.dispose();
      adam.dispose();
    }
  });
});

/** The case's inputs with specials planted (a few in every input). */
function plantedCaseData(c: Case, seed: number): Float32Array[] {
  return caseData(c, seed).map((d, i) => plant(d, seed + 13 * i, 0.08));
}

/**
 * Groups whose cotangent gets specials too. Not the others: the fused attention backward takes
 * rowsum(dP * P) as dO . O, equal in real arithmetic but not with an infinite dO (Inf - Inf in the reference).
 */
const PLANTED_COTANGENT = new Set(['conv2d', 'conv2dGradInput', 'conv2dGradWeight']);

/** Forward and backward of one suite case on the GPU and in f64, compared element by element. */
async function checkCase(c: Case, seed: number, group: string): Promise<void> {
  const data = plantedCaseData(c, seed);
  const xr = f64Inputs(c, data);
  for (const x of xr) x.requiresGrad = true;
  const yr = c.fn(...xr) as F64Tensor;
  const cotangent = randomArray(yr.size, seed + 99);
  const up = PLANTED_COTANGENT.has(group) ? plant(cotangent, seed + 101, 0.08) : cotangent;
  const ref = isTracked(yr) ? gradients(yr, xr, { grad: F64Tensor.from(up, yr.shape) }) : null;
  await ws.tidyAsync(async () => {
    const xg = gpuInputs(c, data);
    for (const x of xg) x.requiresGrad = true;
    const yg = c.fn(...xg) as ws.Tensor;
    const what = `${c.name} seed ${seed}`;
    expectSameNonfinite(await yg.data(), yr.data, TOL, `${what}: forward`);
    if (!ref) return;
    const gs = gradients(yg, xg, { grad: ws.fromArray(up, yg.shape) });
    for (let i = 0; i < gs.length; i++) expectSameNonfinite(await gs[i].data(), ref[i].data, TOL, `${what}: gradient of input ${i}`);
  });
}

/**
 * Every conv2d kernel (implicit GEMM, subgroup shuffle, direct, grouped) with NaN and Inf planted
 * in the input, the weight and the cotangent: a padded tap (or a stride gap) adds nothing, as in
 * the reference, so an infinite weight or cotangent there is no NaN.
 */
describe('conv2d kernels: planted NaN and Inf in x, weight and dy at padded taps', () => {
  const GEOMETRIES: { x: number[]; w: number[]; opts: Conv2dOptions }[] = [
    { x: [2, 5, 7, 4], w: [3, 3, 4, 8], opts: { padding: 1 } },
    { x: [1, 6, 5, 8], w: [3, 2, 8, 4], opts: { padding: [2, 1], stride: 2 } },
    { x: [1, 9, 9, 4], w: [3, 3, 4, 4], opts: { padding: 2, dilation: 2, stride: [1, 3] } },
    { x: [1, 17, 3, 4], w: [1, 3, 4, 4], opts: { padding: [0, 1] } },
  ];
  const GROUPED: { x: number[]; w: number[]; opts: Conv2dOptions }[] = [
    { x: [2, 7, 9, 4], w: [3, 3, 1, 4], opts: { padding: 1, groups: 4 } },
    { x: [1, 6, 11, 4], w: [3, 5, 2, 6], opts: { padding: [1, 2], groups: 2, stride: [2, 1] } },
    { x: [1, 8, 8, 3], w: [2, 3, 1, 3], opts: { padding: 2, groups: 3, dilation: 2, stride: 2 } },
  ];
  const cases = [
    ...GEOMETRIES.flatMap((g) => (['igemm', 'shuffle', 'direct'] as const).map((impl) => ({ ...g, opts: { ...g.opts, impl } }))),
    ...GROUPED,
  ];
  for (const c of cases) {
    it(`${c.opts.impl ?? 'grouped'} x [${c.x}] w [${c.w}] ${JSON.stringify({ ...c.opts, impl: undefined })}`, async () => {
      for (let k = 0; k < 3; k++) {
        const seed = freshSeed();
        const ref = { stride: c.opts.stride, padding: c.opts.padding, dilation: c.opts.dilation, groups: c.opts.groups };
        const x = plantedPair(c.x, seed);
        const w = plantedPair(c.w, seed + 1);
        const y = conv2dRef(x.r, w.r, null, ref);
        const dy = plantedPair(y.shape, seed + 2);
        const what = `seed ${seed}`;
        await ws.tidyAsync(async () => {
          expectSameNonfinite(await conv2d(x.t, w.t, null, c.opts).data(), y.data, TOL, `${what}: forward`);
          expectSameNonfinite(await conv2dGradInput(dy.t, w.t, c.x, c.opts).data(),
            conv2dGradInputRef(dy.r, w.r, c.x, ref).data, TOL, `${what}: grad-input`);
          expectSameNonfinite(await conv2dGradWeight(x.t, dy.t, c.w, c.opts).data(),
            conv2dGradWeightRef(x.r, dy.r, c.w, ref).data, TOL, `${what}: grad-weight`);
        });
        for (const t of [x.t, w.t, dy.t]) t.dispose();
      }
    });
  }
});

describe('every differentiable op (the gradcheck suite) forward and backward with planted NaN and Inf', () => {
  const extra: Case[] = (['relu', 'gelu'] as const).map((activation) => ({
    name: `matmul + bias, ${activation}`,
    inputs: [{ shape: [3, 17] }, { shape: [17, 5] }, { shape: [5] }],
    fn: (a: GradTensor, b: GradTensor, bias: GradTensor) => o.matmul(a, b, { bias, activation }),
  }));
  // D = 64, the fused kernels' usual head dim (the suite's cases have D = 4)
  for (const causal of [false, true]) {
    extra.push({
      name: `attention fused D 64${causal ? ' causal' : ''}, 7 queries, 5 keys`,
      inputs: [{ shape: [1, 2, 7, 64] }, { shape: [1, 2, 5, 64] }, { shape: [1, 2, 5, 64] }],
      fn: (q: GradTensor, k: GradTensor, v: GradTensor) => o.scaledDotProductAttention(q, k, v, { causal }),
    });
  }
  // D 6: the fused kernels on a head dim padded to 8; composed: true: the composed path, whose
  // causal query blocks are 8 rows (37 queries: five blocks)
  for (const causal of [false, true]) {
    for (const [tq, tk] of [[7, 5], [37, 35], [3, 6]]) {
      extra.push({
        name: `attention D 6 (padded to 8)${causal ? ' causal' : ''}, ${tq} queries, ${tk} keys`,
        inputs: [{ shape: [1, 2, tq, 6] }, { shape: [1, 2, tk, 6] }, { shape: [1, 2, tk, 6] }],
        fn: (q: GradTensor, k: GradTensor, v: GradTensor) => o.scaledDotProductAttention(q, k, v, { causal }),
      });
    }
    extra.push({
      name: `attention composed: true D 8${causal ? ' causal' : ''}, 37 queries, 35 keys`,
      inputs: [{ shape: [2, 37, 8] }, { shape: [2, 35, 8] }, { shape: [2, 35, 8] }],
      fn: (q: GradTensor, k: GradTensor, v: GradTensor) => o.scaledDotProductAttention(q, k, v, { causal, composed: true }),
    });
  }
  const all: [string, Case][] = [
    ...Object.entries(PRIMITIVE_CASES).flatMap(([p, cs]) => cs.map((c): [string, Case] => [p, c])),
    ...[...COMPOSITE_CASES, ...extra].map((c): [string, Case] => ['composite', c]),
  ];
  for (const [group, c] of all) {
    it(`${group}: ${c.name}`, async () => {
      for (let k = 0; k < 3; k++) await checkCase(c, freshSeed(), group);
    });
  }
});

/**
 * crossEntropy with a NaN, +Inf or -Inf logit in some rows, both kernel variants (one invocation
 * per row, and a workgroup per row whose partial maxima combine): loss and gradient rows as in the
 * reference (NaN for a NaN or +Inf logit, the whole row).
 */
describe('crossEntropy: non-finite logits give the reference loss and gradient rows', () => {
  for (const variant of ['invocation', 'workgroup'] as const) {
    it(`${variant} kernel, C = 3, 17, 257`, async () => {
      for (const c of [3, 17, 257]) {
        for (const special of SPECIALS) {
          const seed = freshSeed();
          const rows = 6;
          const data = randomArray(rows * c, seed, -4, 4);
          const r = mulberry32(seed + 1);
          // rows 0, 2, 4 get the special at a random column; row 4 also at its label's column
          const lab = Int32Array.from({ length: rows }, () => Math.floor(r() * c));
          for (const row of [0, 2, 4]) data[row * c + Math.floor(r() * c)] = special;
          data[4 * c + lab[4]] = special;
          const x: NDArray = { shape: [rows, c], data: Float64Array.from(data) };
          const dloss: NDArray = { shape: [rows], data: Float64Array.from(randomArray(rows, seed + 2)) };
          const ref = crossEntropyRef(x, lab, 'none');
          const dref = crossEntropyBackwardRef(dloss, x, lab, 'none');
          const what = `C ${c} ${special} seed ${seed}`;
          await ws.tidyAsync(async () => {
            const xt = ws.fromArray(data, [rows, c]);
            const labels = ws.fromArray(lab, [rows]);
            const out = crossEntropy(xt, labels, { reduction: 'none', variant });
            expectSameNonfinite(await out.loss.data(), ref.loss.data, TOL, `${what}: loss`);
            const dx = crossEntropyBackward(ws.fromArray(Float32Array.from(dloss.data), [rows]), xt, labels, out.lse, { reduction: 'none' });
            expectSameNonfinite(await dx.data(), dref.data, TOL, `${what}: gradient`);
          });
        }
      }
    });
  }
});

/**
 * Attention rows whose visible scores are all -Inf (q row 0 is +Inf in one component, k there -1):
 * NaN in the reference, the fused kernel and the composed path alike, forward and backward; the
 * other rows stay finite.
 */
describe('attention: a row whose visible scores are all -Inf is NaN on every path', () => {
  for (const [name, d, opts] of [
    ['fused D 8', 8, {}], ['D 6, padded to 8', 6, {}], ['composed: true D 8', 8, { composed: true }], ['composed: true D 6', 6, { composed: true }],
  ] as const) {
    it(`${name}, causal`, async () => {
      const seed = freshSeed();
      const [tq, tk] = [5, 5];
      const qd = randomArray(tq * d, seed);
      const kd = randomArray(tk * d, seed + 1, 0.5, 1);
      const vd = randomArray(tk * d, seed + 2);
      qd[0] = -Infinity; // q_0 . k_0 = -Inf: row 0 sees only key 0
      const inputs = [[1, tq, d], [1, tk, d], [1, tk, d]].map((shape, i) => ({ shape, data: [qd, kd, vd][i] }));
      const xr = inputs.map((x) => { const t = F64Tensor.from(x.data, x.shape); t.requiresGrad = true; return t; });
      const yr = o.scaledDotProductAttention(xr[0], xr[1], xr[2], { causal: true });
      const up = randomArray(yr.size, seed + 3);
      const ref = gradients(yr, xr, { grad: F64Tensor.from(up, yr.shape) });
      expect(Number.isNaN(yr.data[0])).toBe(true);
      await ws.tidyAsync(async () => {
        const xg = inputs.map((x) => { const t = ws.fromArray(x.data, x.shape); t.requiresGrad = true; return t; });
        const yg = o.scaledDotProductAttention(xg[0], xg[1], xg[2], { causal: true, ...opts });
        expectSameNonfinite(await yg.data(), yr.data, TOL, `${name} seed ${seed}: forward`);
        const gs = gradients(yg, xg, { grad: ws.fromArray(up, yg.shape) });
        for (let i = 0; i < 3; i++) expectSameNonfinite(await gs[i].data(), ref[i].data, TOL, `${name} seed ${seed}: gradient of input ${i}`);
      });
    });
  }
});
