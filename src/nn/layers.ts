/**
 * @file Layers. Each takes its fan-in/fan-out and their base-width values, so the
 * parameterization decides init, forward multiplier and learning rate (src/nn/parameterization.ts).
 * Weights are stored [in, out] (x @ W, no transpose); conv kernels HWIO; activations NHWC.
 * Layers record the mean |output| of their forward when a recorder is attached (coord check).
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { dynamic } from '../util/dynamic.js';
import { add, biasAct, conv2d, embedding, layerNorm, linearAct, matmul, mul, permute, reshape, rmsNorm, scaledDotProductAttention, unary } from '../autograd/ops.js';
import type { BiasActivation } from '../ops/bias-act.js';
import { attentionScale } from './parameterization.js';
import { memberRows } from '../ops/embedding.js';
import { Module, type ModelContext, type Parameter } from './module.js';

/**
 * Ensembles (issue 7): with `ctx.seeds`, every parameter is [S, ...] and every layer takes inputs
 * whose axis 0 is the ensemble axis S. A layer given an input without it throws an error naming
 * the layer, the expected and the received shape.
 */
export function checkEnsembleInput(layer: string, x: Tensor, S: number, minRank: number, expected: string): void {
  if (x.shape.length < minRank || x.shape[0] !== S) {
    throw new Error(
      `${layer}: expected an input ${expected} with the ensemble axis S=${S} first, got ${fmt(x.shape)}` +
        ` (an ensemble layer needs [S, ...] inputs; pass a shared batch to the model, which broadcasts it)`,
    );
  }
}

/** A per-member parameter [S, ...dims] viewed as [S, 1, ..., 1, ...dims] to broadcast against rank `rank`. */
export function memberBroadcast(p: Tensor, rank: number): Tensor {
  const [S, ...dims] = p.shape;
  const ones = rank - 1 - dims.length;
  return ones <= 0 ? p : reshape(p, [S, ...Array<number>(ones).fill(1), ...dims]);
}

/** Receives the output of every layer that records (coordinate check, activations stats). */
export type Recorder = (path: string, output: Tensor) => void;

const recorder = dynamic<Recorder | null>(null);

/** Runs `fn` with `r` receiving each recording layer's output. */
export function withRecorder<T>(r: Recorder, fn: () => T): T {
  return recorder.with(r, fn);
}

/** Whether a recorder is attached (withRecorder): layers whose outputs it sees are then kept apart. */
export function recording(): boolean {
  return recorder.get() !== null;
}

export function record(path: string, t: Tensor): Tensor {
  recorder.get()?.(path, t);
  return t;
}

/** y * multiplier, skipping the multiply when it is 1. */
function scaled(y: Tensor, multiplier: number): Tensor {
  return multiplier === 1 ? y : mul(y, multiplier);
}

export interface LinearOptions {
  in: number;
  out: number;
  /** Base-width sizes (default: the same, i.e. this dimension does not grow with width). */
  baseIn?: number;
  baseOut?: number;
  bias?: boolean;
  /** The model's readout layer. */
  readout?: boolean;
  /** An attention query projection (zero-init option). */
  query?: boolean;
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(ctx: ModelContext, path: string, o: LinearOptions) {
    super(ctx, path);
    const baseIn = o.baseIn ?? o.in;
    const baseOut = o.baseOut ?? o.out;
    this.weight = this.param('weight', {
      shape: [o.in, o.out], fanIn: o.in, fanOut: o.out, baseFanIn: baseIn, baseFanOut: baseOut,
      kind: 'weight', readout: o.readout, query: o.query,
    });
    this.bias = o.bias === false ? null
      : this.param('bias', { shape: [o.out], fanIn: o.out, fanOut: o.out, baseFanIn: baseOut, baseFanOut: baseOut, kind: 'bias' });
  }

