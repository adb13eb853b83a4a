/**
 * @file gradcheck and gradgradcheck for users' functions, in two modes:
 *  - 'f64': the function runs on the f64 reference (F64Tensor) and every (or a random sample of)
 *    input element is checked against central differences: proves the backward rules.
 *  - 'f32': the function runs on the GPU; directional derivatives along random directions are
 *    checked against central differences with a step and a tolerance chosen for f32.
 * Both contract the output with a fixed random cotangent r, checking the gradient of <r, fn(xs)>.
 */
import { fromArray } from '../ops/creation.js';
import { tidy, tidyAsync } from '../tensor/scope.js';
import { fmt, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { F64Tensor } from './f64.js';
import { concat, constantLike, flatten, mul, sum, zerosLike } from './ops.js';
import type { GradTensor } from './primitive.js';
import { isTracked, noGrad } from './tape.js';
import { gradients } from './backward.js';
import { mulberry32 } from '../data/prng.js';

/** fn takes and returns tensors of widthscope's differentiable ops (GPU Tensor or F64Tensor). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CheckedFn = (...xs: any[]) => GradTensor;

export interface GradcheckOptions {
  /** 'f64' (reference, element-wise) or 'f32' (GPU, directional). Default: f64 for F64Tensor inputs, else f32. */
  mode?: 'f64' | 'f32';
  /** Finite-difference step. f64: 1e-6. f32: cbrt(f32 epsilon) ~ 4.9e-3, times max(1, rms(x)). */
  eps?: number;
  /** Absolute tolerance (f64 default 1e-6; f32 default 0, the noise bound below takes its place). */
  atol?: number;
  /** Relative tolerance on the derivative (f64 default 1e-5, f32 default 1e-3). */
  rtol?: number;
  /** f64: inputs up to this many elements are checked entirely, larger ones on a random sample of it (64). */
  maxElements?: number;
  /** f32: random directions per input (4). */
  directions?: number;
  seed?: number;
  /** Throw a GradcheckError when the check fails (default true). */
  throwOnFailure?: boolean;
}

export interface InputReport {
  index: number;
  shape: number[];
  /** Elements (f64) or directions (f32) checked. */
  checked: number;
  maxAbsErr: number;
  maxRelErr: number;
  /** The check closest to (or furthest past) its tolerance. */
  worst: { element: number; analytic: number; numeric: number; tol: number } | null;
  ok: boolean;
}

export interface GradcheckReport {
  ok: boolean;
  mode: 'f64' | 'f32';
  inputs: InputReport[];
  /** What the tolerance assumed. */
  assumptions: string;
  toString(): string;
}

export class GradcheckError extends Error {
  constructor(readonly report: GradcheckReport) {
    super(`gradcheck failed\n${report}`);
  }
}

const EPS32 = 1.1920929e-7;

const rng = mulberry32;

