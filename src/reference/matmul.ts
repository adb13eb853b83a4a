/**
 * @file f64 reference of matmul: batched, NumPy-broadcast batch dims, 1-D operands, transposes
 * read in place, and the fused epilogue (scale, bias per column or per batch row, activation).
 */
import { broadcastShapes, broadcastStrides, fmt, matmulDims, sizeOf } from '../tensor/shape.js';
import { coordsOf, offsetOf, type NDArray } from './ndarray.js';
import { erf } from './elementwise.js';
import type { MatmulActivation } from '../ops/matmul.js';


export interface MatmulRefOptions {
  transA?: boolean;
  transB?: boolean;
  /** Scales the product before the bias (default 1). */
  alpha?: number;
  /** [N], or [...batch, 1, N]: one row per batch of the result. */
  bias?: NDArray;
  activation?: MatmulActivation | 'none';
}

export const ACTIVATION_REF: { [K in MatmulActivation]: (x: number) => number } = {
  relu: (x) => Math.max(x, 0),
  gelu: (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)),
  tanh: Math.tanh,
};

/** act(alpha * op(A) @ op(B) + bias), op = identity or the transpose of the last two axes. */
export function matmulRef(a: NDArray, b: NDArray, opts: MatmulRefOptions = {}): NDArray {
  if (a.shape.length < 1 || b.shape.length < 1) throw new Error('matmulRef: operands need rank >= 1');
  // 1-D operands: a [K] is a row [1, K], b [K] a column [K, 1]; the axis is dropped afterwards.
  const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const tA = a.shape.length > 1 && !!opts.transA;
  const tB = b.shape.length > 1 && !!opts.transB;
  const { M, K, Kb, N } = matmulDims(aShape, bShape, tA, tB);
  if (K !== Kb) throw new Error(`matmulRef: inner dimensions ${K} and ${Kb} of ${fmt(a.shape)}, ${fmt(b.shape)} differ`);
  const batch = broadcastShapes('matmulRef', aShape.slice(0, -2), bShape.slice(0, -2));
  const sa = broadcastStrides(aShape.slice(0, -2), batch);
  const sb = broadcastStrides(bShape.slice(0, -2), batch);
  const nb = sizeOf(batch);
  const alpha = opts.alpha ?? 1;
  let biasPerBatch = false;
  if (opts.bias) {
    const perBatch = [...batch, 1, N];
    biasPerBatch = opts.bias.shape.length > 1;
    const ok = biasPerBatch
      ? a.shape.length > 1 && opts.bias.shape.length === perBatch.length && opts.bias.shape.every((d, i) => d === perBatch[i])
      : opts.bias.shape[0] === N;
    if (!ok) throw new Error(`matmulRef: bias ${fmt(opts.bias.shape)} must be [${N}] or ${fmt(perBatch)}`);
  }
  const out = new Float64Array(nb * M * N);
  const act = opts.activation && opts.activation !== 'none' ? ACTIVATION_REF[opts.activation] : (x: number) => x;
  for (let z = 0; z < nb; z++) {
    const c = coordsOf(z, batch);
    const oa = offsetOf(c, sa) * M * K;
    const ob = offsetOf(c, sb) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a.data[oa + (tA ? k * M + i : i * K + k)];
          const bv = b.data[ob + (tB ? j * K + k : k * N + j)];
          s += av * bv;
        }
        s *= alpha;
        if (opts.bias) s += opts.bias.data[biasPerBatch ? z * N + j : j];
        out[(z * M + i) * N + j] = act(s);
      }
    }
  }
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])];
  return { shape, data: out };
}
