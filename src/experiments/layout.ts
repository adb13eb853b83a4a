/**
 * @file Where things live in a results directory (one place, shared by runner and readers).
 *
 * <results>/sweep.json                 the sweep: spec, resolved run list
 * <results>/<runId>/config.json        resolved config of the run (written first, atomically)
 * <results>/<runId>/metrics.jsonl      one line per evaluation, append-only
 * <results>/<runId>/pred-<step>.npy    test-set predictions at an evaluation (atomically)
 * <results>/<runId>/done.json          completion marker, written last and atomically
 * <results>/analysis/                  numbers (CSV, JSON); <results>/report/ figures and page
 */
import { join } from 'node:path';

export const SWEEP_FILE = 'sweep.json';
export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';
export const DONE_FILE = 'done.json';

export const runDir = (results: string, runId: string) => join(results, runId);
export const predictionFile = (step: number) => `pred-${String(step).padStart(8, '0')}.npy`;
export const PREDICTION_RE = /^pred-(\d{8,})\.npy$/;

export interface DoneRecord {
  status: 'ok' | 'diverged';
  /** For 'diverged': the step at which a loss became NaN/Inf. */
  step?: number;
  reason?: string;
  /** Evaluations written. */
  evaluations: number;
  /** The last evaluation's metrics (non-finite numbers as null). */
  final?: Record<string, number | null>;
  wallSeconds: number;
  finishedAt: string;
}
