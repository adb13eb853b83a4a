/**
 * @file The three model families, each built from a width and a base width (muP equals SP at
 * the base width). Inputs: images NHWC [B, H, W, C] for the MLP (flattened) and the CNN; token
 * ids [B, T] (i32) for the transformer.
 *   mlp:         `depth` hidden layers of width n: input (d -> n), depth - 1 hidden (n -> n),
 *                readout (n -> k).
 *   cnn:         ResNet-style: a 3x3 stem (C -> n), `depth` stages of one residual block each
 *                (channels n, 2n, 4n, ...; stride 2 between stages), global average pool, readout.
 *   transformer: GPT-style decoder: token + position embeddings (input), `depth` pre-norm blocks
 *                (causal attention with the head dimension held fixed, so heads = n / headDim grow
 *                with width; an MLP of mlpRatio * n), final norm, readout to the vocabulary.
 */
import type { Tensor } from '../tensor/tensor.js';
import { add, mean, mul, relu, gelu, tanh, reshape, slice, expand } from '../autograd/ops.js';
import { fmt } from '../tensor/shape.js';
import { Module, type ModelContext } from './module.js';
import { Conv2d, Embedding, Linear, MultiheadAttention, Norm, record, recording } from './layers.js';

export type Activation = 'relu' | 'gelu' | 'tanh';

export type ModelSpec =
  | {
      family: 'mlp'; width: number; baseWidth: number; depth: number; inputShape: number[]; classes: number;
      activation?: Activation; bias?: boolean;
    }
  | { family: 'cnn'; width: number; baseWidth: number; depth: number; inputShape: number[]; classes: number; activation?: Activation }
  | {
      family: 'transformer'; width: number; baseWidth: number; depth: number; headDim: number; mlpRatio?: number;
      vocab: number; context: number; activation?: Activation;
    };

function act(kind: Activation | undefined, x: Tensor): Tensor {
  return kind === 'tanh' ? tanh(x) : kind === 'gelu' ? gelu(x) : relu(x);
}

/**
 * The activation a layer may apply itself (Linear/Conv2d's `activation`: bias and activation as
 * one primitive with a one-dispatch backward), or undefined: gelu, or a recorder attached (it sees
 * each layer's output before its activation).
 */
function layerAct(kind: Activation | undefined): 'relu' | 'tanh' | undefined {
  if (recording() || kind === 'gelu') return undefined;
  return kind ?? 'relu';
}

export abstract class Model extends Module {
  abstract readonly spec: ModelSpec;
  /**
   * Single model: x [B, ...example] -> outputs [B, ...]. Ensemble of S (ctx.seeds): x
   * [S, B, ...example] (member s sees x[s]) or one shared batch [B, ...example] seen by every
   * member -> outputs [S, B, ...].
   */
  abstract forward(x: Tensor): Tensor;

  /** The seeds of an ensemble model (null for a single model). */
  get seeds(): number[] | null {
    return this.ctx.seeds ? [...this.ctx.seeds] : null;
  }

  /**
   * Whether an ensemble input is one shared batch (rank exampleRank + 1) rather than per-member
   * batches [S, B, ...] (rank exampleRank + 2); throws a clear error for anything else.
   */
  protected sharedInput(x: Tensor, exampleRank: number, example: string): boolean {
    const S = this.ensemble;
    if (S === null) return false;
    if (x.shape.length === exampleRank + 2 && x.shape[0] === S) return false;
    if (x.shape.length === exampleRank + 1) return true;
    throw new Error(
      `${this.spec.family}: an ensemble of ${S} expects an input [${S}, B, ${example}] or a shared batch [B, ${example}], got ${fmt(x.shape)}`,
    );
  }
}

export class MLP extends Model {
  private readonly layers: Linear[] = [];

