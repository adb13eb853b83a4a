/**
 * @file A training run's health record on the device (layout: src/kernels/include/train_health.wgsl):
 * per ensemble member, the first step at which its loss or one of its gradients was not finite
 * (which, and which parameter), and its training losses summed since the last read.
 *
 * Cost: the loss of each step is added by one dispatch (accumulate_loss, in place of the add that
 * summed losses before), the optimizer's update kernels check the gradients they read anyway
 * (Optimizer.gradientCheck), and `read` is the one readback the trainer makes every k steps: the
 * divergence step is exact without a readback per step.
 */
import type { Device } from '../tensor/device.js';
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { fmt } from '../tensor/shape.js';
import type { GradientCheck } from '../ops/optim.js';

const NONE = 0xffffffff;
const WHAT = { 1: 'loss', 2: 'gradient' } as const;

/** A member's first non-finite loss or gradient. */
export interface Divergence {
  member: number;
  /** The training step (0-based: the updates applied before it) whose loss or gradient it was. */
  step: number;
  what: 'loss' | 'gradient';
  /** For a gradient: the parameter's index in the optimizer's list. */
  param: number;
}

export interface HealthReading {
  /**
   * Each member's mean training loss over the steps added since the last read; when none were
   * added, the previous read's window again (an evaluation right after a progress read still
   * reports the training loss). Null before any step.
   */
  means: Float32Array | null;
  /** Members that went non-finite, each reported once. */
  diverged: Divergence[];
}

export class TrainingHealth {
  private readonly record: Tensor;
  private steps = 0;
  private lastMeans: Float32Array | null = null;
  private readonly reported: boolean[];

  constructor(readonly device: Device, readonly members: number) {
    if (!Number.isInteger(members) || members < 1) throw new Error(`TrainingHealth: members must be a positive integer, got ${members}`);
    this.record = keep(Tensor.empty(device, [5 * members], 'i32', 'training health', true));
    const init = new Uint32Array(5 * members);
    init.fill(NONE, 0, 4 * members);
    device.write(this.record.binding('TrainingHealth'), init);
    this.reported = new Array<boolean>(members).fill(false);
  }

  /** The optimizer's gradient check for `step` (set Optimizer.gradientCheck to this). */
  check = (step: number): GradientCheck => ({ health: this.record.binding('TrainingHealth'), members: this.members, step });

  /** Appends the add of step `step`'s losses (one per member) into the sums; flags a non-finite one. */
  addLoss(loss: Tensor, step: number): void {
    const op = 'TrainingHealth.addLoss';
    if (loss.size !== this.members || loss.dtype !== 'f32') {
      throw new Error(`${op}: loss ${fmt(loss.shape)} ${loss.dtype}, expected ${this.members} f32 values (one per member)`);
    }
    this.device.dispatch({
      kernel: 'train_health',
      entry: 'accumulate_loss',
      label: `${op}(${this.members} members, step ${step})`,
      bindings: { loss: loss.binding(op), health: this.record.binding(op) },
      params: { members: this.members, train_step: step },
      workgroups: [1],
    });
    this.steps++;
  }

  /** One readback: the mean losses since the last read (the sums then restart; see `means`) and new divergences. */
  async read(): Promise<HealthReading> {
    const words = new Uint32Array(((await this.record.data()) as Int32Array).buffer);
    const S = this.members;
    const sums = new Float32Array(words.buffer, 16 * S, S);
    const means = this.steps > 0 ? sums.map((x) => x / this.steps) : this.lastMeans;
    this.lastMeans = means;
    if (this.steps > 0) {
      this.device.write({ ...this.record.binding('TrainingHealth'), offset: 16 * S, size: 4 * S }, new Uint32Array(S));
      this.steps = 0;
    }
    const diverged: Divergence[] = [];
    for (let m = 0; m < S; m++) {
      const step = words[4 * m];
      if (step === NONE || this.reported[m]) continue;
      this.reported[m] = true;
      diverged.push({ member: m, step, what: WHAT[words[4 * m + 1] as 1 | 2] ?? 'loss', param: words[4 * m + 2] });
    }
    return { means, diverged };
  }

  dispose(): void {
    this.record.dispose();
  }
}
