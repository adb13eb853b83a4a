/**
 * @file Probes during training: at a run's probe steps (settings.ts) the model trainer calls
 * `TrainingProbes.run`, which measures the model (single, or an ensemble with the member axis S)
 * with the observables library and writes each member's raw results through TrainHooks:
 *   gram-<layer>-<step>.npy    K = Φ Φᵀ / N (n x n) of every feature layer on the probe batch
 *                              (CNN maps averaged over H, W; transformer positions flattened)
 *   preact-<layer>-<step>.npy  the probe examples x a fixed subset of units (`unitSubset`), <= 4096 values
 *   entk-<step>.npy            the empirical NTK (n_e x n_e) of the scalar output `entkTarget` chooses
 *   probes.jsonl               sharpness (power iteration, warm-started from the previous probe step)
 * and, once, `probe-targets.npy` (the scalar targets of the eNTK's points).
 * The probe batch is the first `size` test points; the sharpness batch is the first training
 * batch (task.train(batchSize, 0)), the same for every width and seed. The random start of the
 * first power iteration gives member s of an ensemble the start a single run of that seed gets,
 * so an ensemble member's probes equal its single run's (to f32 rounding).
 */
import type { Tensor } from '../../tensor/tensor.js';
import { constantLike, noGrad, slice } from '../../autograd/index.js';
import { tidy } from '../../tensor/scope.js';
import type { Model } from '../../nn/models.js';
import { mulberry32 } from '../../data/prng.js';
import { asFeatures, captureLayers, featureLayers, preactivationLayers } from '../observables/features.js';
import { modelSharpness, powerStep } from '../observables/sharpness.js';
import { asFunctionOf } from '../observables/parameters.js';
import { capture, type CapturedFunction } from '../../tensor/capture.js';
import { empiricalNTK, type NtkOutput } from '../observables/entk.js';
import { PROBE_TARGETS_FILE, TARGETS_FILE, entkFile, gramFile, preactivationFile } from '../layout.js';
import type { Batch, Task } from '../tasks.js';
import type { TrainHooks } from '../trainer.js';
import { PREACTIVATION_SAMPLE_MAX, entkSize, probeBatchSize, probeSteps, type ProbeSettings } from './settings.js';
import type { RunConfig } from '../spec/resolve.js';

/** The test set's targets as f32 in their natural shape (labels and token ids as numbers). */
export async function targetsOf(test: Batch): Promise<{ data: Float32Array; shape: number[] }> {
  return { data: Float32Array.from(await test.y.data()), shape: [...test.y.shape] };
}

/** Writes targets.npy of every member in `members` (the trainer calls it with the first evaluation). */
export async function writeTargets(test: Batch, step: number, members: readonly number[], hooks: TrainHooks): Promise<void> {
  if (!hooks.onArtifact) return;
  const { data, shape } = await targetsOf(test);
  for (const m of members) hooks.onArtifact(step, TARGETS_FILE, data, shape, m);
}

/** FNV-1a of a string: the seed of a layer's unit subset. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The units (indices into an example's `units` values) a preactivation sample keeps: `count` of
 * them, sorted, drawn by a partial Fisher-Yates shuffle seeded by the layer's path only, so the
 * same at every step, seed and parameterization (and for every width that has as many units).
 */
