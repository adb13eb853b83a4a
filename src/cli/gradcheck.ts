/**
 * @file `widthscope gradcheck`: runs the gradcheck cases (src/autograd/suite.ts: every
 * primitive's, from its family, and the composites'). Each case is checked in f64 (central
 * differences per element), in f32 on the GPU (directional derivatives), GPU backward against
 * the f64 reference backward, and (when twice differentiable) by gradgradcheck in f64. The tests
 * run cases through the same runCase.
 */
import { fromArray } from '../ops/creation.js';
import type { Device } from '../tensor/device.js';
import { tidyAsync } from '../tensor/scope.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { F64Tensor } from '../autograd/f64.js';
import { gradcheck, gradgradcheck, type GradcheckReport } from '../autograd/gradcheck.js';
import { zerosLike } from '../autograd/backends.js';
import { gradients } from '../autograd/backward.js';
import { isTracked } from '../autograd/tape.js';
import { COMPOSITE_CASES, PRIMITIVE_CASES, type Case } from '../autograd/suite.js';
import { mulberry32 } from '../data/prng.js';
import { relativeError } from '../reference/relative-error.js';
import { UsageError } from '../util/usage-error.js';

const mulberry = mulberry32;

/** The inputs of a case as f32-rounded values (same values for the GPU and the f64 reference). */
export function caseData(c: Case, seed = 7): Float32Array[] {
  const rand = mulberry(seed);
  return c.inputs.map(({ shape, lo = -2, hi = 2 }) => Float32Array.from({ length: sizeOf(shape) }, () => lo + (hi - lo) * rand()));
}

export const f64Inputs = (c: Case, data: Float32Array[]) => data.map((d, i) => F64Tensor.from(d, c.inputs[i].shape));
export const gpuInputs = (c: Case, data: Float32Array[], device?: Device) =>
  data.map((d, i) => fromArray(d, c.inputs[i].shape, { device }));

/**
 * Relative error ||g_gpu - g_ref|| / ||g_ref|| of the GPU backward against the f64 reference
 * backward, for the same inputs and cotangent (worst over inputs).
 */
export async function backwardMismatch(c: Case, data: Float32Array[], device?: Device): Promise<number> {
  const xr = f64Inputs(c, data);
  for (const x of xr) x.requiresGrad = true;
  const yr = c.fn(...xr) as F64Tensor;
  const rand = mulberry(99);
  const r = Float32Array.from({ length: yr.size }, () => rand() * 2 - 1);
  const ref = isTracked(yr) ? gradients(yr, xr, { grad: F64Tensor.from(r, yr.shape) }) : xr.map((x) => zerosLike(x));
  const got = await tidyAsync(async () => {
    const xg = gpuInputs(c, data, device);
    for (const x of xg) x.requiresGrad = true;
    const yg = c.fn(...xg) as Tensor;
    const gs = isTracked(yg) ? gradients(yg, xg, { grad: fromArray(r, yg.shape, { device }) }) : xg.map((x) => zerosLike(x));
    return Promise.all(gs.map((g) => g.data()));
  });
  return Math.max(0, ...ref.map((g, i) => relativeError(got[i], g.data)));
}

export interface SuiteRow {
  name: string;
  /** The primitive, or 'composite'. */
  group: string;
  ok: boolean;
  /** Max relative error of f64 gradcheck, f32 gradcheck, GPU-vs-reference backward, f64 gradgradcheck. */
  f64: number;
  f32: number;
  gpuVsRef: number;
  gradgrad: number | null;
  error?: string;
}

/** Tolerance on ||g_gpu - g_ref|| / ||g_ref|| (f32 accumulation over small cases). */
export const GPU_VS_REF_TOL = 1e-4;

const maxRel = (r: GradcheckReport) => Math.max(...r.inputs.map((i) => i.maxRelErr));

