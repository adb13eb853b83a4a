/**
 * @file Scaled dot-product attention on [B, H, T, D] (any leading axes): the fused kernels
 * (online-softmax forward that saves the per-row log-sum-exp, and a deterministic fused
 * backward), and the composed path (batched matmul + causal mask + softmax + matmul) that stays
 * as their oracle and bench baseline.
 *   s = scale * q k^T (causal: key j visible to query i iff j <= i, PyTorch's top-left
 *   alignment), out = softmax(s) v, lse = logsumexp(s, -1). `scale` is explicit: muP uses 1/D,
 *   standard attention 1/sqrt(D) (the default).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/device.js';
import { fmt } from '../tensor/shape.js';
import { tidy } from '../tensor/scope.js';
import { checkF32, checkSameDevice } from './launch.js';
import { binary } from './elementwise.js';
import { sum } from './reduce.js';
import { softmax } from './softmax.js';
import { zeros } from './creation.js';
import { specializeKernel } from './conv2d.js';

export interface AttentionOptions {
  causal?: boolean;
  /** Multiplies q . k; default 1/sqrt(D). */
  scale?: number;
  /**
   * The fused kernels' row loads: 'auto' (shuffled on a CPU adapter with subgroups), 'plain'
   * (attention.wgsl) or 'shuffle' (attention_shuffle.wgsl: a subgroup loads shared rows once).
   */
  loads?: 'auto' | 'plain' | 'shuffle';
}

/** Lanes attention_shuffle.wgsl shares a row among (the adapter's subgroups must be as wide). */
const SHUFFLE_SG = 8;

/** Query (key) rows per workgroup of the fused kernels. */
const WG = 64;
/** Largest head dim the fused kernels hold in private memory; beyond it use attentionComposed. */
export const MAX_FUSED_HEAD_DIM = 256;

interface Dims {
  lead: number[];
  BH: number;
  Tq: number;
  Tk: number;
  D: number;
  scale: number;
  causal: boolean;
}

