/**
 * @file The optimizer concept: SGD (momentum, weight decay) and Adam/AdamW, their options and
 * defaults (SGD_DEFAULTS, ADAM_DEFAULTS: the one place; the sweep spec schema takes its defaults
 * from here), their state (momentum buffers, moments) and the optimizers over a model's
 * parameters, each parameter's learning rate multiplied by its parameterization rule's
 * lrMultiplier. The updates are src/ops/optim.ts's fused launches; `step()` appends them to the
 * open encoder.
 */
import type { Parameter } from './module.js';
import type { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { fromArray, zeros } from '../ops/creation.js';
import type { HostTensor } from './safetensors.js';
import {
  adamUpdate, sgdUpdate, type AdamBuffers, type AdamHyper, type GradientCheck, type LiveHyper, type SgdBuffers, type SgdHyper,
} from '../ops/optim.js';
import { makeSchedule, type Schedule, type ScheduleSpec } from './schedule.js';
import { flagContext } from '../tensor/error-flags.js';

/** SGD's defaults (as PyTorch's): plain SGD. */
export const SGD_DEFAULTS = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false } as const;

/** Adam's defaults (as PyTorch's), with decoupled (AdamW-style) weight decay. */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: true } as const;

/** AdamW's defaults (as PyTorch's AdamW: weight decay 0.01). */
export const ADAMW_DEFAULTS = { ...ADAM_DEFAULTS, weightDecay: 0.01 } as const;

/** `defaults` with every value of `given` that is not undefined. */
function withDefaults<T extends object>(defaults: T, given: Partial<T>): T {
  const out = { ...defaults };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** A launch's SGD hyper-parameters: the given ones (undefined: not given) over SGD_DEFAULTS. */
export function sgdHyper(h: Partial<SgdHyper> & { lr: number }): SgdHyper {
  return withDefaults<SgdHyper>({ ...SGD_DEFAULTS, lr: h.lr }, h);
}

/** A launch's Adam hyper-parameters: the given ones (undefined: not given) over ADAM_DEFAULTS. */
export function adamHyper(h: Partial<AdamHyper> & { lr: number }): AdamHyper {
  return withDefaults<AdamHyper>({ ...ADAM_DEFAULTS, lr: h.lr }, h);
}

abstract class OptimizerState {
  /** Updates applied to each parameter so far. */
  readonly steps: number[];
  readonly shapes: (readonly number[])[];
  private disposedFlag = false;

  constructor(params: readonly Tensor[]) {
    this.shapes = params.map((p) => p.shape);
    this.steps = params.map(() => 0);
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  protected abstract tensors(): (Tensor | null)[];

  dispose(): void {
    for (const t of this.tensors()) t?.dispose();
    this.disposedFlag = true;
  }
}

/**
 * SGD's per-parameter momentum buffers (the update allocates one on first use when momentum != 0),
 * kept out of scopes and freed by `dispose()`.
 */
export class SgdState extends OptimizerState implements SgdBuffers {
  readonly momentumBuffers: (Tensor | null)[];

  constructor(params: readonly Tensor[]) {
    super(params);
    this.momentumBuffers = params.map(() => null);
  }

  protected tensors() {
    return this.momentumBuffers;
  }
}

/** Adam's first and second moments per parameter (zeros), kept out of scopes and freed by `dispose()`. */
export class AdamState extends OptimizerState implements AdamBuffers {
  readonly m: Tensor[];
  readonly v: Tensor[];

  constructor(params: readonly Tensor[]) {
    super(params);
    this.m = params.map((p) => keep(zeros(p.shape, { device: p.device })));
    this.v = params.map((p) => keep(zeros(p.shape, { device: p.device })));
  }

  protected tensors() {
    return [...this.m, ...this.v];
  }
}

export const sgdState = (params: readonly Tensor[]) => new SgdState(params);
export const adamState = (params: readonly Tensor[]) => new AdamState(params);

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  schedule?: ScheduleSpec;
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW (decoupled weight decay); default true. */
  decoupled?: boolean;
  schedule?: ScheduleSpec;
}

export abstract class Optimizer<S extends OptimizerState = OptimizerState> {
  stepCount = 0;
  /**
   * When set, each update also flags non-finite gradients in a training health record (its
   * check for step `stepCount`, see src/nn/health.ts); folded into the update kernels.
   */
  gradientCheck: ((step: number) => GradientCheck) | null = null;
  protected readonly schedule: Schedule;

  /** `state`: the fused-kernel state (moments, momentum buffers) and per-parameter step counts. */
  constructor(readonly params: readonly Parameter[], readonly baseLr: number, schedule: ScheduleSpec | undefined, protected readonly state: S) {
    this.schedule = makeSchedule(schedule);
  }

  /** The learning rate of the next step (base lr times the schedule). */
  currentLr(): number {
    return this.baseLr * this.schedule(this.stepCount);
  }

  /**
   * Appends one update of every parameter that has a gradient. In a captured step
   * (src/tensor/capture.ts) each replay refreshes the lr and step count here, and the update's
   * uniforms are recomputed from them.
   */
  step(): void {
    const phase = flagContext.phase;
    flagContext.phase = 'optimizer update';
    const live: LiveHyper = { lr: this.currentLr(), checkStep: this.stepCount };
    const rec = this.params[0]?.value.device.recorder;
    rec?.onReplay(() => {
      live.lr = this.currentLr();
      live.checkStep = this.stepCount;
    });
    try {
      this.update(
        this.params.map((p) => p.value),
        this.params.map((p) => p.value.grad),
        live.lr,
        this.params.map((p) => p.rule.lrMultiplier),
        this.gradientCheck?.(this.stepCount),
        live,
      );
    } finally {
      flagContext.phase = phase;
    }
    this.stepCount++;
    rec?.onReplay(() => this.stepCount++);
  }

  protected abstract update(values: Tensor[], grads: (Tensor | null)[], lr: number, lrMult: number[], check: GradientCheck | undefined, live: LiveHyper): void;

  zeroGrad(): void {
    for (const p of this.params) {
      p.value.grad?.dispose();
      p.value.grad = null;
    }
  }

  dispose(): void {
    this.state.dispose();
  }

  /** Named state tensors for a checkpoint (`optim.<slot>.<parameter>`). */
  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, slots] of this.slots()) {
      slots.forEach((t, i) => t && out.set(`optim.${name}.${this.params[i].name}`, t));
    }
    return out;
  }

  /** Restores state saved by `stateTensors` (and the step count). */
  loadState(saved: Map<string, HostTensor>, stepCount: number): void {
    this.stepCount = stepCount;
    for (const [name, slots] of this.slots()) {
      this.params.forEach((p, i) => {
        const h = saved.get(`optim.${name}.${p.name}`);
        if (!h) return;
        if (h.shape.join() !== p.shape.join()) {
          throw new Error(`loadState: optimizer state '${name}' of '${p.name}' has shape [${h.shape}], the parameter [${p.shape}]`);
        }
        slots[i]?.dispose();
        slots[i] = keep(fromArray(h.data, h.shape, { device: p.value.device }));
      });
    }
    this.state.steps.fill(stepCount);
  }

  /** The state arrays by slot name, one entry per parameter. */
  protected abstract slots(): [string, (Tensor | null)[]][];
}

