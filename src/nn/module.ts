/**
 * @file Module and Parameter: a tree with stable dotted names. Every parameter is created from
 * a ParamInfo (fan-in, fan-out and their base-width values), so its init std, forward multiplier
 * and learning-rate multiplier come from the parameterization (src/nn/parameterization.ts).
 */
import type { Device } from '../tensor/device.js';
import { keep, tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { full, randn } from '../ops/creation.js';
import { binary } from '../ops/elementwise.js';
import { concat } from '../ops/layout.js';
import { ruleFor, type ParamConfig, type ParamInfo, type ParamRule } from './parameterization.js';

/** What every layer of a model is built with. */
export interface ModelContext {
  device: Device;
  /** The parameterization and optimizer the rules are made for. */
  param: ParamConfig;
  /** Seed of this model's initialization (each parameter draws its own stream of it). */
  seed: number;
  /**
   * An ensemble of S = seeds.length members (issue 7): every parameter gets a leading axis S,
   * member i initialized exactly as the single-seed model with seed seeds[i] (`seed` is then
   * ignored), and every layer maps [S, B, ...] through batched kernels.
   */
  seeds?: number[];
}

/** The ensemble size of a context (null for a single model). */
export function ensembleSize(ctx: ModelContext): number | null {
  return ctx.seeds ? ctx.seeds.length : null;
}

/**
 * A trainable tensor with the rule it was initialized by. In an ensemble the value is
 * [S, ...info.shape] (info keeps the per-member shape, fan-in and fan-out).
 */
export class Parameter {
  /** The tensor; replaced (not mutated) when a checkpoint is loaded. */
  value: Tensor;

  constructor(readonly name: string, readonly info: ParamInfo, readonly rule: ParamRule, value: Tensor) {
    this.value = keep(value);
    this.value.requiresGrad = true;
  }

  get shape(): readonly number[] {
    return this.value.shape;
  }

  /** The ensemble size S (the value's leading axis) or null for a single model. */
  get ensemble(): number | null {
    return this.value.rank === this.info.shape.length + 1 ? this.value.shape[0] : null;
  }

  /** Replaces the values (same shape), keeping requiresGrad. */
  assign(t: Tensor): void {
    if (t.shape.join() !== this.value.shape.join()) {
      throw new Error(`parameter ${this.name}: cannot assign shape ${fmt(t.shape)} to shape ${fmt(this.value.shape)}`);
    }
    const old = this.value;
    this.value = keep(t);
    this.value.requiresGrad = true;
    old.dispose();
  }

  dispose(): void {
    this.value.dispose();
  }
}

/** A stable 32-bit stream id from a parameter name (FNV-1a), so init does not depend on order. */
export function streamOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export abstract class Module {
  private readonly ownParams = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  /** Full dotted prefix of this module in its tree ('' at the root). */
  constructor(protected readonly ctx: ModelContext, readonly path: string) {}

  /** The ensemble size S of this module's parameters, or null for a single model. */
  get ensemble(): number | null {
    return ensembleSize(this.ctx);
  }

  protected child<M extends Module>(name: string, make: (path: string) => M): M {
    const m = make(this.path ? `${this.path}.${name}` : name);
    this.children.set(name, m);
    return m;
  }

  /** Creates, initializes and registers a parameter named `name` under this module. */
  protected param(name: string, info: Omit<ParamInfo, 'name'>): Parameter {
    const full_ = this.path ? `${this.path}.${name}` : name;
    const pinfo: ParamInfo = { ...info, name: full_ };
    const rule = ruleFor(pinfo, this.ctx.param);
    const value = tidy(() => initTensor(this.ctx, pinfo, rule));
    const p = new Parameter(full_, pinfo, rule, value);
    this.ownParams.set(name, p);
    return p;
  }

  /** Every parameter of the tree with its dotted name, in registration order. */
  parameters(): Parameter[] {
    const out: Parameter[] = [...this.ownParams.values()];
    for (const c of this.children.values()) out.push(...c.parameters());
    return out;
  }

  namedParameters(): Map<string, Parameter> {
    return new Map(this.parameters().map((p) => [p.name, p]));
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.value.grad?.dispose();
      p.value.grad = null;
    }
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

/**
 * The initial value of a parameter: a constant, or N(0, std^2) from (seed, stream(name)). For an
 * ensemble, member i's tensor is built exactly as with seed seeds[i] and the S are stacked.
 */
export function initTensor(ctx: ModelContext, info: ParamInfo, rule: ParamRule): Tensor {
  if (ctx.seeds) {
    if (ctx.seeds.length === 0) throw new Error(`parameter ${info.name}: an ensemble needs at least one seed`);
    const single = { ...ctx, seeds: undefined };
    const members = ctx.seeds.map((seed) => initTensor({ ...single, seed }, info, rule).reshape([1, ...info.shape]));
    return members.length === 1 ? members[0] : concat(members, 0);
  }
  if (rule.constant !== undefined) return full(info.shape, rule.constant, { device: ctx.device });
  if (rule.initStd === 0) return full(info.shape, 0, { device: ctx.device });
  const z = randn(info.shape, { seed: ctx.seed, stream: streamOf(info.name), device: ctx.device });
  return binary('mul', z, rule.initStd);
}
