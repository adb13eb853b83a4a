/**
 * @file Fused softmax and log-softmax over any axis, forward and backward, one dispatch each
 * (softmax.wgsl, softmax_subgroup.wgsl), the kernel chosen by row length and count.
 *   softmax y = exp(x - max) / sum exp(x - max);  backward dx = y (g - sum g y)
 *   logSoftmax y = x - max - log sum exp(x - max); backward dx = g - exp(y) sum g
 * The composed versions (reduce.ts: softmaxComposed, logSoftmaxComposed) stay as the oracle.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/device.js';
import { fmt, normAxis, sameShape, sizeOf } from '../tensor/shape.js';
import { checkF32, checkSameDevice, groupsFor } from './launch.js';

/**
 * 'invocation': one invocation per row (or per slice of a non-last axis); 'workgroup': one
 * workgroup per row, a tree in workgroup memory; 'subgroup': one subgroup per row, the row read
 * twice (the second time from cache); 'subgroup-registers': one subgroup per row kept in
 * registers (len % 4 == 0 and len <= 4 * lanes * MAX_REGISTER_VEC4), read once.
 */
export type SoftmaxVariant = 'auto' | 'invocation' | 'workgroup' | 'subgroup' | 'subgroup-registers';

export interface SoftmaxOptions {
  /** Kernel choice ('auto': by row length and count, named thresholds below). */
  variant?: SoftmaxVariant;
}

/** Invocations per workgroup of softmax.wgsl (power of two: tree reduction). */
const SOFTMAX_WG = 64;
/**
 * Rows at least this long take a subgroup each where the adapter has subgroups; shorter rows
 * one invocation each (a subgroup per short row leaves most lanes idle). bench/suites/softmax.ts
 * times both at [256, 10] and [8192, 64] on lavapipe.
 */
const SUBGROUP_MIN_ROW = { software: 32, gpu: 64 } as const;
/**
 * Most vec4s a lane keeps in registers (K of the vec4 entries; their loops unroll K times). Not
 * chosen by 'auto': on lavapipe the registers spill, and the streamed 'subgroup' kernel was as
 * fast or faster at [4096, 1024] and [8192, 64] (bench/suites/softmax.ts) while a K = 32 pipeline
 * took ~8 s to compile.
 */
export const MAX_REGISTER_VEC4 = 32;
/**
 * Without subgroups, rows at least this long or fewer rows than FEW_ROWS get a workgroup each
 * (as the norm kernels; workgroup barriers are slow on software adapters, so they switch late).
 */
const LONG_ROW = { software: 16384, gpu: 128 } as const;
const FEW_ROWS = { software: 16, gpu: 4096 } as const;
/** Workgroups of the subgroup entries (they grid-stride over rows). */
const SUBGROUP_GROUPS = { software: 256, gpu: 65535 } as const;

const LOWEST_F32 = -3.4028234663852886e38;

type Mode = 'softmax' | 'logSoftmax';

/** x viewed as [outer, len, inner] around `axis`. */
function view(shape: readonly number[], axis: number): { outer: number; len: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), len: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

export interface SoftmaxPlan {
  kernel: 'softmax' | 'softmax_subgroup';
  /**
   * The entry point without its fwd_ / bwd_ prefix: strided, wg, vec4 (registers when
   * constants.K > 0, else streamed), stream.
   */
  entry: 'strided' | 'wg' | 'vec4' | 'stream';
  vec4: boolean;
  constants: Record<string, number>;
  workgroups: [number];
}

