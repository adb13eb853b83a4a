/**
 * @file Autograd's public surface: the differentiable ops (PyTorch names), the tape
 * (backward, gradients, noGrad), the functional API, HVPs, gradcheck and f64 tensors.
 */
import { Tensor } from '../tensor/tensor.js';
import { backward, type BackwardOptions } from './tape.js';

export * from './ops.js';
export { backward, gradients, noGrad, enableGrad, isGradEnabled, isTracked, type BackwardOptions } from './tape.js';
export { grad, valueAndGrad, vjp, hvp, hvpFiniteDiff, type VJP } from './functional.js';
export { gradcheck, gradgradcheck, GradcheckError, type GradcheckOptions, type GradcheckReport } from './gradcheck.js';
export { F64Tensor } from './f64.js';
export { RULES, type Rule, type RuleContext } from './rules.js';
export type { Primitive, PrimitiveParams, GradTensor } from './primitives.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Accumulates d(this)/d(leaf) into `.grad` of every leaf with requiresGrad (see autograd's backward). */
    backward(opts?: BackwardOptions<Tensor>): void;
  }
}

Tensor.prototype.backward = function (this: Tensor, opts?: BackwardOptions<Tensor>): void {
  backward(this, opts);
};
