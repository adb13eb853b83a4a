/**
 * @file LayerNorm and RMSNorm over the trailing (normalized) axes, forward and backward, on the
 * fused kernels of norm.wgsl. Forward saves per-row mean/rstd so backward never recomputes them.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/device.js';
import { fmt, sameShape, sizeOf } from '../tensor/shape.js';
import { checkF32, checkSameDevice, groupsFor, unusedBinding } from './launch.js';
import { sum } from './reduce.js';

/** Invocations per workgroup of the norm kernels (power of two: tree reduction). */
const NORM_WG = 64;
/**
 * Rows at least this long get a workgroup each; shorter ones an invocation each. On lavapipe a
 * workgroup's barriers are costly and 2 cores need little parallelism: measured (layerNorm
 * forward, 2 cores, loaded machine) one invocation per row was 2-5x faster than one workgroup
 * per row at [1024, 1024], [256, 4096] and [4096, 256], and equal at [16, 4096]; so the switch
 * comes only for very long rows. On a GPU one invocation per long row leaves the adapter idle.
 */
const LONG_ROW = { software: 16384, gpu: 128 } as const;
/** Fewer rows than this cannot fill the adapter one invocation per row: use workgroups. */
const FEW_ROWS = { software: 16, gpu: 4096 } as const;
/** Invocations that keep the adapter busy for the dweight/dbias column sums. */
const COLUMN_PARALLELISM = { software: 4096, gpu: 262144 } as const;
/** Rows each dparams invocation should at least sum before the row axis is split into chunks. */
const MIN_ROWS_PER_CHUNK = 32;

export type RowVariant = 'auto' | 'invocation' | 'workgroup';

export interface NormOptions {
  /** Added to the variance (mean square for RMSNorm) before the square root (default 1e-5). */
  eps?: number;
  /** Kernel choice: one invocation or one workgroup per row ('auto': by row length, named thresholds). */
  variant?: RowVariant;
}

/** Picks one invocation or one workgroup per row from row length and count. */
export function rowVariant(device: Device, rows: number, len: number, variant: RowVariant = 'auto'): 'invocation' | 'workgroup' {
  if (variant !== 'auto') return variant;
  const kind = device.isSoftware ? 'software' : 'gpu';
  return len >= LONG_ROW[kind] || rows < FEW_ROWS[kind] ? 'workgroup' : 'invocation';
}

function normShape(op: string, x: Tensor, normalizedShape: number | readonly number[]): { rows: number; d: number; lead: number[]; norm: number[] } {
  const norm = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const k = norm.length;
  if (k === 0 || k > x.rank || !sameShape(x.shape.slice(x.rank - k), norm)) {
    throw new Error(
      `${op}: normalized shape ${fmt(norm)} does not match the last ${k} axes of input ${fmt(x.shape)}`,
    );
  }
  const d = sizeOf(norm);
  if (d === 0) throw new Error(`${op}: normalized shape ${fmt(norm)} is empty`);
  const lead = x.shape.slice(0, x.rank - k);
  return { rows: sizeOf(lead), d, lead, norm };
}

function checkAffine(op: string, name: string, t: Tensor | null | undefined, norm: number[], x: Tensor): void {
  if (!t) return;
  checkF32(op, t, name);
  checkSameDevice(op, x, t);
  if (!sameShape(t.shape, norm)) {
    throw new Error(`${op}: ${name} has shape ${fmt(t.shape)}, expected the normalized shape ${fmt(norm)}`);
  }
}

function checkEps(op: string, eps: number): void {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`${op}: eps must be finite and >= 0, got ${eps}`);
}

export interface LayerNormResult {
  y: Tensor;
  /** Per-row mean, shape = the input's leading (non-normalized) axes. */
  mean: Tensor;
  /** Per-row 1/sqrt(var + eps), same shape as `mean`. */
  rstd: Tensor;
}

export interface RmsNormResult {
  y: Tensor;
  /** Per-row 1/sqrt(mean(x^2) + eps), shape = the input's leading axes. */
  rstd: Tensor;
}

