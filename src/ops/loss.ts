/**
 * @file Softmax cross-entropy with integer labels (fused forward saving the per-row logsumexp,
 * fused backward) and mean-squared error, on loss.wgsl.
 *
 * Out-of-range labels: checking them on the host needs a readback, which a training step must not
 * pay per op. So the kernels never read out of bounds, write NaN as the loss (and a NaN dlogits
 * row) of a row whose label is outside [0, C), and flag the first bad label on the device: the
 * next readback (data(), item(), sync()) throws an error naming the op, the label, its position
 * and the range. `checkLabels` reads labels back and checks them on the host (data loading).
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape, sizeOf } from '../tensor/shape.js';
import { checkF32, checkSameDevice, f32Div, groupsFor, indexFlags } from './launch.js';
import { mean, sum } from './reduce.js';
import { rowVariant, type RowVariant } from './norm.js';

/** Invocations per workgroup of the loss kernels (power of two: tree reduction). */
const LOSS_WG = 64;
/** The lowest finite f32: the running max's start (see loss.wgsl). */
const F32_LOWEST = -3.4028234663852886e38;
/** How the flagged-label message names them. */
const LABEL_NAMES = { noun: 'label', tensor: 'labels' };

export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** 'mean' over rows (default), 'sum', or 'none' (per-row losses, shape = labels'). */
  reduction?: Reduction;
  variant?: RowVariant;
}

export interface CrossEntropyResult {
  /** Scalar ([]) for 'mean'/'sum', the labels' shape for 'none'. */
  loss: Tensor;
  /** Per-row log-sum-exp of the logits (labels' shape), saved for the backward. */
  lse: Tensor;
}

function checkReduction(op: string, r: string): void {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${r}'`);
}

function checkLabelsShape(op: string, logits: Tensor, labels: Tensor): { rows: number; c: number } {
  checkF32(op, logits, 'logits');
  labels.storage(op);
  if (labels.dtype !== 'i32') {
    throw new Error(`${op}: labels ${fmt(labels.shape)} have dtype ${labels.dtype}, expected i32 class indices`);
  }
  checkSameDevice(op, logits, labels);
  if (logits.rank < 1 || !sameShape(logits.shape.slice(0, -1), labels.shape)) {
    throw new Error(
      `${op}: logits ${fmt(logits.shape)} and labels ${fmt(labels.shape)} disagree: expected labels of shape ` +
        `${fmt(logits.shape.slice(0, -1))} (the logits without their last, class axis)`,
    );
  }
  const c = logits.shape[logits.rank - 1];
  if (c === 0) throw new Error(`${op}: logits ${fmt(logits.shape)} have no classes`);
  return { rows: sizeOf(labels.shape), c };
}

/** Softmax cross-entropy of `logits` [..., C] against i32 `labels` [...] (a label outside [0, C) gives NaN). */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): CrossEntropyResult {
  const op = 'crossEntropy';
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction);
  const { rows, c } = checkLabelsShape(op, logits, labels);
  const dev = logits.device;
  const perRow = Tensor.empty(dev, labels.shape, 'f32', op);
  const lse = Tensor.empty(dev, labels.shape, 'f32', `${op} lse`);
  if (rows > 0) {
    const variant = rowVariant(dev, rows, c, opts.variant);
    const label = `${op}(logits ${fmt(logits.shape)}, labels ${fmt(labels.shape)})`;
    const { tag, flags } = indexFlags(op, label, labels, c, LABEL_NAMES);
    dev.dispatch({
      kernel: 'loss',
      entry: variant === 'workgroup' ? 'ce_fwd_wg' : 'ce_fwd_row',
      label,
      constants: { WG: LOSS_WG },
      bindings: { x: logits.binding(op), labels: labels.binding(op), loss: perRow.binding(op), lse_out: lse.binding(op), flags },
      params: { rows, c, n: 0, g_stride: 0, scale: 1, nan: NaN, lowest: F32_LOWEST, tag },
      workgroups: variant === 'workgroup' ? groupsFor(rows, 1) : groupsFor(rows, LOSS_WG),
    });
  }
  if (reduction === 'none') return { loss: perRow, lse };
  const loss = reduction === 'mean' ? mean(perRow) : sum(perRow);
  perRow.dispose();
  return { loss, lse };
}

