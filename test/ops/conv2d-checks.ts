/**
 * @file The conv2d checks that the dense (conv2d.test.ts) and grouped (conv2d-grouped.test.ts)
 * tests share: a case, its operands and f64 reference, every kernel of a case against it, the
 * ensemble axis against per-member references, and the reference backward against central
 * finite differences of the reference forward.
 */
import { expect } from 'vitest';
import * as ws from '../../src/index.js';
import { conv2d, conv2dGradBias, conv2dGradInput, conv2dGradWeight, type Conv2dOptions } from '../../src/ops/conv2d.js';
import {
  conv2dGradBiasRef, conv2dGradInputRef, conv2dGradWeightRef, conv2dRef, type Conv2dRefOptions,
} from '../../src/reference/conv.js';
import type { NDArray } from '../../src/reference/index.js';
import { TOL, expectMatches, freshSeed, pair } from '../helpers.js';

export interface ConvCase {
  x: number[]; // [N, H, W, C]
  k: [number, number];
  co: number;
  opts: Conv2dRefOptions;
}

export function describeCase(c: ConvCase): string {
  return `x ${JSON.stringify(c.x)} k ${c.k} co ${c.co} ${JSON.stringify(c.opts)}`;
}

/** The weight shape of a case: [KH, KW, Cin / groups, Cout]. */
export function weightShape(c: ConvCase): number[] {
  return [...c.k, c.x[3] / (c.opts.groups ?? 1), c.co];
}

/** Fresh operands of a case (x, w, b, and a dy of the output's shape) and the forward reference. */
export function setup(c: ConvCase, seed: number) {
  const x = pair(c.x, seed);
  const w = pair(weightShape(c), seed + 1);
  const b = pair([c.co], seed + 2);
  const ref = conv2dRef(x.r, w.r, b.r, c.opts);
  const dy = pair(ref.shape, seed + 3);
  return { x, w, b, ref, dy };
}

/** Forward (with bias), grad-input, grad-weight and bias grad of `c` under `opts` against the f64 reference. */
export async function checkCase(c: ConvCase, what: string, opts: Conv2dOptions = c.opts): Promise<void> {
  const seed = freshSeed();
  const at = `${what} ${describeCase(c)} seed ${seed}`;
  await ws.tidyAsync(async () => {
    const { x, w, b, ref, dy } = setup(c, seed);
    await expectMatches(conv2d(x.t, w.t, b.t, opts), ref, TOL.matmul, `forward ${at}`);
    await expectMatches(conv2dGradInput(dy.t, w.t, c.x, opts), conv2dGradInputRef(dy.r, w.r, c.x, c.opts), TOL.matmul, `grad-input ${at}`);
    await expectMatches(conv2dGradWeight(x.t, dy.t, w.r.shape, opts), conv2dGradWeightRef(x.r, dy.r, w.r.shape, c.opts), TOL.matmul, `grad-weight ${at}`);
    await expectMatches(conv2dGradBias(dy.t), conv2dGradBiasRef(dy.r), TOL.matmul, `grad-bias ${at}`);
  });
}

/** Member s of an [S, ...] array. */
function member(a: NDArray, s: number): NDArray {
  const shape = a.shape.slice(1);
  const n = shape.reduce((p, q) => p * q, 1);
  return { shape, data: a.data.slice(s * n, (s + 1) * n) };
}

/** Members' arrays stacked as one [S, ...] array. */
function stack(parts: NDArray[]): NDArray {
  const data = new Float64Array(parts.length * parts[0].data.length);
  parts.forEach((p, s) => data.set(p.data, s * p.data.length));
  return { shape: [parts.length, ...parts[0].shape], data };
}

/** S members of `c` in one [S, ...] call per kernel, against each member's f64 reference. */
export async function checkEnsemble(c: ConvCase, S: number): Promise<void> {
  const seed = freshSeed();
  const members = Array.from({ length: S }, (_, s) => s);
  const wShape = weightShape(c);
  await ws.tidyAsync(async () => {
    const x = pair([S, ...c.x], seed);
    const w = pair([S, ...wShape], seed + 1);
    const b = pair([S, c.co], seed + 2);
    const refs = members.map((s) => conv2dRef(member(x.r, s), member(w.r, s), member(b.r, s), c.opts));
    await expectMatches(conv2d(x.t, w.t, b.t, c.opts), stack(refs), TOL.matmul, `forward seed ${seed}`);
    const dy = pair([S, ...refs[0].shape], seed + 3);
    const dxs = members.map((s) => conv2dGradInputRef(member(dy.r, s), member(w.r, s), c.x, c.opts));
    await expectMatches(conv2dGradInput(dy.t, w.t, [S, ...c.x], c.opts), stack(dxs), TOL.matmul, `grad-input seed ${seed}`);
    const dws = members.map((s) => conv2dGradWeightRef(member(x.r, s), member(dy.r, s), wShape, c.opts));
    await expectMatches(conv2dGradWeight(x.t, dy.t, [S, ...wShape], c.opts), stack(dws), TOL.matmul, `grad-weight seed ${seed}`);
    await expectMatches(conv2dGradBias(dy.t), stack(members.map((s) => conv2dGradBiasRef(member(dy.r, s)))), TOL.matmul, `grad-bias seed ${seed}`);
  });
}

/** The reference grad-input and grad-weight of `c` against central differences of loss = sum(conv(x, w) * dy). */
export function checkReferenceBackward(c: ConvCase): void {
  const seed = freshSeed();
  const { x, w, dy } = setup(c, seed);
  const loss = (xr: NDArray, wr: NDArray) => conv2dRef(xr, wr, null, c.opts).data.reduce((s, v, i) => s + v * dy.r.data[i], 0);
  const dx = conv2dGradInputRef(dy.r, w.r, c.x, c.opts);
  const dw = conv2dGradWeightRef(x.r, dy.r, w.r.shape, c.opts);
  const h = 1e-6;
  for (const [arr, grad, which] of [[x.r, dx, 'x'], [w.r, dw, 'w']] as const) {
    for (let i = 0; i < arr.data.length; i++) {
      const keep = arr.data[i];
      arr.data[i] = keep + h;
      const up = which === 'x' ? loss(arr, w.r) : loss(x.r, arr);
      arr.data[i] = keep - h;
      const down = which === 'x' ? loss(arr, w.r) : loss(x.r, arr);
      arr.data[i] = keep;
      expect(Math.abs((up - down) / (2 * h) - grad.data[i]), `${which}[${i}] seed ${seed}`).toBeLessThan(1e-7);
    }
  }
}
