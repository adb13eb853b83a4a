/**
 * @file Autograd's public surface: the differentiable ops (PyTorch names), the tape
 * (apply, backward, gradients, noGrad), the primitives, the functional API, HVPs, gradcheck and
 * f64 tensors.
 */
import { Tensor } from '../tensor/tensor.js';
import { backward, type BackwardOptions } from './backward.js';

export * from './ops.js';
export { noGrad, enableGrad, isGradEnabled, isTracked, apply } from './tape.js';
export { backward, gradients, type BackwardOptions } from './backward.js';
export { grad, valueAndGrad, vjp, hvp, hvpFiniteDiff, type VJP } from './functional.js';
export { gradcheck, gradgradcheck, GradcheckError, type GradcheckOptions, type GradcheckReport } from './gradcheck.js';
export { F64Tensor } from './f64.js';
export { PRIMITIVES, RULES, type Primitive, type PrimitiveParams } from './primitives/index.js';
export { definePrimitives, noGradient, type GradTensor, type PrimitiveDef, type Rule, type RuleContext, type WithSaved } from './primitive.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Accumulates d(this)/d(leaf) into `.grad` of every leaf with requiresGrad (see autograd's backward). */
    backward(opts?: BackwardOptions<Tensor>): void;
  }
}

Tensor.prototype.backward = function (this: Tensor, opts?: BackwardOptions<Tensor>): void {
  backward(this, opts);
};
