/**
 * @file The embedding primitives (a table lookup and its adjoint: src/ops/embedding.ts on the
 * GPU), their rules and cases. Indices are integers (i32 on the GPU, integer-valued F64Tensor in
 * f64) and get no gradient.
 */
import { embedding as rawEmbedding, embeddingBackward as rawEmbeddingBackward } from '../../ops/embedding.js';
import { embeddingBackwardRef, embeddingRef } from '../../reference/embedding.js';
import { fmt } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNotDifferentiated, indicesLike, nd } from '../backends.js';
import { F64Tensor } from '../f64.js';
import { definePrimitives, type Cases, type GradTensor, type NoParams } from '../primitive.js';
import { apply } from '../tape.js';
import { square } from './elementwise.js';
import { sum } from './reduce.js';

type T = GradTensor;

export interface EmbeddingParams {
  /** table[indices]: inputs [table [V, D], indices (i32 on the GPU; integer-valued F64Tensor)]. */
  embedding: NoParams;
  /** The adjoint of embedding in the table: inputs [dout [..., D], indices], output [vocab, D]. */
  embeddingBackward: { vocab: number };
}

const G = (x: unknown) => x as Tensor;
const F = F64Tensor.fromNd;

// embedding and its adjoint are linear in the table (dout) and closed under differentiation:
// <c, table[idx]> = <embeddingBackward(c, idx), table>; indices get no gradient
export const EMBEDDING = definePrimitives<EmbeddingParams>({
  embedding: {
    gpu: (xs) => rawEmbedding(G(xs[0]), G(xs[1])),
    f64: (xs) => {
      const idx = nd(xs[1], 'embedding');
      return F(embeddingRef(nd(xs[0], 'embedding'), idx.data, idx.shape));
    },
    rule: (g, { inputs: [, idx], shapes: [ts], needs }) => [needs[0] ? embeddingBackward(g, idx as typeof g, ts[0]) : null, null],
  },
  embeddingBackward: {
    gpu: (xs, p) => rawEmbeddingBackward(G(xs[0]), G(xs[1]), p.vocab),
    f64: (xs, p) => F(embeddingBackwardRef(nd(xs[0], 'embeddingBackward'), nd(xs[1], 'embeddingBackward').data, p.vocab)),
    rule: (g, { inputs: [, idx], needs }) => [needs[0] ? embedding(g, idx as typeof g) : null, null],
  },
});

/** table[indices] (table [V, D], integer indices [...] -> [..., D]); differentiable in the table. */
export function embedding<A extends T>(table: A, indices: A): A {
  checkNotDifferentiated('embedding', 'indices', indices);
  if (table.shape.length !== 2) throw new Error(`embedding: table has shape ${fmt(table.shape)}, expected [vocab, dim]`);
  return apply(EMBEDDING.embedding, [table, indices], {});
}

/**
 * dtable [vocabSize, D]: row v sums dout[i, :] over the positions with indices[i] == v (the
 * adjoint of embedding; differentiable in dout). The GPU picks its kernel variant itself.
 */
export function embeddingBackward<A extends T>(dout: A, indices: A, vocabSize: number): A {
  checkNotDifferentiated('embeddingBackward', 'indices', indices);
  return apply(EMBEDDING.embeddingBackward, [dout, indices], { vocab: vocabSize });
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type V = any;

// integer inputs are closed over (gradcheck differentiates float inputs only)
export const EMBEDDING_CASES: Cases<EmbeddingParams> = {
  embedding: [
    { name: 'embedding [5, 3] at [2, 4] (repeats, unused rows)', inputs: [{ shape: [5, 3] }], fn: (t: V) => embedding(t, indicesLike(t, [2, 4], [0, 3, 3, 1, 3, 0, 2, 3])) },
    {
      name: 'sum(embedding^2) (through both adjoints)',
      inputs: [{ shape: [4, 2] }],
      fn: (t: V) => sum(square(embedding(t, indicesLike(t, [5], [2, 0, 2, 3, 2])))),
    },
  ],
  embeddingBackward: [
    { name: 'embeddingBackward [3, 2, 4] -> [5, 4]', inputs: [{ shape: [3, 2, 4] }], fn: (d: V) => embeddingBackward(d, indicesLike(d, [3, 2], [4, 1, 1, 0, 4, 4]), 5) },
  ],
};