/** Checks q [..., Tq, D], k [..., Tk, D], v [..., Tk, D] and returns the sizes. */
export function attentionDims(op: string, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Dims {
  for (const [t, name] of [[q, 'q'], [k, 'k'], [v, 'v']] as const) {
    checkF32(op, t, name);
    if (t.rank < 2) throw new Error(`${op}: ${name} ${fmt(t.shape)} must be [..., T, D] (e.g. [B, H, T, D])`);
  }
  checkSameDevice(op, q, k, v);
  if (q.rank !== k.rank || q.rank !== v.rank) {
    throw new Error(`${op}: q ${fmt(q.shape)}, k ${fmt(k.shape)} and v ${fmt(v.shape)} must have the same rank`);
  }
  const r = q.rank;
  const lead = q.shape.slice(0, r - 2);
  for (const [t, name] of [[k, 'k'], [v, 'v']] as const) {
    if (t.shape.slice(0, r - 2).some((d, i) => d !== lead[i])) {
      throw new Error(`${op}: leading (batch, head) axes differ: q ${fmt(q.shape)} but ${name} ${fmt(t.shape)}`);
    }
  }
  const D = q.shape[r - 1];
  if (D === 0) throw new Error(`${op}: q ${fmt(q.shape)} has head dim D = 0; expected D >= 1`);
  if (k.shape[r - 1] !== D) {
    throw new Error(`${op}: head dims differ: q ${fmt(q.shape)} has D = ${D} but k ${fmt(k.shape)} has D = ${k.shape[r - 1]}`);
  }
  if (v.shape[r - 1] !== D) {
    throw new Error(`${op}: v ${fmt(v.shape)} has head dim ${v.shape[r - 1]}, expected D = ${D} like q and k`);
  }
  const Tk = k.shape[r - 2];
  if (v.shape[r - 2] !== Tk) {
    throw new Error(`${op}: K/V length mismatch: k ${fmt(k.shape)} has ${Tk} keys but v ${fmt(v.shape)} has ${v.shape[r - 2]}`);
  }
  const Tq = q.shape[r - 2];
  if (Tk === 0 && Tq > 0) throw new Error(`${op}: k ${fmt(k.shape)} has no keys`);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  if (!Number.isFinite(scale)) throw new Error(`${op}: scale must be finite, got ${scale}`);
  return { lead, BH: lead.reduce((a, b) => a * b, 1), Tq, Tk, D, scale, causal: !!opts.causal };
}

function checkFusedDims(op: string, device: Device, d: Dims): void {
  if (d.D > MAX_FUSED_HEAD_DIM || d.D % 4 !== 0) {
    throw new Error(
      `${op}: the fused kernels need a head dim that is a multiple of 4 and at most ${MAX_FUSED_HEAD_DIM}, ` +
        `got D = ${d.D}; use attentionComposed`,
    );
  }
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (d.BH > max) throw new Error(`${op}: ${d.BH} batch x head slices exceed ${max} workgroups per dimension; split the batch`);
}

/**
 * Fused forward tiling: TQ query rows per invocation (register blocking: each K/V load feeds
 * TQ rows) and WG invocations per workgroup. Causal workgroups stop at their last row's last
 * key, so causal attention takes small row blocks (32 rows) to skip the masked triangle.
 */
const FWD_TILE = { full: { tq: 4, wg: 64 }, causal: { tq: 2, wg: 16 } };

function kernelFor(op: string, device: Device, opts: AttentionOptions, D: number, tq = FWD_TILE.full.tq): string {
  const can = device.subgroupLanes >= SHUFFLE_SG;
  const loads = opts.loads ?? 'auto';
  if (loads === 'shuffle' && !can) {
    throw new Error(`${op}: loads 'shuffle' needs subgroups of at least ${SHUFFLE_SG} lanes (adapter: ${device.subgroupLanes || 'none'})`);
  }
  const shuffle = loads === 'shuffle' || (loads === 'auto' && can && device.isSoftware);
  return specializeKernel(device, shuffle ? 'attention_shuffle' : 'attention', { D, TQ: tq });
}

function paramsOf(d: Dims) {
  return { bh: d.BH, tq: d.Tq, tk: d.Tk, causal: d.causal ? 1 : 0, scale: d.scale };
}

/** Fused forward: out [..., Tq, D] and the per-row log-sum-exp lse [..., Tq] (for backward). */
export function attentionForward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): { out: Tensor; lse: Tensor } {
  const op = 'attention';
  const d = attentionDims(op, q, k, v, opts);
  const device = q.device;
  checkFusedDims(op, device, d);
  const out = Tensor.empty(device, q.shape, 'f32', op);
  const lse = Tensor.empty(device, q.shape.slice(0, -1), 'f32', op);
  if (out.size === 0) return { out, lse };
  const tile = d.causal ? FWD_TILE.causal : FWD_TILE.full;
  device.dispatch({
    kernel: kernelFor(op, device, opts, d.D, tile.tq),
    entry: 'fwd',
    constants: { WG: tile.wg },
    label: `${op}(q ${fmt(q.shape)}, k ${fmt(k.shape)}, causal ${d.causal}, scale ${d.scale})`,
    bindings: { q: q.binding(op), k: k.binding(op), v: v.binding(op), out: out.binding(op), lse: lse.binding(op) },
    params: paramsOf(d),
    workgroups: [Math.ceil(d.Tq / (tile.wg * tile.tq)), d.BH],
  });
  return { out, lse };
}

/** softmax(scale * q k^T [+ causal mask]) v, fused (the T x T scores are never written). */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const { out, lse } = attentionForward(q, k, v, opts);
  lse.dispose();
  return out;
}

/**
 * Fused backward from the forward's out and lse: recomputes the scores per (query, key) pair,
 * one pass over key rows for dk, dv and one over query rows for dq (deterministic).
 */
