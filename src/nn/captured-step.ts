/**
 * @file A training step, captured (src/tensor/capture.ts): `run(batch)` appends what
 * `step(x, y)` appends (forward, backward, optimizer update, zeroGrad) and returns its loss, a
 * fresh tensor the caller owns. The first call of a batch shape runs normally, the second is
 * recorded, later ones replay the record: the optimizer's lr (its schedule) and step counts are
 * refreshed at every replay (Optimizer.step registers them), and the batch's tensors are rebound
 * when they live in other buffers than the recorded ones.
 *
 * Runs uncaptured, with a debug note (WIDTHSCOPE_DEBUG=1): a call in anomaly mode, a call where a
 * parameter already holds a gradient, a batch of new shapes (until recorded), and a step the
 * recorder refuses. A parameter tensor replaced (or released) makes the next call record again.
 */
import type { Tensor } from '../tensor/tensor.js';
import { capture, type CapturedFunction } from '../tensor/capture.js';
import type { Optimizer } from './optim.js';

export interface CapturedStepOptions {
  /** Names the step in notes (default 'training step'). */
  name?: string;
  /** Capture at all (default: env WIDTHSCOPE_CAPTURE, on). */
  enabled?: boolean;
  /** Where notes go (default: stderr under WIDTHSCOPE_DEBUG=1). */
  note?: (message: string) => void;
}

export class CapturedTrainStep {
  private readonly fn: CapturedFunction;

  /** `step` must append one whole step (ending with opt.step() and opt.zeroGrad()) and return its detached loss. */
  constructor(readonly opt: Optimizer, step: (x: Tensor, y: Tensor) => Tensor, opts: CapturedStepOptions = {}) {
    const params = opt.params;
    if (params.length === 0) throw new Error('CapturedTrainStep: the optimizer has no parameters');
    this.fn = capture(params[0].value.device, ([x, y]) => [step(x, y)], {
      name: opts.name ?? 'training step',
      enabled: opts.enabled,
      note: opts.note,
      guard: () => (params.some((p) => p.value.grad) ? 'a parameter holds a gradient before the step' : null),
      identity: () => [...params.map((p) => p.value), opt.gradientCheck],
    });
  }

  /** Appends one step on `batch`; returns its loss. */
  run(batch: { x: Tensor; y: Tensor }): Tensor {
    return this.fn.run([batch.x, batch.y])[0];
  }

  get enabled(): boolean {
    return this.fn.enabled;
  }

  /** Calls that ran normally, were recorded, were replayed. */
  get counts(): { normal: number; recorded: number; replayed: number } {
    return this.fn.counts;
  }

  get notes(): readonly string[] {
    return this.fn.notes;
  }

  dispose(): void {
    this.fn.dispose();
  }
}
