/**
 * @file Sharpness: the top eigenvalue of the training-loss Hessian, by power iteration on exact
 * Hessian-vector products (src/autograd/functional.ts `hvp`, double backward).
 *
 * Each iteration: w = H v, λ = <v, w> (v a unit vector), v <- w / ||w||. Power iteration finds the
 * eigenvalue of largest magnitude (with its sign); early in training that is the top (positive)
 * one. The returned unit vector warm-starts the next call: about 20 iterations from a random
 * start, about 5 from the previous step's vector.
 *
 * Ensembles: with `members` = S every parameter's leading axis is the member axis, the loss is the
 * sum of the members' losses and its Hessian is block-diagonal (member s's block is its own
 * Hessian). The iteration normalises each member's slice separately, so one run gives every
 * member's top eigenvalue at once (each block iterates exactly as it would alone).
 * Cost per iteration: one forward, one backward and one double backward over the batch.
 */
import { add, constantLike, div, hvp, mul, noGrad, reshape, sqrt, sum, type GradTensor } from '../../autograd/index.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../nn/models.js';
import { fmt } from '../../tensor/shape.js';
import { asFunctionOf, readValues } from './parameters.js';
import { mulberry32 } from '../../data/prng.js';

type T = GradTensor;

export interface PowerIterationOptions<A extends T> {
  /** Iterations (default 20 from a random start, 5 from `init`). */
  iterations?: number;
  /** A start direction (e.g. the previous call's `vector`); default random from `seed`. */
  init?: readonly A[] | null;
  seed?: number;
  /** Ensemble size S: every parameter's axis 0 is the member axis (default: a single model). */
  members?: number | null;
  /**
   * Runs one iteration in place of `powerStep(f, params, v, members)` (a captured one, see
   * TrainingProbes); it must compute exactly that.
   */
  step?: (v: readonly A[]) => { lambda: A; v: A[] };
}

export interface TopEigen<A extends T> {
  /** Per member (one entry for a single model): the Rayleigh quotient <v, H v> of the last iteration. */
  eigenvalues: number[];
  /** The unit direction (per member) after the last iteration, to warm-start the next call; the caller disposes it. */
  vector: A[];
  iterations: number;
}

/** Per-member squared norms [S] (or [1]) of a list of tensors with the member axis first. */
function memberDots<A extends T>(a: readonly A[], b: readonly A[], S: number | null): A {
  return a.map((x, i) => sum(reshape(mul(x, b[i]), [S ?? 1, -1]), -1)).reduce((p, q) => add(p, q));
}

function normalise<A extends T>(v: readonly A[], S: number | null): A[] {
  const norm = sqrt(memberDots(v, v, S));
  return v.map((x) => div(x, reshape(norm, [S ?? 1, ...Array<number>(Math.max(0, x.shape.length - 1)).fill(1)])));
}

/** One iteration: λ = <v, H v> per member (v a unit vector) and the next unit vector H v / ||H v||. */
export function powerStep<A extends T>(f: (...ps: A[]) => A, params: readonly A[], v: readonly A[], S: number | null): { lambda: A; v: A[] } {
  const w = hvp(f, params, v);
  const next = noGrad(() => tidy(() => ({ lambda: memberDots(v, w, S), v: normalise(w, S) })));
  for (const t of w) t.dispose();
  return next;
}

/** The top Hessian eigenvalue of a one-element `f` at `params` (per member for an ensemble). */
export async function topHessianEigen<A extends T>(f: (...ps: A[]) => A, params: readonly A[], opts: PowerIterationOptions<A> = {}): Promise<TopEigen<A>> {
  const S = opts.members ?? null;
  const iterations = opts.iterations ?? (opts.init ? 5 : 20);
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`sharpness: iterations must be a positive integer, got ${iterations}`);
  if (S !== null) {
    const bad = params.find((p) => p.shape[0] !== S);
    if (bad) throw new Error(`sharpness: an ensemble of ${S} members needs every parameter's axis 0 to be ${S}, got a parameter ${fmt(bad.shape)}`);
  }
  if (opts.init) {
    if (opts.init.length !== params.length || opts.init.some((v, i) => fmt(v.shape) !== fmt(params[i].shape))) {
      throw new Error(`sharpness: the warm-start vector ${opts.init.map((v) => fmt(v.shape)).join(' ')} does not match the parameters ${params.map((p) => fmt(p.shape)).join(' ')}`);
    }
  }
  const r = mulberry32(opts.seed ?? 0x5eed);
  let v: A[] = noGrad(() => tidy(() => normalise(opts.init ? [...opts.init] : params.map((p) => constantLike(p, p.shape, Float32Array.from({ length: p.size }, () => r() * 2 - 1))), S)));
  let lambda: A | null = null;
  const step = opts.step ?? ((u: readonly A[]) => powerStep(f, params, u, S));
  for (let k = 0; k < iterations; k++) {
    const next = step(v);
    for (const t of v) t.dispose();
    lambda?.dispose();
    v = next.v;
    lambda = next.lambda;
  }
  const eigenvalues = Array.from(await readValues(lambda!));
  lambda!.dispose();
  return { eigenvalues, vector: v, iterations };
}

/**
 * The sharpness of `model` on a batch: the top eigenvalue of the Hessian of `loss(model.forward(x))`
 * over all its parameters, per member for an ensemble (then `loss` must return the sum of the
 * members' losses, e.g. sum(memberLosses(...)), so each member's block is its own loss's Hessian).
 */
export async function modelSharpness(model: Model, x: Tensor, loss: (out: Tensor) => Tensor, opts: PowerIterationOptions<Tensor> = {}): Promise<TopEigen<Tensor>> {
  const params = model.parameters();
  const f = asFunctionOf(params, () => loss(model.forward(x)));
  return topHessianEigen(f, params.map((p) => p.value), { ...opts, members: model.ensemble });
}