function normForward(
  op: 'layerNorm' | 'rmsNorm',
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  opts: NormOptions,
): { y: Tensor; mean: Tensor | null; rstd: Tensor } {
  checkF32(op, x);
  const { rows, d, lead, norm } = normShape(op, x, normalizedShape);
  checkAffine(op, 'weight', weight, norm, x);
  checkAffine(op, 'bias', bias, norm, x);
  const eps = opts.eps ?? 1e-5;
  checkEps(op, eps);
  const dev = x.device;
  const y = Tensor.empty(dev, x.shape, 'f32', op);
  const mean = op === 'layerNorm' ? Tensor.empty(dev, lead, 'f32', `${op} mean`) : null;
  const rstd = Tensor.empty(dev, lead, 'f32', `${op} rstd`);
  if (rows === 0) return { y, mean, rstd };
  const variant = rowVariant(dev, rows, d, opts.variant);
  dev.dispatch({
    kernel: 'norm',
    entry: variant === 'workgroup' ? 'fwd_wg' : 'fwd_row',
    label: `${op}(${fmt(x.shape)} over ${fmt(norm)}${weight ? ', weight' : ''}${bias ? ', bias' : ''})`,
    constants: { MODE: op === 'layerNorm' ? 0 : 1, HAS_WEIGHT: weight ? 1 : 0, HAS_BIAS: bias ? 1 : 0, WG: NORM_WG },
    bindings: {
      x: x.binding(op),
      weight: weight ? weight.binding(op) : unusedBinding(dev, 'weight'),
      bias: bias ? bias.binding(op) : unusedBinding(dev, 'bias'),
      y: y.binding(op),
      mean_out: mean ? mean.binding(op) : unusedBinding(dev, 'mean_out'),
      rstd_out: rstd.binding(op),
    },
    params: { rows, d, eps, chunk: 0, chunks: 0 },
    workgroups: variant === 'workgroup' ? groupsFor(rows, 1) : groupsFor(rows, NORM_WG),
  });
  return { y, mean, rstd };
}

/**
 * y = (x - mean) / sqrt(var + eps) * weight + bias over the trailing `normalizedShape` axes
 * (population variance), like torch.nn.functional.layer_norm; weight and bias are optional.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  opts: NormOptions = {},
): LayerNormResult {
  const r = normForward('layerNorm', x, normalizedShape, weight, bias, opts);
  return { y: r.y, mean: r.mean!, rstd: r.rstd };
}

/** y = x / sqrt(mean(x^2) + eps) * weight over the trailing `normalizedShape` axes. */
export function rmsNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  opts: NormOptions = {},
): RmsNormResult {
  const r = normForward('rmsNorm', x, normalizedShape, weight, null, opts);
  return { y: r.y, rstd: r.rstd };
}

export interface NormBackwardOptions {
  variant?: RowVariant;
  /** Compute dweight (default: when weight is given). */
  weightGrad?: boolean;
  /** Compute dbias (LayerNorm; default true). */
  biasGrad?: boolean;
}

export interface NormGrads {
  dx: Tensor;
  dweight: Tensor | null;
  dbias: Tensor | null;
}

