/**
 * @file F64Tensor: a tensor over the f64 reference implementation (CPU, Float64Array). The
 * differentiable ops accept it in place of a GPU Tensor, so one function and one rule table run
 * in f64 (for gradcheck) and in f32 on the GPU.
 */
import { fromArray } from '../ops/creation.js';
import type { Device } from '../tensor/device.js';
import { fmt, sizeOf, type Shape } from '../tensor/shape.js';
import type { GradNode, Tensor } from '../tensor/tensor.js';
import type { NDArray } from '../reference/ndarray.js';

export class F64Tensor {
  readonly dtype = 'f64';
  readonly shape: readonly number[];
  readonly size: number;
  requiresGrad = false;
  grad: F64Tensor | null = null;
  node: GradNode | null = null;
  disposed = false;

  /** `data` is shared, never copied: treat it as immutable once wrapped. */
  constructor(shape: Shape, readonly data: Float64Array) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    if (data.length !== this.size) throw new Error(`F64Tensor: ${data.length} values for shape ${fmt(shape)}`);
  }

  static from(values: ArrayLike<number>, shape?: Shape): F64Tensor {
    return new F64Tensor(shape ?? [values.length], Float64Array.from(values));
  }

  static fromNd(a: NDArray): F64Tensor {
    return new F64Tensor(a.shape, a.data);
  }

  /** A GPU tensor's values in f64 (an async readback). */
  static async fromTensor(t: Tensor): Promise<F64Tensor> {
    return new F64Tensor(t.shape, Float64Array.from(await t.data()));
  }

  get nd(): NDArray {
    return { shape: [...this.shape], data: this.data };
  }

  /** The values as a GPU f32 tensor. */
  toTensor(device?: Device): Tensor {
    return fromArray(Float32Array.from(this.data), this.shape, { device });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.grad?.dispose();
    this.grad = null;
    this.node?.unref();
    this.node = null;
  }

  toString(): string {
    return `F64Tensor(${fmt(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }
}