export class SGD extends Optimizer<SgdState> {
  constructor(params: readonly Parameter[], readonly opts: SgdOptions) {
    super(params, opts.lr, opts.schedule, sgdState(params.map((p) => p.value)));
  }

  protected update(values: Tensor[], grads: (Tensor | null)[], lr: number, lrMult: number[], check: GradientCheck | undefined, live: LiveHyper): void {
    const { momentum, weightDecay, nesterov } = this.opts;
    sgdUpdate(values, grads, this.state, sgdHyper({ lr, lrMult, momentum, weightDecay, nesterov, check, live }));
  }

  protected slots(): [string, (Tensor | null)[]][] {
    return [['momentum', this.state.momentumBuffers]];
  }
}

export class Adam extends Optimizer<AdamState> {
  constructor(params: readonly Parameter[], readonly opts: AdamOptions) {
    super(params, opts.lr, opts.schedule, adamState(params.map((p) => p.value)));
  }

  protected update(values: Tensor[], grads: (Tensor | null)[], lr: number, lrMult: number[], check: GradientCheck | undefined, live: LiveHyper): void {
    const { beta1, beta2, eps, weightDecay, decoupled } = this.opts;
    adamUpdate(values, grads, this.state, adamHyper({ lr, lrMult, beta1, beta2, eps, weightDecay, decoupled, check, live }));
  }

  protected slots(): [string, (Tensor | null)[]][] {
    return [['m', this.state.m], ['v', this.state.v]];
  }
}
