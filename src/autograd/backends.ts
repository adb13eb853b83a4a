/**
 * @file The two backends a primitive runs on: the GPU (f32 tensors, the raw launchers of
 * src/ops) and the f64 reference (F64Tensor, src/reference). A primitive's def carries its
 * forward for each (primitive.ts); a backend supplies what the tape needs besides: aliases,
 * constants, readback. Also the non-differentiable helpers that make tensors on a backend.
 */
import * as creation from '../ops/creation.js';
import { keep } from '../tensor/scope.js';
import type { NDArray } from '../reference/ndarray.js';
import { fmt, sizeOf, type Shape } from '../tensor/shape.js';
import { Tensor, type GradNode } from '../tensor/tensor.js';
import { F64Tensor } from './f64.js';
import type { GradTensor, Operand, PrimitiveDef, WithSaved } from './primitive.js';

/** A tape node as the backends see it: a GradNode that counts the tensors referring to it. */
export interface CountedNode extends GradNode {
  refs: number;
}

export interface Backend<A extends GradTensor> {
  readonly name: 'gpu' | 'f64';
  /** Runs the forward of `def` on this backend. */
  forward<P>(def: PrimitiveDef<P>, xs: readonly Operand<A>[], params: P): A | WithSaved<A>;
  /**
   * Another handle on x's values carrying `node` (counted as one more reference to it). No
   * scope owns it unless `scoped`: the tape keeps these, so `tidy` can free what a user sees.
   */
  alias(x: A, node: CountedNode | null, scoped?: boolean): A;
  /** A constant tensor of `shape` on the backend (and device) of `like`. */
  constant(like: A, shape: Shape, values: number | ArrayLike<number>): A;
  /**
   * A tensor of `shape` whose values no one reads (GPU: no dispatch writes it; f64: NaN, so a
   * read shows): backward's seed when the root's rule ignores it (PrimitiveDef.ignoresUnitSeed).
   */
  unwritten(like: A, shape: Shape): A;
  /** Values as f64 (GPU: an async readback). */
  read(x: A): Promise<Float64Array>;
}

export const gpu: Backend<Tensor> = {
  name: 'gpu',
  forward: (def, xs, params) => def.gpu(xs, params),
  alias(x, node, scoped = false) {
    const s = x.storage('autograd');
    s.refs++;
    const view = new Tensor(s, x.shape, x.dtype);
    if (!scoped) keep(view);
    view.node = node;
    if (node) node.refs++;
    return view;
  },
  constant(like, shape, values) {
    if (typeof values === 'number') return creation.full(shape, values, { device: like.device });
    return creation.fromArray(Float32Array.from(values), shape, { device: like.device });
  },
  unwritten(like, shape) {
    return Tensor.empty(like.device, shape, 'f32', 'backward seed');
  },
  async read(x) {
    return Float64Array.from(await x.data());
  },
};

export const f64: Backend<F64Tensor> = {
  name: 'f64',
  forward: (def, xs, params) => def.f64(xs, params),
  alias(x, node) {
    if (x.disposed) throw new Error(`autograd: ${x} was disposed`);
    const view = new F64Tensor(x.shape, x.data);
    view.node = node;
    if (node) node.refs++;
    return view;
  },
  constant(_like, shape, values) {
    const n = sizeOf(shape);
    if (typeof values === 'number') return new F64Tensor(shape, new Float64Array(n).fill(values));
    if (values.length !== n) throw new Error(`constant: ${values.length} values for shape ${fmt(shape)}`);
    return new F64Tensor(shape, Float64Array.from(values));
  },
  unwritten(_like, shape) {
    return new F64Tensor(shape, new Float64Array(sizeOf(shape)).fill(NaN));
  },
  async read(x) {
    return x.data;
  },
};

const unitSeeds = new WeakSet<GradTensor>();

/** Marks `seed` as backward's own seed gradient of ones (a rule may then skip multiplying by it). */
export function markUnitSeed<A extends GradTensor>(seed: A): A {
  unitSeeds.add(seed);
  return seed;
}

/** Whether `g` is backward's own seed gradient of ones (markUnitSeed). */
export function isUnitSeed(g: GradTensor): boolean {
  return unitSeeds.has(g);
}

/** An f64 operand as an array (a number as a scalar). */
export function nd(x: Operand<F64Tensor>, op: string): NDArray {
  if (typeof x === 'number') return { shape: [], data: Float64Array.of(x) };
  if (x.disposed) throw new Error(`${op}: ${x} was disposed`);
  return x.nd;
}

/** The backend of the tensors among `xs` (all must agree). */
export function backendOf(op: string, xs: readonly Operand<GradTensor>[]): Backend<GradTensor> {
  let found: Backend<GradTensor> | null = null;
  for (const x of xs) {
    if (typeof x === 'number') continue;
    const b = (x instanceof F64Tensor ? f64 : x instanceof Tensor ? gpu : null) as Backend<GradTensor> | null;
    if (!b) throw new Error(`${op}: expected a Tensor or F64Tensor, got ${String(x)}`);
    if (found && found !== b) throw new Error(`${op}: mixes GPU tensors and f64 reference tensors`);
    found = b;
  }
  if (!found) throw new Error(`${op}: at least one operand must be a tensor`);
  return found;
}

/**
 * A fused backward on the backend of `g`: `impl.gpu` on GPU tensors (a fused backward kernel),
 * `impl.f64` on reference tensors (the reference backward). Rules call it when the backward is
 * not recorded (no createGraph); otherwise they compose the gradient from primitives.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function onBackend(op: string, g: GradTensor, impl: { gpu: (...args: any[]) => unknown; f64: (...args: any[]) => unknown }): (...args: any[]) => any {
  return impl[backendOf(op, [g]).name];
}

// ---------------------------------------------------------------- tensors on a backend (not recorded)

/** A constant (untracked) tensor of `shape` on the backend and device of `like`. */
export function constantLike<A extends GradTensor>(like: A, shape: Shape, values: number | ArrayLike<number>): A {
  return backendOf('constantLike', [like]).constant(like, shape, values) as A;
}
export const zerosLike = <A extends GradTensor>(x: A) => constantLike(x, x.shape, 0);
export const onesLike = <A extends GradTensor>(x: A) => constantLike(x, x.shape, 1);

/** The same values with no gradient history (a view; not recorded). */
export function detach<A extends GradTensor>(x: A): A {
  return backendOf('detach', [x]).alias(x, null, true) as A;
}

/** An integer tensor (i32 on the GPU, an integer-valued F64Tensor in f64) on the backend of `like`. */
export function indicesLike<A extends GradTensor>(like: A, shape: Shape, values: ArrayLike<number>): A {
  if (like instanceof Tensor) return creation.fromArray(Int32Array.from(values), shape, { device: like.device }) as unknown as A;
  return backendOf('indicesLike', [like]).constant(like, shape, values) as A;
}

/** Integer labels/indices as float values (GPU: an i32 -> f32 cast; f64: as is). Not differentiable. */
export function labelsAsFloat<A extends GradTensor>(labels: A): A {
  if (labels instanceof Tensor && labels.dtype === 'i32') return creation.cast(labels, 'f32') as unknown as A;
  return labels;
}

/** Integer inputs (indices, labels) take no part in differentiation. */
export function checkNotDifferentiated(op: string, name: string, x: GradTensor): void {
  if (x.requiresGrad || x.node) throw new Error(`${op}: ${name} ${fmt(x.shape)} are integers and cannot require grad`);
}
