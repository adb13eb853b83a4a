/**
 * @file A model as a function of its parameters, for the functional autograd API (hvp, vjp),
 * which differentiates with respect to fresh leaves: `asFunctionOf` runs a model-reading block
 * with each Parameter's value temporarily replaced by the given tensor, then restores it.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { F64Tensor, type GradTensor } from '../../autograd/index.js';
import type { Parameter } from '../../nn/module.js';
import { fmt } from '../../tensor/shape.js';

/** `fn` of the given parameter values: fn(...values) runs `body` with parameters[i].value = values[i]. */
export function asFunctionOf(parameters: readonly Parameter[], body: () => Tensor): (...values: Tensor[]) => Tensor {
  return (...values) => {
    if (values.length !== parameters.length) throw new Error(`asFunctionOf: ${values.length} values for ${parameters.length} parameters`);
    const saved = parameters.map((p) => p.value);
    parameters.forEach((p, i) => {
      if (fmt(values[i].shape) !== fmt(p.value.shape)) throw new Error(`asFunctionOf: a value of shape ${fmt(values[i].shape)} for parameter ${p.name} ${fmt(p.value.shape)}`);
      p.value = values[i];
    });
    try {
      return body();
    } finally {
      parameters.forEach((p, i) => { p.value = saved[i]; });
    }
  };
}

/** The values of a GPU tensor or an f64 tensor on the host. */
export async function readValues(t: GradTensor): Promise<ArrayLike<number>> {
  return t instanceof F64Tensor ? t.data : (t as Tensor).data();
}
