/**
 * @file Where things live in a results directory (one place, shared by runner and readers).
 *
 * <results>/sweep.json                 the sweep: spec, its hash, resolved run list
 * <results>/<runId>/config.json        resolved config of the run
 * <results>/<runId>/metrics.jsonl      one line per evaluation
 * <results>/<runId>/pred-<step>.npy    test-set predictions at an evaluation
 * <results>/<runId>/targets.npy        the whole test set's targets (written with the first predictions)
 * <results>/<runId>/probes.jsonl       one line per probe step (runs with probes, src/experiments/probes/)
 * <results>/<runId>/gram-<layer>-<step>.npy, preact-<layer>-<step>.npy, entk-<step>.npy
 * <results>/<runId>/probe-targets.npy  the scalar targets matching the eNTK's scalar output
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

// Files of probes during training (notes/observables.md, "Probes during training").
export const TARGETS_FILE = 'targets.npy';
export const PROBES_FILE = 'probes.jsonl';
export const PROBE_TARGETS_FILE = 'probe-targets.npy';
const stepPart = (step: number) => String(step).padStart(8, '0');
/** Gram matrix K = Φ Φᵀ / N of feature layer `layer` (e.g. `input.act`) on the probe batch. */
export const gramFile = (layer: string, step: number) => `gram-${layer}-${stepPart(step)}.npy`;
/** A sample of preactivation layer `layer`'s values on the probe batch. */
export const preactivationFile = (layer: string, step: number) => `preact-${layer}-${stepPart(step)}.npy`;
/** The empirical NTK on the first probe points. */
export const entkFile = (step: number) => `entk-${stepPart(step)}.npy`;
/** Any probe artifact with a step: kind, layer (absent for entk), step. */
export const PROBE_ARTIFACT_RE = /^(gram|preact)-(.+)-(\d{8,})\.npy$|^entk-(\d{8,})\.npy$/;
/** Names a trainer may write into a run directory through TrainHooks.onArtifact. */
export const isArtifactName = (name: string) => !name.includes('/') && !name.includes('\\') && (name === TARGETS_FILE || name === PROBE_TARGETS_FILE || PROBE_ARTIFACT_RE.test(name));

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
