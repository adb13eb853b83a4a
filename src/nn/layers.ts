/**
 * @file Layers. Each takes its fan-in/fan-out and their base-width values, so the
 * parameterization decides init, forward multiplier and learning rate (src/nn/parameterization.ts).
 * Weights are stored [in, out] (x @ W, no transpose); conv kernels HWIO; activations NHWC.
 * Layers record the mean |output| of their forward when a recorder is attached (coord check).
 */
import type { Tensor } from '../tensor/tensor.js';
import { add, conv2d, embedding, matmul, mean, mul, rsqrt, square, sub, variance } from '../autograd/ops.js';
import { Module, type ModelContext, type Parameter } from './module.js';

/** Receives the output of every layer that records (coordinate check, activations stats). */
export type Recorder = (path: string, output: Tensor) => void;

let recorder: Recorder | null = null;

/** Runs `fn` with `r` receiving each recording layer's output. */
export function withRecorder<T>(r: Recorder, fn: () => T): T {
  const prev = recorder;
  recorder = r;
  try {
    return fn();
  } finally {
    recorder = prev;
  }
}

export function record(path: string, t: Tensor): Tensor {
  recorder?.(path, t);
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

  forward(x: Tensor): Tensor {
    const y = scaled(matmul(x, this.weight.value), this.weight.rule.multiplier);
    return record(this.path, this.bias ? add(y, this.bias.value) : y);
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
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(ctx: ModelContext, path: string, readonly o: Conv2dLayerOptions) {
    super(ctx, path);
    const k2 = o.kernel * o.kernel;
    const baseIn = o.baseIn ?? o.inChannels;
    const baseOut = o.baseOut ?? o.outChannels;
    this.weight = this.param('weight', {
      shape: [o.kernel, o.kernel, o.inChannels, o.outChannels],
      fanIn: o.inChannels * k2, fanOut: o.outChannels, baseFanIn: baseIn * k2, baseFanOut: baseOut, kind: 'weight',
    });
    this.bias = o.bias === false ? null
      : this.param('bias', { shape: [o.outChannels], fanIn: o.outChannels, fanOut: o.outChannels, baseFanIn: baseOut, baseFanOut: baseOut, kind: 'bias' });
  }

  forward(x: Tensor): Tensor {
    const y = scaled(conv2d(x, this.weight.value, null, { stride: this.o.stride ?? 1, padding: this.o.padding ?? 0 }), this.weight.rule.multiplier);
    return record(this.path, this.bias ? add(y, this.bias.value) : y);
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
 * LayerNorm / RMSNorm over the last axis with a gain (and a bias for LayerNorm), composed from
 * differentiable ops so gains broadcast over any leading axes (an ensemble axis included).
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
    const eps = this.o.eps ?? 1e-5;
    const normed = this.o.rms
      ? mul(x, rsqrt(add(mean(square(x), -1, true), eps)))
      : mul(sub(x, mean(x, -1, true)), rsqrt(add(variance(x, -1, true), eps)));
    const y = mul(normed, this.gain.value);
    return record(this.path, this.bias ? add(y, this.bias.value) : y);
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

  constructor(ctx: ModelContext, path: string, o: EmbeddingOptions) {
    super(ctx, path);
    this.weight = this.param('weight', {
      shape: [o.count, o.dim], fanIn: 1, fanOut: o.dim, baseFanIn: 1, baseFanOut: o.baseDim ?? o.dim, kind: 'weight',
    });
  }

  /** Rows of the table for i32 `ids` of any shape: [...ids.shape, dim]. */
  forward(ids: Tensor): Tensor {
    return record(this.path, scaled(embedding(this.weight.value, ids), this.weight.rule.multiplier));
  }
}
