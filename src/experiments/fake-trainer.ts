/**
 * @file A deterministic stand-in trainer for the runner's tests and for demos before the models
 * exist. Its numbers imitate the paper's picture: losses fall with step and with width, test
 * predictions are a width-independent limit plus a bias ~ 1/width plus seed noise ~ 1/sqrt(width).
 */
import type { MetricRecord, TrainHooks, TrainJob, Trainer } from './trainer.js';
import type { RunConfig } from './spec/resolve.js';
import { defaultCost } from './trainer.js';
import { PROBE_TARGETS_FILE, TARGETS_FILE, entkFile, gramFile, preactivationFile } from './layout.js';
import { entkSize, probeBatchSize, probeLayers, probeSteps, type ProbeSettings } from './probes/settings.js';

export interface FakeTrainerOptions {
  /** Test-set size (rows of the predictions); default 16. */
  testSize?: number;
  /** Outputs per test point; default 3. */
  outputs?: number;
  /** Milliseconds to sleep per step (to let tests kill a sweep mid-run). */
  sleepMsPerStep?: number;
  /** Runs for which this returns a step make the loss NaN from that step on. */
  divergeAt?: (c: RunConfig) => number | undefined;
  /** Called once per job start (e.g. to count how often each run was trained). */
  onJobStart?: (job: TrainJob) => void;
}

/** splitmix32-style integer hash → [0, 1). */
function hash01(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 4294967296;
}

/** Deterministic standard normal from integer coordinates (Box–Muller on two hashes). */
function gauss(...xs: number[]): number {
  const u = Math.max(hash01(...xs, 1), 1e-12);
  const v = hash01(...xs, 2);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Environment variable: milliseconds the CLI's `--fake` trainer sleeps per step (lets a test cancel a sweep mid-run). */
export const FAKE_SLEEP_ENV = 'WIDTHSCOPE_FAKE_SLEEP_MS';

/** The `--fake` trainer's options from the environment (WIDTHSCOPE_FAKE_SLEEP_MS). */
export function fakeTrainerOptionsFromEnv(env: NodeJS.ProcessEnv): FakeTrainerOptions {
  const raw = env[FAKE_SLEEP_ENV];
  if (raw === undefined || raw === '') return {};
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`${FAKE_SLEEP_ENV}: expected milliseconds per step >= 0, got ${JSON.stringify(raw)}`);
  return { sleepMsPerStep: ms };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function fakePredictions(c: RunConfig, step: number, testSize: number, outputs: number): Float32Array {
  const out = new Float32Array(testSize * outputs);
  const progress = 1 - Math.exp(-step / Math.max(1, c.steps / 3));
  for (let i = 0; i < testSize; i++)
    for (let k = 0; k < outputs; k++) {
      const limit = Math.sin(i + 0.7 * k) * progress; // the infinite-width function
      const bias = (8 / c.width) * Math.cos(i * k + 1) * progress; // finite-width bias ~ 1/N
      const noise = (2 / Math.sqrt(c.width)) * gauss(c.seed, i, k, c.width); // seed noise ~ 1/sqrt(N)
      out[i * outputs + k] = limit + bias + noise;
    }
  return out;
}

export function fakeLoss(c: RunConfig, step: number, which: 'train' | 'test'): number {
  const floor = 0.05 + 1 / c.width;
  const decay = Math.exp((-step * c.lr * 10) / c.steps);
  const wiggle = 0.02 * gauss(c.seed, step, which === 'train' ? 1 : 2) / Math.sqrt(c.width);
  return floor + (1 - floor) * decay + Math.abs(wiggle);
}

export function createFakeTrainer(o: FakeTrainerOptions = {}): Trainer {
  const testSize = o.testSize ?? 16;
  const outputs = o.outputs ?? 3;
  return {
    estimateCost: defaultCost,
    async trainRun(job: TrainJob, hooks: TrainHooks): Promise<void> {
      o.onJobStart?.(job);
      const evalSet = new Set(job.evalSteps);
      const steps = job.config.steps;
      for (let step = 0; step <= steps; step++) {
        if (hooks.shouldStop()) return;
        if (step > 0 && o.sleepMsPerStep) await sleep(o.sleepMsPerStep);
        job.members.forEach((run, m) => {
          if (hooks.isDiverged(m)) return;
          const c = run.config;
          const div = o.divergeAt?.(c);
          const bad = div !== undefined && step >= div;
          const train = bad ? Number.NaN : fakeLoss(c, step, 'train');
          if (step > 0) hooks.onStep?.(step, train, m);
          if (hooks.isDiverged(m) || !evalSet.has(step)) return;
          const rec: MetricRecord = { trainLoss: train, testLoss: bad ? Number.NaN : fakeLoss(c, step, 'test') };
          hooks.onMetrics(step, rec, m);
          if (hooks.isDiverged(m)) return;
          writeFakeProbes(c, step, testSize, outputs, hooks, m);
          hooks.onPredictions(step, fakePredictions(c, step, testSize, outputs), [testSize, outputs], m);
        });
      }
    },
  };
}

/**
 * With probes in the config, the files a real trainer writes, in their shapes, from the same kind
 * of picture: features and preactivations a width-independent limit plus seed noise ~ 1/sqrt(N),
 * an eNTK whose spectrum narrows with width, sharpness that grows with step; and targets.npy.
 */
function writeFakeProbes(c: RunConfig, step: number, testSize: number, outputs: number, hooks: TrainHooks, m: number): void {
  const p = (c as { probes?: ProbeSettings }).probes;
  if (!p || !hooks.onArtifact) return;
  if (step === c.evalSteps[0]) {
    hooks.onArtifact(step, TARGETS_FILE, Float32Array.from({ length: testSize * outputs }, (_, i) => Math.sin(i + 0.3)), [testSize, outputs], m);
  }
  if (!probeSteps(c).includes(step)) return;
  const n = probeBatchSize(p, testSize);
  const noise = 1 / Math.sqrt(c.width);
  const layers = probeLayers(c.model);
  layers.features.forEach((layer, l) => {
    if (!p.kernels) return;
    const K = 8;
    const phi = Array.from({ length: n * K }, (_, x) => Math.cos(x + l) + noise * gauss(c.seed, c.width, step, l, x));
    hooks.onArtifact!(step, gramFile(layer, step), Float32Array.from({ length: n * n }, (_, x) => {
      const [i, j] = [Math.floor(x / n), x % n];
      let sum = 0;
      for (let k = 0; k < K; k++) sum += phi[i * K + k] * phi[j * K + k];
      return sum / K;
    }), [n, n], m);
  });
  layers.preactivations.forEach((layer, l) => {
    if (p.preactivations) hooks.onArtifact!(step, preactivationFile(layer, step), Float32Array.from({ length: 64 }, (_, i) => gauss(l, i) + noise * gauss(c.seed, c.width, step, l, i, 7)), [64], m);
  });
  const ne = entkSize(p, testSize);
  if (ne > 0) {
    hooks.onArtifact(step, entkFile(step), Float32Array.from({ length: ne * ne }, (_, x) => (Math.floor(x / ne) === x % ne ? ne - (x % ne) + noise : 0)), [ne, ne], m);
    if (step === probeSteps(c)[0]) hooks.onArtifact(step, PROBE_TARGETS_FILE, Float32Array.from({ length: ne }, (_, i) => Math.cos(i)), [ne], m);
  }
  hooks.onProbe?.(step, { sharpness: p.sharpness ? 2 + step / Math.max(1, c.steps) + 1 / c.width : null, sharpnessIterations: p.sharpness ? p.sharpness.iterations : 0, seconds: 0 }, m);
}
