/**
 * @file The standard teacher task of the width-consistency study: Gaussian inputs x ~ N(0, I_d)
 * and a fixed random teacher MLP
 *   f*(x) = W_L act(... act(x W_1) ...),  W_l ~ N(0, 1/fan_in), no biases,
 * of `depth` hidden layers of `width` units and one output. Targets are y = (f*(x) - m) / s, with m
 * and s the mean and standard deviation of f* on a separate fixed sample of `normSamples` inputs
 * (drawn on the host from the teacher's seed), so targets have mean ~0 and variance ~1.
 *
 * The teacher's weights are drawn on the host (f64 Box-Muller from mulberry32 streams of
 * (seed, layer)), rounded to f32 and uploaded, so the host normalisation and the GPU batches use
 * the same teacher. Batch `index` of data seed `dataSeed` draws x on the GPU from
 * (dataSeed, index) alone: one stream shared by every width and seed of a sweep. The test set is
 * the batch at TEST_INDEX.
 */
import type { Device } from '../tensor/device.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { fromArray, randn } from '../ops/creation.js';
import { binary, unary } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { UNARY_REF } from '../reference/elementwise.js';
import { mixSeed, mulberry32 } from './prng.js';
import { TEST_INDEX, type Batch } from './teacher.js';

export type TeacherActivation = 'relu' | 'tanh' | 'gelu';

export interface GaussianTeacherSpec {
  /** Input dimension d. */
  inputDim: number;
  /** Hidden layers of the teacher. */
  depth: number;
  /** Hidden width of the teacher. */
  width: number;
  activation: TeacherActivation;
  /** Seed of the teacher itself (the task). */
  seed: number;
  /** Size of the fixed sample the targets are normalised on. */
  normSamples: number;
}

export const DEFAULT_GAUSSIAN_TEACHER: GaussianTeacherSpec = { inputDim: 32, depth: 2, width: 64, activation: 'relu', seed: 1, normSamples: 4096 };

/** Standard normals (f64, Box-Muller) from a mulberry32 stream. */
function hostNormals(count: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

function checkSpec(s: GaussianTeacherSpec): void {
  for (const k of ['inputDim', 'depth', 'width', 'normSamples'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new Error(`gaussian teacher: ${k} must be a positive integer, got ${s[k]}`);
  }
  if (s.normSamples < 2) throw new Error(`gaussian teacher: normSamples must be at least 2, got ${s.normSamples}`);
  if (!['relu', 'tanh', 'gelu'].includes(s.activation)) {
    throw new Error(`gaussian teacher: activation must be relu | tanh | gelu, got ${s.activation}`);
  }
}

export class GaussianTeacher {
  /** f32-rounded weights per layer, [fanIn, fanOut] row-major. */
  readonly weights: Float32Array[];
  /** Mean and standard deviation of the raw teacher output on the normalisation sample. */
  readonly mean: number;
  readonly std: number;
  private readonly gpuWeights: Tensor[];

  constructor(readonly spec: GaussianTeacherSpec, readonly device: Device) {
    checkSpec(spec);
    const { inputDim: d, depth, width, seed } = spec;
    const dims = [d, ...Array<number>(depth).fill(width), 1];
    this.weights = dims.slice(1).map((fanOut, l) => {
      const fanIn = dims[l];
      const z = hostNormals(fanIn * fanOut, mixSeed(seed, 1 + l));
      return Float32Array.from(z, (v) => v / Math.sqrt(fanIn));
    });
    const n = spec.normSamples;
    const raw = this.evaluate(hostNormals(n * d, mixSeed(seed, 0x6e6f726d)), n);
    const mean = raw.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(raw.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    if (!(std > 0)) throw new Error(`gaussian teacher: the teacher output is constant on the normalisation sample (std ${std}); try another seed or activation`);
    [this.mean, this.std] = [mean, std];
    this.gpuWeights = dims.slice(1).map((fanOut, l) => keep(fromArray(this.weights[l], [dims[l], fanOut], { device })));
  }

  /** The raw teacher output f*(x) in f64 on the host for `n` inputs x (n x d, row-major). */
  evaluate(x: ArrayLike<number>, n: number): Float64Array {
    const act = UNARY_REF[this.spec.activation];
    let h = Float64Array.from(x);
    let fanIn = this.spec.inputDim;
    this.weights.forEach((w, l) => {
      const fanOut = w.length / fanIn;
      const out = new Float64Array(n * fanOut);
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < fanIn; k++) {
          const a = h[i * fanIn + k];
          if (a === 0) continue;
          for (let j = 0; j < fanOut; j++) out[i * fanOut + j] += a * w[k * fanOut + j];
        }
      }
      h = l < this.weights.length - 1 ? out.map(act) : out;
      fanIn = fanOut;
    });
    return h;
  }

  /** Batch number `index` of the stream seeded by `dataSeed`: x [B, d], normalised targets y [B, 1]. */
  batch(batchSize: number, dataSeed: number, index: number): Batch {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`gaussian teacher: batch size must be a positive integer, got ${batchSize}`);
    const seed = mixSeed(dataSeed, index);
    return tidy(() => {
      const x = randn([batchSize, this.spec.inputDim], { seed, stream: 0, device: this.device });
      let h = x;
      this.gpuWeights.forEach((w, l) => {
        h = matmul(h, w);
        if (l < this.gpuWeights.length - 1) h = unary(this.spec.activation, h);
      });
      const y = binary('mul', binary('sub', h, this.mean), 1 / this.std);
      return { x, y };
    });
  }

  /** The fixed held-out test set of `count` examples. */
  testSet(count: number, dataSeed: number): Batch {
    return this.batch(count, dataSeed, TEST_INDEX);
  }

  dispose(): void {
    for (const w of this.gpuWeights) w.dispose();
  }
}