function normals(n: number, rand: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function format(r: Omit<GradcheckReport, 'toString'>): string {
  const lines = r.inputs.map((i) => {
    const w = i.worst;
    const at = w ? ` worst ${r.mode === 'f64' ? 'element' : 'direction'} ${w.element}: analytic ${w.analytic.toPrecision(8)} numeric ${w.numeric.toPrecision(8)} tol ${w.tol.toExponential(2)}` : '';
    return `  input ${i.index} ${fmt(i.shape)}: ${i.ok ? 'ok' : 'FAIL'} (${i.checked} checked) max abs err ${i.maxAbsErr.toExponential(2)} max rel err ${i.maxRelErr.toExponential(2)}${at}`;
  });
  return [`${r.mode} gradcheck: ${r.ok ? 'passed' : 'FAILED'}`, ...lines, `  assumes: ${r.assumptions}`].join('\n');
}

function finish(r: Omit<GradcheckReport, 'toString'>, opts: GradcheckOptions): GradcheckReport {
  const report: GradcheckReport = { ...r, toString: () => format(r) };
  if (!report.ok && (opts.throwOnFailure ?? true)) throw new GradcheckError(report);
  return report;
}

class Tally {
  maxAbs = 0;
  maxRel = 0;
  worstRatio = -1;
  worst: InputReport['worst'] = null;
  ok = true;
  checked = 0;
  add(element: number, analytic: number, numeric: number, tol: number): void {
    const err = Math.abs(analytic - numeric);
    const scale = Math.max(Math.abs(analytic), Math.abs(numeric));
    this.checked++;
    this.maxAbs = Math.max(this.maxAbs, err);
    this.maxRel = Math.max(this.maxRel, scale === 0 ? 0 : err / scale);
    const ratio = Number.isNaN(err) ? Infinity : err / tol;
    if (!(err <= tol)) this.ok = false;
    if (ratio > this.worstRatio) {
      this.worstRatio = ratio;
      this.worst = { element, analytic, numeric, tol };
    }
  }
  report(index: number, shape: readonly number[]): InputReport {
    return { index, shape: [...shape], checked: this.checked, maxAbsErr: this.maxAbs, maxRelErr: this.maxRel, worst: this.worst, ok: this.ok };
  }
}

function checkInputs(inputs: readonly GradTensor[]): void {
  if (inputs.length === 0) throw new Error('gradcheck: needs at least one input');
  inputs.forEach((x, i) => {
    if (x.disposed) throw new Error(`gradcheck: input ${i} ${fmt(x.shape)} was disposed`);
    if (x.dtype === 'i32') {
      throw new Error(
        `gradcheck: input ${i} ${fmt(x.shape)} has dtype i32; gradients need float inputs ` +
          '(close over integer data in the function instead)',
      );
    }
  });
}

async function valuesOf(x: GradTensor): Promise<Float64Array> {
  if (x instanceof F64Tensor) return x.data.slice();
  return Float64Array.from(await (x as Tensor).data());
}

/** Checks the gradients of `fn` at `inputs` against finite differences (see the file comment). */
export async function gradcheck(fn: CheckedFn, inputs: readonly GradTensor[], opts: GradcheckOptions = {}): Promise<GradcheckReport> {
  checkInputs(inputs);
  const mode = opts.mode ?? (inputs[0] instanceof F64Tensor ? 'f64' : 'f32');
  return mode === 'f64' ? checkF64(fn, inputs, opts) : checkF32(fn, inputs, opts);
}

async function checkF64(fn: CheckedFn, inputs: readonly GradTensor[], opts: GradcheckOptions): Promise<GradcheckReport> {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const maxElements = opts.maxElements ?? 64;
  const rand = rng(opts.seed ?? 1234);
  const base = await Promise.all(inputs.map(valuesOf));
  const shapes = inputs.map((x) => x.shape);
  const run = (datas: Float64Array[]) => {
    const leaves = datas.map((d, i) => {
      const t = new F64Tensor(shapes[i], d);
      t.requiresGrad = true;
      return t;
    });
    const y = fn(...leaves);
    if (!(y instanceof F64Tensor)) {
      throw new Error('gradcheck: in f64 mode the function must build its result with widthscope ops (it returned a GPU tensor or something else)');
    }
    return { y, leaves };
  };
  const { y: y0, leaves } = run(base);
  const r = normals(y0.size, rand);
  const value = (datas: Float64Array[]) => dot(r, run(datas).y.data);
  const analytic = isTracked(y0) ? gradients(y0, leaves, { grad: new F64Tensor(y0.shape, r) }) : leaves.map(zerosLike);
  const reports = base.map((x, i) => {
    const tally = new Tally();
    const all = x.length <= maxElements;
    const picks = all ? [...x.keys()] : Array.from({ length: maxElements }, () => Math.floor(rand() * x.length));
    for (const j of picks) {
      const shifted = (s: number) => base.map((b, k) => (k === i ? b.map((v, m) => (m === j ? v + s * eps : v)) : b));
      const numeric = (value(shifted(1)) - value(shifted(-1))) / (2 * eps);
      tally.add(j, analytic[i].data[j], numeric, atol + rtol * Math.abs(numeric));
    }
    return tally.report(i, shapes[i]);
  });
  return finish(
    {
      ok: reports.every((t) => t.ok),
      mode: 'f64',
      inputs: reports,
      assumptions:
        `central differences with step ${eps} in f64 (error ~ eps^2 f''' + 1e-16 |f| / eps, far below ` +
        `atol ${atol} + rtol ${rtol} |numeric| for smooth functions away from kinks such as relu(0) or max ties)`,
    },
    opts,
  );
}

async function checkF32(fn: CheckedFn, inputs: readonly GradTensor[], opts: GradcheckOptions): Promise<GradcheckReport> {
  const ts = inputs.map((x, i) => {
    if (!(x instanceof Tensor)) throw new Error(`gradcheck: f32 mode runs on the GPU; input ${i} is not a GPU Tensor`);
    return x;
  });
  const device = ts[0].device;
  const rand = rng(opts.seed ?? 1234);
  const rtol = opts.rtol ?? 1e-3;
  const atol = opts.atol ?? 0;
  const directions = opts.directions ?? 4;
  /** Relative f32 error assumed for each output element (a few ulps: a well-conditioned fn). */
  const K = 8;
  const SAFETY = 4;
  const base = await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
  const shapes = ts.map((t) => t.shape);
  const leavesOf = (datas: Float32Array[]) =>
    datas.map((d, i) => {
      const t = fromArray(d, shapes[i], { device });
      t.requiresGrad = true;
      return t;
    });
  // the output, the cotangent and the analytic gradient at the base point
  const first = await tidyAsync(async () => {
    const leaves = leavesOf(base);
    const y = fn(...leaves);
    if (!(y instanceof Tensor)) throw new Error('gradcheck: in f32 mode the function must return a GPU Tensor');
    const r = Float32Array.from(normals(y.size, rand));
    const gs = isTracked(y) ? gradients(y, leaves, { grad: fromArray(r, y.shape, { device }) }) : leaves.map(zerosLike);
    const yv = await y.data();
    const grads = await Promise.all(gs.map((g) => g.data()));
    return { r, yv, grads };
  });
  const { r, yv, grads } = first;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < r.length; i++) {
    s1 += Math.abs(r[i] * yv[i]);
    s2 += (r[i] * yv[i]) ** 2;
  }
  s2 = Math.sqrt(s2);
  const value = (datas: Float32Array[]) =>
    tidyAsync(async () => dot(r, await (fn(...leavesOf(datas)) as Tensor).data()));
  const reports: InputReport[] = [];
  let bound = '';
  for (let i = 0; i < ts.length; i++) {
    const x = base[i];
    const rms = Math.sqrt(dot(x, x) / Math.max(1, x.length));
    const h = (opts.eps ?? Math.cbrt(EPS32)) * Math.max(1, rms);
    // noise of <r, f> over 2h, and the truncation error for |d^3/dt^3 <r, f>| <= sum |r f|
    const noise = SAFETY * ((K * EPS32 * s2) / h + (h * h * s1) / 6);
    bound = `noise ${SAFETY} x (${K} eps32 ||r.f||_2 / h + h^2 ||r.f||_1 / 6)`;
    const tally = new Tally();
    for (let d = 0; d < directions; d++) {
      const u = normals(x.length, rand);
      const norm = Math.sqrt(dot(u, u)) || 1;
      const plus = x.map((v, j) => v + (h * u[j]) / norm);
      const minus = x.map((v, j) => v - (h * u[j]) / norm);
      // the perturbation actually applied, after rounding to f32
      let predicted = 0;
      for (let j = 0; j < x.length; j++) predicted += grads[i][j] * (plus[j] - minus[j]);
      const lp = await value(base.map((b, k) => (k === i ? plus : b)));
      const lm = await value(base.map((b, k) => (k === i ? minus : b)));
      const numeric = (lp - lm) / (2 * h);
      const analytic = predicted / (2 * h);
      tally.add(d, analytic, numeric, atol + rtol * Math.abs(analytic) + noise);
    }
    reports.push(tally.report(i, shapes[i]));
  }
  return finish(
    {
      ok: reports.every((t) => t.ok),
      mode: 'f32',
      inputs: reports,
      assumptions:
        `${directions} random unit directions per input, step h = ${(opts.eps ?? Math.cbrt(EPS32)).toPrecision(3)} x max(1, rms(x)); ` +
        `each output of fn is within ${K} ulps (f32) of exact, and third derivatives of <r, fn> are no larger than ` +
        `sum |r fn|; tolerance = atol ${atol} + rtol ${rtol} |analytic| + ${bound}. Kinks (relu at 0, max ties) within h break it.`,
    },
    opts,
  );
}

/**
 * Checks the gradient of the gradient: gradcheck of xs -> d<r, fn(xs)>/dxs (recorded with
 * createGraph) for a fixed random cotangent r.
 */
export async function gradgradcheck(fn: CheckedFn, inputs: readonly GradTensor[], opts: GradcheckOptions = {}): Promise<GradcheckReport> {
  checkInputs(inputs);
  const shape = tidy(() => noGrad(() => [...fn(...inputs).shape]));
  const r = normals(sizeOf(shape), rng((opts.seed ?? 1234) + 1));
  const gradFn: CheckedFn = (...xs: GradTensor[]) => {
    const y = fn(...xs);
    const inner = sum(mul(y, constantLike(y, y.shape, r)));
    const gs = isTracked(inner) ? gradients(inner, xs, { createGraph: true }) : xs.map(zerosLike);
    return concat(gs.map(flatten));
  };
  return gradcheck(gradFn, inputs, opts);
}
