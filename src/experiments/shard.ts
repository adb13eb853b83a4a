/**
 * @file Splitting a sweep over machines: a balanced, disjoint, covering share of the jobs.
 *
 * Every shard computes the same assignment from the whole sweep (greedy longest-processing-time
 * on estimated cost, ties broken by job id), then keeps its own share; so shards need no
 * coordination and write disjoint run directories into one results directory.
 */
import { envInt } from '../util/env.js';
import { UsageError } from '../util/usage-error.js';

import type { RunConfig } from './spec/resolve.js';
import { defaultCost, type Trainer } from './trainer.js';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
  /** Where it came from, for the log line. */
  source: string;
}

export function parseShard(text: string, source = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`${source}: expected i/n (0-based index i of n shards), got ${JSON.stringify(text)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UsageError(`${source}: shard count must be >= 1, got ${count}`);
  if (index >= count) throw new UsageError(`${source}: shard index is 0-based, expected 0..${count - 1}, got ${index}`);
  return { index, count, source };
}

/**
 * The shard a cluster scheduler gave this process, if any:
 * - Slurm job arrays: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (index offset by
 *   SLURM_ARRAY_TASK_MIN, so `--array=1-8` works too);
 * - Kubernetes indexed Jobs: JOB_COMPLETION_INDEX, with the count from WIDTHSCOPE_SHARD_COUNT,
 *   else the spec's `shards` field (Kubernetes does not expose the completion count itself).
 */
export function shardFromEnv(env: NodeJS.ProcessEnv, specShards?: number): Shard | undefined {
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) {
    const min = envInt('SLURM_ARRAY_TASK_MIN', 0, env) ?? 0;
    const id = envInt('SLURM_ARRAY_TASK_ID', min, env) ?? 0;
    return parseShard(`${id - min}/${env.SLURM_ARRAY_TASK_COUNT}`, 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT');
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const count = env.WIDTHSCOPE_SHARD_COUNT ?? (specShards !== undefined ? String(specShards) : undefined);
    if (count === undefined)
      throw new UsageError('JOB_COMPLETION_INDEX is set but the shard count is unknown: set WIDTHSCOPE_SHARD_COUNT (= the Job\'s completions) or the spec\'s "shards" field');
    return parseShard(`${env.JOB_COMPLETION_INDEX}/${count}`, env.WIDTHSCOPE_SHARD_COUNT !== undefined ? 'JOB_COMPLETION_INDEX/WIDTHSCOPE_SHARD_COUNT' : 'JOB_COMPLETION_INDEX/spec.shards');
  }
  return undefined;
}

/** The cost of a job (an ensemble group): its runs' costs by the trainer's estimate. */
export function jobCost(trainer: Trainer): (job: { runs: readonly { config: RunConfig }[] }) => number {
  const cost = trainer.estimateCost ?? defaultCost;
  return (job) => job.runs.reduce((a, r) => a + cost(r.config), 0);
}

/** LPT: jobs by cost descending (id ascending on ties), each to the least-loaded shard (lowest index on ties). */
export function assignShards<T extends { id: string }>(jobs: readonly T[], count: number, cost: (job: T) => number): T[][] {
  const order = [...jobs].sort((a, b) => cost(b) - cost(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const shards: T[][] = Array.from({ length: count }, () => []);
  const load = new Array<number>(count).fill(0);
  for (const job of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    shards[best].push(job);
    load[best] += cost(job);
  }
  return shards;
}

export function selectShard<T extends { id: string }>(jobs: readonly T[], shard: Shard | undefined, cost: (job: T) => number): T[] {
  if (!shard || shard.count === 1) return [...jobs];
  return assignShards(jobs, shard.count, cost)[shard.index];
}
