/**
 * A one-node Slurm cluster on localhost for tests: scripts/slurm-cluster.sh started in a
 * temporary directory, plus the squeue/scancel calls the tests need.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'slurm-cluster.sh');

export interface LocalSlurm {
  dir: string;
  /** process.env plus SLURM_CONF (and sbin on PATH): pass to every Slurm client call. */
  env: NodeJS.ProcessEnv;
  /** Cancels every job and stops the daemons; safe to call twice. */
  stop(): void;
}

/** Starts the cluster; throws with the script's reason (and daemon log tails) when it cannot. */
export function startLocalSlurm(dir: string): LocalSlurm {
  const stop = () => { spawnSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore', timeout: 30_000 }); };
  const r = spawnSync('bash', [SCRIPT, 'start', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    stop();
    throw new Error(`the local Slurm cluster did not start (scripts/slurm-cluster.sh start ${dir}: ${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr ?? ''}${r.stdout ?? ''}`);
  }
  const env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf'), PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  return { dir, env, stop };
}

/** Runs a Slurm client command; throws with its stderr on failure. */
export function slurmCall(cluster: LocalSlurm, cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: cluster.env, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? `exit ${r.status}`}: ${r.stderr}`);
  return r.stdout;
}

/** State of each task/job of `jobId` (array tasks as "<id>_<i>"), finished ones included (MinJobAge). */
export function jobStates(cluster: LocalSlurm, jobId: string): Record<string, string> {
  const out = slurmCall(cluster, 'squeue', ['-h', '-t', 'all', '-r', '-j', jobId, '-o', '%i %T']);
  return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/) as [string, string]));
}

const FINISHED = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

/** Waits until every task of every job has finished; returns their states, or throws after `timeoutMs`. */
export async function waitForJobs(cluster: LocalSlurm, jobIds: string[], timeoutMs: number): Promise<Record<string, string>> {
  const t0 = Date.now();
  for (;;) {
    const states = Object.assign({}, ...jobIds.map((j) => jobStates(cluster, j))) as Record<string, string>;
    const all = Object.values(states);
    if (all.length > 0 && all.every((s) => FINISHED.has(s))) return states;
    if (Date.now() - t0 > timeoutMs) throw new Error(`jobs ${jobIds.join(', ')} did not finish within ${timeoutMs / 1000} s: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
