/**
 * @file The widths suite's single-model step (bench/widths-models.ts shapes: SGD lr 0.05, softmax
 * cross-entropy, captured) with each hidden layer's bias and ReLU fused (Linear/Conv2d's
 * `activation`: linearAct / biasAct) against the same step with the layer's bias in its kernel
 * and a separate relu, the two steps interleaved in one process; prints both medians and the
 * median of the per-pair ratios (composed / fused: above 1, the fused layer is faster).
 *
 *   npx tsx bench/ab-fused-layers.ts <mlp|cnn> [width] [--steps N]
 */
import { parseArgs } from 'node:util';
import { init, shutdown } from '../src/index.js';
import { crossEntropy, detach, mean, relu, reshape } from '../src/autograd/ops.js';
import { backward } from '../src/autograd/index.js';
import { Conv2d, Linear } from '../src/nn/layers.js';
import { Module, type ModelContext } from '../src/nn/module.js';
import { SGD } from '../src/nn/optim.js';
import { tidy } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { fromArray, randn } from '../src/ops/creation.js';
import { CapturedTrainStep } from '../src/nn/captured-step.js';
import { median } from './harness.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { steps: { type: 'string', default: '30' } } });
const family = positionals[0] === 'cnn' ? 'cnn' : 'mlp';
const w = Number(positionals[1] ?? (family === 'cnn' ? 16 : 64));
const dev = await init();

class Net extends Module {
  private readonly layers: (Linear | Conv2d)[];
  private readonly dense: Linear | null;
  constructor(ctx: ModelContext, readonly fused: boolean) {
    super(ctx, '');
    this.layers = family === 'mlp'
      ? [[784, w], [w, w]].map(([i, o], k) => this.child(`l${k}`, (p) => new Linear(ctx, p, { in: i, out: o })))
      : [0, 1].map((k) => this.child(`c${k}`, (p) => new Conv2d(ctx, p, { inChannels: w, outChannels: w, kernel: 3, padding: 1 })));
    this.dense = this.child('dense', (p) => new Linear(ctx, p, { in: w, out: 10 }));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const l of this.layers) {
      if (l instanceof Linear) h = this.fused ? l.forward(h, false, 'relu') : relu(l.forward(h));
      else h = this.fused ? l.forward(h, 'relu') : relu(l.forward(h));
    }
    return this.dense!.forward(family === 'cnn' ? mean(h, [-3, -2]) : h);
  }
}

function makeStep(fused: boolean): () => Promise<number> {
  const ctx: ModelContext = { device: dev, seed: 1, param: { parameterization: 'sp', optimizer: 'sgd' } };
  const model = new Net(ctx, fused);
  const batch = family === 'mlp' ? 256 : 32;
  const x = randn(family === 'mlp' ? [batch, 784] : [batch, 16, 16, w], { seed: 7, device: dev });
  const y = fromArray(Int32Array.from({ length: batch }, (_, i) => (i * 7 + (i >> 3)) % 10), [batch], { device: dev });
  const opt = new SGD(model.parameters(), { lr: 0.05 });
  const step = new CapturedTrainStep(opt, (xb, yb) => {
    const loss = tidy(() => {
      const l = crossEntropy(reshape(model.forward(xb), [-1, 10]), yb);
      backward(l);
      return detach(l);
    });
    opt.step();
    opt.zeroGrad();
    return loss;
  });
  return async () => {
    const t0 = performance.now();
    const loss = step.run({ x, y });
    await loss.item();
    loss.dispose();
    return performance.now() - t0;
  };
}

const fused = makeStep(true);
const composed = makeStep(false);
for (let i = 0; i < 3; i++) {
  await fused();
  await composed();
}
const tf: number[] = [];
const tc: number[] = [];
for (let i = 0; i < Number(values.steps); i++) {
  tf.push(await fused());
  tc.push(await composed());
}
console.log(`${dev.describe()}`);
console.log(
  `${family} w=${w}: fused ${median(tf).toFixed(2)} ms, composed ${median(tc).toFixed(2)} ms, ` +
    `composed / fused ${median(tc.map((t, i) => t / tf[i])).toFixed(3)} (median of ${tf.length} interleaved pairs)`,
);
shutdown();
