/**
 * @file What `widthscope slurm <spec>` and `widthscope k8s <spec>` do, as functions returning
 * the exit status (src/cli/main.ts parses the flags). Bad input is reported on stderr with exit
 * status 2, before anything is written.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { SLURM_DIR } from '../layout.js';
import { defaultCommand, planSweep, positiveInt } from './common.js';
import { k8sManifest, k8sName } from './k8s.js';
import { parseSubmitted, writeSlurmScripts } from './slurm.js';

export interface SlurmCommandOptions {
  results?: string;
  shards?: string;
  out?: string;
  command?: string;
  fake?: boolean;
  partition?: string;
  account?: string;
  time?: string;
  cpusPerTask?: string;
  mem?: string;
  gpusPerTask?: string;
  maxParallel?: string;
  sbatch?: string[];
  submit?: boolean;
}

export interface K8sCommandOptions {
  shards?: string;
  image?: string;
  command?: string;
  claim?: string;
  mount?: string;
  specMount?: string;
  out?: string;
  fake?: boolean;
  namespace?: string;
  parallelism?: string;
  cpu?: string;
  memory?: string;
  gpus?: string;
  retries?: string;
}

type Log = (line: string) => void;
const stdout: Log = (l) => process.stdout.write(`${l}\n`);
const stderr: Log = (l) => process.stderr.write(`${l}\n`);

function reported(fn: () => number, err: Log): number {
  try {
    return fn();
  } catch (e) {
    err((e as Error).message);
    return 2;
  }
}

export function slurmCommand(specPath: string, o: SlurmCommandOptions, log: Log = stdout, err: Log = stderr): number {
  return reported(() => {
    const plan = planSweep('slurm', specPath, o.shards);
    const results = resolvePath(o.results ?? `results/${plan.spec.name}`);
    const outDir = resolvePath(o.out ?? join(results, SLURM_DIR));
    const files = writeSlurmScripts({
      specPath: plan.specPath, specName: plan.spec.name, shards: plan.shards, results, outDir,
      command: o.command ?? defaultCommand(), fake: o.fake,
      partition: o.partition, account: o.account, time: o.time, mem: o.mem, sbatch: o.sbatch,
      cpusPerTask: positiveInt('--cpus-per-task', o.cpusPerTask), gpusPerTask: positiveInt('--gpus-per-task', o.gpusPerTask),
      maxParallel: positiveInt('--max-parallel', o.maxParallel),
    });
    log(`slurm: wrote ${files.sweep} (array of ${plan.shards} shards), ${files.report} and ${files.submit}; results go to ${results}`);
    if (!o.submit) {
      log(`slurm: submit with: bash ${files.submit}`);
      return 0;
    }
    const r = spawnSync('bash', [files.submit], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      err(`slurm --submit: ${files.submit} failed (${r.error?.message ?? `exit status ${r.status}`}): ${(r.stderr ?? '').trim()}`);
      return 1;
    }
    const ids = parseSubmitted(r.stdout);
    log(`slurm: ${r.stdout.trim()}`);
    log(`slurm: logs in ${join(outDir, 'logs')}; after a cancelled or failed task, run the same command again to resume (array ${ids.arrayJob})`);
    return 0;
  }, err);
}

function retries(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value)) throw new Error(`k8s: --retries: expected an integer >= 0, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function k8sCommand(specPath: string, o: K8sCommandOptions, log: Log = stdout, err: Log = stderr): number {
  return reported(() => {
    const plan = planSweep('k8s', specPath, o.shards);
    if (o.image === undefined) throw new Error('k8s: --image is required: a container image with widthscope installed');
    const manifest = k8sManifest({
      specName: plan.spec.name, specText: readFileSync(plan.specPath, 'utf8'), specFile: plan.specPath, shards: plan.shards,
      image: o.image, command: o.command ?? 'widthscope', claim: o.claim ?? 'widthscope-results',
      mount: o.mount ?? '/results', specMount: o.specMount ?? '/etc/widthscope', fake: o.fake, namespace: o.namespace,
      parallelism: positiveInt('--parallelism', o.parallelism), cpu: o.cpu, memory: o.memory, gpus: positiveInt('--gpus', o.gpus),
      backoffLimitPerIndex: retries(o.retries),
    });
    const out = resolvePath(o.out ?? `${k8sName(plan.spec.name)}.yaml`);
    writeFileSync(out, manifest);
    log(`k8s: wrote ${out} (Indexed Job, ${plan.shards} completions); apply with: kubectl apply -f ${out}`);
    return 0;
  }, err);
}
