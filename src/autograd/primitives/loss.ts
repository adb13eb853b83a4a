/**
 * @file The crossEntropy primitive (fused softmax cross-entropy: src/ops/loss.ts on the GPU, with
 * a fused backward), its rule and cases; and mseLoss, composed.
 */
import { crossEntropy as rawCrossEntropy, crossEntropyBackward, crossEntropyWithGrad, crossEntropyWithGradFits, type Reduction } from '../../ops/loss.js';
import { crossEntropyBackwardRef, crossEntropyRef } from '../../reference/loss.js';
import { tidy } from '../../tensor/scope.js';
import { fmt, sameShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkNotDifferentiated, constantLike, detach, indicesLike, isUnitSeed, labelsAsFloat, nd, onBackend } from '../backends.js';
import { softmax } from './softmax.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor } from '../primitive.js';
import { apply, isGradEnabled, isTracked } from '../tape.js';
import { eq, mul, square, sub } from './elementwise.js';
import { unsqueeze } from './layout.js';
import { mean, sum } from './reduce.js';

type T = GradTensor;

export interface LossParams {
  /**
   * Softmax cross-entropy: inputs [logits [..., C], labels [...]]; saves the per-row logsumexp,
   * or with `withGrad` ('mean'/'sum' only) the gradient for an upstream value of 1, computed by
   * the forward's one dispatch (crossEntropyWithGrad).
   */
  crossEntropy: { reduction: Reduction; withGrad?: boolean };
}

/** The fused backward, d logits = (softmax(x) - onehot(label)) g, per backend (not recorded). */
const crossEntropyFused = {
  gpu: (g: Tensor, logits: Tensor, labels: Tensor, lse: Tensor, reduction: Reduction) => crossEntropyBackward(g, logits, labels, lse, { reduction }),
  f64: (g: F64Tensor, logits: F64Tensor, labels: F64Tensor, _lse: F64Tensor, reduction: Reduction) =>
    F64Tensor.fromNd(crossEntropyBackwardRef(g.nd, logits.nd, labels.data, reduction)),
};

/** The onehot rows of integer `labels` [...] over `classes`: a constant [..., classes]. */
function oneHot<A extends T>(labels: A, classes: number, like: A): A {
  const l = unsqueeze(labelsAsFloat(labels), -1);
  return eq(l, constantLike(like, [classes], Array.from({ length: classes }, (_, i) => i)));
}

export const LOSS = definePrimitives<LossParams>({
  crossEntropy: {
    gpu: (xs, p) => {
      if (p.withGrad) {
        const { loss, dlogits } = crossEntropyWithGrad(xs[0] as Tensor, xs[1] as Tensor, { reduction: p.reduction as 'mean' | 'sum' });
        return { out: loss, saved: [dlogits] };
      }
      const { loss, lse } = rawCrossEntropy(xs[0] as Tensor, xs[1] as Tensor, { reduction: p.reduction });
      return { out: loss, saved: [lse] };
    },
    f64: (xs, p) => {
      const labels = nd(xs[1], 'crossEntropy');
      const logits = nd(xs[0], 'crossEntropy');
      const { loss, lse } = crossEntropyRef(logits, labels.data, p.reduction);
      if (p.withGrad) {
        const unit = { shape: [], data: Float64Array.of(1) };
        return { out: F64Tensor.fromNd(loss), saved: [F64Tensor.fromNd(crossEntropyBackwardRef(unit, logits, labels.data, p.reduction))] };
      }
      return { out: F64Tensor.fromNd(loss), saved: [new F64Tensor(labels.shape, lse.data)] };
    },
    // softmax cross-entropy, per row: d loss = (softmax(x) - onehot(label)) dx; the fused kernel
    // (or, withGrad, the forward's gradient times g: no dispatch when g is backward's seed of 1)
    // unless the backward is recorded (createGraph), then composed
    rule: (g, { inputs: [x, labels], saved: [lse], params: { reduction, withGrad }, needs }) => {
      if (!needs[0]) return [null, null];
      const logits = x as typeof g;
      const l = labels as typeof g;
      if (!isGradEnabled() && withGrad) {
        const unit = lse as typeof g;
        return [isUnitSeed(g) ? detach(unit) : mul(unit, g), null];
      }
      if (!isGradEnabled()) {
        return [onBackend('crossEntropy', g, crossEntropyFused)(g, logits, l, lse, reduction) as typeof g, null];
      }
      const c = logits.shape[logits.shape.length - 1];
      const d = sub(softmax(logits, -1), oneHot(l, c, logits));
      const up = reduction === 'none' ? unsqueeze(g, -1) : reduction === 'mean' ? mul(g, 1 / l.size) : g;
      return [mul(d, up), null];
    },
    // unrecorded with the forward's gradient, a unit seed is never multiplied in (above)
    ignoresUnitSeed: (p) => p.withGrad === true,
  },
});

/**
 * Softmax cross-entropy of `logits` [..., C] against integer `labels` [...] ('mean' over rows by
 * default, 'sum', or 'none': per-row losses). Differentiable in the logits (twice: the
 * createGraph backward is composed). NOTE: unlike the raw launcher, returns the loss only.
 */
export function crossEntropy<A extends T>(logits: A, labels: A, opts: { reduction?: Reduction } = {}): A {
  checkNotDifferentiated('crossEntropy', 'labels', labels);
  if (logits.shape.length < 1 || !sameShape(logits.shape.slice(0, -1), labels.shape)) {
    throw new Error(`crossEntropy: logits ${fmt(logits.shape)} and labels ${fmt(labels.shape)} disagree: expected labels of shape ${fmt(logits.shape.slice(0, -1))}`);
  }
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new Error(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
  // a small batch whose gradient will be wanted: the loss and its gradient in one dispatch
  const withGrad = reduction !== 'none' && isGradEnabled() && isTracked(logits) && (!(logits instanceof Tensor) || crossEntropyWithGradFits(logits));
  return apply(LOSS.crossEntropy, [logits, labels], withGrad ? { reduction, withGrad } : { reduction });
}

/** mean (or sum, or none) of (pred - target)^2, composed (differentiable, twice). */
export function mseLoss<A extends T>(pred: A, target: A, opts: { reduction?: 'mean' | 'sum' | 'none' } = {}): A {
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`mseLoss: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} must have the same shape (no broadcasting)`);
  }
  return tidy(() => {
    const sq = square(sub(pred, target));
    const r = opts.reduction ?? 'mean';
    return r === 'none' ? sq : r === 'sum' ? sum(sq) : mean(sq);
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

export const LOSS_CASES: Cases<LossParams> = {
  crossEntropy: [
    { name: 'crossEntropy mean [4, 5]', inputs: [{ shape: [4, 5] }], fn: (x: V) => crossEntropy(x, indicesLike(x, [4], [0, 3, 4, 3])) },
    { name: 'crossEntropy sum [2, 3, 4]', inputs: [{ shape: [2, 3, 4], lo: -3, hi: 3 }], fn: (x: V) => crossEntropy(x, indicesLike(x, [2, 3], [1, 0, 3, 3, 2, 1]), { reduction: 'sum' }) },
    { name: 'crossEntropy none [3, 6]', inputs: [{ shape: [3, 6] }], fn: (x: V) => crossEntropy(x, indicesLike(x, [3], [5, 0, 2]), { reduction: 'none' }) },
  ],
};
