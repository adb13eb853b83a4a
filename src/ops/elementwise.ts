/**
 * @file Unary and binary elementwise ops (with NumPy broadcasting) and `where`; the ops
 * themselves are the rows of elementwise-table.ts.
 */
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, collapseDims, fmt, sameShape } from '../tensor/shape.js';
import { KernelRegistry } from '../tensor/kernel-registry.js';
import { MAX_RANK, checkF32, checkSameDevice, f32Div, groupsFor, index3Plan, pad8 } from './launch.js';
import { BINARY_OPS, BINARY_TABLE, BINARY_WGSL, UNARY_OPS, UNARY_TABLE, UNARY_WGSL, type BinaryOp, type UnaryOp } from './elementwise-table.js';

export { UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp } from './elementwise-table.js';

KernelRegistry.provideInclude('unary_ops.wgsl', UNARY_WGSL);
KernelRegistry.provideInclude('binary_ops.wgsl', BINARY_WGSL);

export function unary(op: UnaryOp, x: Tensor): Tensor {
  checkF32(op, x);
  const out = Tensor.empty(x.device, x.shape, 'f32', op);
  if (x.size === 0) return out;
  const vec4 = x.size % 4 === 0;
  x.device.dispatch({
    kernel: 'unary',
    entry: vec4 ? 'main_vec4' : 'main',
    label: `${op}(${fmt(x.shape)})`,
    constants: { OP: UNARY_OPS[op] },
    bindings: vec4 ? { x4: x.binding(op), out4: out.binding(op) } : { x: x.binding(op), out: out.binding(op) },
    params: { n: vec4 ? x.size / 4 : x.size },
    workgroups: groupsFor(vec4 ? x.size / 4 : x.size),
  });
  return out;
}