  constructor(ctx: ModelContext, readonly spec: Extract<ModelSpec, { family: 'mlp' }>) {
    super(ctx, '');
    const { width: n, baseWidth: b, depth, inputShape, classes } = spec;
    if (!(depth >= 1)) throw new Error(`mlp: depth (hidden layers) must be at least 1, got ${depth}`);
    const d = inputShape.reduce((a, c) => a * c, 1);
    const bias = spec.bias ?? true;
    this.layers.push(this.child('input', (p) => new Linear(ctx, p, { in: d, out: n, baseOut: b, bias })));
    for (let i = 1; i < depth; i++) {
      this.layers.push(this.child(`hidden${i}`, (p) => new Linear(ctx, p, { in: n, out: n, baseIn: b, baseOut: b, bias })));
    }
    this.layers.push(this.child('readout', (p) => new Linear(ctx, p, { in: n, out: classes, baseIn: b, readout: true, bias })));
  }

  forward(x: Tensor): Tensor {
    const shared = this.sharedInput(x, this.spec.inputShape.length, this.spec.inputShape.join(', '));
    let h = reshape(x, [...x.shape.slice(0, -this.spec.inputShape.length), -1]);
    const fused = layerAct(this.spec.activation);
    this.layers.forEach((l, i) => {
      const hidden = i < this.layers.length - 1;
      h = l.forward(h, shared && i === 0, hidden ? fused : undefined);
      if (hidden && !fused) h = record(`${l.path}.act`, act(this.spec.activation, h));
    });
    return h;
  }
}

class ResidualBlock extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly skip: Conv2d | null;

  constructor(ctx: ModelContext, path: string, cin: number, cout: number, baseIn: number, baseOut: number, stride: number, readonly activation?: Activation) {
    super(ctx, path);
    this.conv1 = this.child('conv1', (p) => new Conv2d(ctx, p, { inChannels: cin, outChannels: cout, baseIn, baseOut, kernel: 3, stride, padding: 1 }));
    this.conv2 = this.child('conv2', (p) => new Conv2d(ctx, p, { inChannels: cout, outChannels: cout, baseIn: baseOut, baseOut, kernel: 3, padding: 1 }));
    this.skip = stride !== 1 || cin !== cout
      ? this.child('skip', (p) => new Conv2d(ctx, p, { inChannels: cin, outChannels: cout, baseIn, baseOut, kernel: 1, stride, bias: false }))
      : null;
  }

  forward(x: Tensor): Tensor {
    const fused = layerAct(this.activation);
    const h = fused ? this.conv1.forward(x, fused) : act(this.activation, this.conv1.forward(x));
    const y = add(this.conv2.forward(h), this.skip ? this.skip.forward(x) : x);
    return record(`${this.path}.out`, act(this.activation, y));
  }
}

export class CNN extends Model {
  private readonly stem: Conv2d;
  private readonly blocks: ResidualBlock[] = [];
  private readonly readout: Linear;

  constructor(ctx: ModelContext, readonly spec: Extract<ModelSpec, { family: 'cnn' }>) {
    super(ctx, '');
    const { width: n, baseWidth: b, depth: stages, inputShape, classes } = spec;
    const channels = inputShape[inputShape.length - 1];
    this.stem = this.child('stem', (p) => new Conv2d(ctx, p, { inChannels: channels, outChannels: n, baseOut: b, kernel: 3, padding: 1 }));
    for (let s = 0; s < stages; s++) {
      const [cin, cout] = [n * 2 ** Math.max(0, s - 1), n * 2 ** s];
      const [bin, bout] = [b * 2 ** Math.max(0, s - 1), b * 2 ** s];
      this.blocks.push(this.child(`stage${s}`, (p) => new ResidualBlock(ctx, p, cin, cout, bin, bout, s === 0 ? 1 : 2, spec.activation)));
    }
    const last = n * 2 ** (stages - 1);
    this.readout = this.child('readout', (p) => new Linear(ctx, p, { in: last, out: classes, baseIn: b * 2 ** (stages - 1), readout: true }));
  }

  forward(x: Tensor): Tensor {
    // the conv kernels take the ensemble axis on every operand: broadcast a shared batch
    if (this.sharedInput(x, 3, 'H, W, C')) x = expand(x, [this.ensemble!, ...x.shape]);
    const fused = layerAct(this.spec.activation);
    let h = fused ? this.stem.forward(x, fused) : record('stem.act', act(this.spec.activation, this.stem.forward(x)));
    for (const blk of this.blocks) h = blk.forward(h);
    // global average pool over H and W (NHWC: axes -3, -2)
    return this.readout.forward(record('pool', mean(h, [-3, -2])));
  }
}

