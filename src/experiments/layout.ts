/**
 * @file Where things live in a results directory (one place, shared by runner and readers).
 *
 * <results>/sweep.json                 the sweep: spec, its hash, resolved run list
 * <results>/<runId>/config.json        resolved config of the run
 * <results>/<runId>/metrics.jsonl      one line per evaluation
 * <results>/<runId>/pred-<step>.npy    test-set predictions at an evaluation
 * <results>/<runId>/done.json          completion record
 * <results>/locks/<runId>.lock         held while a process trains the run (lock.ts)
 * <results>/partial/<runId>.<token>/   the run's files while it trains; renamed to <runId>/ when
 *                                      it finishes, so a run directory is written once, complete
 * <results>/analysis/                  numbers (CSV, JSON); <results>/report/ figures and page
 */
import { join } from 'node:path';
import { z } from 'zod';

export const SWEEP_FILE = 'sweep.json';
export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';
export const DONE_FILE = 'done.json';
export const LOCKS_DIR = 'locks';
export const PARTIAL_DIR = 'partial';
/** Names a results directory may hold besides run directories. */
/** `widthscope slurm`'s job scripts and logs, and a sharded sweep's assignment of runs to shards. */
export const SLURM_DIR = 'slurm';
export const SHARD_PLAN_FILE = 'shards.json';
export const RESULTS_ENTRIES = [SWEEP_FILE, LOCKS_DIR, PARTIAL_DIR, SLURM_DIR, SHARD_PLAN_FILE, 'analysis', 'report'];
export const RUN_ID_RE = /^[0-9a-f]{12}$/;

export const runDir = (results: string, runId: string) => join(results, runId);
export const lockFile = (results: string, runId: string) => join(results, LOCKS_DIR, `${runId}.lock`);
export const stagingDir = (results: string, runId: string, token: string) => join(results, PARTIAL_DIR, `${runId}.${token}`);
export const predictionFile = (step: number) => `pred-${String(step).padStart(8, '0')}.npy`;
export const PREDICTION_RE = /^pred-(\d{8,})\.npy$/;

export const doneRecordSchema = z.strictObject({
  status: z.enum(['ok', 'diverged']),
  /** For 'diverged': the step at which a loss became NaN/Inf. */
  step: z.number().int().nonnegative().optional(),
  reason: z.string().optional(),
  /** Evaluations written (lines of metrics.jsonl). */
  evaluations: z.number().int().nonnegative(),
  /** The last evaluation's metrics (non-finite numbers as null). */
  final: z.record(z.string(), z.number().nullable()).optional(),
  /** Shape of every prediction file of the run. */
  predictionShape: z.array(z.number().int().nonnegative()).optional(),
  wallSeconds: z.number().nonnegative(),
  finishedAt: z.string(),
}).refine((d) => d.status !== 'diverged' || d.step !== undefined, { message: 'a diverged run records its step', path: ['step'] });

export type DoneRecord = z.infer<typeof doneRecordSchema>;
