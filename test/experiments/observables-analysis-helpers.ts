/**
 * Synthetic probe files for the observables analyses: real run directories from the fake trainer
 * (runSweep), to which the probe files are added by the layout training writes (probe-files.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeTrainer, encodeNpy, readResults, resolveSweep, runSweep, validateSpec, type RunResult } from '../../src/experiments/index.js';
import { entkFile, gramFile, preactivationFile, PROBES_FILE, PROBE_TARGETS_FILE, TARGETS_FILE } from '../../src/experiments/layout.js';
import type { ProbeLine } from '../../src/experiments/analysis/probe-files.js';
import type { SweepSpecInput } from '../../src/experiments/spec/schema.js';
import { tinySpec, tmp } from './util.js';

/** A finished fake sweep (widths x seeds x lrs of tinySpec) and its runs as read back. */
export async function fakeSweep(over: Partial<SweepSpecInput> = {}): Promise<{ dir: string; runs: RunResult[] }> {
  const dir = tmp('ws-obs-');
  const sweep = resolveSweep(validateSpec(tinySpec(over)));
  await runSweep(sweep, { resultsDir: dir, trainer: createFakeTrainer(), progress: false, log: () => {}, handleSignals: false });
  return { dir, runs: readResults(dir).runs };
}

const f32 = (v: ArrayLike<number>) => Float32Array.from(v);

/** An n x n matrix as row-major numbers from a function of (i, j). */
export const square = (n: number, at: (i: number, j: number) => number) => Array.from({ length: n * n }, (_, x) => at(Math.floor(x / n), x % n));

/** The Gram Φ Φᵀ / cols of features given as rows. */
export function gramOf(rows: readonly (readonly number[])[]): number[] {
  const n = rows.length;
  return square(n, (i, j) => rows[i].reduce((s, x, k) => s + x * rows[j][k], 0) / rows[0].length);
}

export const writeGram = (dir: string, layer: string, step: number, k: readonly number[]) =>
  writeFileSync(join(dir, gramFile(layer, step)), encodeNpy(f32(k), [Math.round(Math.sqrt(k.length)), Math.round(Math.sqrt(k.length))]));
export const writePreact = (dir: string, layer: string, step: number, sample: readonly number[]) =>
  writeFileSync(join(dir, preactivationFile(layer, step)), encodeNpy(f32(sample), [sample.length]));
export const writeEntk = (dir: string, step: number, k: readonly number[]) =>
  writeFileSync(join(dir, entkFile(step)), encodeNpy(f32(k), [Math.round(Math.sqrt(k.length)), Math.round(Math.sqrt(k.length))]));
export const writeProbeTargets = (dir: string, y: readonly number[]) => writeFileSync(join(dir, PROBE_TARGETS_FILE), encodeNpy(f32(y), [y.length]));
export const writeTargets = (dir: string, y: readonly number[], shape: readonly number[]) => writeFileSync(join(dir, TARGETS_FILE), encodeNpy(f32(y), shape));
export const writeProbeLines = (dir: string, lines: readonly ProbeLine[]) =>
  writeFileSync(join(dir, PROBES_FILE), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

/**
 * An in-memory run (its files under a fresh directory) for the analyses that read only metrics
 * and probe files: width, seed, lr, status, train-loss curve.
 */
export function memoryRun(o: { width: number; seed: number; lr?: number; trainLoss?: (number | null)[]; evalSteps?: number[]; diverged?: boolean; task?: RunResult['config']['task']; predictionSteps?: number[] }): RunResult {
  const dir = tmp('ws-obs-run-');
  mkdirSync(dir, { recursive: true });
  const evalSteps = o.evalSteps ?? (o.trainLoss ?? []).map((_, i) => i);
  return {
    id: `w${o.width}s${o.seed}lr${o.lr ?? 0.1}`, configId: `c${o.width}`, seriesId: 'S', label: 'synthetic', dir,
    config: { width: o.width, seed: o.seed, task: o.task ?? { name: 'teacher-regression' }, model: { family: 'mlp', depth: 2, activation: 'relu', bias: true }, parameterization: { name: 'mup' }, baseWidth: 16, optimizer: { name: 'sgd', momentum: 0, weightDecay: 0 }, lr: o.lr ?? 0.1, batchSize: 4, steps: evalSteps.at(-1) ?? 0, evalSteps } as RunResult['config'],
    done: o.diverged ? { status: 'diverged', step: evalSteps.at(-1) ?? 0, evaluations: 1, wallSeconds: 0, finishedAt: '' } : { status: 'ok', evaluations: evalSteps.length, wallSeconds: 0, finishedAt: '' },
    metrics: (o.trainLoss ?? []).map((v, i) => ({ step: evalSteps[i], trainLoss: v })),
    predictionSteps: o.predictionSteps ?? evalSteps,
  };
}