function normBackward(
  op: 'layerNormBackward' | 'rmsNormBackward',
  dy: Tensor,
  x: Tensor,
  mean: Tensor | null,
  rstd: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null | undefined,
  wantWeight: boolean,
  wantBias: boolean,
  variantOpt: RowVariant | undefined,
): NormGrads {
  checkF32(op, x, 'x');
  checkF32(op, dy, 'dy');
  checkF32(op, rstd, 'rstd');
  const { rows, d, lead, norm } = normShape(op, x, normalizedShape);
  if (!sameShape(dy.shape, x.shape)) throw new Error(`${op}: dy has shape ${fmt(dy.shape)}, expected the input's ${fmt(x.shape)}`);
  for (const [name, t] of [['mean', mean], ['rstd', rstd]] as const) {
    if (!t) continue;
    checkF32(op, t, name);
    if (!sameShape(t.shape, lead)) throw new Error(`${op}: saved ${name} has shape ${fmt(t.shape)}, expected ${fmt(lead)}`);
  }
  checkAffine(op, 'weight', weight, norm, x);
  checkSameDevice(op, x, dy, rstd, ...(mean ? [mean] : []));
  const dev = x.device;
  const mode = op === 'layerNormBackward' ? 0 : 1;
  const dx = Tensor.empty(dev, x.shape, 'f32', op);
  const common = {
    x: x.binding(op),
    dy: dy.binding(op),
    mean: mean ? mean.binding(op) : unusedBinding(dev, 'mean'),
    rstd: rstd.binding(op),
  };
  const label = `${op}(${fmt(x.shape)} over ${fmt(norm)})`;
  if (rows === 0) {
    return {
      dx,
      dweight: wantWeight ? zerosLike(dev, norm, op) : null,
      dbias: wantBias ? zerosLike(dev, norm, op) : null,
    };
  }
  const variant = rowVariant(dev, rows, d, variantOpt);
  dev.dispatch({
    kernel: 'norm',
    entry: variant === 'workgroup' ? 'bwd_wg' : 'bwd_row',
    label: `${label} dx`,
    constants: { MODE: mode, HAS_WEIGHT: weight ? 1 : 0, WG: NORM_WG },
    bindings: { ...common, weight: weight ? weight.binding(op) : unusedBinding(dev, 'weight'), dx: dx.binding(op) },
    params: { rows, d, eps: 0, chunk: 0, chunks: 0 },
    workgroups: variant === 'workgroup' ? groupsFor(rows, 1) : groupsFor(rows, NORM_WG),
  });
  if (!wantWeight && !wantBias) return { dx, dweight: null, dbias: null };
  // dw, db: column sums over rows, split into `chunks` row blocks when few columns would leave
  // the adapter idle; the [chunks, d] partials are summed by the reduce kernel (deterministic).
  const target = COLUMN_PARALLELISM[dev.isSoftware ? 'software' : 'gpu'];
  let chunks = Math.max(1, Math.min(Math.ceil(target / d), Math.ceil(rows / MIN_ROWS_PER_CHUNK)));
  const chunk = Math.ceil(rows / chunks);
  chunks = Math.ceil(rows / chunk);
  const dwPart = Tensor.empty(dev, [chunks, d], 'f32', `${op} dweight`);
  const dbPart = wantBias ? Tensor.empty(dev, [chunks, d], 'f32', `${op} dbias`) : null;
  dev.dispatch({
    kernel: 'norm',
    entry: 'dparams',
    label: `${label} dweight/dbias pass 1 (${chunks} chunks of ${chunk} rows)`,
    constants: { MODE: mode, HAS_BIAS: dbPart ? 1 : 0, WG: NORM_WG },
    bindings: {
      ...common,
      dw_part: dwPart.binding(op),
      db_part: dbPart ? dbPart.binding(op) : unusedBinding(dev, 'db_part'),
    },
    params: { rows, d, eps: 0, chunk, chunks },
    workgroups: groupsFor(chunks * d, NORM_WG),
  });
  const finish = (part: Tensor | null, want: boolean): Tensor | null => {
    if (!part) return null;
    if (!want) {
      part.dispose();
      return null;
    }
    const s = chunks === 1 ? part.reshape(norm) : sum(part, 0).reshape(norm);
    part.dispose();
    return s;
  };
  const dweight = finish(dwPart, wantWeight);
  const dbias = finish(dbPart, wantBias);
  return { dx, dweight, dbias };
}

function zerosLike(dev: Device, shape: number[], op: string): Tensor {
  const t = Tensor.empty(dev, shape, 'f32', op);
  if (t.size > 0) {
    dev.dispatch({
      kernel: 'fill',
      entry: 'fill',
      label: `${op} zeros`,
      bindings: { out: t.binding(op) },
      params: { n: t.size, bits: 0, start: 0, step: 0 },
      workgroups: groupsFor(t.size),
    });
  }
  return t;
}

/**
 * Gradients of layerNorm given dy and the saved per-row mean/rstd: dx, dweight (when `weight` is
 * given) and dbias (unless `biasGrad: false`).
 */
export function layerNormBackward(
  dy: Tensor,
  x: Tensor,
  saved: { mean: Tensor; rstd: Tensor },
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  opts: NormBackwardOptions = {},
): NormGrads {
  return normBackward(
    'layerNormBackward', dy, x, saved.mean, saved.rstd, normalizedShape, weight,
    opts.weightGrad ?? !!weight, opts.biasGrad ?? true, opts.variant,
  );
}

/** Gradients of rmsNorm given dy and the saved per-row rstd: dx and dweight (when `weight` is given). */
export function rmsNormBackward(
  dy: Tensor,
  x: Tensor,
  saved: { rstd: Tensor },
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  opts: Omit<NormBackwardOptions, 'biasGrad'> = {},
): NormGrads {
  const g = normBackward(
    'rmsNormBackward', dy, x, null, saved.rstd, normalizedShape, weight,
    opts.weightGrad ?? !!weight, false, opts.variant,
  );
  return g;
}
