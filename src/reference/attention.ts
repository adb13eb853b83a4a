/**
 * @file f64 reference of scaled dot-product attention on [B, H, T, D] (any leading axes),
 * forward (with the per-row log-sum-exp) and backward, as plain loops.
 *   s[i, j] = scale * q_i . k_j   (causal: only j <= i, PyTorch's top-left alignment)
 *   lse[i]  = log sum_j exp(s[i, j]),  p[i, j] = exp(s[i, j] - lse[i]),  out_i = sum_j p[i, j] v_j
 * Backward: dv_j = sum_i p_ij do_i;  dp_ij = do_i . v_j;  ds_ij = p_ij (dp_ij - sum_j' p_ij' dp_ij')
 *           dq_i = scale sum_j ds_ij k_j;  dk_j = scale sum_i ds_ij q_i.
 */
import type { NDArray } from './ndarray.js';
import { ndZeros } from './ndarray.js';

export interface AttentionRefOptions {
  causal?: boolean;
  /** Defaults to 1/sqrt(D). */
  scale?: number;
}

function dims(q: NDArray, k: NDArray) {
  const r = q.shape.length;
  const D = q.shape[r - 1];
  const Tq = q.shape[r - 2];
  const Tk = k.shape[r - 2];
  const BH = q.data.length / (Tq * D);
  return { D, Tq, Tk, BH };
}

/** Probabilities p[bh][i][j] (0 where masked) and lse[bh][i]. */
function probs(q: NDArray, k: NDArray, opts: AttentionRefOptions) {
  const { D, Tq, Tk, BH } = dims(q, k);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const p = new Float64Array(BH * Tq * Tk);
  const lse = new Float64Array(BH * Tq);
  for (let b = 0; b < BH; b++)
    for (let i = 0; i < Tq; i++) {
      const row = (b * Tq + i) * Tk;
      let m = -Infinity;
      const last = opts.causal ? Math.min(i, Tk - 1) : Tk - 1;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q.data[(b * Tq + i) * D + d] * k.data[(b * Tk + j) * D + d];
        p[row + j] = s * scale;
        m = Math.max(m, s * scale);
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) sum += Math.exp(p[row + j] - m);
      const l = m + Math.log(sum);
      lse[b * Tq + i] = l;
      for (let j = 0; j < Tk; j++) p[row + j] = j <= last ? Math.exp(p[row + j] - l) : 0;
    }
  return { p, lse, D, Tq, Tk, BH, scale };
}

/** Forward: returns out (shape of q with V's last axis) and lse (shape of q without D). */
export function attentionRef(q: NDArray, k: NDArray, v: NDArray, opts: AttentionRefOptions = {}): { out: NDArray; lse: NDArray } {
  const { p, lse, D, Tq, Tk, BH } = probs(q, k, opts);
  const out = ndZeros(q.shape);
  for (let b = 0; b < BH; b++)
    for (let i = 0; i < Tq; i++)
      for (let j = 0; j < Tk; j++) {
        // a masked key is skipped (a NaN in a future token's V must not reach the row); a visible
        // key whose probability underflows to 0 still multiplies (0 * NaN = NaN, as IEEE)
        if (opts.causal && j > i) continue;
        const pij = p[(b * Tq + i) * Tk + j];
        for (let d = 0; d < D; d++) out.data[(b * Tq + i) * D + d] += pij * v.data[(b * Tk + j) * D + d];
      }
  return { out, lse: { shape: q.shape.slice(0, -1), data: lse } };
}

/** Backward: gradients of sum(out * dout) with respect to q, k and v. */
export function attentionBackwardRef(
  q: NDArray, k: NDArray, v: NDArray, dout: NDArray, opts: AttentionRefOptions = {},
): { dq: NDArray; dk: NDArray; dv: NDArray } {
  const { p, D, Tq, Tk, BH, scale } = probs(q, k, opts);
  const dq = ndZeros(q.shape);
  const dk = ndZeros(k.shape);
  const dv = ndZeros(v.shape);
  const ds = new Float64Array(Tk);
  for (let b = 0; b < BH; b++)
    for (let i = 0; i < Tq; i++) {
      const qi = (b * Tq + i) * D;
      let rowDot = 0;
      // masked keys take no part (see attentionRef)
      const last = opts.causal ? Math.min(i, Tk - 1) : Tk - 1;
      for (let j = 0; j <= last; j++) {
        let dp = 0;
        for (let d = 0; d < D; d++) dp += dout.data[qi + d] * v.data[(b * Tk + j) * D + d];
        ds[j] = dp;
        rowDot += p[(b * Tq + i) * Tk + j] * dp;
      }
      for (let j = 0; j <= last; j++) {
        const pij = p[(b * Tq + i) * Tk + j];
        const dsij = pij * (ds[j] - rowDot) * scale;
        const kj = (b * Tk + j) * D;
        for (let d = 0; d < D; d++) {
          dv.data[kj + d] += pij * dout.data[qi + d];
          dq.data[qi + d] += dsij * k.data[kj + d];
          dk.data[kj + d] += dsij * q.data[qi + d];
        }
      }
    }
  return { dq, dk, dv };
}
