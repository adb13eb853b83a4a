/**
 * @file A sweep's task as data on the device: fresh training batches by index (the same sequence
 * for every width and seed) and a fixed test set. Wraps src/data.
 */
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { fromArray } from '../ops/creation.js';
import { DEFAULT_TEACHER, TeacherStream } from '../data/teacher.js';
import { DEFAULT_GAUSSIAN_TEACHER, GaussianTeacher } from '../data/gaussian-teacher.js';
import { MarkovLanguage } from '../data/markov.js';
import { loadFashionMnist, loadMnist, type ImageSet } from '../data/images.js';
import { loadMobyDick, sampleWindows } from '../data/text.js';
import { mixSeed, mulberry32 } from '../data/prng.js';
import type { TaskSpec } from './spec/schema.js';

export interface Batch {
  x: Tensor;
  y: Tensor;
}

export interface Task {
  kind: 'classification' | 'regression' | 'text';
  /** Per-example input shape: [H, W, C] images, [T] token ids. */
  inputShape: number[];
  /** Classes, regression outputs, or vocabulary size. */
  outputs: number;
  /** Context length (text). */
  context?: number;
  /** Regression loss convention (default 'mse' = mean (f - y)²; 'half-mse' = 0.5 mean (f - y)²); see regressionLossScale. */
  loss?: 'mse' | 'half-mse';
  train(batchSize: number, index: number): Batch;
  test(): Batch;
  dispose(): void;
}

const DEFAULT_TEST_SIZE = 512;

/** The factor on mean (f - y)² of a regression task's loss: 0.5 for 'half-mse', 1 for 'mse'. */
export function regressionLossScale(task: Task): number {
  return task.loss === 'half-mse' ? 0.5 : 1;
}

function imageTask(device: Device, set: { train: ImageSet; test: ImageSet }, testSize: number, dataSeed: number): Task {
  const { train, test } = set;
  const pixels = train.images.length / train.count;
  const [C, H, W] = train.shape;
  const n = Math.min(testSize, test.count);
  const gather = (s: ImageSet, idx: number[]): Batch => {
    const x = new Float32Array(idx.length * pixels);
    const y = new Int32Array(idx.length);
    idx.forEach((k, i) => {
      x.set(s.images.subarray(k * pixels, (k + 1) * pixels), i * pixels);
      y[i] = s.labels[k];
    });
    return { x: fromArray(x, [idx.length, H, W, C], { device }), y: fromArray(y, [idx.length], { device }) };
  };
  return {
    kind: 'classification',
    inputShape: [H, W, C],
    outputs: train.classes,
    // batch i: examples drawn without replacement within an epoch permutation of (dataSeed, epoch)
    train(batchSize, index) {
      const idx: number[] = [];
      for (let j = 0; j < batchSize; j++) {
        const pos = index * batchSize + j;
        const epoch = Math.floor(pos / train.count);
        const r = mulberry32(mixSeed(dataSeed, epoch, pos % train.count));
        idx.push(Math.floor(r() * train.count));
      }
      return gather(train, idx);
    },
    test: () => gather(test, Array.from({ length: n }, (_, i) => i)),
    dispose() {},
  };
}