export async function runCase(c: Case, group: string, device?: Device): Promise<SuiteRow> {
  const row: SuiteRow = { name: c.name, group, ok: false, f64: NaN, f32: NaN, gpuVsRef: NaN, gradgrad: null };
  try {
    const data = caseData(c);
    const f64 = await gradcheck(c.fn, f64Inputs(c, data), { mode: 'f64', throwOnFailure: false });
    row.f64 = maxRel(f64);
    const f32 = await tidyAsync(() => gradcheck(c.fn, gpuInputs(c, data, device), { mode: 'f32', throwOnFailure: false }));
    row.f32 = maxRel(f32);
    row.gpuVsRef = await backwardMismatch(c, data, device);
    let gg = true;
    if (c.twice ?? true) {
      const r = await gradgradcheck(c.fn, f64Inputs(c, data), { mode: 'f64', throwOnFailure: false });
      row.gradgrad = maxRel(r);
      gg = r.ok;
    }
    row.ok = f64.ok && f32.ok && row.gpuVsRef < GPU_VS_REF_TOL && gg;
  } catch (e) {
    row.error = (e as Error).message;
  }
  return row;
}

/** Every case with its group: each primitive's cases, then the composites ('composite'). */
export function allCases(): [string, Case][] {
  return [
    ...Object.entries(PRIMITIVE_CASES).flatMap(([p, cs]) => cs.map((c): [string, Case] => [p, c])),
    ...COMPOSITE_CASES.map((c): [string, Case] => ['composite', c]),
  ];
}

/**
 * The cases `names` pick: a primitive (all its cases), 'composite', or a case's exact name. A
 * name that picks nothing is a usage error listing what exists.
 */
export function selectCases(all: readonly [string, Case][], names: readonly string[]): [string, Case][] {
  for (const n of names) {
    if (!all.some(([g, c]) => g === n || c.name === n)) {
      const groups = [...new Set(all.map(([g]) => g))];
      throw new UsageError(`gradcheck: --only: no primitive or case named '${n}'; primitives: ${groups.join(', ')} (or a case's full name)`);
    }
  }
  return all.filter(([g, c]) => names.includes(g) || names.includes(c.name));
}

/** Runs `cases` on `device`, one row each, in order. */
export async function runGradcheckSuite(cases: readonly [string, Case][], device?: Device, onRow?: (row: SuiteRow) => void): Promise<SuiteRow[]> {
  const rows: SuiteRow[] = [];
  for (const [group, c] of cases) {
    const row = await runCase(c, group, device);
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}

/** The rows as a fixed-width text table. */
export function formatSuite(rows: readonly SuiteRow[]): string {
  const e = (v: number | null) => (v === null ? '-' : Number.isNaN(v) ? 'n/a' : v.toExponential(1));
  const head = ['case', 'primitive', 'f64', 'f32', 'gpu~ref', 'gradgrad', 'result'];
  const body = rows.map((r) => [r.name, r.group, e(r.f64), e(r.f32), e(r.gpuVsRef), e(r.gradgrad), r.ok ? 'pass' : `FAIL${r.error ? `: ${r.error.split('\n')[0]}` : ''}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (i === 6 ? 4 : b[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 6 ? c : c.padEnd(widths[i]))).join('  ');
  const passed = rows.filter((r) => r.ok).length;
  return [line(head), ...body.map(line), `${passed}/${rows.length} passed`].join('\n');
}


export interface GradcheckCommandOptions {
  /** Primitives, 'composite' or case names (all cases when absent). */
  only?: readonly string[];
  device?: Device;
  /** Where the table goes (default stdout) and the progress dots (default stderr). */
  write?: (text: string) => void;
  progress?: (text: string) => void;
}

/** `widthscope gradcheck [--only names]`: runs the cases, prints the table; exit status 1 if any failed. */
export async function gradcheckCommand(opts: GradcheckCommandOptions = {}, cases: readonly [string, Case][] = allCases()): Promise<number> {
  const picked = opts.only ? selectCases(cases, opts.only) : [...cases];
  const progress = opts.progress ?? ((t: string) => process.stderr.write(t));
  const rows = await runGradcheckSuite(picked, opts.device, (r) => progress(r.ok ? '.' : 'F'));
  progress('\n');
  (opts.write ?? ((t: string) => process.stdout.write(t)))(`${formatSuite(rows)}\n`);
  return rows.every((r) => r.ok) ? 0 : 1;
}
