/**
 * @file Experiments: sweep specs, the resumable runner, analyses and reports.
 */
export * from './spec/schema.js';
export * from './spec/errors.js';
export * from './spec/load.js';
export * from './spec/resolve.js';
export * from './spec/canonical.js';
export * from './trainer.js';
export * from './fake-trainer.js';
export * from './runner.js';
export * from './shard.js';
export * from './npy.js';
export * from './layout.js';
export * from './results.js';
export * from './sweep-file.js';
export * from './lock.js';
export * from './analysis/stats.js';
export * from './analysis/losses.js';
export * from './analysis/agreement.js';
export * from './analysis/slope.js';
export * from './analysis/analyze.js';
export * from './report/charts.js';
export * from './report/render.js';
export * from './report/report.js';
export * from './commands.js';
export * from './analysis/observables.js';
export * from './analysis/observable-claims.js';
export { lossKind, predictionLoss, type EnsembleAnalysis, type EnsemblePoint, type LossKind } from './analysis/ensemble-loss.js';
export type { CkaPoint } from './analysis/representations.js';
export type { PreactivationAnalysis, PreactHistogram, PreactW1 } from './analysis/preactivations.js';
export type { SharpnessAnalysis, SharpnessPoint } from './analysis/sharpness.js';
export type { AfterKernelPoint } from './analysis/after-kernel.js';
export { largeLr, runDynamics, type LargeLr, type LargeLrPoint, type RunDynamics } from './analysis/large-lr.js';