/**
 * Largest rows * classes that `crossEntropyWithGrad` computes (one workgroup does it all): on
 * software adapters the whole of a small batch's loss costs less than a second dispatch; on GPUs
 * (unmeasured) a smaller bound, since one workgroup uses a fraction of the device.
 */
export const CE_WITH_GRAD_MAX = { software: 1 << 16, gpu: 1 << 14 } as const;

/** Whether `crossEntropyWithGrad` takes logits of `shape` on `device` (CE_WITH_GRAD_MAX). */
export function crossEntropyWithGradFits(logits: Tensor): boolean {
  return logits.size > 0 && logits.size <= CE_WITH_GRAD_MAX[logits.device.isSoftware ? 'software' : 'gpu'];
}

/**
 * The 'mean' or 'sum' cross-entropy of `logits` [..., C] against i32 `labels` [...] and its
 * gradient for an upstream value of 1 (dlogits = (softmax - onehot), / rows for 'mean'), in one
 * dispatch (ce_fwd_grad: one workgroup; logits of at most CE_WITH_GRAD_MAX items). A label outside
 * [0, C) gives a NaN loss and dlogits row, flagged as in `crossEntropy`.
 */
export function crossEntropyWithGrad(logits: Tensor, labels: Tensor, opts: { reduction?: 'mean' | 'sum' } = {}): { loss: Tensor; dlogits: Tensor } {
  const op = 'crossEntropyWithGrad';
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new Error(`${op}: reduction must be 'mean' or 'sum', got '${reduction}'`);
  const { rows, c } = checkLabelsShape(op, logits, labels);
  if (!crossEntropyWithGradFits(logits)) {
    const max = CE_WITH_GRAD_MAX[logits.device.isSoftware ? 'software' : 'gpu'];
    throw new Error(`${op}: logits ${fmt(logits.shape)} hold ${logits.size} items, expected 1 .. ${max} (one workgroup computes them)`);
  }
  const dev = logits.device;
  const loss = Tensor.empty(dev, [], 'f32', op);
  const dlogits = Tensor.empty(dev, logits.shape, 'f32', `${op} dlogits`);
  const label = `${op}(logits ${fmt(logits.shape)}, labels ${fmt(labels.shape)}, '${reduction}')`;
  const { tag, flags } = indexFlags(op, label, labels, c, LABEL_NAMES);
  dev.dispatch({
    kernel: 'loss',
    entry: 'ce_fwd_grad',
    label,
    constants: { WG: LOSS_WG },
    bindings: { x: logits.binding(op), labels: labels.binding(op), loss: loss.binding(op), dx: dlogits.binding(op), flags },
    params: { rows, c, n: 0, g_stride: 0, scale: reduction === 'mean' ? 1 / rows : 1, nan: NaN, lowest: F32_LOWEST, tag },
    workgroups: [1],
  });
  return { loss, dlogits };
}

/** Checks the upstream gradient's shape for `reduction` and returns its stride (0: one value). */
function upstreamStride(op: string, dloss: Tensor, reduction: Reduction, perItem: readonly number[]): number {
  checkF32(op, dloss, 'dloss');
  if (reduction === 'none') {
    if (!sameShape(dloss.shape, perItem)) {
      throw new Error(`${op}: dloss has shape ${fmt(dloss.shape)}, expected ${fmt(perItem)} for reduction 'none'`);
    }
    return 1;
  }
  if (dloss.size !== 1) throw new Error(`${op}: dloss has shape ${fmt(dloss.shape)}, expected a scalar for reduction '${reduction}'`);
  return 0;
}

/**
 * dlogits = (softmax(logits) - onehot(labels)) * dloss (/ rows for 'mean'), from the saved `lse`.
 * `dloss` is a scalar tensor for 'mean'/'sum' and per-row for 'none' (it stays on the GPU).
 */
