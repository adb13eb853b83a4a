/**
 * @file `widthscope slurm <spec>`: a Slurm job array with one task per shard and a final report
 * job that starts only when every task succeeded (`--dependency=afterok`).
 *
 * Three files go to the output directory (default <results>/slurm):
 * - sweep.sbatch: the array; task i runs `sweep --shard i/n` into the shared results directory;
 * - report.sbatch: `report <results>`;
 * - submit.sh: submits the array, then the report job with afterok on it, and prints both ids.
 * A re-submitted array resumes: finished runs are skipped, unfinished ones start over.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shardSweepArgs, shellQuote } from './common.js';

export interface SlurmScriptOptions {
  specPath: string;
  specName: string;
  shards: number;
  /** Absolute; every node must see it (a shared file system). */
  results: string;
  /** Where the scripts and logs/ go (absolute). */
  outDir: string;
  /** Shell words that run widthscope on a node. */
  command: string;
  fake?: boolean;
  partition?: string;
  account?: string;
  /** Slurm time limit per task (minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]]). */
  time?: string;
  cpusPerTask?: number;
  /** Memory per task, e.g. 4G. */
  mem?: string;
  gpusPerTask?: number;
  /** At most this many tasks at once (`--array=0-7%2`). */
  maxParallel?: number;
  /** Further `#SBATCH` options for both jobs, e.g. `--qos=low`. */
  sbatch?: string[];
}

export interface SlurmScripts {
  sweep: string;
  report: string;
  submit: string;
}