class Block extends Module {
  readonly norm1: Norm;
  readonly attn: MultiheadAttention;
  readonly norm2: Norm;
  readonly up: Linear;
  readonly down: Linear;

  constructor(ctx: ModelContext, path: string, readonly spec: Extract<ModelSpec, { family: 'transformer' }>) {
    super(ctx, path);
    const { width: n, baseWidth: b } = spec;
    const r = spec.mlpRatio ?? 4;
    const lin = (name: string, i: number, o: number, bi: number, bo: number) =>
      this.child(name, (p) => new Linear(ctx, p, { in: i, out: o, baseIn: bi, baseOut: bo }));
    this.norm1 = this.child('norm1', (p) => new Norm(ctx, p, { dim: n, baseDim: b }));
    this.attn = this.child('attn', (p) => new MultiheadAttention(ctx, p, { dim: n, baseDim: b, headDim: spec.headDim, causal: true }));
    this.norm2 = this.child('norm2', (p) => new Norm(ctx, p, { dim: n, baseDim: b }));
    this.up = lin('up', n, r * n, b, r * b);
    this.down = lin('down', r * n, n, r * b, b);
  }

  forward(x: Tensor): Tensor {
    const x1 = add(x, this.attn.forward(this.norm1.forward(x)));
    const m = this.down.forward(act(this.spec.activation ?? 'gelu', this.up.forward(this.norm2.forward(x1))));
    return record(`${this.path}.out`, add(x1, m));
  }
}

export class Transformer extends Model {
  private readonly tokens: Embedding;
  private readonly positions: Embedding;
  private readonly blocks: Block[] = [];
  private readonly norm: Norm;
  private readonly readout: Linear;

  constructor(ctx: ModelContext, readonly spec: Extract<ModelSpec, { family: 'transformer' }>) {
    super(ctx, '');
    const { width: n, baseWidth: b, depth, headDim, vocab, context } = spec;
    if (n % headDim !== 0 || b % headDim !== 0) {
      throw new Error(`transformer: width ${n} and base width ${b} must be multiples of headDim ${headDim}`);
    }
    this.tokens = this.child('tokens', (p) => new Embedding(ctx, p, { count: vocab, dim: n, baseDim: b }));
    this.positions = this.child('positions', (p) => new Embedding(ctx, p, { count: context, dim: n, baseDim: b }));
    for (let i = 0; i < depth; i++) this.blocks.push(this.child(`block${i}`, (p) => new Block(ctx, p, spec)));
    this.norm = this.child('norm', (p) => new Norm(ctx, p, { dim: n, baseDim: b }));
    this.readout = this.child('readout', (p) => new Linear(ctx, p, { in: n, out: vocab, baseIn: b, readout: true }));
  }

  forward(ids: Tensor): Tensor {
    const T = ids.shape[ids.shape.length - 1];
    if (T > this.spec.context) throw new Error(`transformer: ${T} tokens exceed the context length ${this.spec.context}`);
    const S = this.ensemble;
    if (this.sharedInput(ids, 1, 'T')) ids = expand(ids, [S!, ...ids.shape]);
    const pos = S === null ? slice(this.positions.weight.value, 0, 0, T)
      : reshape(slice(this.positions.weight.value, 1, 0, T), [S, ...Array<number>(ids.shape.length - 2).fill(1), T, this.spec.width]);
    let h = record('embed', add(this.tokens.forward(ids), this.positions.weight.rule.multiplier === 1 ? pos : mul(pos, this.positions.weight.rule.multiplier)));
    for (const blk of this.blocks) h = blk.forward(h);
    return this.readout.forward(this.norm.forward(h));
  }
}

/** The model of `spec`; its width is passed to the parameterization (mean field's learning rates use it). */
export function buildModel(ctx: ModelContext, spec: ModelSpec): Model {
  ctx = { ...ctx, param: { ...ctx.param, width: spec.width } };
  switch (spec.family) {
    case 'mlp':
      return new MLP(ctx, spec);
    case 'cnn':
      return new CNN(ctx, spec);
    case 'transformer':
      return new Transformer(ctx, spec);
  }
}
