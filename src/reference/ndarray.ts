/**
 * @file The f64 reference's array type and its index helpers: plain Float64Array loops,
 * written for clarity, never for speed. Kernels are tested against this; gradcheck uses it.
 */
import { broadcastShapes, broadcastStrides, sizeOf, stridesOf, type Shape } from '../tensor/shape.js';

export interface NDArray {
  shape: number[];
  data: Float64Array;
}

export function nd(data: ArrayLike<number>, shape?: Shape): NDArray {
  const s = [...(shape ?? [data.length])];
  if (sizeOf(s) !== data.length) throw new Error(`nd: ${data.length} values for shape [${s}]`);
  return { shape: s, data: Float64Array.from(data) };
}

export function ndZeros(shape: Shape): NDArray {
  return { shape: [...shape], data: new Float64Array(sizeOf(shape)) };
}

/** Coordinates of flat index i in `shape`. */
export function coordsOf(i: number, shape: Shape): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}

export function offsetOf(coords: readonly number[], strides: readonly number[]): number {
  let o = 0;
  for (let d = 0; d < coords.length; d++) o += coords[d] * strides[d];
  return o;
}

/** Applies f to every broadcast tuple of elements of `xs`. */
export function mapBroadcast(op: string, xs: NDArray[], f: (...v: number[]) => number): NDArray {
  const shape = xs.reduce<number[]>((s, x) => broadcastShapes(op, s, x.shape), []);
  const strides = xs.map((x) => broadcastStrides(x.shape, shape));
  const out = ndZeros(shape);
  for (let i = 0; i < out.data.length; i++) {
    const c = coordsOf(i, shape);
    out.data[i] = f(...xs.map((x, k) => x.data[offsetOf(c, strides[k])]));
  }
  return out;
}

export { stridesOf };