export function unitSubset(layer: string, units: number, count: number): Int32Array {
  const k = Math.min(units, count);
  const idx = Int32Array.from({ length: units }, (_, i) => i);
  const r = mulberry32(hashString(layer));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(r() * (units - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort();
}

/**
 * The eNTK's scalar output and its targets on the first n_e probe points (y their targets):
 *   regression:      output 0; target y_i[0]
 *   classification:  the logit of class c, the most frequent label among the n_e points (ties:
 *                    the smallest); target 1[y_i = c] minus its mean over the n_e points
 *   text:            the logit of token c at the last position, c the most frequent next token
 *                    there; target 1[y_i,T-1 = c] minus its mean
 */
export function entkTarget(task: Task, y: ArrayLike<number>, yShape: readonly number[], n: number): { output: NtkOutput; target: Float32Array } {
  const per = yShape.slice(1).reduce((a, b) => a * b, 1);
  if (task.kind === 'regression') return { output: { index: 0 }, target: Float32Array.from({ length: n }, (_, i) => y[i * per]) };
  const T = task.kind === 'text' ? per : 1;
  const label = (i: number) => y[i * per + (T - 1)];
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(label(i), (counts.get(label(i)) ?? 0) + 1);
  const c = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
  const hit = Float32Array.from({ length: n }, (_, i) => (label(i) === c ? 1 : 0));
  const mean = hit.reduce((a, b) => a + b, 0) / n;
  const target = hit.map((h) => h - mean);
  if (task.kind === 'classification') return { output: { index: c }, target };
  const u = new Float32Array(T * task.outputs);
  u[(T - 1) * task.outputs + c] = 1;
  return { output: { projection: u }, target };
}

export interface ProbeContext {
  config: RunConfig;
  task: Task;
  model: Model;
  test: Batch;
  /** The training loss the trainer minimises (the sum of the members' losses for an ensemble). */
  loss: (out: Tensor, y: Tensor) => Tensor;
  /** The seeds of the model's members (one for a single model), for the first power iteration's start. */
  seeds: readonly number[];
  /** Capture the power iteration and the eNTK's products (default: env WIDTHSCOPE_CAPTURE, on). */
  capture?: boolean;
}

export class TrainingProbes {
  readonly steps: ReadonlySet<number>;
  private readonly settings: ProbeSettings;
  private readonly x: Tensor;
  private readonly entkX: Tensor | null;
  private readonly sharpBatch: Batch | null;
  private vector: Tensor[] | null = null;
  private entkOutput: NtkOutput = 'sum';
  private entkTargets: Float32Array | null = null;
  private targetsWritten = false;
  /** The power iteration on the sharpness batch, captured once for the run (its parameters' buffers never change). */
  private sharpStep: CapturedFunction | null = null;

  /** The probes of a run, or null when its config has none. */
  static create(ctx: ProbeContext): TrainingProbes | null {
    return ctx.config.probes ? new TrainingProbes(ctx, ctx.config.probes) : null;
  }

  private constructor(private readonly ctx: ProbeContext, settings: ProbeSettings) {
    this.settings = settings;
    this.steps = new Set(probeSteps(ctx.config));
    const testSize = ctx.test.x.shape[0];
    const n = probeBatchSize(settings, testSize);
    const ne = entkSize(settings, testSize);
    this.x = noGrad(() => slice(ctx.test.x, 0, 0, n));
    this.entkX = ne > 0 ? noGrad(() => slice(ctx.test.x, 0, 0, ne)) : null;
    this.sharpBatch = settings.sharpness ? ctx.task.train(ctx.config.batchSize, 0) : null;
  }

  /**
   * Runs the probes of `step` and reports them for each member in `members` (model member
   * indices; hooks take the same indices): the files first, then its probes.jsonl line.
   */
  async run(step: number, members: readonly number[], hooks: TrainHooks): Promise<void> {
    const t0 = performance.now();
    const { model, task } = this.ctx;
    const p = this.settings;
    const files: { name: string; data: Float32Array[]; shape: number[] }[] = [];

    const features = p.kernels ? featureLayers(model) : [];
    const preacts = p.preactivations ? preactivationLayers(model) : [];
    if (features.length + preacts.length > 0) {
      const caps = await captureLayers(model, this.x, [...new Set([...features, ...preacts])]);
      for (const layer of features) {
        const grams = asFeatures(caps.get(layer)!, 'pool').map((f) => {
          const n = f.rows;
          const K = new Float32Array(n * n);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j <= i; j++) {
              let s = 0;
              for (let k = 0; k < f.cols; k++) s += f.data[i * f.cols + k] * f.data[j * f.cols + k];
              K[i * n + j] = K[j * n + i] = s / f.cols;
            }
          }
          return K;
        });
        files.push({ name: gramFile(layer, step), data: grams, shape: [this.x.shape[0], this.x.shape[0]] });
      }
      for (const layer of preacts) {
        const cap = caps.get(layer)!;
        const n = Math.min(cap.shape[0], PREACTIVATION_SAMPLE_MAX);
        const units = cap.shape.slice(1).reduce((a, b) => a * b, 1);
        const keep = unitSubset(layer, units, Math.max(1, Math.floor(PREACTIVATION_SAMPLE_MAX / n)));
        const samples = cap.members.map((v) => {
          const out = new Float32Array(n * keep.length);
          for (let i = 0; i < n; i++) for (let k = 0; k < keep.length; k++) out[i * keep.length + k] = v[i * units + keep[k]];
          return out;
        });
        files.push({ name: preactivationFile(layer, step), data: samples, shape: [n * keep.length] });
      }
    }

    if (this.entkX) {
      if (!this.entkTargets) {
        const ne = this.entkX.shape[0];
        const { output, target } = entkTarget(task, await this.ctx.test.y.data(), this.ctx.test.y.shape, ne);
        this.entkOutput = output;
        this.entkTargets = target;
      }
      const thetas = await empiricalNTK(model, this.entkX, { output: this.entkOutput });
      const ne = this.entkX.shape[0];
      files.push({ name: entkFile(step), data: thetas.map((t) => Float32Array.from(t.data)), shape: [ne, ne] });
      if (!this.targetsWritten) files.push({ name: PROBE_TARGETS_FILE, data: thetas.map(() => this.entkTargets!), shape: [ne] });
      this.targetsWritten = true;
    }

    let sharpness: (number | null)[] = members.map(() => null);
    let iterations = 0;
    if (p.sharpness && this.sharpBatch) {
      const { x, y } = this.sharpBatch;
      iterations = this.vector ? p.sharpness.warmIterations : p.sharpness.iterations;
      const init = this.vector ?? this.randomStart();
      try {
        const top = await modelSharpness(model, x, (out) => this.ctx.loss(out, y), { iterations, init, step: this.sharpnessStep(x, y) });
        sharpness = top.eigenvalues.map((e) => (Number.isFinite(e) ? e : null));
        this.vector = top.vector;
      } finally {
        for (const t of init) t.dispose();
      }
    }

    const seconds = (performance.now() - t0) / 1000;
    for (const m of members) {
      for (const f of files) hooks.onArtifact?.(step, f.name, f.data[m], f.shape, m);
      hooks.onProbe?.(step, { sharpness: sharpness[m] ?? null, sharpnessIterations: iterations, seconds }, m);
    }
  }

  /** One captured power iteration on the sharpness batch (x, y). */
  private sharpnessStep(x: Tensor, y: Tensor): (v: readonly Tensor[]) => { lambda: Tensor; v: Tensor[] } {
    const { model } = this.ctx;
    if (!this.sharpStep) {
      const params = model.parameters();
      const f = asFunctionOf(params, () => this.ctx.loss(model.forward(x), y));
      const S = model.ensemble;
      this.sharpStep = capture(x.device, (v) => {
        const next = powerStep(f, params.map((p) => p.value), v, S);
        return [next.lambda, ...next.v];
      }, { name: 'sharpness iteration', enabled: this.ctx.capture, identity: () => params.map((p) => p.value) });
    }
    const step = this.sharpStep;
    return (v) => {
      const [lambda, ...next] = step.run(v);
      return { lambda, v: next };
    };
  }

  /**
   * The first power iteration's start: per parameter, member s's slice holds the values a single
   * model of seed s draws (one stream over its parameters in order, seeded by the seed).
   */
  private randomStart(): Tensor[] {
    const params = this.ctx.model.parameters();
    const S = this.ctx.seeds.length;
    const per = params.map((p) => p.value.size / S);
    const values = params.map((p) => new Float32Array(p.value.size));
    this.ctx.seeds.forEach((seed, s) => {
      const r = mulberry32((0x5eed ^ seed) >>> 0);
      values.forEach((v, i) => { for (let k = 0; k < per[i]; k++) v[s * per[i] + k] = r() * 2 - 1; });
    });
    return noGrad(() => tidy(() => params.map((p, i) => constantLike(p.value, p.value.shape, values[i]))));
  }

  dispose(): void {
    this.sharpStep?.dispose();
    this.sharpStep = null;
    for (const t of [this.x, this.entkX, this.sharpBatch?.x, this.sharpBatch?.y, ...(this.vector ?? [])]) t?.dispose();
    this.vector = null;
  }
}
