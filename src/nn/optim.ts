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
import { adamState, adamUpdate, sgdState, sgdUpdate, type AdamState, type GradientCheck, type LiveHyper, type SgdState } from '../ops/optim.js';
import { makeSchedule, type Schedule, type ScheduleSpec } from './schedule.js';
import { flagContext } from '../tensor/error-flags.js';

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
  /**
   * When set, each update also flags non-finite gradients in a training health record (its
   * check for step `stepCount`, see src/nn/health.ts); folded into the update kernels.
   */
  gradientCheck: ((step: number) => GradientCheck) | null = null;
  protected readonly schedule: Schedule;
  /** The fused-kernel state (moments, momentum buffers) and per-parameter step counts. */
  protected abstract readonly state: { readonly steps: number[]; dispose(): void };

  constructor(readonly params: readonly Parameter[], readonly baseLr: number, schedule?: ScheduleSpec) {
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

export class SGD extends Optimizer {
  protected readonly state: SgdState;

  constructor(params: readonly Parameter[], readonly opts: SgdOptions) {
    super(params, opts.lr, opts.schedule);
    this.state = sgdState(params.map((p) => p.value));
  }

  protected update(values: Tensor[], grads: (Tensor | null)[], lr: number, lrMult: number[], check: GradientCheck | undefined, live: LiveHyper): void {
    const o = this.opts;
    sgdUpdate(values, grads, this.state, { lr, lrMult, momentum: o.momentum ?? 0, weightDecay: o.weightDecay ?? 0, nesterov: o.nesterov ?? false, check, live });
  }

  protected slots(): [string, (Tensor | null)[]][] {
    return [['momentum', this.state.momentumBuffers]];
  }
}

export class Adam extends Optimizer {
  protected readonly state: AdamState;

  constructor(params: readonly Parameter[], readonly opts: AdamOptions) {
    super(params, opts.lr, opts.schedule);
    this.state = adamState(params.map((p) => p.value));
  }

  protected update(values: Tensor[], grads: (Tensor | null)[], lr: number, lrMult: number[], check: GradientCheck | undefined, live: LiveHyper): void {
    const o = this.opts;
    adamUpdate(values, grads, this.state, {
      lr, lrMult, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? 0, decoupled: o.decoupled ?? true, check, live,
    });
  }

  protected slots(): [string, (Tensor | null)[]][] {
    return [['m', this.state.m], ['v', this.state.v]];
  }
}
