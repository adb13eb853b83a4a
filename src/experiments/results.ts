/**
 * @file Reads a results directory back: the sweep, each run's config, metrics, completion marker
 * and prediction files.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy, type NpyArray } from './npy.js';
import { CONFIG_FILE, DONE_FILE, METRICS_FILE, PREDICTION_RE, SWEEP_FILE, predictionFile, type DoneRecord } from './layout.js';
import type { RunConfig } from './spec/resolve.js';
import type { SweepSpec } from './spec/schema.js';

export interface MetricsLine {
  step: number;
  [name: string]: number | null;
}

export interface RunResult {
  id: string;
  configId: string;
  seriesId: string;
  label: string;
  config: RunConfig;
  dir: string;
  /** Absent for an unfinished run. */
  done?: DoneRecord;
  metrics: MetricsLine[];
  predictionSteps: number[];
}

export interface SweepFile {
  name: string;
  spec: SweepSpec;
  runs: { id: string; configId: string; seriesId: string; label: string }[];
}

export interface ResultsDir {
  dir: string;
  sweep?: SweepFile;
  /** Finished runs (ok or diverged) that belong to the sweep. */
  runs: RunResult[];
  /** Ids of runs that are listed but not finished (or absent). */
  unfinished: string[];
}

export function parseMetrics(text: string, source: string): MetricsLine[] {
  return text.split('\n').filter((l) => l.trim().length > 0).map((l, i) => {
    try {
      const v = JSON.parse(l) as MetricsLine;
      if (typeof v.step !== 'number') throw new Error('no numeric "step"');
      return v;
    } catch (e) {
      throw new Error(`${source}:${i + 1}: bad metrics line: ${(e as Error).message}`);
    }
  });
}

export function readRun(dir: string): RunResult {
  const cfg = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as Omit<RunResult, 'dir' | 'metrics' | 'predictionSteps' | 'done'>;
  const donePath = join(dir, DONE_FILE);
  const metricsPath = join(dir, METRICS_FILE);
  return {
    ...cfg,
    dir,
    done: existsSync(donePath) ? (JSON.parse(readFileSync(donePath, 'utf8')) as DoneRecord) : undefined,
    metrics: existsSync(metricsPath) ? parseMetrics(readFileSync(metricsPath, 'utf8'), metricsPath) : [],
    predictionSteps: readdirSync(dir).map((f) => PREDICTION_RE.exec(f)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b),
  };
}

export function readPredictions(run: RunResult, step: number): NpyArray {
  return decodeNpy(readFileSync(join(run.dir, predictionFile(step))));
}

/** Reads every finished run of the sweep (all finished run directories when sweep.json is absent). */
export function readResults(dir: string): ResultsDir {
  if (!existsSync(dir)) throw new Error(`results directory ${dir} does not exist`);
  const sweepPath = join(dir, SWEEP_FILE);
  const sweep = existsSync(sweepPath) ? (JSON.parse(readFileSync(sweepPath, 'utf8')) as SweepFile) : undefined;
  const ids = sweep
    ? sweep.runs.map((r) => r.id)
    : readdirSync(dir).filter((f) => existsSync(join(dir, f, CONFIG_FILE)) && statSync(join(dir, f)).isDirectory());
  const runs: RunResult[] = [];
  const unfinished: string[] = [];
  for (const id of ids) {
    const rd = join(dir, id);
    if (!existsSync(join(rd, DONE_FILE)) || !existsSync(join(rd, CONFIG_FILE))) { unfinished.push(id); continue; }
    runs.push(readRun(rd));
  }
  return { dir, sweep, runs, unfinished };
}
