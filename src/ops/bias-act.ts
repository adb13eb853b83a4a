/**
 * @file A per-column bias and an activation in one dispatch, and their backward in one
 * (bias_act.wgsl): dz = g * act'(y) from the forward's output y, with the bias's gradient (the
 * column sums of dz) summed in the same pass, where a bias-add, activation backward and reduction
 * would take three. The bias is [C] for z [..., C], or [S, 1, ..., 1, C] for z [S, ..., C] (one
 * row per ensemble member).
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt, sizeOf, type Shape } from '../tensor/shape.js';
import { checkF32, checkSameDevice, f32Div, groupsFor } from './launch.js';
import { parallelChunks, reduce } from './reduce.js';
import { full } from './creation.js';
import { ACT_CODE } from './act-code.js';

/** The activations whose derivative the backward takes from the output. */
export type BiasActivation = 'relu' | 'tanh';
const BIAS_ACT_WG = 64;

/** `act`, or a clear error naming `op` and the allowed values. */
export function checkBiasActivation(op: string, act: unknown): BiasActivation {
  if (act !== 'relu' && act !== 'tanh') throw new Error(`${op}: activation ${JSON.stringify(act)} is not one of 'relu', 'tanh'`);
  return act;
}

/** z [..., C] against `bias` as [outer, len, inner = C], or a clear error. */
export function biasLayout(op: string, zShape: Shape, biasShape: Shape): { outer: number; len: number; inner: number } {
  const inner = zShape[zShape.length - 1];
  const fail = () =>
    new Error(`${op}: bias ${fmt(biasShape)} does not fit ${fmt(zShape)}: expected [${inner ?? 'C'}] or [${zShape[0] ?? 'S'}, 1, ..., 1, ${inner ?? 'C'}] of the same rank`);
  if (zShape.length === 0 || biasShape.length === 0 || biasShape[biasShape.length - 1] !== inner) throw fail();
  const size = sizeOf(zShape);
  if (sizeOf(biasShape) === inner) return { outer: 1, len: inner === 0 ? 0 : size / inner, inner };
  const S = biasShape[0];
  if (biasShape.length !== zShape.length || zShape[0] !== S || biasShape.slice(1, -1).some((d) => d !== 1)) throw fail();
  return { outer: S, len: S * inner === 0 ? 0 : size / (S * inner), inner };
}

/** act(z + bias), bias per column (see the file comment for its shapes). */
export function biasAct(z: Tensor, bias: Tensor, act: BiasActivation): Tensor {
  const op = 'biasAct';
  checkBiasActivation(op, act);
  checkF32(op, z, 'z');
  checkF32(op, bias, 'bias');
  checkSameDevice(op, z, bias);
  const { outer, len, inner } = biasLayout(op, z.shape, bias.shape);
  const y = Tensor.empty(z.device, z.shape, 'f32', op);
  if (y.size === 0) return y;
  const vec4 = inner % 4 === 0;
  const w = vec4 ? 4 : 1;
  z.device.dispatch({
    kernel: 'bias_act',
    entry: vec4 ? 'fwd_vec4' : 'fwd',
    label: `${op}(${fmt(z.shape)}, bias ${fmt(bias.shape)}, ${act})`,
    constants: { WG: BIAS_ACT_WG, ACT: ACT_CODE[act], ...f32Div(y.size / w) },
    bindings: vec4
      ? { z4: z.binding(op), bias4: bias.binding(op), y_out4: y.binding(op) }
      : { z: z.binding(op), bias: bias.binding(op), y_out: y.binding(op) },
    params: { outer, len, inner: inner / w, chunks: 1, chunk: 1 },
    workgroups: groupsFor(y.size / w, BIAS_ACT_WG),
  });
  return y;
}

/**
 * On a CPU adapter, up to this many rows each invocation of biasActBackward walks its columns'
 * rows alone (one dispatch, no partials); longer, the rows split into chunks (parallelChunks) whose
 * partials a second dispatch sums. Not stridedChunks' one-pass rule for reductions: these
 * invocations also read y and write dz per item, so one pass over long columns is three times the
 * serial work (a plain sum over [8192, 16] is faster in one pass, bench/ab-reduce-passes.ts).
 * `npx tsx bench/step-profile.ts cnn 16 --widths` and `mlp 64 --widths`, alternating processes
 * with and without chunks: a CNN's 8192 pixels x 16 channels
 * (4 vec4 invocations in one pass) 0.48-0.50 -> 0.29-0.31 ms plus 0.07 ms for the partials' sum;
 * an MLP layer's 256 rows x 64 no faster chunked (0.07-0.11 ms either way), so one pass.
 */
const ONE_PASS_ROWS = 1024;

/**
 * The backward of y = act(z + bias): dz = g * act'(y) and dbias (of `biasShape`), the column sums
 * of dz, from one dispatch (and a second that sums the partials of its row chunks when the rows
 * are many: ONE_PASS_ROWS).
 */
export function biasActBackward(g: Tensor, y: Tensor, act: BiasActivation, biasShape: Shape): { dz: Tensor; dbias: Tensor } {
  const op = 'biasActBackward';
  checkBiasActivation(op, act);
  checkF32(op, g, 'g');
  checkF32(op, y, 'y');
  checkSameDevice(op, g, y);
  if (fmt(g.shape) !== fmt(y.shape)) throw new Error(`${op}: g ${fmt(g.shape)} and y ${fmt(y.shape)} must have the same shape`);
  const { outer, len, inner } = biasLayout(op, y.shape, biasShape);
  const dev = y.device;
  const dz = Tensor.empty(dev, y.shape, 'f32', op);
  if (len === 0) return { dz, dbias: full(biasShape, 0, { device: dev }) };
  const vec4 = inner % 4 === 0;
  const w = vec4 ? 4 : 1;
  const { chunks, chunk } = dev.isSoftware && len <= ONE_PASS_ROWS ? { chunks: 1, chunk: len } : parallelChunks(y, outer, len, inner / w);
  const partial = Tensor.empty(dev, chunks === 1 ? biasShape : [outer, chunks, inner], 'f32', `${op} dbias`);
  dev.dispatch({
    kernel: 'bias_act',
    entry: vec4 ? 'bwd_vec4' : 'bwd',
    label: `${op}(${fmt(y.shape)}, bias ${fmt(biasShape)}, ${act})`,
    constants: { WG: BIAS_ACT_WG, ACT: ACT_CODE[act] },
    bindings: vec4
      ? { g4: g.binding(op), y4: y.binding(op), dz4: dz.binding(op), partial4: partial.binding(op) }
      : { g: g.binding(op), y: y.binding(op), dz: dz.binding(op), partial: partial.binding(op) },
    params: { outer, len, inner: inner / w, chunks, chunk },
    workgroups: groupsFor((outer * chunks * inner) / w, BIAS_ACT_WG),
  });
  if (chunks === 1) return { dz, dbias: partial };
  const sums = reduce('sum', partial, 1);
  const dbias = sums.reshape(biasShape);
  sums.dispose();
  partial.dispose();
  return { dz, dbias };
}
