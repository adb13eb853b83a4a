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
import { NAIVE, PACKED_16, REG_4X4, TILED_64, type MatmulConfig } from '../../src/kernels/matmul-select.js';
import { sgdState, sgdUpdate, adamState, adamUpdate } from '../../src/ops/optim.js';
import { COMPOSITE_CASES, PRIMITIVE_CASES, caseData, f64Inputs, gpuInputs, type Case } from '../../src/autograd/suite.js';
import { F64Tensor } from '../../src/autograd/f64.js';
import * as o from '../../src/autograd/ops.js';
import type { GradTensor } from '../../src/autograd/primitives.js';
import { gradients, isTracked } from '../../src/autograd/tape.js';
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
          const h = { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: kind === 'sgd-nesterov' };
          sgdUpdate(params, gt, sgd, h);
          refW.forEach((w, i) => sgdStepRef(w, g[i], refSgd[i], h));
        } else {
          const h = { lr: 0.01, weightDecay: 0.1, decoupled: kind === 'adamw' };
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

/**
 * Cases whose specials go into the first input only, with only the forward and the first input's
 * gradient compared. Convolutions: the kernels multiply padding (and stride gaps) as zeros, so an
 * infinite or NaN weight or cotangent there gives 0 * Inf = NaN where the reference skips the tap.
 */
const FIRST_INPUT_ONLY = new Set(['conv2d', 'conv2dGradInput', 'conv2dGradWeight']);

/** The case's inputs with specials planted (a few per input; only the first where `firstOnly`). */
function plantedCaseData(c: Case, seed: number, group: string): Float32Array[] {
  const firstOnly = FIRST_INPUT_ONLY.has(group);
  return caseData(c, seed).map((d, i) => (firstOnly && i > 0 ? d : plant(d, seed + 13 * i, 0.08)));
}

/** Forward and backward of one suite case on the GPU and in f64, compared element by element. */
async function checkCase(c: Case, seed: number, group: string): Promise<void> {
  const firstOnly = FIRST_INPUT_ONLY.has(group);
  const data = plantedCaseData(c, seed, group);
  const xr = f64Inputs(c, data);
  for (const x of xr) x.requiresGrad = true;
  const yr = c.fn(...xr) as F64Tensor;
  const up = randomArray(yr.size, seed + 99);
  const ref = isTracked(yr) ? gradients(yr, xr, { grad: F64Tensor.from(up, yr.shape) }) : null;
  await ws.tidyAsync(async () => {
    const xg = gpuInputs(c, data);
    for (const x of xg) x.requiresGrad = true;
    const yg = c.fn(...xg) as ws.Tensor;
    const what = `${c.name} seed ${seed}`;
    expectSameNonfinite(await yg.data(), yr.data, TOL, `${what}: forward`);
    if (!ref) return;
    const gs = gradients(yg, xg, { grad: ws.fromArray(up, yg.shape) });
    for (let i = 0; i < (firstOnly ? 1 : gs.length); i++) expectSameNonfinite(await gs[i].data(), ref[i].data, TOL, `${what}: gradient of input ${i}`);
  });
}

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
