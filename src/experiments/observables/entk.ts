/**
 * @file The empirical neural tangent kernel (after-kernel) on a probe batch of n examples:
 * Θ = J Jᵀ (n x n), row i of J the gradient of example i's scalar output with respect to every
 * parameter. The scalar of a multi-output net is a fixed projection u of the example's outputs
 * (all its trailing axes, e.g. [K] classes or [T, V] positions x vocabulary): `output: 'sum'`
 * (u = 1, the default), `{ index: k }` (one output, e.g. the one a regression target uses) or
 * `{ projection: u }`. A single-output regression net's scalar is its output under every choice
 * except a projection.
 *
 * One forward, then n vector-Jacobian products (one per example, cotangent e_i ⊗ u); for an
 * ensemble the cotangent is set for every member at once (members share no parameters), so the n
 * products give every member's Θ. Θ is accumulated on the GPU per parameter (J_p J_pᵀ, batched
 * over members, in column chunks of at most `chunkBytes`) and read back in f64. Memory: the n
 * rows of J, n x (parameter count) floats.
 * `ntkSpectrum` eigendecomposes Θ on the host (symmetricEigen) and gives the cumulative power of
 * a target in its eigenbasis.
 */
import { add, concat, constantLike, matmul, noGrad, reshape, slice, vjp, type GradTensor } from '../../autograd/index.js';
import { keep, tidy } from '../../tensor/scope.js';
import { fmt } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../nn/models.js';
import { asFunctionOf, readValues } from './parameters.js';
import type { Matrix } from './matrix.js';
import { symmetricEigen, type SymmetricEigen } from './eigen.js';
import { cumulativeTargetPower } from './target-power.js';
import { Tensor as GpuTensor } from '../../tensor/tensor.js';
import { capture } from '../../tensor/capture.js';

export type NtkOutput = 'sum' | { index: number } | { projection: ArrayLike<number> };

export interface NtkOptions {
  output?: NtkOutput;
  /** Largest probe batch accepted (default 512). */
  maxExamples?: number;
  /** Largest piece of J multiplied at once, bytes (default 64 MiB, under every adapter's binding limit). */
  chunkBytes?: number;
  /** Capture the n products on GPU tensors (src/tensor/capture.ts; default: env WIDTHSCOPE_CAPTURE, on). */
  capture?: boolean;
}

const DEFAULT_CHUNK_BYTES = 64 * 2 ** 20;

function projection(output: NtkOutput, size: number): Float32Array {
  if (output === 'sum') return new Float32Array(size).fill(1);
  if ('index' in output) {
    if (!Number.isInteger(output.index) || output.index < 0 || output.index >= size) {
      throw new Error(`empiricalNTK: output index ${output.index} is out of range for ${size} outputs per example (expected 0..${size - 1})`);
    }
    const u = new Float32Array(size);
    u[output.index] = 1;
    return u;
  }
  if (output.projection.length !== size) throw new Error(`empiricalNTK: a projection of ${output.projection.length} values for ${size} outputs per example`);
  return Float32Array.from(output.projection);
}

/**
 * Θ of a function `f` of `params` whose output is [n, ...] (or [S, n, ...] with `members` = S,
 * every parameter's axis 0 the member axis): one n x n f64 matrix per member. Runs on GPU tensors
 * or on F64Tensors alike.
 */
export async function tangentKernel<A extends GradTensor>(f: (...ps: A[]) => A, params: readonly A[], opts: NtkOptions & { members?: number | null } = {}): Promise<Matrix[]> {
  const S = opts.members ?? null;
  const pull = vjp(f, ...params);
  const rows: A[][] = params.map(() => []);
  let theta: A | null = null;
  try {
    const shape = pull.out.shape;
    const lead = S === null ? 0 : 1;
    if (shape.length < lead + 1 || (S !== null && shape[0] !== S)) {
      throw new Error(`empiricalNTK: an output ${fmt(shape)} has no example axis${S === null ? '' : ` after the member axis S=${S}`} (expected ${S === null ? '[n, ...]' : `[${S}, n, ...]`})`);
    }
    const n = shape[lead];
    const max = opts.maxExamples ?? 512;
    if (!(n >= 1 && n <= max)) throw new Error(`empiricalNTK: the probe batch has ${n} examples (expected 1..${max})`);
    const per = shape.slice(lead + 1).reduce((a, b) => a * b, 1);
    const u = projection(opts.output ?? 'sum', per);
    const members = S ?? 1;
    // one vector-Jacobian product, J's rows of one example ([members, 1, size_p] per parameter)
    const product = (cot: A): A[] => {
      const grads = pull.vjp(cot);
      const out = grads.map((g) => noGrad(() => tidy(() => reshape(g, [members, 1, -1]))));
      for (const g of grads) g.dispose();
      return out;
    };
    // on the GPU the n products are one captured step (the retained graph's buffers do not change)
    const captured = pull.out instanceof GpuTensor
      ? capture(pull.out.device, ([cot]) => product(cot as unknown as A) as unknown as GpuTensor[], { name: 'eNTK product', enabled: opts.capture })
      : null;
    try {
      for (let i = 0; i < n; i++) {
        const ct = new Float32Array(members * n * per);
        for (let s = 0; s < members; s++) ct.set(u, (s * n + i) * per);
        const cot = constantLike(pull.out, shape, ct);
        const out = captured ? (captured.run([cot as unknown as GpuTensor]) as unknown as A[]) : product(cot);
        cot.dispose();
        out.forEach((g, p) => rows[p].push(keep(g)));
      }
    } finally {
      captured?.dispose();
    }
    // Θ = Σ_p J_p J_pᵀ, each J_p [members, n, size_p] taken in column chunks under chunkBytes
    const chunkCols = Math.max(1, Math.floor((opts.chunkBytes ?? DEFAULT_CHUNK_BYTES) / (4 * members * n)));
    for (const r of rows) {
      const size = r[0].shape[2];
      for (let a = 0; a < size; a += chunkCols) {
        const b = Math.min(size, a + chunkCols);
        const next = noGrad(() => tidy(() => {
          const J = concat(a === 0 && b === size ? r : r.map((t) => slice(t, 2, a, b)), 1);
          const part = matmul(J, J, { transB: true });
          return theta ? add(theta, part) : part;
        }));
        theta?.dispose();
        theta = next;
      }
    }
    const all = await readValues(theta!);
    return Array.from({ length: members }, (_, s) => ({ rows: n, cols: n, data: Float64Array.from(Array.prototype.slice.call(all, s * n * n, (s + 1) * n * n) as number[]) }));
  } finally {
    pull.dispose();
    for (const r of rows) for (const t of r) t.dispose();
    theta?.dispose();
  }
}

/** Θ of `model` on probe inputs `x` (n examples): one n x n f64 matrix per member (one for a single model). */
export function empiricalNTK(model: Model, x: Tensor, opts: NtkOptions = {}): Promise<Matrix[]> {
  const params = model.parameters();
  const f = asFunctionOf(params, () => model.forward(x));
  return tangentKernel(f, params.map((p) => p.value), { ...opts, members: model.ensemble });
}

export interface NtkSpectrum {
  eigen: SymmetricEigen;
  /** C(1..n) of the target in Θ's eigenbasis (eigenvalues descending). */
  targetPower: Float64Array;
}

/** Θ's eigendecomposition (f64, host) and the cumulative power C(k) of target `y` (length n). */
export function ntkSpectrum(theta: Matrix, y: ArrayLike<number>): NtkSpectrum {
  const eigen = symmetricEigen(theta);
  return { eigen, targetPower: cumulativeTargetPower(eigen, y) };
}
