/**
 * @file The catapult phase (Lewkowycz et al. 2020) from a run's curves, and the largest learning
 * rate that trains from a set of runs.
 *
 * A catapult is detected when, with L0 the loss at the first point of the curve:
 *   1. spike: within the first `earlySteps` steps the loss reaches spikeFactor * L0 (default 2);
 *   2. recovery: later the loss falls back below L0 (finite);
 *   3. flattening: the sharpness at the first point at or after the recovery is at most
 *      sharpnessDrop * (the sharpness at the first point), default 0.8.
 * Curves are lists of { step, value } in increasing steps; the two may be measured at different
 * steps.
 */

export interface CurvePoint {
  step: number;
  value: number;
}

export interface CatapultOptions {
  /** The spike must reach spikeFactor * L0 (default 2). */
  spikeFactor?: number;
  /** ... at a step <= earlySteps (default: the first quarter of the loss curve's steps). */
  earlySteps?: number;
  /** The sharpness after recovery must be <= sharpnessDrop * initial sharpness (default 0.8). */
  sharpnessDrop?: number;
}

export interface Catapult {
  catapult: boolean;
  /** First step whose loss reached spikeFactor * L0 (null: no spike). */
  spikeStep: number | null;
  /** The largest loss after the spike and before recovery. */
  peakLoss: number | null;
  /** First step after the spike with a finite loss below L0 (null: never recovered). */
  recoveryStep: number | null;
  sharpnessBefore: number;
  /** The sharpness at the first point at or after the recovery (null without recovery). */
  sharpnessAfter: number | null;
}

function checkCurve(c: readonly CurvePoint[], what: string): void {
  if (c.length === 0) throw new Error(`detectCatapult: the ${what} curve is empty (expected at least one { step, value } point)`);
  for (let i = 1; i < c.length; i++) {
    if (!(c[i].step > c[i - 1].step)) throw new Error(`detectCatapult: the ${what} curve's steps must increase, got ${c[i - 1].step} then ${c[i].step} at index ${i}`);
  }
}

/** Whether `loss` and `sharpness` show a catapult (see the file comment for the definition). */
export function detectCatapult(loss: readonly CurvePoint[], sharpness: readonly CurvePoint[], opts: CatapultOptions = {}): Catapult {
  checkCurve(loss, 'loss');
  checkCurve(sharpness, 'sharpness');
  const first = loss[0].step;
  const { spikeFactor = 2, sharpnessDrop = 0.8, earlySteps = first + (loss[loss.length - 1].step - first) / 4 } = opts;
  if (!(spikeFactor > 1)) throw new Error(`detectCatapult: spikeFactor must be a number > 1, got ${spikeFactor}`);
  const L0 = loss[0].value;
  const sharpnessBefore = sharpness[0].value;
  const none: Catapult = { catapult: false, spikeStep: null, peakLoss: null, recoveryStep: null, sharpnessBefore, sharpnessAfter: null };
  // a diverged point (NaN or Infinity) counts as a spike that never recovers
  const spike = loss.findIndex((p) => p.step <= earlySteps && !(p.value < spikeFactor * L0));
  if (spike < 0 || !(L0 > 0)) return none;
  const rec = loss.findIndex((p, i) => i > spike && p.value < L0);
  const peakLoss = Math.max(...loss.slice(spike, rec < 0 ? undefined : rec).map((p) => p.value));
  if (rec < 0) return { ...none, spikeStep: loss[spike].step, peakLoss };
  const recoveryStep = loss[rec].step;
  const after = sharpness.find((p) => p.step >= recoveryStep);
  const sharpnessAfter = after ? after.value : null;
  const catapult = sharpnessAfter !== null && sharpnessAfter <= sharpnessDrop * sharpnessBefore;
  return { catapult, spikeStep: loss[spike].step, peakLoss, recoveryStep, sharpnessBefore, sharpnessAfter };
}

export interface LrRun {
  lr: number;
  initialLoss: number;
  finalLoss: number;
}

/** A run trains when its final loss is finite and below its initial loss. */
export function trains(r: LrRun): boolean {
  return Number.isFinite(r.finalLoss) && r.finalLoss < r.initialLoss;
}

/**
 * The largest learning rate at which the runs train: with `require: 'all'` (default) every run
 * at that lr (e.g. every seed) must train, with 'any' one suffices. Null when no lr trains.
 */
export function largestTrainableLr(runs: readonly LrRun[], opts: { require?: 'all' | 'any' } = {}): number | null {
  const require = opts.require ?? 'all';
  const byLr = new Map<number, boolean[]>();
  for (const r of runs) {
    if (!(r.lr > 0)) throw new Error(`largestTrainableLr: expected positive learning rates, got lr ${r.lr}`);
    byLr.set(r.lr, [...(byLr.get(r.lr) ?? []), trains(r)]);
  }
  let best: number | null = null;
  for (const [lr, ok] of byLr) {
    const good = require === 'all' ? ok.every(Boolean) : ok.some(Boolean);
    if (good && (best === null || lr > best)) best = lr;
  }
  return best;
}
