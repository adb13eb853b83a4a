/**
 * @file The sweep runner: trains a sweep's jobs one after another through an injected Trainer
 * and owns everything around training: run directories, resumption, locks, Ctrl-C, divergence,
 * sharding and progress.
 *
 * Crash safety: a run trains into its own staging directory (`partial/<runId>.<token>/`) and,
 * once its files pass `verifyRun`, that directory is renamed to `<runId>/`: a run directory is
 * written once and is complete. A process holds the run's lock (lock.ts) from before it looks at
 * the run until the rename, so concurrent sweeps on one directory share the work and train each
 * run once. A run directory that fails `verifyRun` (a corrupt or missing file) is removed and the
 * run trained again; the log says why. A staging directory left by a killed process is removed
 * by whoever takes the run's stale lock over.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendJsonLine, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { encodeNpy } from './npy.js';
import { CONFIG_FILE, DONE_FILE, LOCKS_DIR, METRICS_FILE, PARTIAL_DIR, PROBES_FILE, SWEEP_FILE, isArtifactName, lockFile, predictionFile, runDir, stagingDir, type DoneRecord } from './layout.js';
import { removeDeadTemporaries, tryLock, type HeldLock } from './lock.js';
import { createProgress, type Progress } from './progress.js';
import { jobCost, selectShard, type Shard } from './shard.js';
import { runLabel, type ResolvedRun, type ResolvedSweep } from './spec/resolve.js';
import { claimResultsDir, sweepFileContent } from './sweep-file.js';
import type { MetricRecord, TrainHooks, Trainer } from './trainer.js';
import { npyShape, verifyRun } from './verify.js';

/** A run lock whose heartbeat is older than this (seconds) is taken for dead, by default. */
export const DEFAULT_LOCK_STALE_SECONDS = 600;

export interface RunSweepOptions {
  resultsDir: string;
  trainer: Trainer;
  shard?: Shard;
  /** Progress bars on a TTY (default true; always off when stderr is not a TTY). */
  progress?: boolean;
  log?: (line: string) => void;
  /** Install SIGINT/SIGTERM handlers that stop after the current step (default true). */
  handleSignals?: boolean;
  /** Stops the sweep like Ctrl-C does (for embedding and tests). */
  signal?: AbortSignal;
  /** Make this spec the results directory's spec although it holds another's (sweep-file.ts). */
  force?: boolean;
  /** A run lock whose heartbeat is older than this many seconds is taken for dead (default 600). */
  lockStaleSeconds?: number;
  /**
   * After its own work, how long to wait for runs that other processes are training (default:
   * no limit; the wait still ends when their owners die, as their locks go stale and this
   * process takes the runs over). Runs still locked then have status 'locked'.
   */
  waitForOthersSeconds?: number;
  /** Milliseconds between looks at runs other processes are training (default 500). */
  pollMs?: number;
}

export type RunStatus = 'ok' | 'diverged' | 'skipped' | 'failed' | 'interrupted' | 'locked';

export interface SweepSummary {
  total: number;
  /** Runs of this shard. */
  selected: number;
  statuses: Record<string, RunStatus>;
  counts: Record<RunStatus, number>;
  interrupted: boolean;
  errors: string[];
  /** Runs another process was still training when this one stopped waiting: id → who holds the lock. */
  lockedElsewhere: Record<string, string>;
  /** Runs whose directory was corrupt or incomplete and was trained again: id → what was wrong. */
  redone: Record<string, string[]>;
}

