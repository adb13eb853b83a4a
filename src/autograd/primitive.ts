/**
 * @file What a differentiable primitive is: its forward on the GPU (f32, a raw launcher of
 * src/ops) and in the f64 reference (src/reference), and its rule (a vector-Jacobian product),
 * held together in one PrimitiveDef (MLX style: eval and vjp side by side). The families under
 * primitives/ define them; the tape (tape.ts) runs and records whichever def it is given.
 */
import type { GradNode, Tensor } from '../tensor/tensor.js';
import type { F64Tensor } from './f64.js';

/**
 * What the tape needs of a tensor; GPU tensors (src/tensor/tensor.ts) and f64 reference
 * tensors (f64.ts) both provide it, so rules and composites run on either.
 */
export interface GradTensor {
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: string;
  requiresGrad: boolean;
  grad: GradTensor | null;
  node: GradNode | null;
  readonly disposed: boolean;
  dispose(): void;
}

/** Binary primitives take a plain number on either side (a constant, never differentiated). */
export type Operand<A> = A | number;

/** A forward that also hands tensors to its rule (a fused kernel's logsumexp, mean, rstd). */
export interface WithSaved<A> {
  out: A;
  saved: A[];
}

export interface RuleContext<Params, A extends GradTensor> {
  /** The primitive's inputs (saved by the tape), numbers for constant operands. */
  inputs: readonly Operand<A>[];
  /** Its output. */
  out: A;
  params: Params;
  /** Shape of each input ([] for numbers). */
  shapes: readonly (readonly number[])[];
  /** Whether input i needs a gradient (skip the work when it does not). */
  needs: readonly boolean[];
  /** What the forward saved for the rule (fused kernels: logsumexp, mean, rstd). */
  saved: readonly A[];
}

/**
 * One backward rule (a vector-Jacobian product), written with the differentiable ops so the
 * backward pass can itself be recorded (createGraph) and differentiated again. It returns
 * gradients in the broadcast (output) shape; the tape sums them back to each input's shape.
 * `null` means no gradient for that input.
 */
export type Rule<Params> = <A extends GradTensor>(g: A, ctx: RuleContext<Params, A>) => (A | null)[];

/** Piecewise-constant primitives: no gradient (the tape records no node for them). */
export const noGradient = <A extends GradTensor>(): (A | null)[] => [];

/** A primitive: its name, its forward on each backend, its rule. */
export interface PrimitiveDef<Params> {
  readonly name: string;
  readonly gpu: (xs: readonly Operand<Tensor>[], params: Params) => Tensor | WithSaved<Tensor>;
  readonly f64: (xs: readonly Operand<F64Tensor>[], params: Params) => F64Tensor | WithSaved<F64Tensor>;
  readonly rule: Rule<Params>;
  /**
   * True when the rule, run unrecorded at the root of a backward with backward's own seed of
   * ones (isUnitSeed), never reads that seed's values: backward then leaves them unwritten.
   */
  readonly ignoresUnitSeed?: (params: Params) => boolean;
}

/** The defs of a family, one per key of its params table `PP` (a missing one does not compile). */
export type Defs<PP> = { readonly [K in keyof PP]: PrimitiveDef<PP[K]> };

/** Names each def after its key. */
export function definePrimitives<PP>(defs: { [K in keyof PP]: Omit<PrimitiveDef<PP[K]>, 'name'> }): Defs<PP> {
  return Object.fromEntries(Object.entries(defs).map(([name, d]) => [name, { name, ...(d as object) }])) as Defs<PP>;
}

/** No parameters. */
export type NoParams = Record<string, never>;

// ---------------------------------------------------------------- gradcheck cases

export interface InputSpec {
  shape: number[];
  /** Uniform range of the values (default [-2, 2]). */
  lo?: number;
  hi?: number;
}

/** A gradcheck case (run by `widthscope gradcheck`, src/cli/gradcheck.ts). */
export interface Case {
  name: string;
  inputs: InputSpec[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fn: (...xs: any[]) => GradTensor;
  /** Run gradgradcheck too (default true). */
  twice?: boolean;
}

/** Each primitive of a family with its gradcheck cases (a missing one does not compile). */
export type Cases<PP> = { readonly [K in keyof PP]: Case[] };