/** The task of a spec on `device`. */
export function makeTask(spec: TaskSpec, device: Device): Task {
  const testSize = spec.testSize ?? DEFAULT_TEST_SIZE;
  switch (spec.name) {
    case 'teacher-image':
    case 'teacher-regression': {
      const regression = spec.name === 'teacher-regression';
      const stream = new TeacherStream({
        ...DEFAULT_TEACHER,
        kind: regression ? 'regression' : 'classification',
        ...(spec.size !== undefined && { size: spec.size }),
        ...(spec.channels !== undefined && { channels: spec.channels }),
        ...(spec.basis !== undefined && { basis: spec.basis }),
        ...(spec.hidden !== undefined && { hidden: spec.hidden }),
        ...(spec.difficulty !== undefined && { difficulty: spec.difficulty }),
        ...(spec.seed !== undefined && { seed: spec.seed }),
        ...('classes' in spec && spec.classes !== undefined && { classes: spec.classes }),
      }, device);
      const dataSeed = spec.dataSeed ?? 0;
      const s = stream.spec;
      return {
        kind: regression ? 'regression' : 'classification',
        inputShape: [s.size, s.size, s.channels],
        outputs: regression ? 1 : s.classes,
        ...(spec.name === 'teacher-regression' && spec.loss !== undefined && { loss: spec.loss }),
        train: (b, i) => stream.batch(b, dataSeed, i),
        test: () => stream.testSet(testSize, dataSeed),
        dispose: () => stream.dispose(),
      };
    }
    case 'teacher-gaussian': {
      const teacher = new GaussianTeacher({
        inputDim: spec.inputDim ?? DEFAULT_GAUSSIAN_TEACHER.inputDim,
        depth: spec.teacherDepth ?? DEFAULT_GAUSSIAN_TEACHER.depth,
        width: spec.teacherWidth ?? DEFAULT_GAUSSIAN_TEACHER.width,
        activation: spec.teacherActivation ?? DEFAULT_GAUSSIAN_TEACHER.activation,
        seed: spec.seed ?? DEFAULT_GAUSSIAN_TEACHER.seed,
        normSamples: spec.normSamples ?? DEFAULT_GAUSSIAN_TEACHER.normSamples,
      }, device);
      const dataSeed = spec.dataSeed ?? 0;
      return {
        kind: 'regression',
        inputShape: [teacher.spec.inputDim],
        outputs: 1,
        loss: spec.loss ?? 'mse',
        train: (b, i) => teacher.batch(b, dataSeed, i),
        test: () => teacher.testSet(testSize, dataSeed),
        dispose: () => teacher.dispose(),
      };
    }
    case 'markov-text': {
      const lang = new MarkovLanguage({ vocab: spec.vocab ?? 32, branching: spec.branching ?? 4, seed: spec.seed ?? 1 });
      const T = spec.contextLength ?? 32;
      const dataSeed = spec.dataSeed ?? 0;
      return textTask(device, lang.spec.vocab, T, (b, i) => lang.sample(b, T + 1, dataSeed, i), Math.min(testSize, 256));
    }
    case 'moby-dick': {
      const corpus = loadMobyDick();
      const T = spec.contextLength ?? 64;
      const dataSeed = spec.dataSeed ?? 0;
      return textTask(device, corpus.vocab.length, T, (b, i) =>
        sampleWindows(i === TEST_BATCH ? corpus.test : corpus.train, b, T + 1, dataSeed, i), Math.min(testSize, 256));
    }
    case 'mnist':
      return imageTask(device, loadMnist(), testSize, 0);
    case 'fashion-mnist':
      return imageTask(device, loadFashionMnist(), testSize, 0);
  }
}

const TEST_BATCH = 0x7fffffff;

/** Next-token prediction: x = tokens [:, :T], y = tokens [:, 1:]. */
function textTask(device: Device, vocab: number, T: number, sample: (batch: number, index: number) => Int32Array, testSize: number): Task {
  const split = (tokens: Int32Array, b: number): Batch => {
    const x = new Int32Array(b * T);
    const y = new Int32Array(b * T);
    for (let i = 0; i < b; i++) {
      x.set(tokens.subarray(i * (T + 1), i * (T + 1) + T), i * T);
      y.set(tokens.subarray(i * (T + 1) + 1, (i + 1) * (T + 1)), i * T);
    }
    return { x: fromArray(x, [b, T], { device }), y: fromArray(y, [b, T], { device }) };
  };
  return {
    kind: 'text',
    inputShape: [T],
    outputs: vocab,
    context: T,
    train: (b, i) => split(sample(b, i), b),
    test: () => split(sample(testSize, TEST_BATCH), testSize),
    dispose() {},
  };
}