  /**
   * x [..., in] -> [..., out]. In an ensemble: x [S, ..., in] (or, with `shared`, one batch
   * [..., in] seen by every member) -> [S, ..., out] through one batched matmul [S, M, in] x [S, in, out].
   * With `activation`, act(x W + b) (and the recorded output is the activation's): with a bias,
   * the linearAct primitive (the matmul epilogue forward, one fused pass for the activation's and
   * the bias's gradients backward).
   */
  forward(x: Tensor, shared = false, activation?: BiasActivation): Tensor {
    const S = this.ensemble;
    const alpha = this.weight.rule.multiplier;
    const product = (a: Tensor, bias: Tensor | undefined) =>
      activation && bias ? linearAct(a, this.weight.value, { bias, act: activation, alpha })
        : activation ? matmul(a, this.weight.value, { alpha, activation })
          : matmul(a, this.weight.value, { alpha, bias });
    if (S === null) {
      // multiplier and bias in the matmul's epilogue (one dispatch; the bias is an input of the primitive)
      return record(this.path, product(x, this.bias?.value));
    }
    const [fin, fout] = this.weight.info.shape;
    let lead: number[];
    let x3: Tensor;
    if (shared) {
      lead = [S, ...x.shape.slice(0, -1)];
      x3 = x.shape.length === 2 ? x : reshape(x, [-1, fin]); // [M, in] broadcast against [S, in, out]
    } else {
      checkEnsembleInput(`Linear '${this.path}'`, x, S, 3, `[${S}, ..., ${fin}]`);
      lead = x.shape.slice(0, -1);
      x3 = x.shape.length === 3 ? x : reshape(x, [S, -1, fin]);
    }
    // per-member bias rows [S, 1, out] in the matmul's epilogue
    const bias = this.bias ? memberBroadcast(this.bias.value, 3) : undefined;
    const y = product(x3, bias);
    return record(this.path, y.shape.length === lead.length + 1 ? y : reshape(y, [...lead, fout]));
  }
}

export interface Conv2dLayerOptions {
  inChannels: number;
  outChannels: number;
  baseIn?: number;
  baseOut?: number;
  kernel: number;
  stride?: number;
  padding?: number;
  bias?: boolean;
  /**
   * Channel groups (default 1): weight [k, k, inChannels / groups, outChannels]. groups =
   * inChannels is depthwise (one input channel per group at every width: fan-in k^2, fixed);
   * any other value is a fixed number of groups whose channels grow with width.
   */
  groups?: number;
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(ctx: ModelContext, path: string, readonly o: Conv2dLayerOptions) {
    super(ctx, path);
    const k2 = o.kernel * o.kernel;
    const baseIn = o.baseIn ?? o.inChannels;
    const baseOut = o.baseOut ?? o.outChannels;
    const groups = o.groups ?? 1;
    // each output channel sees the inChannels / groups input channels of its group
    const depthwise = groups > 1 && groups === o.inChannels;
    const baseGroupIn = depthwise ? 1 : baseIn / groups;
    if (!Number.isInteger(groups) || groups < 1 || o.inChannels % groups !== 0 || o.outChannels % groups !== 0 || !Number.isInteger(baseGroupIn)) {
      throw new Error(
        `Conv2d '${path}': groups ${groups} must be an integer >= 1 dividing inChannels ${o.inChannels}, ` +
          `outChannels ${o.outChannels}${depthwise ? '' : ` and baseIn ${baseIn}`}`,
      );
    }
    this.weight = this.param('weight', {
      shape: [o.kernel, o.kernel, o.inChannels / groups, o.outChannels],
      fanIn: (o.inChannels / groups) * k2, fanOut: o.outChannels, baseFanIn: baseGroupIn * k2, baseFanOut: baseOut, kind: 'weight',
    });
    this.bias = o.bias === false ? null
      : this.param('bias', { shape: [o.outChannels], fanIn: o.outChannels, fanOut: o.outChannels, baseFanIn: baseOut, baseFanOut: baseOut, kind: 'bias' });
  }