/** The kernel for rows of `len` items ([outer, len, inner] with inner > 1: a non-last axis). */
export function softmaxPlan(
  op: string, device: Device, outer: number, len: number, inner: number, variant: SoftmaxVariant = 'auto',
): SoftmaxPlan {
  const kind = device.isSoftware ? 'software' : 'gpu';
  const lanes = device.subgroupLanes;
  let v = variant;
  if (inner > 1 && v !== 'auto' && v !== 'invocation') {
    throw new Error(`${op}: variant '${v}' reduces rows of the last axis; a non-last axis (inner size ${inner}) takes 'invocation'`);
  }
  if ((v === 'subgroup' || v === 'subgroup-registers') && lanes === 0) {
    throw new Error(`${op}: variant '${v}' needs an adapter with subgroups (this one has none)`);
  }
  if (v === 'auto') {
    if (inner > 1) v = 'invocation';
    else if (lanes > 0) v = len >= SUBGROUP_MIN_ROW[kind] ? 'subgroup' : 'invocation';
    else v = len >= LONG_ROW[kind] || outer < FEW_ROWS[kind] ? 'workgroup' : 'invocation';
  }
  if (v === 'invocation') {
    return { kernel: 'softmax', entry: 'strided', vec4: false, constants: { WG: SOFTMAX_WG }, workgroups: groupsFor(outer * inner, SOFTMAX_WG) };
  }
  if (v === 'workgroup') {
    return { kernel: 'softmax', entry: 'wg', vec4: false, constants: { WG: SOFTMAX_WG }, workgroups: groupsFor(outer, 1) };
  }
  const workgroups: [number] = [Math.max(1, Math.min(outer, SUBGROUP_GROUPS[kind]))];
  const vec4 = len % 4 === 0;
  const perLane = Math.ceil(len / 4 / lanes);
  if (v === 'subgroup-registers') {
    if (!vec4 || perLane > MAX_REGISTER_VEC4) {
      throw new Error(
        `${op}: variant 'subgroup-registers' needs rows of a multiple of 4 items, at most ${4 * lanes * MAX_REGISTER_VEC4} ` +
        `(${lanes} lanes), got rows of ${len}`,
      );
    }
    const k = 2 ** Math.ceil(Math.log2(Math.max(1, perLane)));
    return { kernel: 'softmax_subgroup', entry: 'vec4', vec4, constants: { LANES: lanes, K: k }, workgroups };
  }
  return { kernel: 'softmax_subgroup', entry: vec4 ? 'vec4' : 'stream', vec4, constants: { LANES: lanes }, workgroups };
}

/**
 * Runs the `pass` entry of the softmax kernel over `src`'s shape into a fresh tensor. `inputs` are
 * the input tensors by binding name; under the vec4 plan each binding name takes a `4` suffix.
 */
function dispatchSoftmax(mode: Mode, op: string, pass: 'fwd' | 'bwd', src: Tensor, axis: number, opts: SoftmaxOptions, inputs: Record<string, Tensor>): Tensor {
  const a = normAxis(op, axis, src.rank, src.shape);
  const out = Tensor.empty(src.device, src.shape, 'f32', op);
  if (src.size === 0) return out;
  const { outer, len, inner } = view(src.shape, a);
  const plan = softmaxPlan(op, src.device, outer, len, inner, opts.variant);
  const suffix = plan.vec4 ? '4' : '';
  const bindings = Object.fromEntries([...Object.entries(inputs), ['out', out] as const].map(([name, t]) => [`${name}${suffix}`, t.binding(op)]));
  src.device.dispatch({
    kernel: plan.kernel,
    entry: `${pass}_${plan.entry}`,
    label: `${op}(${fmt(src.shape)}, axis ${axis})`,
    constants: { MODE: mode === 'softmax' ? 0 : 1, ...plan.constants },
    bindings,
    params: { outer, len, inner, inf: Infinity, lowest: LOWEST_F32 },
    workgroups: plan.workgroups,
  });
  return out;
}

function forward(mode: Mode, x: Tensor, axis: number, opts: SoftmaxOptions): Tensor {
  checkF32(mode, x);
  return dispatchSoftmax(mode, mode, 'fwd', x, axis, opts, { x });
}

function backward(mode: Mode, g: Tensor, y: Tensor, axis: number, opts: SoftmaxOptions): Tensor {
  const op = `${mode}Backward`;
  checkF32(op, g, 'g');
  checkF32(op, y, 'y');
  checkSameDevice(op, g, y);
  if (!sameShape(g.shape, y.shape)) {
    throw new Error(`${op}: g has shape ${fmt(g.shape)}, expected the forward output's ${fmt(y.shape)}`);
  }
  return dispatchSoftmax(mode, op, 'bwd', y, axis, opts, { y, g });
}

/** exp(x) / sum(exp(x)) along `axis`, shifted by the max: one fused dispatch. */
export function softmax(x: Tensor, axis = -1, opts: SoftmaxOptions = {}): Tensor {
  return forward('softmax', x, axis, opts);
}

/** x - logsumexp(x) along `axis`: one fused dispatch. */
export function logSoftmax(x: Tensor, axis = -1, opts: SoftmaxOptions = {}): Tensor {
  return forward('logSoftmax', x, axis, opts);
}

/** dx = y (g - sum(g y)) along `axis`, from softmax's output y and the upstream gradient g. */
export function softmaxBackward(g: Tensor, y: Tensor, axis = -1, opts: SoftmaxOptions = {}): Tensor {
  return backward('softmax', g, y, axis, opts);
}

/** dx = g - exp(y) sum(g) along `axis`, from logSoftmax's output y and the upstream gradient g. */
export function logSoftmaxBackward(g: Tensor, y: Tensor, axis = -1, opts: SoftmaxOptions = {}): Tensor {
  return backward('logSoftmax', g, y, axis, opts);
}
