/**
 * @file The tensor: a shape over refcounted GPU storage (dense, row-major, contiguous).
 * Views (reshape, squeeze, unsqueeze) share storage; every other op writes a new tensor.
 */
import type { Device } from './device.js';
import type { BufferRange } from './kernel-registry.js';
import { checkShape, fmt, normAxis, sizeOf, type Shape } from './shape.js';
import { track } from './scope.js';

export type DType = 'f32' | 'i32';

export class Storage {
  refs = 1;
  constructor(readonly device: Device, readonly buffer: GPUBuffer, readonly bytes: number) {}

  release(): void {
    if (--this.refs === 0) this.device.pool.release(this.buffer);
  }
}

let nextId = 1;

/** Autograd bookkeeping attached by src/autograd (kept opaque here). */
export interface GradNode {
  readonly op: string;
  /** One tensor fewer refers to this node (it frees its saved tensors when none is left). */
  unref(): void;
}

/** Set by src/autograd: records view ops (reshape, squeeze, unsqueeze) of tensors in the tape. */
export const autogradHooks: { onView: ((src: Tensor, view: Tensor) => void) | null } = { onView: null };

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  private _storage: Storage | null;

  constructor(storage: Storage, shape: Shape, readonly dtype: DType = 'f32') {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this._storage = storage;
    storage.device.liveTensors++;
    track(this);
  }

  /** A new tensor of `shape` with fresh (uninitialized) storage. */
  static empty(device: Device, shape: Shape, dtype: DType = 'f32', op = 'empty', forUpload = false): Tensor {
    checkShape(op, shape);
    const bytes = sizeOf(shape) * 4;
    const buffer = device.allocStorage(`${op} ${fmt(shape)}`, bytes, forUpload);
    if (device.anomaly) device.shapes.set(buffer, shape);
    return new Tensor(new Storage(device, buffer, bytes), shape, dtype);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this._storage === null;
  }

  get device(): Device {
    return this.storage('device').device;
  }

  /** The storage, or a clear error naming `op` if this tensor was disposed. */
  storage(op: string): Storage {
    if (!this._storage) throw new Error(`${op}: tensor #${this.id} ${fmt(this.shape)} was disposed`);
    return this._storage;
  }

  /** The bound range of this tensor's elements, for a dispatch. */
  binding(op: string): BufferRange {
    const s = this.storage(op);
    return { buffer: s.buffer, offset: 0, size: Math.max(4, this.size * 4) };
  }

  dispose(): void {
    if (!this._storage) return;
    this._storage.device.liveTensors--;
    this._storage.release();
    this._storage = null;
    this.grad?.dispose();
    this.grad = null;
    this.node?.unref();
    this.node = null;
  }

  /** A view with another shape over the same storage (-1 infers one size). */
  reshape(shape: Shape): Tensor {
    const s = this.storage('reshape');
    const infer = shape.filter((d) => d === -1).length;
    if (infer > 1) throw new Error(`reshape: at most one -1 in ${fmt(shape)}`);
    let out = [...shape];
    if (infer === 1) {
      const known = sizeOf(shape.filter((d) => d !== -1));
      if (known === 0 || this.size % known !== 0) {
        throw new Error(`reshape: cannot infer -1 in ${fmt(shape)} for ${this.size} elements of ${fmt(this.shape)}`);
      }
      out = shape.map((d) => (d === -1 ? this.size / known : d));
    }
    checkShape('reshape', out);
    if (sizeOf(out) !== this.size) {
      throw new Error(
        `reshape: cannot reshape ${fmt(this.shape)} (${this.size} elements) to ${fmt(out)} (${sizeOf(out)} elements)`,
      );
    }
    s.refs++;
    const view = new Tensor(s, out, this.dtype);
    autogradHooks.onView?.(this, view);
    return view;
  }

  /** Drops size-1 axes (all, or the one given). */
  squeeze(axis?: number): Tensor {
    if (axis === undefined) return this.reshape(this.shape.filter((d) => d !== 1));
    const a = normAxis('squeeze', axis, this.rank, this.shape);
    if (this.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${fmt(this.shape)} has size ${this.shape[a]}, expected 1`);
    return this.reshape(this.shape.filter((_, i) => i !== a));
  }

  unsqueeze(axis: number): Tensor {
    const a = normAxis('unsqueeze', axis, this.rank + 1);
    const out = [...this.shape];
    out.splice(a, 0, 1);
    return this.reshape(out);
  }

  /** Reads the elements back (into `into` when given: no allocation). */
  async data(into?: Float32Array | Int32Array): Promise<Float32Array | Int32Array> {
    const s = this.storage('data');
    const Ctor = this.dtype === 'i32' ? Int32Array : Float32Array;
    const out = into ?? new Ctor(this.size);
    if (out.length !== this.size) {
      throw new Error(`data: destination holds ${out.length} elements, tensor ${fmt(this.shape)} has ${this.size}`);
    }
    if (this.size === 0) return out;
    await s.device.read({ buffer: s.buffer, offset: 0, size: this.size * 4 }, out.buffer as ArrayBuffer, out.byteOffset);
    return out;
  }

  /** The elements as a nested-free plain array. */
  async toArray(): Promise<number[]> {
    return Array.from(await this.data());
  }

  /** The single element of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: tensor ${fmt(this.shape)} has ${this.size} elements, expected 1`);
    return (await this.data())[0];
  }

  toString(): string {
    return `Tensor#${this.id}(${fmt(this.shape)}, ${this.dtype}${this.disposed ? ', disposed' : ''})`;
  }
}