export function crossEntropyBackward(
  dloss: Tensor, logits: Tensor, labels: Tensor, lse: Tensor, opts: { reduction?: Reduction } = {},
): Tensor {
  const op = 'crossEntropyBackward';
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction);
  const { rows, c } = checkLabelsShape(op, logits, labels);
  checkF32(op, lse, 'lse');
  if (!sameShape(lse.shape, labels.shape)) throw new Error(`${op}: lse has shape ${fmt(lse.shape)}, expected ${fmt(labels.shape)}`);
  const g_stride = upstreamStride(op, dloss, reduction, labels.shape);
  checkSameDevice(op, logits, dloss, lse);
  const dev = logits.device;
  const dx = Tensor.empty(dev, logits.shape, 'f32', op);
  if (dx.size === 0) return dx;
  const vec4 = c % 4 === 0;
  const items = vec4 ? (rows * c) / 4 : rows * c;
  const label = `${op}(logits ${fmt(logits.shape)}, '${reduction}')`;
  const { tag, flags } = indexFlags(op, label, labels, c, LABEL_NAMES);
  const common = { labels: labels.binding(op), lse: lse.binding(op), g: dloss.binding(op), flags };
  dev.dispatch({
    kernel: 'loss',
    entry: vec4 ? 'ce_bwd_vec4' : 'ce_bwd',
    label,
    constants: { WG: LOSS_WG, ...f32Div(items) },
    bindings: vec4 ? { ...common, x4: logits.binding(op), dx4: dx.binding(op) } : { ...common, x: logits.binding(op), dx: dx.binding(op) },
    params: { rows, c, n: 0, g_stride, scale: reduction === 'mean' ? 1 / rows : 1, nan: NaN, lowest: F32_LOWEST, tag },
    workgroups: groupsFor(items, LOSS_WG),
  });
  return dx;
}

/**
 * Reads `labels` back and throws unless every one lies in [0, numClasses) (an i32 tensor).
 * Costs a readback: call it where data is loaded, not per training step.
 */
export async function checkLabels(labels: Tensor, numClasses: number, op = 'crossEntropy'): Promise<void> {
  if (labels.dtype !== 'i32') throw new Error(`${op}: labels ${fmt(labels.shape)} have dtype ${labels.dtype}, expected i32 class indices`);
  const v = await labels.data();
  for (let i = 0; i < v.length; i++) {
    if (!(v[i] >= 0 && v[i] < numClasses)) {
      throw new Error(`${op}: label ${v[i]} at flat index ${i} of labels ${fmt(labels.shape)} is outside [0, ${numClasses})`);
    }
  }
}

function checkPair(op: string, pred: Tensor, target: Tensor): void {
  checkF32(op, pred, 'prediction');
  checkF32(op, target, 'target');
  checkSameDevice(op, pred, target);
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`${op}: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} must have the same shape (no broadcasting)`);
  }
}

/** mean (or sum, or none) of (pred - target)^2 over every element. */
export function mseLoss(pred: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const op = 'mseLoss';
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction);
  checkPair(op, pred, target);
  const dev = pred.device;
  const sq = Tensor.empty(dev, pred.shape, 'f32', op);
  if (sq.size > 0) {
    dev.dispatch({
      kernel: 'loss',
      entry: 'mse_fwd',
      label: `${op}(${fmt(pred.shape)})`,
      constants: { WG: LOSS_WG },
      bindings: { a: pred.binding(op), b: target.binding(op), out: sq.binding(op) },
      params: { rows: 0, c: 0, n: sq.size, g_stride: 0, scale: 1, nan: NaN, lowest: F32_LOWEST, tag: 0 },
      workgroups: groupsFor(sq.size, LOSS_WG),
    });
  }
  if (reduction === 'none') return sq;
  const loss = reduction === 'mean' ? mean(sq) : sum(sq);
  sq.dispose();
  return loss;
}

/** d mseLoss / d pred = 2 (pred - target) * dloss (/ n for 'mean'); d/d target is its negation. */
export function mseLossBackward(dloss: Tensor, pred: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const op = 'mseLossBackward';
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction);
  checkPair(op, pred, target);
  const g_stride = upstreamStride(op, dloss, reduction, pred.shape);
  checkSameDevice(op, pred, dloss);
  const dev = pred.device;
  const dpred = Tensor.empty(dev, pred.shape, 'f32', op);
  if (dpred.size === 0) return dpred;
  dev.dispatch({
    kernel: 'loss',
    entry: 'mse_bwd',
    label: `${op}(${fmt(pred.shape)}, '${reduction}')`,
    constants: { WG: LOSS_WG },
    bindings: { a: pred.binding(op), b: target.binding(op), g: dloss.binding(op), out: dpred.binding(op) },
    params: {
      rows: 0, c: 0, n: dpred.size, g_stride, scale: reduction === 'mean' ? 1 / dpred.size : 1, nan: NaN, lowest: F32_LOWEST, tag: 0,
    },
    workgroups: groupsFor(dpred.size, LOSS_WG),
  });
  return dpred;
}
