/**
 * @file Online teacher streams (the paper's CIFAR-5m role): every batch fresh, drawn from
 * (dataSeed, batch index) on the GPU, the same sequence for every width and seed of a sweep.
 *
 * Inputs are image-like: x = z @ basis + noise, with z ~ N(0, 1) [B, K] and a fixed basis of K
 * smooth random patterns over [H, W, C] (NHWC, products of low-frequency cosines), so nearby
 * pixels correlate as in natural images. A fixed random teacher network
 *   f*(x) = W2 tanh(W1 x / sqrt(D)) / sqrt(hidden)
 * labels them: classification takes argmax(f*(x) / temperature + Gumbel noise), so the
 * `difficulty` (the temperature) adds label noise and a Bayes error; regression takes the first
 * teacher output plus N(0, difficulty^2) noise.
 */
import type { Device } from '../tensor/device.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { fromArray, rand, randn } from '../ops/creation.js';
import { binary, unary } from '../ops/elementwise.js';
import { argmax } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { mixSeed, mulberry32 } from './prng.js';

export interface TeacherSpec {
  kind: 'classification' | 'regression';
  /** Image size: height = width. */
  size: number;
  channels: number;
  classes: number;
  /** Smooth basis patterns the inputs are made of. */
  basis: number;
  /** Hidden width of the teacher. */
  hidden: number;
  /** Label temperature (classification) or output noise std (regression); 0 is noiseless. */
  difficulty: number;
  /** Seed of the teacher itself (the task). */
  seed: number;
}

export const DEFAULT_TEACHER: TeacherSpec = {
  kind: 'classification', size: 8, channels: 3, classes: 10, basis: 32, hidden: 256, difficulty: 0.1, seed: 1,
};

export interface Batch {
  /** [B, H, W, C] images (NHWC). */
  x: Tensor;
  /** i32 labels [B] (classification) or f32 targets [B, 1] (regression). */
  y: Tensor;
}

/** A fixed test batch uses this index, far from any training step. */
export const TEST_INDEX = 0x7fffffff;

export class TeacherStream {
  readonly dim: number;
  private readonly basis: Tensor;
  private readonly w1: Tensor;
  private readonly w2: Tensor;

  constructor(readonly spec: TeacherSpec, readonly device: Device) {
    const { size, channels: C, basis: K, hidden, classes, seed } = spec;
    this.dim = size * size * C;
    const r = mulberry32(seed);
    const basis = new Float32Array(K * this.dim);
    for (let k = 0; k < K; k++) {
      const [fy, fx] = [1 + Math.floor(r() * 3), 1 + Math.floor(r() * 3)];
      const [py, px] = [r() * 2 * Math.PI, r() * 2 * Math.PI];
      const mix = Array.from({ length: C }, () => r() * 2 - 1);
      for (let h = 0; h < size; h++) {
        for (let w = 0; w < size; w++) {
          const v = Math.cos((Math.PI * fy * h) / size + py) * Math.cos((Math.PI * fx * w) / size + px);
          for (let c = 0; c < C; c++) basis[k * this.dim + (h * size + w) * C + c] = (v * mix[c] * 2) / Math.sqrt(K);
        }
      }
    }
    const outs = spec.kind === 'classification' ? classes : 1;
    this.basis = keep(fromArray(basis, [K, this.dim], { device }));
    this.w1 = keep(tidy(() => binary('mul', randn([this.dim, hidden], { seed, stream: 1, device }), 1 / Math.sqrt(this.dim))));
    this.w2 = keep(tidy(() => binary('mul', randn([hidden, outs], { seed, stream: 2, device }), 1 / Math.sqrt(hidden))));
  }

  /** Batch number `index` of the stream seeded by `dataSeed`. */
  batch(batchSize: number, dataSeed: number, index: number): Batch {
    const { size, channels, basis: K, difficulty, kind } = this.spec;
    const seed = mixSeed(dataSeed, index);
    const device = this.device;
    return tidy(() => {
      const z = randn([batchSize, K], { seed, stream: 0, device });
      const flat = binary('add', matmul(z, this.basis), randn([batchSize, this.dim], { seed, stream: 1, device, std: 0.05 }));
      const out = matmul(unary('tanh', matmul(flat, this.w1)), this.w2);
      let y: Tensor;
      if (kind === 'classification') {
        if (difficulty > 0) {
          // Gumbel-max: argmax(logits / T + G) samples softmax(logits / T)
          const u = rand(out.shape, { seed, stream: 2, device, low: 1e-7, high: 1 });
          const g = unary('neg', unary('log', unary('neg', unary('log', u))));
          y = argmax(binary('add', binary('mul', out, 1 / difficulty), g), 1);
        } else {
          y = argmax(out, 1);
        }
      } else {
        y = difficulty > 0 ? binary('add', out, randn(out.shape, { seed, stream: 3, device, std: difficulty })) : out;
      }
      return { x: flat.reshape([batchSize, size, size, channels]), y };
    });
  }

  /** The fixed held-out test set of `count` examples. */
  testSet(count: number, dataSeed: number): Batch {
    return this.batch(count, dataSeed, TEST_INDEX);
  }

  dispose(): void {
    this.basis.dispose();
    this.w1.dispose();
    this.w2.dispose();
  }
}