const TIME_RE = /^(\d+-\d{1,2}(:\d{1,2}){0,2}|\d+(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/i;
const MEM_RE = /^\d+[KMGT]?$/i;
const NAME_RE = /^[A-Za-z0-9_.-]+$/;

/** Throws naming the option, the value and what was expected. */
export function checkSlurmOptions(o: SlurmScriptOptions): void {
  const bad = (option: string, value: unknown, expected: string) => {
    throw new Error(`slurm: ${option}: expected ${expected}, got ${JSON.stringify(value)}`);
  };
  if (!Number.isInteger(o.shards) || o.shards < 1) bad('--shards', o.shards, 'a positive integer');
  if (o.time !== undefined && !TIME_RE.test(o.time)) bad('--time', o.time, 'minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]]');
  if (o.mem !== undefined && !MEM_RE.test(o.mem)) bad('--mem', o.mem, 'a size such as 4096, 4G or 500M');
  for (const [opt, v] of [['--cpus-per-task', o.cpusPerTask], ['--gpus-per-task', o.gpusPerTask], ['--max-parallel', o.maxParallel]] as const)
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) bad(opt, v, 'a positive integer');
  for (const [opt, v] of [['--partition', o.partition], ['--account', o.account]] as const)
    if (v !== undefined && !NAME_RE.test(v)) bad(opt, v, 'a Slurm name (letters, digits, _ . -)');
  for (const line of o.sbatch ?? []) if (!/^--?[A-Za-z]/.test(line) || /\n/.test(line)) bad('--sbatch', line, 'one sbatch option such as --qos=low');
  if (o.command.trim() === '') bad('--command', o.command, 'the shell words that run widthscope on a node');
  if (/[\s"'\\]/.test(o.outDir)) bad('--out', o.outDir, 'a directory without blanks, quotes or backslashes (the logs path goes into #SBATCH lines); the default is <results>/slurm');
}

/** `#SBATCH` lines for the resources of one task (both jobs). */
function resourceLines(o: SlurmScriptOptions, forReport: boolean): string[] {
  const l = ['--ntasks=1', `--cpus-per-task=${o.cpusPerTask ?? 1}`];
  if (o.partition) l.push(`--partition=${o.partition}`);
  if (o.account) l.push(`--account=${o.account}`);
  if (o.time) l.push(`--time=${o.time}`);
  if (o.mem) l.push(`--mem=${o.mem}`);
  if (o.gpusPerTask && !forReport) l.push(`--gpus-per-task=${o.gpusPerTask}`);
  l.push(...(o.sbatch ?? []));
  return l.map((x) => `#SBATCH ${x}`);
}

const jobName = (specName: string) => `widthscope-${specName.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

export function slurmScripts(o: SlurmScriptOptions): SlurmScripts {
  checkSlurmOptions(o);
  const logs = join(o.outDir, 'logs');
  const array = `0-${o.shards - 1}${o.maxParallel ? `%${o.maxParallel}` : ''}`;
  const sweepArgs = shardSweepArgs(o.specPath, o.results, o.fake ?? false).map(shellQuote).join(' ');
  const sweep = [
    '#!/bin/bash',
    `# widthscope sweep "${o.specName}" as a Slurm job array: task i trains shard i of ${o.shards}`,
    `# into ${o.results} (a path every node must see). Submit with submit.sh next to this file.`,
    `#SBATCH --job-name=${jobName(o.specName)}`,
    `#SBATCH --array=${array}`,
    ...resourceLines(o, false),
    `#SBATCH --output=${logs}/sweep-%A_%a.out`,
    '#SBATCH --open-mode=append',
    'set -euo pipefail',
    '# The shard is explicit, so re-submitting some tasks (sbatch --array=2,3 sweep.sbatch) trains',
    '# the same shares. Finished runs are skipped; a run a cancelled task left unfinished starts over.',
    `exec ${o.command} ${sweepArgs} --shard "\${SLURM_ARRAY_TASK_ID}/${o.shards}"`,
    '',
  ].join('\n');
  const report = [
    '#!/bin/bash',
    `# The report of widthscope sweep "${o.specName}" (figures and page in ${o.results}/report).`,
    '# submit.sh submits it with --dependency=afterok:<array job>: it starts once every task succeeded.',
    `#SBATCH --job-name=${jobName(o.specName)}-report`,
    ...resourceLines(o, true),
    `#SBATCH --output=${logs}/report-%j.out`,
    '#SBATCH --kill-on-invalid-dep=yes',
    'set -euo pipefail',
    `exec ${o.command} report ${shellQuote(o.results)}`,
    '',
  ].join('\n');
  const submit = [
    '#!/bin/bash',
    `# Submits the sweep array (${o.shards} tasks) and its report job; run again to resume.`,
    'set -euo pipefail',
    'here=$(cd "$(dirname "$0")" && pwd)',
    `mkdir -p ${shellQuote(logs)}`,
    'array=$(sbatch --parsable "$here/sweep.sbatch")',
    'array=${array%%;*}',
    'report=$(sbatch --parsable --dependency=afterok:"$array" "$here/report.sbatch")',
    'report=${report%%;*}',
    `echo "submitted array job $array (${o.shards} tasks) and report job $report (afterok:$array)"`,
    '',
  ].join('\n');
  return { sweep, report, submit };
}

export interface SlurmFiles {
  sweep: string;
  report: string;
  submit: string;
}

/** Writes the three files (executable) and the logs directory; returns their paths. */
export function writeSlurmScripts(o: SlurmScriptOptions): SlurmFiles {
  const s = slurmScripts(o);
  mkdirSync(join(o.outDir, 'logs'), { recursive: true });
  const files = { sweep: join(o.outDir, 'sweep.sbatch'), report: join(o.outDir, 'report.sbatch'), submit: join(o.outDir, 'submit.sh') };
  for (const k of ['sweep', 'report', 'submit'] as const) {
    writeFileSync(files[k], s[k]);
    chmodSync(files[k], 0o755);
  }
  return files;
}

/** Parses submit.sh's line into the two job ids. */
export function parseSubmitted(stdout: string): { arrayJob: string; reportJob: string } {
  const m = /submitted array job (\d+) \(\d+ tasks\) and report job (\d+)/.exec(stdout);
  if (!m) throw new Error(`slurm --submit: submit.sh printed no job ids: ${JSON.stringify(stdout.trim())}`);
  return { arrayJob: m[1], reportJob: m[2] };
}
