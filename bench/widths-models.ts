/**
 * @file The two training steps of the `widths` suite, built from the engine's layers under SP
 * (init variance 1/fan_in, multiplier 1), single or as a seed-batched ensemble of S:
 *   mlp: 784 -> w -> w -> 10, ReLU, biases, softmax cross-entropy;
 *   cnn: conv3x3(w -> w) + b, ReLU, conv3x3(w -> w) + b, ReLU, mean-pool, dense w -> 10 on
 *        16x16xw inputs.
 * The step is captured (src/nn/captured-step.ts) unless `capture` is false.
 */
import { crossEntropy, detach, mean, mul, reshape } from '../src/autograd/ops.js';
import { backward } from '../src/autograd/index.js';
import { Conv2d, Linear } from '../src/nn/layers.js';
import { Module, type ModelContext } from '../src/nn/module.js';
import { SGD } from '../src/nn/optim.js';
import { tidy } from '../src/tensor/scope.js';
import type { Device } from '../src/tensor/device.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { fromArray, randn } from '../src/ops/creation.js';
import { CapturedTrainStep } from '../src/nn/captured-step.js';

export type WidthsFamily = 'mlp' | 'cnn';

class WidthsMLP extends Module {
  private readonly layers: Linear[];
  constructor(ctx: ModelContext, w: number) {
    super(ctx, '');
    this.layers = [[784, w], [w, w], [w, 10]].map(([i, o], k) => this.child(`l${k}`, (p) => new Linear(ctx, p, { in: i, out: o, bias: true })));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    // hidden layers: matmul, bias and ReLU in one primitive (linearAct)
    this.layers.forEach((l, k) => {
      h = l.forward(h, k === 0 && this.ensemble !== null, k < this.layers.length - 1 ? 'relu' : undefined);
    });
    return h;
  }
}

class WidthsCNN extends Module {
  private readonly convs: Conv2d[];
  private readonly dense: Linear;
  constructor(ctx: ModelContext, w: number) {
    super(ctx, '');
    this.convs = [0, 1].map((k) => this.child(`c${k}`, (p) => new Conv2d(ctx, p, { inChannels: w, outChannels: w, kernel: 3, padding: 1 })));
    this.dense = this.child('dense', (p) => new Linear(ctx, p, { in: w, out: 10, bias: true }));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    // convolution, then bias and ReLU in one primitive (biasAct)
    for (const c of this.convs) h = c.forward(h, 'relu');
    return this.dense.forward(mean(h, [-3, -2]));
  }
}

export interface WidthsStep {
  /** Appends one SGD step (forward, backward, update) and reads its loss back. */
  step(): Promise<number>;
  /** Appends one SGD step and returns its loss tensor (the caller's), unread. */
  launch(): Tensor;
  /** Milliseconds of JS the last step took to append its dispatches (before its readback). */
  appendMs: number;
  dispose(): void;
  /** FLOP of one step: 6 * params * batch (MLP) or 6 * MACs * batch (CNN), times the ensemble size. */
  flop: number;
  /**
   * FLOP the step's products and convolutions execute: forward, weight gradient and input
   * gradient of each layer but the first, whose input needs no gradient (2/3 of `flop`'s count
   * there), times the ensemble size. The elementwise work, reductions and update are left out.
   */
  executedFlop: number;
  /** The model's parameter tensors (live until dispose). */
  parameters(): Tensor[];
  /** Steps that ran normally, were recorded, were replayed. */
  counts(): { normal: number; recorded: number; replayed: number };
}

/** One of the suite's steps at width `w`, batch 256 (MLP) or 32 (CNN); `seeds` > 1 is an ensemble. */
export function widthsStep(device: Device, family: WidthsFamily, w: number, seeds = 1, capture = true): WidthsStep {
  const ctx: ModelContext = { device, seed: 1, seeds: seeds > 1 ? Array.from({ length: seeds }, (_, i) => i + 1) : undefined, param: { parameterization: 'sp', optimizer: 'sgd' } };
  const model = family === 'mlp' ? new WidthsMLP(ctx, w) : new WidthsCNN(ctx, w);
  const batch = family === 'mlp' ? 256 : 32;
  // the CNN's ensemble members each see the same batch, laid out [S, B, H, W, C] as Conv2d takes it
  const xShape = family === 'mlp' ? [batch, 784] : [...(seeds > 1 ? [seeds] : []), batch, 16, 16, w];
  const x = randn(xShape, { seed: 7, device });
  const labelCount = (seeds > 1 ? seeds : 1) * batch;
  const y = fromArray(Int32Array.from({ length: labelCount }, (_, i) => (i * 7 + (i >> 3)) % 10), [labelCount], { device });
  const opt = new SGD(model.parameters(), { lr: 0.05 });
  const params = family === 'mlp' ? 784 * w + w + w * w + w + 10 * w + 10 : 2 * (9 * w * w + w) + 10 * w + 10;
  const macs = family === 'mlp' ? params : 2 * 16 * 16 * 9 * w * w + 10 * w;
  // the products' multiply-adds per example, and the first layer's (done twice, not 3 times)
  const productMacs = family === 'mlp' ? 784 * w + w * w + 10 * w : macs;
  const firstMacs = family === 'mlp' ? 784 * w : 16 * 16 * 9 * w * w;
  const captured = new CapturedTrainStep(opt, (xb, yb) => {
    const loss = tidy(() => {
      const out = model.forward(xb);
      // the sum over members of each member's mean loss
      const l = crossEntropy(reshape(out, [-1, 10]), yb);
      const total = seeds > 1 ? mul(l, seeds) : l;
      backward(total);
      return detach(total);
    });
    opt.step();
    opt.zeroGrad();
    return loss;
  }, { enabled: capture, name: `widths ${family} w=${w}` });
  return {
    flop: 6 * macs * batch * seeds,
    executedFlop: 2 * (3 * productMacs - firstMacs) * batch * seeds,
    appendMs: 0,
    parameters: () => model.parameters().map((p) => p.value),
    counts: () => ({ ...captured.counts }),
    launch() {
      return captured.run({ x, y });
    },
    async step() {
      const t0 = performance.now();
      const loss = this.launch();
      this.appendMs = performance.now() - t0;
      const v = await loss.item();
      loss.dispose();
      return v;
    },
    dispose() {
      captured.dispose();
      for (const t of [x, y]) t.dispose();
      opt.dispose();
      model.dispose();
    },
  };
}
