/**
 * @file Shape arithmetic and the checks every op runs before it launches anything.
 */

export type Shape = readonly number[];

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: shape ${fmt(shape)} must hold non-negative integers (got ${d})`);
    }
  }
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of two shapes; throws naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast (axis ${i} of the result: ${da} vs ${db}; ` +
          `each pair of sizes must be equal or 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` read as `out` under broadcasting (0 where broadcast). */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const strides = stridesOf(shape);
  const off = out.length - shape.length;
  return out.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : strides[i - off]));
}

/** Normalizes a possibly negative axis; throws naming the op and the shape. */
export function normAxis(op: string, axis: number, rank: number, shape?: Shape): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const of = shape ? `shape ${fmt(shape)}` : `rank ${rank}`;
    throw new Error(`${op}: axis ${axis} is out of range for ${of} (expected ${-rank} .. ${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Sorted, de-duplicated normalized axes; undefined means all axes. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, shape: Shape): number[] {
  const rank = shape.length;
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(op, a, rank, shape)))].sort((x, y) => x - y);
  if (out.length !== list.length) throw new Error(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return out;
}

/**
 * Merges adjacent output axes where every operand's strides are contiguous across them, so
 * kernels index through the fewest dimensions. Returns the collapsed shape and strides.
 */
export function collapseDims(shape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = outShape.length - 1;
    const canMerge =
      last >= 0 && strides.every((s, k) => outStrides[k][last] === s[i] * shape[i]);
    if (canMerge) {
      outShape[last] *= shape[i];
      strides.forEach((s, k) => (outStrides[k][last] = s[i]));
    } else {
      outShape.push(shape[i]);
      strides.forEach((s, k) => outStrides[k].push(s[i]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Matmul's op(A) [M, K] and op(B) [Kb, N]: the last two axes of each shape, swapped where transposed. */
export function matmulDims(aShape: readonly number[], bShape: readonly number[], transA: boolean, transB: boolean): { M: number; K: number; Kb: number; N: number } {
  const [ra, ca] = aShape.slice(-2);
  const [rb, cb] = bShape.slice(-2);
  return { M: transA ? ca : ra, K: transA ? ra : ca, Kb: transB ? cb : rb, N: transB ? rb : cb };
}
