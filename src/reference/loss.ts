/**
 * @file f64 reference of softmax cross-entropy with integer labels and of mean-squared error,
 * forward and backward (plain loops, for clarity).
 */
import type { NDArray } from './ndarray.js';

export type ReductionRef = 'mean' | 'sum' | 'none';

function reduce(v: Float64Array, shape: number[], reduction: ReductionRef): NDArray {
  if (reduction === 'none') return { shape, data: v };
  const s = v.reduce((a, b) => a + b, 0);
  return { shape: [], data: Float64Array.of(reduction === 'mean' ? s / v.length : s) };
}

/** Per-row lse and loss = lse - x[label] (NaN for a label outside [0, C)), then reduced. */
export function crossEntropyRef(
  logits: NDArray,
  labels: ArrayLike<number>,
  reduction: ReductionRef = 'mean',
): { loss: NDArray; lse: NDArray } {
  const c = logits.shape[logits.shape.length - 1];
  const rows = labels.length;
  const lead = logits.shape.slice(0, -1);
  const lse = new Float64Array(rows);
  const loss = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = logits.data.subarray(r * c, (r + 1) * c);
    const m = Math.max(...row);
    let s = 0;
    for (const v of row) s += Math.exp(v - m);
    lse[r] = m + Math.log(s);
    const l = labels[r];
    loss[r] = l >= 0 && l < c && Number.isInteger(l) ? lse[r] - row[l] : NaN;
  }
  return { loss: reduce(loss, lead, reduction), lse: { shape: lead, data: lse } };
}

/** dlogits = (softmax - onehot) * dloss (dloss: one value, or per row for 'none'; / rows for 'mean'). */
export function crossEntropyBackwardRef(
  dloss: NDArray,
  logits: NDArray,
  labels: ArrayLike<number>,
  reduction: ReductionRef = 'mean',
): NDArray {
  const c = logits.shape[logits.shape.length - 1];
  const rows = labels.length;
  const { lse } = crossEntropyRef(logits, labels, 'none');
  const dx = new Float64Array(logits.data.length);
  for (let r = 0; r < rows; r++) {
    const up = (reduction === 'none' ? dloss.data[r] : dloss.data[0]) / (reduction === 'mean' ? rows : 1);
    const ok = labels[r] >= 0 && labels[r] < c;
    for (let j = 0; j < c; j++) {
      const i = r * c + j;
      dx[i] = ok ? (Math.exp(logits.data[i] - lse.data[r]) - (j === labels[r] ? 1 : 0)) * up : NaN;
    }
  }
  return { shape: [...logits.shape], data: dx };
}

export function mseRef(pred: NDArray, target: NDArray, reduction: ReductionRef = 'mean'): NDArray {
  const v = pred.data.map((p, i) => (p - target.data[i]) ** 2);
  return reduce(v, [...pred.shape], reduction);
}

/** d/dpred = 2 (pred - target) * dloss (/ n for 'mean'). */
export function mseBackwardRef(dloss: NDArray, pred: NDArray, target: NDArray, reduction: ReductionRef = 'mean'): NDArray {
  const n = pred.data.length;
  const data = pred.data.map(
    (p, i) => (2 * (p - target.data[i]) * (reduction === 'none' ? dloss.data[i] : dloss.data[0])) / (reduction === 'mean' ? n : 1),
  );
  return { shape: [...pred.shape], data };
}
