/**
 * @file Creation ops: zeros/ones/full/arange, fromArray, seeded rand/randn, and cast.
 */
import { Tensor, type DType } from '../tensor/tensor.js';
import type { Device } from '../tensor/device.js';
import { getDevice } from '../tensor/runtime.js';
import { checkShape, fmt, sizeOf, type Shape } from '../tensor/shape.js';
import { groupsFor } from './launch.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
}

const bitsView = new DataView(new ArrayBuffer(4));
function bitsOf(value: number, dtype: DType): number {
  if (dtype === 'i32') bitsView.setInt32(0, value, true);
  else bitsView.setFloat32(0, value, true);
  return bitsView.getUint32(0, true);
}

/** The dtypes a tensor can hold. */
export const DTYPES: readonly DType[] = ['f32', 'i32'];

/** `dtype` (default f32), or a clear error naming `op` for one the engine does not hold (f16, f64, bool, ...). */
export function checkDType(op: string, dtype: unknown = 'f32'): DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new Error(`${op}: dtype ${JSON.stringify(dtype)} is not supported; expected one of ${DTYPES.map((d) => `'${d}'`).join(', ')}`);
  }
  return dtype as DType;
}

function fill(op: string, shape: Shape, value: number, opts: CreateOptions): Tensor {
  const dtype = checkDType(op, opts.dtype);
  if (dtype === 'i32' && !Number.isInteger(value)) throw new Error(`${op}: value ${value} is not an integer for dtype i32`);
  const device = opts.device ?? getDevice();
  const out = Tensor.empty(device, shape, dtype, op);
  if (out.size === 0) return out;
  device.dispatch({
    kernel: 'fill',
    entry: 'fill',
    label: `${op}(${fmt(shape)}, ${value})`,
    bindings: { out: out.binding(op) },
    params: { n: out.size, bits: bitsOf(value, dtype), start: 0, step: 0 },
    workgroups: groupsFor(out.size),
  });
  return out;
}

export const full = (shape: Shape, value: number, opts: CreateOptions = {}) => fill('full', shape, value, opts);
export const zeros = (shape: Shape, opts: CreateOptions = {}) => fill('zeros', shape, 0, opts);
export const ones = (shape: Shape, opts: CreateOptions = {}) => fill('ones', shape, 1, opts);

/** [start, stop) in steps of `step` (f32), like numpy.arange. */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be finite and non-zero, got ${step}`);
  if (checkDType('arange', opts.dtype) !== 'f32') throw new Error(`arange: dtype '${opts.dtype}' is not supported; expected 'f32'`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const device = opts.device ?? getDevice();
  const out = Tensor.empty(device, [n], 'f32', 'arange');
  if (n === 0) return out;
  device.dispatch({
    kernel: 'fill',
    entry: 'arange',
    label: `arange(${start}, ${stop}, ${step})`,
    bindings: { out: out.binding('arange') },
    params: { n, bits: 0, start, step },
    workgroups: groupsFor(n),
  });
  return out;
}

/** Uploads `data` as a tensor of `shape` (default: 1-D); Int32Array gives dtype i32. */
export function fromArray(
  data: ArrayLike<number> | Float32Array | Int32Array,
  shape?: Shape,
  opts: CreateOptions = {},
): Tensor {
  const dtype = checkDType('fromArray', opts.dtype ?? (data instanceof Int32Array ? 'i32' : 'f32'));
  const s = shape ?? [data.length];
  checkShape('fromArray', s);
  if (sizeOf(s) !== data.length) {
    throw new Error(`fromArray: data has ${data.length} elements, shape ${fmt(s)} needs ${sizeOf(s)}`);
  }
  const device = opts.device ?? getDevice();
  const out = Tensor.empty(device, s, dtype, 'fromArray', true);
  if (out.size === 0) return out;
  const typed =
    dtype === 'i32'
      ? data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>)
      : data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  device.write(out.binding('fromArray'), typed);
  return out;
}

export interface RandomOptions extends CreateOptions {
  seed?: number;
  /** A second counter word: distinct streams of one seed never overlap. */
  stream?: number;
}

let autoSeed = 0x5eed;

function seedWords(op: string, opts: RandomOptions): { seed_lo: number; seed_hi: number; stream: number } {
  const seed = opts.seed ?? autoSeed++;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`${op}: seed must be a non-negative safe integer, got ${seed}`);
  const stream = opts.stream ?? 0;
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) {
    throw new Error(`${op}: stream must be an integer in [0, 2^32), got ${stream}`);
  }
  return { seed_lo: seed % 2 ** 32, seed_hi: Math.floor(seed / 2 ** 32), stream };
}

function random(op: string, entry: 'rand_uniform' | 'rand_normal', shape: Shape, a: number, b: number, opts: RandomOptions): Tensor {
  if (checkDType(op, opts.dtype) !== 'f32') throw new Error(`${op}: dtype '${opts.dtype}' is not supported; expected 'f32'`);
  const device = opts.device ?? getDevice();
  if (opts.seed === undefined) device.recorder?.refuse(`${op} without an explicit seed draws a new seed at each call`);
  const out = Tensor.empty(device, shape, 'f32', op);
  if (out.size === 0) return out;
  if (out.size > 2 ** 32) throw new Error(`${op}: at most 2^32 elements per call, got ${out.size}`);
  device.dispatch({
    kernel: 'random',
    entry,
    label: `${op}(${fmt(shape)})`,
    bindings: { out: out.binding(op) },
    params: { n: out.size, ...seedWords(op, opts), a, b },
    workgroups: groupsFor(out.size),
  });
  return out;
}

/** Uniform in [low, high), item i depending only on (seed, stream, i). */
export function rand(shape: Shape, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  return random('rand', 'rand_uniform', shape, opts.low ?? 0, opts.high ?? 1, opts);
}

/** Normal(mean, std), item i depending only on (seed, stream, i). */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return random('randn', 'rand_normal', shape, opts.mean ?? 0, opts.std ?? 1, opts);
}

/** Converts between f32 and i32 (f32 -> i32 truncates toward zero). */
export function cast(x: Tensor, dtype: DType): Tensor {
  x.storage('cast');
  checkDType('cast', dtype);
  if (x.dtype === dtype) return x.reshape(x.shape);
  const out = Tensor.empty(x.device, x.shape, dtype, 'cast');
  if (out.size === 0) return out;
  const entry = dtype === 'f32' ? 'to_f32' : 'to_i32';
  x.device.dispatch({
    kernel: 'fill',
    entry,
    label: `cast(${fmt(x.shape)} ${x.dtype} -> ${dtype})`,
    bindings: { out: out.binding('cast'), [dtype === 'f32' ? 'xi' : 'xf']: x.binding('cast') },
    params: { n: out.size, bits: 0, start: 0, step: 0 },
    workgroups: groupsFor(out.size),
  });
  return out;
}