  /**
   * x [N, H, W, Cin] -> [N, OH, OW, Cout]; in an ensemble x [S, N, H, W, Cin] -> [S, N, OH, OW, Cout].
   * With `activation`, act(conv + b) (and the recorded output is the activation's): with a bias
   * and multiplier 1, the convolution's epilogue adds the bias and applies it (one dispatch; one
   * fused pass for the activation's and the bias's gradients backward); with another multiplier,
   * the biasAct primitive after the convolution.
   */
  forward(x: Tensor, activation?: BiasActivation): Tensor {
    const S = this.ensemble;
    if (S !== null) checkEnsembleInput(`Conv2d '${this.path}'`, x, S, 5, `[${S}, N, H, W, ${this.o.inChannels}]`);
    if (S !== null && x.shape.length !== 5) {
      throw new Error(`Conv2d '${this.path}': expected an input [${S}, N, H, W, ${this.o.inChannels}], got ${fmt(x.shape)}`);
    }
    const opts = { stride: this.o.stride ?? 1, padding: this.o.padding ?? 0, groups: this.o.groups ?? 1 };
    const b = this.bias && (S === null ? this.bias.value : memberBroadcast(this.bias.value, 5));
    const multiplier = this.weight.rule.multiplier;
    if (activation && b && multiplier === 1) return record(this.path, conv2d(x, this.weight.value, b, { ...opts, activation }));
    if (activation && b) return record(this.path, biasAct(scaled(conv2d(x, this.weight.value, null, opts), multiplier), b, activation));
    if (activation) return record(this.path, unary(activation, scaled(conv2d(x, this.weight.value, null, opts), multiplier)));
    // the kernel adds the bias (no separate add) unless a multiplier comes between
    if (multiplier === 1) return record(this.path, conv2d(x, this.weight.value, b, opts));
    const y = scaled(conv2d(x, this.weight.value, null, opts), multiplier);
    return record(this.path, b ? add(y, b) : y);
  }
}

export interface NormOptions {
  dim: number;
  baseDim?: number;
  eps?: number;
  /** RMSNorm (no centering, no bias) instead of LayerNorm. */
  rms?: boolean;
}

/**
 * LayerNorm / RMSNorm over the last axis with a gain (and a bias for LayerNorm): the fused,
 * twice-differentiable primitives (one kernel each way instead of ~12 composed ops). An
 * ensemble's gains [S, dim] are applied after the fused normalization, broadcast per member.
 */
export class Norm extends Module {
  readonly gain: Parameter;
  readonly bias: Parameter | null;

  constructor(ctx: ModelContext, path: string, readonly o: NormOptions) {
    super(ctx, path);
    const base = o.baseDim ?? o.dim;
    const info = { shape: [o.dim], fanIn: o.dim, fanOut: o.dim, baseFanIn: base, baseFanOut: base };
    this.gain = this.param('gain', { ...info, kind: 'gain' });
    this.bias = o.rms ? null : this.param('bias', { ...info, kind: 'bias' });
  }

  forward(x: Tensor): Tensor {
    const S = this.ensemble;
    if (S !== null) checkEnsembleInput(`Norm '${this.path}'`, x, S, 2, `[${S}, ..., ${this.o.dim}]`);
    const eps = { eps: this.o.eps ?? 1e-5 };
    const dim = this.o.dim;
    if (S === null) {
      const gain = this.gain.value;
      const y = this.o.rms ? rmsNorm(x, dim, gain, eps) : layerNorm(x, dim, gain, this.bias?.value ?? null, eps);
      return record(this.path, y);
    }
    const normed = this.o.rms ? rmsNorm(x, dim, null, eps) : layerNorm(x, dim, null, null, eps);
    const per = (p: Parameter) => memberBroadcast(p.value, x.shape.length);
    const y = mul(normed, per(this.gain));
    return record(this.path, this.bias ? add(y, per(this.bias)) : y);
  }
}

