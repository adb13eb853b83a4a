/**
 * @file The sweep runner: trains a sweep's jobs one after another through an injected Trainer
 * and owns everything around training: run directories, resumption, Ctrl-C, divergence,
 * sharding and progress.
 *
 * Crash safety: each run directory holds files that are complete or absent (atomic writes) plus
 * an append-only metrics log, and `done.json` is written last. A directory without `done.json`
 * is unfinished: the next invocation deletes it and trains the run again from scratch.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appendJsonLine, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { encodeNpy } from './npy.js';
import { CONFIG_FILE, DONE_FILE, METRICS_FILE, SWEEP_FILE, predictionFile, runDir, type DoneRecord } from './layout.js';
import { createProgress, type Progress } from './progress.js';
import { jobCost, selectShard, type Shard } from './shard.js';
import { runLabel, type ResolvedRun, type ResolvedSweep } from './spec/resolve.js';
import type { MetricRecord, TrainHooks, Trainer } from './trainer.js';

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
}

export type RunStatus = 'ok' | 'diverged' | 'skipped' | 'failed' | 'interrupted';

export interface SweepSummary {
  total: number;
  /** Runs of this shard. */
  selected: number;
  statuses: Record<string, RunStatus>;
  counts: Record<RunStatus, number>;
  interrupted: boolean;
  errors: string[];
}

const isDone = (results: string, id: string) => existsSync(join(runDir(results, id), DONE_FILE));

function fsyncFile(path: string): void {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

function nonFinite(record: MetricRecord): string | undefined {
  for (const [k, v] of Object.entries(record)) if (typeof v === 'number' && !Number.isFinite(v)) return k;
  return undefined;
}

/** Writes `sweep.json`: the spec and the resolved run list (identical from every shard). */
export function writeSweepFile(results: string, sweep: ResolvedSweep): void {
  mkdirSync(results, { recursive: true });
  writeJsonAtomic(join(results, SWEEP_FILE), {
    name: sweep.spec.name,
    spec: sweep.spec,
    runs: sweep.runs.map((r) => ({ id: r.id, configId: r.configId, seriesId: r.seriesId, label: runLabel(r.config) })),
  });
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
  writeSweepFile(results, sweep);

  const statuses: Record<string, RunStatus> = {};
  const errors: string[] = [];
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const progress: Progress = createProgress(jobs.length, { enabled: opts.progress, log });
  if (opts.shard) progress.log(`shard ${opts.shard.index}/${opts.shard.count} (from ${opts.shard.source}): ${jobs.length} of ${sweep.groups.length} jobs`);

  let stopRequested = false;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // Every file is atomic or append-only behind done.json, so leaving now corrupts nothing.
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

  try {
    for (const group of jobs) {
      if (stopRequested) break;
      const pending = group.runs.filter((r) => {
        if (isDone(results, r.id)) { statuses[r.id] = 'skipped'; return false; }
        return true;
      });
      const label = runLabel(group.runs[0].config, false) + (group.runs.length > 1 ? ` ×${group.runs.length} seeds` : ` s=${group.runs[0].config.seed}`);
      if (pending.length === 0) { progress.endJob(label, 'already done'); continue; }

      // Unfinished (or never started): start from a clean directory.
      const members = pending.map((run) => {
        const dir = runDir(results, run.id);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        writeJsonAtomic(join(dir, CONFIG_FILE), { id: run.id, configId: run.configId, seriesId: run.seriesId, label: runLabel(run.config), config: run.config });
        return new MemberState(run, dir);
      });
      const t0 = performance.now();
      const finish = (m: MemberState, rec: Omit<DoneRecord, 'evaluations' | 'wallSeconds' | 'finishedAt' | 'final'>) => {
        const metricsPath = join(m.dir, METRICS_FILE);
        fsyncFile(metricsPath);
        const final = m.last ? Object.fromEntries(Object.entries(m.last).map(([k, v]) => [k, typeof v === 'number' && Number.isFinite(v) ? v : null])) : undefined;
        const done: DoneRecord = { ...rec, evaluations: m.evals.size, final: final as DoneRecord['final'], wallSeconds: (performance.now() - t0) / 1000, finishedAt: new Date().toISOString() };
        writeJsonAtomic(join(m.dir, DONE_FILE), done);
      };
      const member = (i: number | undefined) => {
        const m = members[i ?? 0];
        if (!m) throw new Error(`trainer reported member ${i}, but the job has ${members.length}`);
        return m;
      };
      const diverge = (m: MemberState, step: number, reason: string) => {
        if (m.diverged) return;
        m.diverged = { step, reason };
        finish(m, { status: 'diverged', step, reason });
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
        if (stopRequested) { statuses[m.run.id] = 'interrupted'; continue; }
        const missing = evalSteps.find((t) => !m.evals.has(t) || !m.preds.has(t));
        if (error !== undefined || missing !== undefined) {
          const why = error !== undefined ? `trainer threw: ${(error as Error)?.stack ?? error}` : `trainer returned without metrics and predictions for step ${missing}`;
          statuses[m.run.id] = 'failed';
          errors.push(`${m.run.id} (${runLabel(m.run.config)}): ${why}`);
          progress.log(`${runLabel(m.run.config)}: FAILED: ${why.split('\n')[0]}`);
          continue; // no done.json: the next invocation retries it
        }
        finish(m, { status: 'ok' });
        statuses[m.run.id] = 'ok';
      }
      progress.endJob(label, stopRequested ? 'interrupted' : members.map((m) => statuses[m.run.id]).join(','));
    }
  } finally {
    progress.stop();
    if (handle) { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); }
    opts.signal?.removeEventListener('abort', onAbort);
  }

  const selected = jobs.reduce((a, g) => a + g.runs.length, 0);
  for (const g of jobs) for (const r of g.runs) statuses[r.id] ??= 'interrupted';
  const counts: Record<RunStatus, number> = { ok: 0, diverged: 0, skipped: 0, failed: 0, interrupted: 0 };
  for (const s of Object.values(statuses)) counts[s]++;
  return { total: sweep.runs.length, selected, statuses, counts, interrupted: stopRequested, errors };
}