export function attentionBackward(
  q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, dout: Tensor, opts: AttentionOptions = {},
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const op = 'attentionBackward';
  const d = attentionDims(op, q, k, v, opts);
  const device = q.device;
  checkFusedDims(op, device, d);
  for (const [t, name, shape] of [[out, 'out', q.shape], [dout, 'dout', q.shape], [lse, 'lse', q.shape.slice(0, -1)]] as const) {
    checkF32(op, t, name);
    if (t.rank !== shape.length || t.shape.some((x, i) => x !== shape[i])) {
      throw new Error(`${op}: ${name} ${fmt(t.shape)} must be ${fmt(shape)} (from q ${fmt(q.shape)})`);
    }
  }
  const dq = Tensor.empty(device, q.shape, 'f32', op);
  const dk = Tensor.empty(device, k.shape, 'f32', op);
  const dv = Tensor.empty(device, v.shape, 'f32', op);
  if (dq.size === 0 && dk.size === 0) return { dq, dk, dv };
  if (dq.size === 0) {
    // no queries: nothing reads the keys, and the kernels' vec4 bindings would not take empty q/dout
    dk.dispose();
    dv.dispose();
    return { dq, dk: zeros(k.shape, { device }), dv: zeros(v.shape, { device }) };
  }
  const kernel = kernelFor(op, device, opts, d.D);
  const label = `${op}(q ${fmt(q.shape)}, k ${fmt(k.shape)}, causal ${d.causal})`;
  const params = paramsOf(d);
  const delta = Tensor.empty(device, [d.BH * d.Tq], 'f32', op);
  const rows = Math.ceil((d.BH * d.Tq) / WG);
  const gx = Math.min(rows, device.limits.maxComputeWorkgroupsPerDimension);
  device.dispatch({
    kernel, entry: 'prep', label: `${label} delta`, params,
    bindings: { dout: dout.binding(op), o_in: out.binding(op), delta: delta.binding(op) },
    workgroups: [gx, Math.ceil(rows / gx)],
  });
  const common = { q: q.binding(op), k: k.binding(op), v: v.binding(op), dout: dout.binding(op), lse_in: lse.binding(op), delta_in: delta.binding(op) };
  device.dispatch({
    kernel, entry: 'dkdv', label: `${label} dk dv`, params,
    bindings: { ...common, dk: dk.binding(op), dv: dv.binding(op) },
    workgroups: [Math.ceil(d.Tk / WG), d.BH],
  });
  device.dispatch({
    kernel, entry: 'dq_main', label: `${label} dq`, params,
    bindings: { q: q.binding(op), k: k.binding(op), v: v.binding(op), dout: dout.binding(op), lse_in: lse.binding(op), delta_in: delta.binding(op), dq: dq.binding(op) },
    workgroups: [Math.ceil(d.Tq / WG), d.BH],
  });
  delta.dispose();
  return { dq, dk, dv };
}

// ---- The composed path (oracle and baseline) ----

const BMM_TILE = { tm: 4, tn: 4 };

interface Operand {
  t: Tensor;
  /** Element strides of rows, columns and batches of the operand as the product reads it. */
  rs: number;
  cs: number;
  bs: number;
}

/** c[b] = alpha * A[b] B[b] with A [m, k] and B [k, n] read through strides (no transposes). */
function bmm(op: string, a: Operand, b: Operand, batch: number, m: number, n: number, k: number, alpha: number): Tensor {
  const device = a.t.device;
  const c = Tensor.empty(device, [batch, m, n], 'f32', op);
  if (c.size === 0) return c;
  device.dispatch({
    kernel: 'attention_composed',
    entry: 'bmm',
    label: `${op} bmm [${batch}, ${m}, ${k}] x [${batch}, ${k}, ${n}]`,
    bindings: { a: a.t.binding(op), bm: b.t.binding(op), c: c.binding(op) },
    params: {
      m, n, k, alpha, a_rs: a.rs, a_cs: a.cs, a_bs: a.bs, b_rs: b.rs, b_cs: b.cs, b_bs: b.bs, batch, tq: 0,
    },
    workgroups: [Math.ceil(m / (BMM_TILE.tm * WG)), Math.ceil(n / BMM_TILE.tn), batch],
  });
  return c;
}

