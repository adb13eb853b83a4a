/**
 * @file What `widthscope sweep <spec>` and `widthscope report <dir>` do, as functions (the CLI in
 * src/cli/main.ts parses flags and calls these). Neither calls process.exit: the caller sets the
 * exit code from the returned value (or from the thrown ReportIncompleteError).
 */
import { resolve as resolvePath } from 'node:path';
import { createFakeTrainer, fakeTrainerOptionsFromEnv } from './fake-trainer.js';
import { lockFile } from './layout.js';
import { inspectLock } from './lock.js';
import { report, type ReportOutput } from './report/report.js';
import { DEFAULT_LOCK_STALE_SECONDS, runSweep, type SweepSummary } from './runner.js';
import { missingShardLines, writeShardPlan } from './scale-out/shard-plan.js';
import { parseShard, shardFromEnv, type Shard } from './shard.js';
import { loadSpec } from './spec/load.js';
import { resolveSweep } from './spec/resolve.js';
import type { Trainer } from './trainer.js';

/** Exit codes of `widthscope sweep` (and `report`). */
export const EXIT = { ok: 0, failed: 1, lockedElsewhere: 75, interrupted: 130 } as const;

export interface SweepCommandOptions {
  /** Results directory (default `results/<spec name>`). */
  results?: string;
  /** `i/n`, 0-based; overrides SLURM_ARRAY_TASK_ID/COUNT and JOB_COMPLETION_INDEX. */
  shard?: string;
  /** The model layer's trainer; required unless `fake`. */
  trainer?: Trainer;
  /** Use the deterministic fake trainer (tests, demos of the pipeline without models). */
  fake?: boolean;
  /** Progress bars (default true; off when stderr is not a TTY). */
  progress?: boolean;
  /** Write the report when the sweep (or this shard) finishes without interruption. */
  report?: boolean;
  /** Only validate the spec and print the resolved runs. */
  dryRun?: boolean;
  /**
   * The results directory holds another spec's results: make it this spec's directory anyway
   * (sweep.json replaced; run directories kept, runs of both specs shared; see sweep-file.ts).
   */
  force?: boolean;
  /** Seconds after which a run lock's heartbeat is stale (default env WIDTHSCOPE_LOCK_STALE_S, else 600). */
  lockStaleSeconds?: number;
  /** Seconds to wait at the end for runs other processes are training (default: until they finish or die). */
  waitForOthersSeconds?: number;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface SweepCommandResult {
  resultsDir: string;
  summary?: SweepSummary;
  report?: ReportOutput;
  /** 0 ok; 1 some run failed (or the report left runs out); 75 runs still trained by other processes; 130 interrupted. */
  exitCode: number;
}

function lockStaleFromEnv(env: NodeJS.ProcessEnv): number {
  const v = env.WIDTHSCOPE_LOCK_STALE_S;
  if (v === undefined || v === '') return DEFAULT_LOCK_STALE_SECONDS;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`WIDTHSCOPE_LOCK_STALE_S: expected a number of seconds > 0, got ${JSON.stringify(v)}`);
  return n;
}

export async function runSweepCommand(specPath: string, opts: SweepCommandOptions = {}): Promise<SweepCommandResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const env = opts.env ?? process.env;
  const spec = loadSpec(specPath); // throws SpecError before anything trains
  const sweep = resolveSweep(spec);
  const resultsDir = resolvePath(opts.results ?? `results/${spec.name}`);
  const shard: Shard | undefined = opts.shard !== undefined ? parseShard(opts.shard) : shardFromEnv(env, spec.shards);
  log(`sweep ${spec.name}: ${sweep.runs.length} runs in ${sweep.groups.length} jobs -> ${resultsDir}`);
  if (opts.dryRun) {
    for (const g of sweep.groups) log(`  job ${g.id}: ${g.runs.map((r) => r.id).join(' ')}`);
    return { resultsDir, exitCode: EXIT.ok };
  }
  const trainer = opts.trainer ?? (opts.fake ? createFakeTrainer(fakeTrainerOptionsFromEnv(opts.env ?? process.env)) : undefined);
  if (!trainer) throw new Error('runSweepCommand: no trainer given (the model layer provides one; pass fake: true for the stand-in)');
  const summary = await runSweep(sweep, {
    resultsDir, trainer, shard, progress: opts.progress, log, force: opts.force,
    lockStaleSeconds: opts.lockStaleSeconds ?? lockStaleFromEnv(env), waitForOthersSeconds: opts.waitForOthersSeconds,
  });
  writeShardPlan(resultsDir, sweep, shard, trainer);
  const c = summary.counts;
  const redone = Object.keys(summary.redone).length;
  log(`sweep ${spec.name}: ${c.ok} ok, ${c.diverged} diverged, ${c.skipped} already done, ${c.failed} failed, ${c.interrupted} interrupted` +
    (c.locked ? `, ${c.locked} still being trained by other processes` : '') + (redone ? ` (${redone} trained again: their files were corrupt or missing)` : ''));
  for (const e of summary.errors) log(`  failed: ${e}`);
  for (const [id, holder] of Object.entries(summary.lockedElsewhere)) log(`  not done yet: ${id} is being trained by ${holder}`);
  let exitCode: number = summary.interrupted ? EXIT.interrupted : c.failed > 0 ? EXIT.failed : c.locked > 0 ? EXIT.lockedElsewhere : EXIT.ok;
  let rep: ReportOutput | undefined;
  if (!summary.interrupted && (opts.report ?? false)) {
    try {
      rep = await reportCommand(resultsDir, { log });
    } catch (e) {
      if (!(e instanceof ReportIncompleteError)) throw e;
      rep = e.output;
      if (exitCode === EXIT.ok) exitCode = EXIT.failed;
    }
  }
  return { resultsDir, summary, report: rep, exitCode };
}

/** Thrown by `reportCommand` after writing the report when it left runs out for corrupt or missing files. */
export class ReportIncompleteError extends Error {
  readonly exitCode = EXIT.failed;
  constructor(readonly output: ReportOutput) {
    const s = output.analysis.skipped;
    super(`report: ${s.length} run(s) left out of ${output.html} because of corrupt or missing files:\n` +
      s.map((r) => `  ${r.dir}: ${r.problems.join('; ')}`).join('\n') +
      '\n(the report covers the rest; running the sweep again on the same spec trains these runs again)');
    this.name = 'ReportIncompleteError';
  }
}

/** Writes the report; throws ReportIncompleteError (after writing it) when runs were left out for bad files. */
export async function reportCommand(dir: string, opts: { log?: (line: string) => void } = {}): Promise<ReportOutput> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const out = await report(resolvePath(dir));
  log(`report: ${out.html} (${out.figures.length} figures; numbers in ${resolvePath(dir, 'analysis')})`);
  const unfinished = out.analysis.unfinished;
  if (unfinished.length > 0) log(`report: ${unfinished.length} unfinished run(s) left out (no run directory yet)`);
  for (const id of unfinished.slice(0, 20)) {
    const lock = inspectLock(lockFile(resolvePath(dir), id), DEFAULT_LOCK_STALE_SECONDS);
    log(`report: not finished: ${id}${lock ? `, ${lock}` : ''}`);
  }
  for (const s of out.analysis.skipped) log(`report: skipped ${s.dir}: ${s.problems.join('; ')}`);
  for (const line of missingShardLines(resolvePath(dir), unfinished)) log(line);
  if (out.analysis.skipped.length > 0) throw new ReportIncompleteError(out);
  return out;
}
