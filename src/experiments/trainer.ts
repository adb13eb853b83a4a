/**
 * @file The interface between the sweep runner and whatever trains a model.
 *
 * The runner owns files, progress, resumption, signals and divergence; a trainer owns the device,
 * the data stream and the model. A trainer trains one *job*: the runs of one ensemble group
 * (same config, different seeds; a single run when `members.length === 1`). It reports per
 * member, so the files on disk do not depend on how seeds were grouped (issue 7).
 */
import type { ResolvedRun, RunConfig } from './spec/resolve.js';

/** One evaluation's numbers. `trainLoss`/`testLoss` are the names the analyses and report plot. */
export interface MetricRecord {
  trainLoss?: number;
  testLoss?: number;
  testAccuracy?: number;
  [name: string]: number | undefined;
}

/** One line of probes.jsonl: the probes of one step (the files are written through onArtifact). */
export interface ProbeRecord {
  /** Top Hessian eigenvalue of the training loss on the sharpness batch; null when off or not finite. */
  sharpness: number | null;
  /** Power iterations behind `sharpness` (0 when off). */
  sharpnessIterations: number;
  /** Wall time of this step's probes (of the whole ensemble, for an ensemble member). */
  seconds: number;
}

export interface TrainJob {
  /** The runs trained together; member i has seed `members[i].config.seed`. */
  members: ResolvedRun[];
  /** The config shared by all members (the seed of member 0 stands in for `seed`). */
  config: RunConfig;
  /** Steps at which to call onMetrics and onPredictions (sorted; 0 = before the first update). */
  evalSteps: number[];
  /** Anomaly mode for this job (the spec's `anomaly`): name the first op that writes a non-finite value. */
  anomaly?: boolean;
}

export interface TrainHooks {
  /** Test-time metrics of `member` (default 0) after `step` updates; call once per eval step. */
  onMetrics(step: number, record: MetricRecord, member?: number): void;
  /**
   * Test-set predictions of `member` (default 0) after `step` updates, C order, e.g. shape
   * [testSize, outputs] (logits for classification, outputs for regression, [testSize, context,
   * vocab] logits for text). `data` is copied before return: pass a view into a reused buffer.
   */
  onPredictions(step: number, data: Float32Array, shape: readonly number[], member?: number): void;
  /**
   * Optional: a named array file of `member` (default 0) at `step`: `targets.npy` (with the
   * first predictions) and the probe files (layout.ts: gram-, preact-, entk-, probe-targets).
   * Written atomically into the member's run directory; `data` is copied before return.
   */
  onArtifact?(step: number, name: string, data: Float32Array, shape: readonly number[], member?: number): void;
  /** Optional: the probes of `member` at `step` ran (one line of probes.jsonl); after its files. */
  onProbe?(step: number, record: ProbeRecord, member?: number): void;
  /** Optional, for progress bars and early divergence detection: the latest training loss. */
  onStep?(step: number, loss: number, member?: number): void;
  /**
   * Optional: `member` went non-finite at exactly `step` (the updates applied before the forward
   * pass whose loss or gradient it was); `reason` says which (the loss, or which parameter's
   * gradient). Called before any later report of that member, which are then ignored.
   */
  onDiverged?(step: number, reason: string, member?: number): void;
  /** True when the trainer must return now (Ctrl-C, or every member diverged). Poll every step. */
  shouldStop(): boolean;
  /** True when `member` has diverged: its further reports are ignored; the trainer may drop it. */
  isDiverged(member: number): boolean;
}

/** Implemented by the model layer; `trainRun` resolves when the job is finished or stopped. */
export interface Trainer {
  trainRun(job: TrainJob, hooks: TrainHooks): Promise<void>;
  /** Optional: relative cost of a run for sharding and ETA (default width² · depth · steps · batch). */
  estimateCost?(config: RunConfig): number;
}

/** Default cost model: the dominant matmul work grows like width² per layer per example. */
export function defaultCost(c: RunConfig): number {
  return c.width * c.width * c.model.depth * c.steps * c.batchSize;
}