/** Row-major [rows, cols] operand read as is (N) or transposed (T). */
const asN = (t: Tensor, rows: number, cols: number): Operand => ({ t, rs: cols, cs: 1, bs: rows * cols });
const asT = (t: Tensor, rows: number, cols: number): Operand => ({ t, rs: 1, cs: cols, bs: rows * cols });

/**
 * The composed path: scores = scale q k^T, causal mask, softmax, probs v. Writes the T x T
 * probabilities (returned for attentionComposedBackward).
 */
export function attentionComposed(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): { out: Tensor; probs: Tensor } {
  const op = 'attentionComposed';
  const d = attentionDims(op, q, k, v, opts);
  return tidy(() => {
    const { BH, Tq, Tk, D } = d;
    const scores = bmm(op, asN(q, Tq, D), asT(k, Tk, D), BH, Tq, Tk, D, d.scale);
    if (d.causal && scores.size > 0) {
      const n = scores.size;
      const rows = Math.ceil(n / WG);
      const gx = Math.min(rows, q.device.limits.maxComputeWorkgroupsPerDimension);
      q.device.dispatch({
        kernel: 'attention_composed', entry: 'causal_mask', label: `${op} causal mask`,
        bindings: { s: scores.binding(op) },
        params: { m: 0, n: Tk, k: 0, alpha: 0, a_rs: 0, a_cs: 0, a_bs: 0, b_rs: 0, b_cs: 0, b_bs: 0, batch: BH, tq: Tq },
        workgroups: [gx, Math.ceil(rows / gx)],
      });
    }
    const probs = softmax(scores, -1);
    const out = bmm(op, asN(probs, Tq, Tk), asN(v, Tk, D), BH, Tq, D, Tk, 1).reshape(q.shape);
    return { out, probs: probs.reshape([...d.lead, Tq, Tk]) };
  });
}

/**
 * Backward of the composed path from its probabilities P:
 *   dv = P^T dout,  dP = dout v^T,  dS = P * (dP - rowsum(dP * P)),
 *   dq = scale dS k,  dk = scale dS^T q.
 */
export function attentionComposedBackward(
  q: Tensor, k: Tensor, v: Tensor, probs: Tensor, dout: Tensor, opts: AttentionOptions = {},
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const op = 'attentionComposedBackward';
  const d = attentionDims(op, q, k, v, opts);
  return tidy(() => {
    const { BH, Tq, Tk, D, scale } = d;
    const dv = bmm(op, asT(probs, Tq, Tk), asN(dout, Tq, D), BH, Tk, D, Tq, 1).reshape(v.shape);
    const dp = bmm(op, asN(dout, Tq, D), asT(v, Tk, D), BH, Tq, Tk, D, 1);
    const p = probs.reshape([BH, Tq, Tk]);
    const ds = binary('mul', p, binary('sub', dp, sum(binary('mul', dp, p), -1, true)));
    const dq = bmm(op, asN(ds, Tq, Tk), asN(k, Tk, D), BH, Tq, D, Tk, scale).reshape(q.shape);
    const dk = bmm(op, asT(ds, Tq, Tk), asN(q, Tq, D), BH, Tk, D, Tq, scale).reshape(k.shape);
    return { dq, dk, dv };
  });
}

/** FLOPs of the attention forward (2 matmuls; causal counts only the visible pairs). */
export function attentionFlops(BH: number, Tq: number, Tk: number, D: number, causal: boolean): number {
  const pairs = causal ? Tq * Math.min(Tq, Tk) - (Math.min(Tq, Tk) * (Math.min(Tq, Tk) - 1)) / 2 : Tq * Tk;
  return 4 * BH * pairs * D;
}