/** `a op b` with broadcasting; a number operand is passed as a uniform, not a tensor. */
export function binary(op: BinaryOp, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new Error(`${op}: at least one operand must be a tensor`);
  }
  if (typeof a === 'number' || typeof b === 'number') {
    const t = (typeof a === 'number' ? b : a) as Tensor;
    const s = (typeof a === 'number' ? a : b) as number;
    checkF32(op, t);
    const out = Tensor.empty(t.device, t.shape, 'f32', op);
    if (t.size === 0) return out;
    const vec4 = t.size % 4 === 0;
    const n = vec4 ? t.size / 4 : t.size;
    t.device.dispatch({
      kernel: 'binary',
      entry: vec4 ? 'scalar_vec4' : 'scalar',
      label: `${op}(${typeof a === 'number' ? `${s}, ${fmt(t.shape)}` : `${fmt(t.shape)}, ${s}`})`,
      constants: { OP: BINARY_OPS[op] },
      bindings: vec4 ? { a4: t.binding(op), out4: out.binding(op) } : { a: t.binding(op), out: out.binding(op) },
      params: { n, rank: 0, swap: typeof a === 'number' ? 1 : 0, s, shape: [], sa: [], sb: [] },
      workgroups: groupsFor(n),
    });
    return out;
  }
  checkF32(op, a, 'lhs');
  checkF32(op, b, 'rhs');
  checkSameDevice(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = Tensor.empty(a.device, shape, 'f32', op);
  if (out.size === 0) return out;
  const label = `${op}(${fmt(a.shape)}, ${fmt(b.shape)})`;
  const common = {
    kernel: 'binary',
    label,
    constants: { OP: BINARY_OPS[op] },
    bindings: { a: a.binding(op), b: b.binding(op), out: out.binding(op) },
    workgroups: groupsFor(out.size),
  };
  if (sameShape(a.shape, b.shape)) {
    const vec4 = out.size % 4 === 0;
    const n = vec4 ? out.size / 4 : out.size;
    a.device.dispatch({
      ...common,
      entry: vec4 ? 'same_vec4' : 'same',
      bindings: vec4 ? { a4: a.binding(op), b4: b.binding(op), out4: out.binding(op) } : common.bindings,
      params: { n, rank: 0, swap: 0, s: 0, shape: [], sa: [], sb: [] },
      workgroups: groupsFor(n),
    });
    return out;
  }
  const c = collapseDims(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  if (c.shape.length > MAX_RANK) {
    throw new Error(`${label}: broadcasting needs ${c.shape.length} axes after merging, at most ${MAX_RANK} supported`);
  }
  const rowCol = rowColPlan(c.shape, c.strides);
  if (rowCol) {
    dispatchRowCol(op, label, rowCol, a, b, out);
    return out;
  }
  const plan = index3Plan(c.shape, c.strides);
  if (plan) {
    const [sa, sb] = plan.strides;
    a.device.dispatch({
      ...common,
      entry: plan.vec4 ? 'broadcast3_vec4' : 'broadcast3',
      params: { n: plan.n, rank: 3, swap: 0, s: 0, shape: pad8(plan.dims), sa: pad8(sa), sb: pad8(sb) },
      bindings: plan.vec4 ? { a4: a.binding(op), b4: b.binding(op), out4: out.binding(op) } : common.bindings,
      constants: { ...common.constants, ...plan.constants },
      workgroups: plan.workgroups,
    });
    return out;
  }
  a.device.dispatch({
    ...common,
    entry: 'broadcast',
    constants: { ...common.constants, ...f32Div(out.size) },
    params: {
      n: out.size, rank: c.shape.length, swap: 0, s: 0,
      shape: pad8(c.shape), sa: pad8(c.strides[0]), sb: pad8(c.strides[1]),
    },
  });
  return out;
}

/**
 * A broadcast that is one [R, C] operand against one value per row ([R, 1]) or per column
 * ([1, C]) after merging axes (a [C] operand over [n] is one row): `full` is the operand that is
 * [R, C]. Null for any other pattern (broadcast3 / broadcast take those).
 */
export function rowColPlan(shape: readonly number[], [sa, sb]: readonly (readonly number[])[]):
  { kind: 'row' | 'col'; full: 0 | 1; rows: number; cols: number } | null {
  const [rows, cols] = shape.length === 1 ? [1, shape[0]] : shape.length === 2 ? shape : [0, 0];
  if (rows === 0) return null;
  const [ra, ca] = shape.length === 1 ? [0, sa[0]] : sa;
  const [rb, cb] = shape.length === 1 ? [0, sb[0]] : sb;
  const full = (r: number, c: number) => c === 1 && (rows === 1 || r === cols);
  const perRow = (r: number, c: number) => c === 0 && (rows === 1 || r === 1);
  const perCol = (r: number, c: number) => c === 1 && r === 0 && rows > 1;
  for (const f of [0, 1] as const) {
    const [fr, fc, or, oc] = f === 0 ? [ra, ca, rb, cb] : [rb, cb, ra, ca];
    if (!full(fr, fc)) continue;
    if (perRow(or, oc)) return { kind: 'row', full: f, rows, cols };
    if (perCol(or, oc)) return { kind: 'col', full: f, rows, cols };
  }
  return null;
}

/** Launches binary.wgsl's per_row / per_col entry for a rowColPlan (vec4 when C % 4 == 0). */
function dispatchRowCol(
  op: BinaryOp, label: string, plan: NonNullable<ReturnType<typeof rowColPlan>>, a: Tensor, b: Tensor, out: Tensor,
): void {
  const [full, other] = plan.full === 0 ? [a, b] : [b, a];
  const vec4 = plan.cols % 4 === 0;
  const n = out.size / (vec4 ? 4 : 1);
  const entry = `per_${plan.kind}${vec4 ? '_vec4' : ''}`;
  const otherVec4 = vec4 && plan.kind === 'col';
  a.device.dispatch({
    kernel: 'binary',
    entry,
    label,
    constants: { OP: BINARY_OPS[op], ...f32Div(n) },
    bindings: {
      [vec4 ? 'a4' : 'a']: full.binding(op),
      [otherVec4 ? 'b4' : 'b']: other.binding(op),
      [vec4 ? 'out4' : 'out']: out.binding(op),
    },
    params: { n, rank: 2, swap: plan.full, s: 0, shape: pad8([plan.cols / (vec4 ? 4 : 1)]), sa: pad8([]), sb: pad8([]) },
    workgroups: groupsFor(n),
  });
}

/** cond != 0 ? a : b, all three broadcast together. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  checkF32('where', cond, 'cond');
  checkF32('where', a, 'a');
  checkF32('where', b, 'b');
  checkSameDevice('where', cond, a, b);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  const out = Tensor.empty(a.device, shape, 'f32', 'where');
  if (out.size === 0) return out;
  const c = collapseDims(shape, [cond.shape, a.shape, b.shape].map((s) => broadcastStrides(s, shape)));
  if (c.shape.length > MAX_RANK) throw new Error(`where: needs ${c.shape.length} axes after merging, at most ${MAX_RANK}`);
  a.device.dispatch({
    kernel: 'where',
    label: `where(${fmt(cond.shape)}, ${fmt(a.shape)}, ${fmt(b.shape)})`,
    constants: f32Div(out.size),
    bindings: { cond: cond.binding('where'), a: a.binding('where'), b: b.binding('where'), out: out.binding('where') },
    params: {
      n: out.size, rank: c.shape.length, shape: pad8(c.shape),
      sc: pad8(c.strides[0]), sa: pad8(c.strides[1]), sb: pad8(c.strides[2]),
    },
    workgroups: groupsFor(out.size),
  });
  return out;
}

type Operand = Tensor | number;

/** One function per unary op (the rows of UNARY_TABLE): `neg(x)` is `unary('neg', x)`. */
export const UNARY_FNS = Object.fromEntries(
  Object.keys(UNARY_TABLE).map((op) => [op, (x: Tensor) => unary(op as UnaryOp, x)]),
) as { readonly [K in UnaryOp]: (x: Tensor) => Tensor };

/** One function per binary op (the rows of BINARY_TABLE): `add(a, b)` is `binary('add', a, b)`. */
export const BINARY_FNS = Object.fromEntries(
  Object.keys(BINARY_TABLE).map((op) => [op, (a: Operand, b: Operand) => binary(op as BinaryOp, a, b)]),
) as { readonly [K in BinaryOp]: (a: Operand, b: Operand) => Tensor };
