/**
 * @file Optimizers over a model's parameters: SGD (momentum, weight decay) and Adam/AdamW, each
 * parameter's learning rate multiplied by its parameterization rule's lrMultiplier, on the fused
 * update kernels (src/ops/optim.ts). `step()` appends the updates to the open encoder.
 */
import type { Parameter } from './module.js';
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
}
