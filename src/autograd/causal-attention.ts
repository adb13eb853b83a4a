/**
 * @file Composed causal attention, softmax(scale q k^T, key j visible to query i iff j <= i) v,
 * with masked (future) keys taking no part, as in the f64 reference (src/reference/attention.ts):
 * a NaN or Inf in a future key's k or v reaches no earlier row, forward or backward, and a row
 * whose visible scores are all -Inf is NaN.
 * A plain matmul cannot skip a pair: 0 * NaN is NaN. So queries go in blocks of QUERY_BLOCK rows.
 * The keys before the block are visible to all its rows: plain matmuls. The keys inside it (the
 * diagonal) are multiplied pair by pair, [block, keys, D], with both factors set to 0 by `where`
 * at masked pairs (a select, in the forward and in its gradient, so no masked value is ever
 * multiplied). Masked scores are -Inf, their probabilities set to 0 by `where`. Memory per block:
 * QUERY_BLOCK^2 * D per batch-head. Cost: forward and backward at [4, 4, 256, 320] took ~13 s
 * against ~1-3 s for matmul(softmax(masked scores), v) on lavapipe (8-row blocks measured best of
 * 4, 8, 16, 32): the path of composed: true and of head dims above the fused kernels' limit.
 */
import { constantLike } from './backends.js';
import { softmax } from './primitives/softmax.js';
import type { GradTensor } from './primitive.js';
import { add, mul, where } from './primitives/elementwise.js';
import { concat, slice, unsqueeze } from './primitives/layout.js';
import { matmul } from './primitives/matmul.js';
import { sum } from './primitives/reduce.js';

type T = GradTensor;

/** Query rows per block (the diagonal products are QUERY_BLOCK x QUERY_BLOCK x D). */
const QUERY_BLOCK = 8;

/** sum_d a[..., i, d] * b[..., j, d] over the pairs where mask[i, j] ([rows, cols, 1]), 0 elsewhere. */
function maskedPairDot<A extends T>(a: A, b: A, mask: A): A {
  return sum(mul(where(mask, unsqueeze(a, -2), 0), where(mask, unsqueeze(b, -3), 0)), -1);
}

/** out[..., i, :] = sum_j p[..., i, j] v[..., j, :] over the pairs where mask[i, j] ([rows, cols, 1]). */
function maskedPairMatmul<A extends T>(p: A, v: A, mask: A): A {
  return sum(mul(where(mask, unsqueeze(p, -1), 0), where(mask, unsqueeze(v, -3), 0)), -2);
}

/** Causal attention of q [..., Tq, D] over k, v [..., Tk, D] (see the file comment). */
export function causalAttention<A extends T>(q: A, k: A, v: A, scale: number): A {
  const r = q.shape.length;
  const tq = q.shape[r - 2];
  const tk = k.shape[r - 2];
  const blocks: A[] = [];
  for (let a = 0; a < tq; a += QUERY_BLOCK) {
    const b = Math.min(tq, a + QUERY_BLOCK);
    const rows = b - a;
    const qb = slice(q, -2, a, b);
    const full = Math.min(a, tk); // keys [0, full): visible to every row of the block
    const diag = Math.min(b, tk) - full; // keys [full, full + diag): visible to row i iff key <= i
    if (diag === 0) {
      blocks.push(matmul(softmax(mul(matmul(qb, k, { transB: true }), scale), -1), v));
      continue;
    }
    const cells = Array.from({ length: rows * diag }, (_, n) => (full + (n % diag) <= a + Math.floor(n / diag) ? 1 : 0));
    const visible = constantLike(q, [rows, diag], cells);
    const pairs = constantLike(q, [rows, diag, 1], cells);
    const kd = slice(k, -2, full, full + diag);
    const vd = slice(v, -2, full, full + diag);
    const sd = where(visible, mul(maskedPairDot(qb, kd, pairs), scale), -Infinity);
    const s = full > 0 ? concat([mul(matmul(qb, slice(k, -2, 0, full), { transB: true }), scale), sd], -1) : sd;
    const p = softmax(s, -1);
    const od = maskedPairMatmul(slice(p, -1, full, full + diag), vd, pairs);
    blocks.push(full > 0 ? add(matmul(slice(p, -1, 0, full), slice(v, -2, 0, full)), od) : od);
  }
  return blocks.length === 1 ? blocks[0] : concat(blocks, -2);
}
