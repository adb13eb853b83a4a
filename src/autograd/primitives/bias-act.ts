/**
 * @file The bias-and-activation primitives: `biasAct` (act(z + bias), src/ops/bias-act.ts) and
 * `linearAct` (act(alpha op(a) op(b) + bias): the matmul kernel's bias and activation epilogue),
 * their rules and cases. Their first-order backward is one dispatch for the activation's
 * derivative (from the output) and the bias's gradient together (biasActBackward); linearAct then
 * takes the matmul rule's two products. Recorded (createGraph), the same gradients are composed.
 */
import { biasAct as rawBiasAct, biasActBackward, biasLayout, checkBiasActivation, type BiasActivation } from '../../ops/bias-act.js';
import { matmul as rawMatmul } from '../../ops/matmul.js';
import { binaryRef, unaryRef } from '../../reference/elementwise.js';
import { matmulRef } from '../../reference/matmul.js';
import type { Shape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { constantLike, nd, onBackend } from '../backends.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor } from '../primitive.js';
import { apply, isGradEnabled } from '../tape.js';
import { add, mul, reluMask, square, sub } from './elementwise.js';
import { kernelBias, matmul, MATMUL } from './matmul.js';
import { sumTo } from './reduce.js';

type T = GradTensor;

export interface BiasActParams {
  /** act(z + bias): inputs [z [..., C], bias [C] or [S, 1, ..., 1, C]]. */
  biasAct: { act: BiasActivation };
  /**
   * act(alpha op(a) @ op(b) + bias): inputs [a, b, bias], matrices (rank >= 2) and a bias the
   * matmul kernel adds ([N] or [...batch, 1, N]).
   */
  linearAct: { transA: boolean; transB: boolean; alpha: number; act: BiasActivation };
}

const G = (x: unknown) => x as Tensor;

/** d act = act'(y) g, composed from the output y (differentiable through y). */
function actGrad<A extends T>(g: A, y: A, act: BiasActivation): A {
  return act === 'relu' ? mul(g, reluMask(y)) : mul(g, sub(constantLike(y, [], 1), square(y)));
}

/** (dz, dbias) of y = act(z + bias) unrecorded: one kernel on the GPU; the composed ops on f64. */
const biasActFused = {
  gpu: (g: Tensor, y: Tensor, act: BiasActivation, biasShape: Shape) => biasActBackward(g, y, act, biasShape),
  f64: (g: F64Tensor, y: F64Tensor, act: BiasActivation, biasShape: Shape) => {
    const dz = actGrad(g, y, act);
    return { dz, dbias: sumTo(dz, biasShape) };
  },
};

/**
 * dz and the bias's gradient of y = act(z + bias) (of the bias's shape unrecorded; dz itself,
 * summed by the tape, recorded). Also the conv2d rule's, for its epilogue activation.
 */
export function biasActGrads<A extends T>(op: string, g: A, y: A, act: BiasActivation, biasShape: Shape): { dz: A; dbias: A } {
  if (isGradEnabled()) {
    const dz = actGrad(g, y, act);
    return { dz, dbias: dz };
  }
  return onBackend(op, g, biasActFused)(g, y, act, biasShape) as { dz: A; dbias: A };
}

const f64Act = (y: ReturnType<typeof nd>, act: BiasActivation) => F64Tensor.fromNd(unaryRef(act, y));

export const BIAS_ACT = definePrimitives<BiasActParams>({
  biasAct: {
    gpu: (xs, p) => rawBiasAct(G(xs[0]), G(xs[1]), p.act),
    f64: (xs, p) => f64Act(binaryRef('add', nd(xs[0], 'biasAct'), nd(xs[1], 'biasAct')), p.act),
    // y = act(z + bias): dz = act'(y) g, d bias = dz summed over the rows the bias row meets
    rule: (g, { out, shapes: [, sb], params: { act }, needs }) => {
      const { dz, dbias } = biasActGrads('biasAct', g, out, act, sb);
      return [needs[0] ? dz : null, needs[1] ? dbias : null];
    },
  },
  linearAct: {
    gpu: (xs, p) => rawMatmul(G(xs[0]), G(xs[1]), { transA: p.transA, transB: p.transB, alpha: p.alpha, bias: G(xs[2]), activation: p.act }),
    f64: (xs, p) =>
      f64Act(matmulRef(nd(xs[0], 'linearAct'), nd(xs[1], 'linearAct'), { transA: p.transA, transB: p.transB, alpha: p.alpha, bias: nd(xs[2], 'linearAct') }), p.act),
    // y = act(z), z = alpha op(a) op(b) + bias: dz = act'(y) g, then the matmul rule's da, db
    rule: (g, ctx) => {
      const { transA, transB, alpha, act } = ctx.params;
      const { dz, dbias } = biasActGrads('linearAct', g, ctx.out, act, ctx.shapes[2]);
      const [da, db] = MATMUL.matmul.rule(dz, { ...ctx, params: { transA, transB, alpha, bias: true } });
      return [da, db, ctx.needs[2] ? dbias : null];
    },
  },
});

// ---------------------------------------------------------------- differentiable ops

/** act(z + bias), one primitive (see the file comment for the bias's shapes). */
export function biasAct<A extends T>(z: A, bias: A, act: BiasActivation): A {
  checkBiasActivation('biasAct', act);
  biasLayout('biasAct', z.shape, bias.shape);
  return apply(BIAS_ACT.biasAct, [z, bias], { act });
}

export interface LinearActOptions<A extends T> {
  bias: A;
  act: BiasActivation;
  alpha?: number;
  transA?: boolean;
  transB?: boolean;
}

/**
 * act(alpha op(a) @ op(b) + bias): the linearAct primitive for matrices and a bias the kernel adds
 * (one dispatch forward; one plus the two products backward), `matmul` with the same options
 * otherwise.
 */
export function linearAct<A extends T>(a: A, b: A, opts: LinearActOptions<A>): A {
  const act = checkBiasActivation('linearAct', opts.act);
  const { bias, alpha = 1, transA = false, transB = false } = opts;
  if (a.shape.length < 2 || b.shape.length < 2 || !kernelBias(a, b, bias, transB)) {
    return matmul(a, b, { bias, activation: act, alpha, transA, transB });
  }
  return apply(BIAS_ACT.linearAct, [a, b, bias], { transA, transB, alpha, act });
}

// ---------------------------------------------------------------- gradcheck cases

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

/** z with alternating signs and |z| >= 0.2 (inputs drawn in [0.2, 0.6]): no relu kink within a gradcheck step of z + bias. */
const signed = (z: V) => mul(z, constantLike(z, z.shape, Array.from({ length: z.size }, (_, i) => (i % 3 === 1 ? 1 : -1) * (i % 2 ? 1 : -1))));
const away = { lo: 0.2, hi: 0.6 };
const small = { lo: -0.1, hi: 0.1 };

export const BIAS_ACT_CASES: Cases<BiasActParams> = {
  biasAct: [
    { name: 'biasAct relu [5, 3] + [3]', inputs: [{ shape: [5, 3], ...away }, { shape: [3], ...small }], fn: (z: V, b: V) => biasAct(signed(z), b, 'relu') },
    { name: 'biasAct tanh [2, 3, 4] + [4]', inputs: [{ shape: [2, 3, 4] }, { shape: [4] }], fn: (z: V, b: V) => biasAct(z, b, 'tanh') },
    {
      name: 'biasAct relu ensemble [2, 3, 2, 4] + [2, 1, 1, 4]',
      inputs: [{ shape: [2, 3, 2, 4], ...away }, { shape: [2, 1, 1, 4], ...small }],
      fn: (z: V, b: V) => biasAct(signed(z), b, 'relu'),
    },
  ],
  linearAct: [
    {
      name: 'linearAct tanh [3, 4] @ [4, 5] + [5], alpha 0.7',
      inputs: [{ shape: [3, 4] }, { shape: [4, 5] }, { shape: [5] }],
      fn: (a: V, b: V, c: V) => linearAct(a, b, { bias: c, act: 'tanh', alpha: 0.7 }),
    },
    {
      name: 'linearAct tanh shared [3, 4] @ [2, 4, 5] + [2, 1, 5] (an ensemble layer on one batch)',
      inputs: [{ shape: [3, 4] }, { shape: [2, 4, 5] }, { shape: [2, 1, 5] }],
      fn: (a: V, b: V, c: V) => linearAct(a, b, { bias: c, act: 'tanh' }),
    },
    {
      name: 'linearAct relu batched [2, 3, 4] @ [2, 4, 5] + [2, 1, 5], B^T',
      // products in [1, 4] and a bias of 0 or -6 (+-0.2): the relu's input is at least 0.8 away from 0
      inputs: [{ shape: [2, 3, 4], lo: 0.5, hi: 1 }, { shape: [2, 5, 4], lo: 0.5, hi: 1 }, { shape: [2, 1, 5] }],
      fn: (a: V, b: V, c: V) => linearAct(a, b, { bias: add(mul(c, 0.1), constantLike(c, c.shape, [0, -6, 0, -6, 0, -6, 0, -6, 0, -6])), act: 'relu', transB: true }),
    },
  ],
};
