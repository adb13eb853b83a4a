/**
 * @file What `widthscope sweep <spec>` and `widthscope report <dir>` do, as functions (the CLI in
 * src/cli/main.ts parses flags and calls these). Neither calls process.exit: the caller sets the
 * exit code from the returned value.
 */
import { resolve as resolvePath } from 'node:path';
import { createFakeTrainer, fakeTrainerOptionsFromEnv } from './fake-trainer.js';
import { report, type ReportOutput } from './report/report.js';
import { runSweep, type SweepSummary } from './runner.js';
import { missingShardLines, writeShardPlan } from './scale-out/shard-plan.js';
import { parseShard, shardFromEnv, type Shard } from './shard.js';
import { loadSpec } from './spec/load.js';
import { resolveSweep } from './spec/resolve.js';
import type { Trainer } from './trainer.js';

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
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface SweepCommandResult {
  resultsDir: string;
  summary?: SweepSummary;
  report?: ReportOutput;
  /** 0 ok, 1 some run failed, 130 interrupted. */
  exitCode: number;
}

export async function runSweepCommand(specPath: string, opts: SweepCommandOptions = {}): Promise<SweepCommandResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const spec = loadSpec(specPath); // throws SpecError before anything trains
  const sweep = resolveSweep(spec);
  const resultsDir = resolvePath(opts.results ?? `results/${spec.name}`);
  const shard: Shard | undefined = opts.shard !== undefined ? parseShard(opts.shard) : shardFromEnv(opts.env ?? process.env, spec.shards);
  log(`sweep ${spec.name}: ${sweep.runs.length} runs in ${sweep.groups.length} jobs -> ${resultsDir}`);
  if (opts.dryRun) {
    for (const g of sweep.groups) log(`  job ${g.id}: ${g.runs.map((r) => r.id).join(' ')}`);
    return { resultsDir, exitCode: 0 };
  }
  const trainer = opts.trainer ?? (opts.fake ? createFakeTrainer(fakeTrainerOptionsFromEnv(opts.env ?? process.env)) : undefined);
  if (!trainer) throw new Error('runSweepCommand: no trainer given (the model layer provides one; pass fake: true for the stand-in)');
  const summary = await runSweep(sweep, { resultsDir, trainer, shard, progress: opts.progress, log });
  writeShardPlan(resultsDir, sweep, shard, trainer);
  const c = summary.counts;
  log(`sweep ${spec.name}: ${c.ok} ok, ${c.diverged} diverged, ${c.skipped} already done, ${c.failed} failed, ${c.interrupted} interrupted`);
  for (const e of summary.errors) log(`  failed: ${e}`);
  let rep: ReportOutput | undefined;
  if (!summary.interrupted && (opts.report ?? false)) rep = await reportCommand(resultsDir, { log });
  return { resultsDir, summary, report: rep, exitCode: summary.interrupted ? 130 : c.failed > 0 ? 1 : 0 };
}

export async function reportCommand(dir: string, opts: { log?: (line: string) => void } = {}): Promise<ReportOutput> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const out = await report(resolvePath(dir));
  log(`report: ${out.html} (${out.figures.length} figures; numbers in ${resolvePath(dir, 'analysis')})`);
  if (out.analysis.unfinished.length > 0) log(`report: ${out.analysis.unfinished.length} unfinished run(s) left out`);
  for (const line of missingShardLines(resolvePath(dir), out.analysis.unfinished)) log(line);
  return out;
}
