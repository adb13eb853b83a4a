/**
 * @file Test helpers: seeded random inputs, f64-reference comparison by the relative error of the
 * whole output (under 1e-5 for elementwise ops and reductions, 1e-4 for matmul/conv/attention).
 */
import { expect } from 'vitest';
import { fromArray, type Tensor } from '../src/index.js';
import type { Device, DispatchSpec } from '../src/tensor/device.js';
import type { NDArray } from '../src/reference/index.js';
import { relativeError } from '../src/reference/relative-error.js';
import { mulberry32 } from '../src/data/prng.js';

/** The norm: ||out - ref|| / ||ref|| of the whole output, under 1e-5 for elementwise ops and reductions, 1e-4 for matmul/conv/attention. */
export const TOL = { elementwise: 1e-5, reduction: 1e-5, matmul: 1e-4 } as const;

/** A small seeded PRNG so failures reproduce; fresh seeds per run come from `freshSeed`. */
export const rng = mulberry32;

const seedsOfTest: number[] = [];
const replay = (process.env.WIDTHSCOPE_TEST_SEEDS ?? '').split(',').filter((s) => s.trim() !== '').map(Number);

/**
 * A new seed each run. test/setup.ts prints the seeds a failed test drew; set
 * WIDTHSCOPE_TEST_SEEDS=s1,s2,... to draw those again, in order (run that one test with -t).
 */
export function freshSeed(): number {
  const seed = replay.length > 0 ? replay.shift()! : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;
  seedsOfTest.push(seed);
  return seed;
}

/** The seeds drawn since the last call (test/setup.ts calls it around each test). */
export function takeSeeds(): number[] {
  return seedsOfTest.splice(0);
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** An f32 tensor and the f64 reference array holding the very same (f32-rounded) values. */
export function pair(shape: number[], seed: number, lo = -1, hi = 1): { t: Tensor; r: NDArray } {
  const data = randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi);
  return { t: fromArray(data, shape), r: { shape: [...shape], data: Float64Array.from(data) } };
}

/** A row-wise op's input: a fresh seed, `pair(shape, seed, lo, hi)` and the size of the last axis (the row length). */
export function rowsInput(shape: number[], lo = -1, hi = 1): { last: number; seed: number; x: { t: Tensor; r: NDArray } } {
  const seed = freshSeed();
  return { last: shape[shape.length - 1], seed, x: pair(shape, seed, lo, hi) };
}

/**
 * Reads `t` back and asserts shape, no NaN (poison), and relative error under `tol`. `scale`
 * (same shape as ref) replaces ref as the denominator where the result may cancel to ~0.
 */
export async function expectMatches(t: Tensor, ref: NDArray, tol: number, what = '', scale?: NDArray): Promise<void> {
  expect(t.shape, `${what} shape`).toEqual(ref.shape);
  const out = await t.data();
  expect(out.length).toBe(ref.data.length);
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i]) && !Number.isNaN(ref.data[i])) {
      throw new Error(`${what}: element ${i} is NaN (unwritten or poisoned), reference ${ref.data[i]}`);
    }
  }
  const e = relativeError(out, ref.data, scale?.data);
  if (tol === 0) expect(e, `${what} must be exact`).toBe(0);
  else expect(e, `${what} relative error ${e}`).toBeLessThan(tol);
}

/**
 * Logs the entry point of every dispatch `device` records until `stop()` (which restores the
 * device's own dispatch): tests that must prove a fast path was taken read `entries`.
 */
export function recordDispatches(device: Device): { entries: string[]; specs: DispatchSpec[]; stop: () => void } {
  const entries: string[] = [];
  const specs: DispatchSpec[] = [];
  const dispatch = device.dispatch.bind(device);
  device.dispatch = (spec) => {
    entries.push(spec.entry ?? 'main');
    specs.push(spec);
    return dispatch(spec);
  };
  return { entries, specs, stop: () => { device.dispatch = dispatch; } };
}