function fsyncPath(path: string): void {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

function nonFinite(record: MetricRecord): string | undefined {
  for (const [k, v] of Object.entries(record)) if (typeof v === 'number' && !Number.isFinite(v)) return k;
  return undefined;
}

/** Writes `sweep.json` unconditionally (`runSweep` uses `claimResultsDir`, which refuses another spec's directory). */
export function writeSweepFile(results: string, sweep: ResolvedSweep): void {
  mkdirSync(results, { recursive: true });
  writeJsonAtomic(join(results, SWEEP_FILE), sweepFileContent(sweep));
}

/** Removes staging directories of run `id` (those of processes whose lock on it is gone). */
function removeLeftovers(results: string, id: string): void {
  const dir = join(results, PARTIAL_DIR);
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (f.startsWith(`${id}.`)) rmSync(join(dir, f), { recursive: true, force: true });
}

class MemberState {
  evals = new Set<number>();
  preds = new Set<number>();
  diverged?: { step: number; reason: string };
  last?: MetricRecord;
  constructor(readonly run: ResolvedRun, readonly dir: string) {}
}

export async function runSweep(sweep: ResolvedSweep, opts: RunSweepOptions): Promise<SweepSummary> {
  const results = opts.resultsDir;
  const jobs = selectShard(sweep.groups, opts.shard, jobCost(opts.trainer));
  const claimed = claimResultsDir(results, sweep, { force: opts.force });
  for (const d of [results, join(results, LOCKS_DIR)]) removeDeadTemporaries(d);

  const statuses: Record<string, RunStatus> = {};
  const errors: string[] = [];
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const progress: Progress = createProgress(jobs.length, { enabled: opts.progress, log });
  if (claimed) progress.log(claimed);
  if (opts.shard) progress.log(`shard ${opts.shard.index}/${opts.shard.count} (from ${opts.shard.source}): ${jobs.length} of ${sweep.groups.length} jobs`);

  const staleAfter = opts.lockStaleSeconds ?? DEFAULT_LOCK_STALE_SECONDS;
  const waitMs = (opts.waitForOthersSeconds ?? Infinity) * 1000;
  const held = new Map<string, HeldLock>();
  const staging = new Set<string>();
  const lockedElsewhere = new Map<string, string>();
  const redone: Record<string, string[]> = {};
  const heartbeat = setInterval(() => { for (const l of held.values()) l.heartbeat(); }, Math.max(50, Math.min(30, staleAfter / 10) * 1000));
  heartbeat.unref();
  const release = (id: string) => { held.get(id)?.release(); held.delete(id); };
  const discard = (id: string, dir: string) => { rmSync(dir, { recursive: true, force: true }); staging.delete(dir); release(id); };
  // Also on process.exit (a second Ctrl-C): leave no lock of a live-looking pid behind.
  const releaseAll = () => {
    for (const d of staging) rmSync(d, { recursive: true, force: true });
    staging.clear();
    for (const id of [...held.keys()]) release(id);
  };
  process.on('exit', releaseAll);

  /** The runs of `runs` this process trains now: not finished, and locked by it (a corrupt directory is removed). */
  const claim = (runs: readonly ResolvedRun[]): ResolvedRun[] => {
    const mine: ResolvedRun[] = [];
    const partial = existsSync(join(results, PARTIAL_DIR)) ? readdirSync(join(results, PARTIAL_DIR)) : [];
    for (const run of runs) {
      const dir = runDir(results, run.id);
      if (verifyRun(dir, run.id, run.config).state === 'finished') {
        statuses[run.id] ??= 'skipped';
        lockedElsewhere.delete(run.id);
        // A process killed between publishing the run and releasing its lock leaves the lock
        // (and a zombie its staging directory): clear them when their owner is gone.
        if (existsSync(lockFile(results, run.id)) || partial.some((f) => f.startsWith(`${run.id}.`))) {
          const got = tryLock(lockFile(results, run.id), staleAfter);
          if (got.lock) { removeLeftovers(results, run.id); got.lock.release(); }
        }
        continue;
      }
      const got = tryLock(lockFile(results, run.id), staleAfter);
      if (!got.lock) { lockedElsewhere.set(run.id, got.holder); continue; }
      lockedElsewhere.delete(run.id);
      held.set(run.id, got.lock);
      if (got.tookOver) progress.log(`${runLabel(run.config)} (${run.id}): took over the lock of ${got.tookOver.holder}: ${got.tookOver.reason}`);
      const check = verifyRun(dir, run.id, run.config); // again, under the lock: another process may have finished it
      if (check.state === 'finished') { statuses[run.id] ??= 'skipped'; release(run.id); continue; }
      if (check.state === 'bad') {
        redone[run.id] = check.problems;
        progress.log(`${runLabel(run.config)} (${run.id}): training it again, its directory ${dir} is not a finished run: ${check.problems.join('; ')}`);
        rmSync(dir, { recursive: true, force: true });
      }
      removeLeftovers(results, run.id);
      mine.push(run);
    }
    return mine;
  };

  /** Moves a finished run's staging directory to its run directory; a reason when it cannot. */
  const publish = (run: ResolvedRun, dir: string): string | undefined => {
    const check = verifyRun(dir, run.id, run.config);
    if (check.state !== 'finished') return `its files fail the check: ${check.state === 'bad' ? check.problems.join('; ') : 'none written'}`;
    if (!held.get(run.id)?.held()) return `another process took its lock over (this one's heartbeat stopped for more than ${staleAfter} s); these results are discarded`;
    const final = runDir(results, run.id);
    if (existsSync(final)) return `${final} appeared while this process held the run's lock; it is left as it is and these results are discarded`;
    renameSync(dir, final);
    fsyncPath(results);
    staging.delete(dir);
    release(run.id);
    return undefined;
  };

  let stopRequested = false;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // Every run directory is renamed into place complete, so leaving now corrupts nothing.
      process.exit(130);
    }
    stopRequested = true;
    progress.log(`${sig}: stopping after the current step (again to quit at once)`);
  };
  const handle = opts.handleSignals ?? true;
  if (handle) { process.on('SIGINT', onSignal); process.on('SIGTERM', onSignal); }
  const onAbort = () => { stopRequested = true; };
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) stopRequested = true;

  // Jobs whose runs other processes are training go round again, after a pause, once this
  // process has nothing else to do.
  const queue = jobs.map((group) => ({ group, round: 0 }));
  let waited = 0;
  let waitStart = 0;
  try {
    for (const { group, round } of queue) {
      if (stopRequested) break;
      if (round > waited) {
        if (round === 1) {
          waitStart = Date.now();
          progress.log(`waiting for ${lockedElsewhere.size} run(s) that other processes are training: ${[...lockedElsewhere].map(([id, h]) => `${id} (${h})`).join(', ')}`);
        }
        if (Date.now() - waitStart >= waitMs) break;
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
        waited = round;
        if (stopRequested) break;
      }
      const label = runLabel(group.runs[0].config, false) + (group.runs.length > 1 ? ` ×${group.runs.length} seeds` : ` s=${group.runs[0].config.seed}`);
      const pending = claim(group.runs);
      const elsewhere = group.runs.filter((r) => lockedElsewhere.has(r.id));
      if (elsewhere.length > 0) queue.push({ group: { ...group, runs: elsewhere }, round: round + 1 });
      if (pending.length === 0) {
        if (elsewhere.length === 0) progress.endJob(label, round === 0 ? 'already done' : 'done by another process');
        continue;
      }

      // Each member trains into its own staging directory, renamed into place when finished.
      const members = pending.map((run) => {
        const dir = stagingDir(results, run.id, held.get(run.id)!.info.token);
        mkdirSync(dir, { recursive: true });
        staging.add(dir);
        writeJsonAtomic(join(dir, CONFIG_FILE), { id: run.id, configId: run.configId, seriesId: run.seriesId, label: runLabel(run.config), config: run.config });
        return new MemberState(run, dir);
      });
      const t0 = performance.now();
      /** Writes done.json and publishes the run; false (the run failed) when it cannot. */
      const finish = (m: MemberState, rec: Omit<DoneRecord, 'evaluations' | 'wallSeconds' | 'finishedAt' | 'final'>): boolean => {
        const metricsPath = join(m.dir, METRICS_FILE);
        fsyncPath(metricsPath);
        const final = m.last ? Object.fromEntries(Object.entries(m.last).map(([k, v]) => [k, typeof v === 'number' && Number.isFinite(v) ? v : null])) : undefined;
        const firstPrediction = [...m.preds].sort((a, b) => a - b)[0];
        const predictionShape = firstPrediction === undefined ? undefined : npyShape(join(m.dir, predictionFile(firstPrediction)));
        const done: DoneRecord = { ...rec, evaluations: m.evals.size, final: final as DoneRecord['final'], predictionShape, wallSeconds: (performance.now() - t0) / 1000, finishedAt: new Date().toISOString() };
        writeJsonAtomic(join(m.dir, DONE_FILE), done);
        const problem = publish(m.run, m.dir);
        if (problem === undefined) return true;
        statuses[m.run.id] = 'failed';
        errors.push(`${m.run.id} (${runLabel(m.run.config)}): ${problem}`);
        progress.log(`${runLabel(m.run.config)}: FAILED: ${problem}`);
        discard(m.run.id, m.dir);
        return false;
      };
      const member = (i: number | undefined) => {
        const m = members[i ?? 0];
        if (!m) throw new Error(`trainer reported member ${i}, but the job has ${members.length}`);
        return m;
      };
      const diverge = (m: MemberState, step: number, reason: string) => {
        if (m.diverged) return;
        m.diverged = { step, reason };
        if (!finish(m, { status: 'diverged', step, reason })) return;
        statuses[m.run.id] = 'diverged';
        progress.log(`${runLabel(m.run.config)}: diverged at step ${step} (${reason}); the sweep goes on`);
      };

      const hooks: TrainHooks = {
        onMetrics(step, record, i) {
          const m = member(i);
          if (stopRequested || m.diverged) return;
          appendJsonLine(join(m.dir, METRICS_FILE), { step, ...record });
          m.evals.add(step);
          m.last = record;
          const bad = nonFinite(record);
          if (bad) diverge(m, step, `${bad} is ${record[bad]}`);
          else if ((i ?? 0) === 0 && record.trainLoss !== undefined) progress.step(step, record.trainLoss);
        },
        onPredictions(step, data, shape, i) {
          const m = member(i);
          if (stopRequested || m.diverged) return;
          writeFileAtomic(join(m.dir, predictionFile(step)), encodeNpy(data, shape));
          m.preds.add(step);
        },
        onArtifact(step, name, data, shape, i) {
          const m = member(i);
          if (!isArtifactName(name)) throw new Error(`onArtifact: '${name}' (step ${step}) is not a run file a trainer may write (expected targets.npy, probe-targets.npy or a gram-, preact- or entk- file of layout.ts)`);
          if (stopRequested || m.diverged) return;
          writeFileAtomic(join(m.dir, name), encodeNpy(data, shape));
        },
        onProbe(step, record, i) {
          const m = member(i);
          if (stopRequested || m.diverged) return;
          appendJsonLine(join(m.dir, PROBES_FILE), { step, ...record });
        },
        onStep(step, loss, i) {
          const m = member(i);
          if (m.diverged) return;
          if (!Number.isFinite(loss)) diverge(m, step, `training loss is ${loss}`);
          else if ((i ?? 0) === 0) progress.step(step, loss);
        },
        onDiverged(step, reason, i) {
          diverge(member(i), step, reason);
        },
        shouldStop: () => stopRequested || members.every((m) => m.diverged !== undefined),
        isDiverged: (i) => member(i).diverged !== undefined,
      };

      progress.startJob(label, group.runs[0].config.steps);
      let error: unknown;
      try {
        await opts.trainer.trainRun({ members: pending, config: pending[0].config, evalSteps: pending[0].config.evalSteps, anomaly: sweep.spec.anomaly }, hooks);
      } catch (e) {
        error = e;
      }
      const evalSteps = pending[0].config.evalSteps;
      for (const m of members) {
        if (m.diverged) continue;
        if (stopRequested) { statuses[m.run.id] = 'interrupted'; discard(m.run.id, m.dir); continue; }
        const missing = evalSteps.find((t) => !m.evals.has(t) || !m.preds.has(t));
        if (error !== undefined || missing !== undefined) {
          const why = error !== undefined ? `trainer threw: ${(error as Error)?.stack ?? error}` : `trainer returned without metrics and predictions for step ${missing}`;
          statuses[m.run.id] = 'failed';
          errors.push(`${m.run.id} (${runLabel(m.run.config)}): ${why}`);
          progress.log(`${runLabel(m.run.config)}: FAILED: ${why.split('\n')[0]}`);
          discard(m.run.id, m.dir); // nothing published: the next invocation retries it
          continue;
        }
        if (finish(m, { status: 'ok' })) statuses[m.run.id] = 'ok';
      }
      const status = stopRequested ? 'interrupted' : members.map((m) => statuses[m.run.id]).join(',');
      if (elsewhere.length === 0) progress.endJob(label, status);
      else progress.log(`${label}: ${status}; ${elsewhere.length} more seed(s) are being trained by other processes`);
    }
  } finally {
    clearInterval(heartbeat);
    releaseAll();
    process.off('exit', releaseAll);
    progress.stop();
    if (handle) { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); }
    opts.signal?.removeEventListener('abort', onAbort);
  }

  const selected = jobs.reduce((a, g) => a + g.runs.length, 0);
  for (const id of lockedElsewhere.keys()) statuses[id] = 'locked';
  if (lockedElsewhere.size > 0) log(`${lockedElsewhere.size} run(s) are still being trained by other processes: ${[...lockedElsewhere].map(([id, h]) => `${id} (${h})`).join(', ')}`);
  for (const g of jobs) for (const r of g.runs) statuses[r.id] ??= 'interrupted';
  const counts: Record<RunStatus, number> = { ok: 0, diverged: 0, skipped: 0, failed: 0, interrupted: 0, locked: 0 };
  for (const s of Object.values(statuses)) counts[s]++;
  return { total: sweep.runs.length, selected, statuses, counts, interrupted: stopRequested, errors, lockedElsewhere: Object.fromEntries(lockedElsewhere), redone };
}
