/**
 * @file Optimizers over a model's parameters: SGD (momentum, weight decay) and Adam/AdamW, each
 * parameter's learning rate multiplied by its parameterization rule's lrMultiplier, on the fused
 * update kernels (src/ops/optim.ts). `step()` appends the updates to the open encoder.
 */
import type { Parameter } from './module.js';
import type { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { fromArray } from '../ops/creation.js';
import type { HostTensor } from './safetensors.js';
import { adamState, adamUpdate, sgdState, sgdUpdate, type AdamState, type SgdState } from '../ops/optim.js';
import { makeSchedule, type Schedule, type ScheduleSpec } from './schedule.js';

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

export abstract class Optimizer {
  stepCount = 0;
  protected readonly schedule: Schedule;

  constructor(readonly params: readonly Parameter[], schedule?: ScheduleSpec) {
    this.schedule = makeSchedule(schedule);
  }

  /** The learning rate of the next step (base lr times the schedule). */
  abstract currentLr(): number;

  /** Appends one update of every parameter that has a gradient. */
  abstract step(): void;

  zeroGrad(): void {
    for (const p of this.params) {
      p.value.grad?.dispose();
      p.value.grad = null;
    }
  }

  abstract dispose(): void;

  /** Named state tensors for a checkpoint (`optim.<slot>.<parameter>`). */
  abstract stateTensors(): Map<string, Tensor>;

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
    this.setSteps(stepCount);
  }

  /** The state arrays by slot name, one entry per parameter. */
  protected abstract slots(): [string, (Tensor | null)[]][];

  protected abstract setSteps(n: number): void;

  protected namedSlots(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, slots] of this.slots()) {
      slots.forEach((t, i) => t && out.set(`optim.${name}.${this.params[i].name}`, t));
    }
    return out;
  }
}

export class SGD extends Optimizer {
  private readonly state: SgdState;

  constructor(params: readonly Parameter[], readonly opts: SgdOptions) {
    super(params, opts.schedule);
    this.state = sgdState(params.map((p) => p.value));
  }

  currentLr(): number {
    return this.opts.lr * this.schedule(this.stepCount);
  }

  step(): void {
    sgdUpdate(
      this.params.map((p) => p.value),
      this.params.map((p) => p.value.grad),
      this.state,
      {
        lr: this.currentLr(),
        momentum: this.opts.momentum ?? 0,
        weightDecay: this.opts.weightDecay ?? 0,
        nesterov: this.opts.nesterov ?? false,
        lrMult: this.params.map((p) => p.rule.lrMultiplier),
      },
    );
    this.stepCount++;
  }

  dispose(): void {
    this.state.dispose();
  }

  stateTensors(): Map<string, Tensor> {
    return this.namedSlots();
  }

  protected slots(): [string, (Tensor | null)[]][] {
    return [['momentum', this.state.momentumBuffers]];
  }

  protected setSteps(n: number): void {
    this.state.steps.fill(n);
  }
}

export class Adam extends Optimizer {
  private readonly state: AdamState;

  constructor(params: readonly Parameter[], readonly opts: AdamOptions) {
    super(params, opts.schedule);
    this.state = adamState(params.map((p) => p.value));
  }

  currentLr(): number {
    return this.opts.lr * this.schedule(this.stepCount);
  }

  step(): void {
    adamUpdate(
      this.params.map((p) => p.value),
      this.params.map((p) => p.value.grad),
      this.state,
      {
        lr: this.currentLr(),
        beta1: this.opts.beta1 ?? 0.9,
        beta2: this.opts.beta2 ?? 0.999,
        eps: this.opts.eps ?? 1e-8,
        weightDecay: this.opts.weightDecay ?? 0,
        decoupled: this.opts.decoupled ?? true,
        lrMult: this.params.map((p) => p.rule.lrMultiplier),
      },
    );
    this.stepCount++;
  }

  dispose(): void {
    this.state.dispose();
  }

  stateTensors(): Map<string, Tensor> {
    return this.namedSlots();
  }

  protected slots(): [string, (Tensor | null)[]][] {
    return [['m', this.state.m], ['v', this.state.v]];
  }

  protected setSteps(n: number): void {
    this.state.steps.fill(n);
  }
}
