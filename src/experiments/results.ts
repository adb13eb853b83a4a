/**
 * @file Reads a results directory back: the sweep and every finished run that passes
 * `verifyRun` (config, metrics, completion record, prediction files). Runs that fail it are not
 * read but listed with what is wrong, so that a report can leave them out visibly.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeNpy, type NpyArray } from './npy.js';
import { CONFIG_FILE, predictionFile, type DoneRecord } from './layout.js';
import type { RunConfig } from './spec/resolve.js';
import { checkResultsPath, readSweepFile, type SweepFile } from './sweep-file.js';
import { verifyRun, type MetricsLine } from './verify.js';

export { parseMetrics, verifyRun, type MetricsLine, type RunCheck } from './verify.js';
export type { SweepFile } from './sweep-file.js';

export interface RunResult {
  id: string;
  configId: string;
  seriesId: string;
  label: string;
  config: RunConfig;
  dir: string;
  done: DoneRecord;
  metrics: MetricsLine[];
  predictionSteps: number[];
}

/** A run directory that is there but is not a finished run: left out, with every problem found. */
export interface SkippedRun {
  id: string;
  dir: string;
  problems: string[];
}

export interface ResultsDir {
  dir: string;
  sweep?: SweepFile;
  /** Finished runs (ok or diverged) of the sweep whose files all check out. */
  runs: RunResult[];
  /** Ids of runs that are listed but not started or still training (no run directory yet). */
  unfinished: string[];
  /** Run directories that fail the check (a corrupt or missing file), with what is wrong. */
  skipped: SkippedRun[];
}

/** Reads one run directory; throws naming every problem when it is not a finished run. */
export function readRun(dir: string, id = basename(dir)): RunResult {
  const check = verifyRun(dir, id);
  if (check.state === 'absent') throw new Error(`run directory ${dir} does not exist`);
  if (check.state === 'bad') throw new Error(`run directory ${dir} is not a finished run: ${check.problems.join('; ')}`);
  return { ...check.config, dir, done: check.done, metrics: check.metrics, predictionSteps: check.predictionSteps };
}

export function readPredictions(run: RunResult, step: number): NpyArray {
  return decodeNpy(readFileSync(join(run.dir, predictionFile(step))));
}

/** Reads every finished run of the sweep (all run directories when sweep.json is absent). */
export function readResults(dir: string): ResultsDir {
  checkResultsPath(dir, 'report', false);
  const sweep = readSweepFile(dir);
  const ids = sweep
    ? sweep.runs.map((r) => r.id)
    : readdirSync(dir).filter((f) => existsSync(join(dir, f, CONFIG_FILE)) && statSync(join(dir, f)).isDirectory());
  const runs: RunResult[] = [];
  const unfinished: string[] = [];
  const skipped: SkippedRun[] = [];
  for (const id of ids) {
    const rd = join(dir, id);
    const check = verifyRun(rd, id);
    if (check.state === 'absent') unfinished.push(id);
    else if (check.state === 'bad') skipped.push({ id, dir: rd, problems: check.problems });
    else runs.push({ ...check.config, dir: rd, done: check.done, metrics: check.metrics, predictionSteps: check.predictionSteps });
  }
  return { dir, sweep, runs, unfinished, skipped };
}