export interface EmbeddingOptions {
  count: number;
  dim: number;
  baseDim?: number;
}

/**
 * A lookup table [count, dim]: an input weight whose input is one-hot, so its fan-in is 1 and
 * its init std is sigma (not sigma / sqrt(count)).
 */
export class Embedding extends Module {
  readonly weight: Parameter;

  constructor(ctx: ModelContext, path: string, readonly o: EmbeddingOptions) {
    super(ctx, path);
    this.weight = this.param('weight', {
      shape: [o.count, o.dim], fanIn: 1, fanOut: o.dim, baseFanIn: 1, baseFanOut: o.baseDim ?? o.dim, kind: 'weight',
    });
  }

  /**
   * Rows of the table for i32 `ids` of any shape: [...ids.shape, dim]. In an ensemble, ids
   * [S, ...] look up member s's table: the tables [S, V, D] are one [S*V, D] table and member
   * s's ids are offset by s*V (one gather; the backward scatters into disjoint rows).
   */
  forward(ids: Tensor): Tensor {
    const S = this.ensemble;
    if (S === null) return record(this.path, scaled(embedding(this.weight.value, ids), this.weight.rule.multiplier));
    checkEnsembleInput(`Embedding '${this.path}'`, ids, S, 2, `[${S}, ...] (token ids)`);
    const V = this.o.count;
    // member s's ids index its own table: checked against [0, V) before the shift
    const rows = memberRows(ids, S, V, `Embedding '${this.path}'`);
    const table = reshape(this.weight.value, [S * V, this.o.dim]);
    return record(this.path, scaled(embedding(table, rows), this.weight.rule.multiplier));
  }
}

export interface AttentionLayerOptions {
  /** Model width (d_model). */
  dim: number;
  baseDim?: number;
  /** Held fixed as width grows: heads = dim / headDim. */
  headDim: number;
  causal?: boolean;
}

/**
 * Multi-head self-attention on the fused kernel: q, k, v, o projections (hidden weights; q
 * zero-init is a muP option), heads split from the last axis, any leading axes ([B, T, n] or
 * [S, B, T, n] with an ensemble). The logits scale is the parameterization's (attentionScale).
 */
export class MultiheadAttention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;

  constructor(ctx: ModelContext, path: string, readonly opts: AttentionLayerOptions) {
    super(ctx, path);
    const { dim: n, headDim } = opts;
    const b = opts.baseDim ?? n;
    if (n % headDim !== 0) throw new Error(`MultiheadAttention '${path}': dim ${n} is not a multiple of headDim ${headDim}`);
    const lin = (name: string, query = false) =>
      this.child(name, (p) => new Linear(ctx, p, { in: n, out: n, baseIn: b, baseOut: b, query }));
    this.q = lin('q', true);
    this.k = lin('k');
    this.v = lin('v');
    this.o = lin('o');
  }

  forward(x: Tensor): Tensor {
    const { dim: n, headDim: hd } = this.opts;
    const heads = n / hd;
    const lead = x.shape.slice(0, -2);
    const T = x.shape[x.shape.length - 2];
    const L = lead.length;
    const axes = [...lead.map((_, i) => i), L + 1, L, L + 2]; // [..., T, heads, hd] <-> [..., heads, T, hd]
    const split = (t: Tensor) => permute(reshape(t, [...lead, T, heads, hd]), axes);
    // NOTE: with the head dimension fixed as width grows, muP's sqrt(base d)/d equals SP's
    // 1/sqrt(d); it would differ if the number of heads were fixed instead.
    const scale = attentionScale(this.ctx.param.parameterization, hd, hd);
    const att = scaledDotProductAttention(split(this.q.forward(x)), split(this.k.forward(x)), split(this.v.forward(x)), {
      causal: this.opts.causal ?? true,
      scale,
    });
    const merged = reshape(permute(att, axes), [...lead, T, n]);
    return this.o.forward(record(`${this.path}.heads`, merged));
  }
}
