/**
 * @file Which shard trains which run, recorded in the results directory so that `report` can say
 * which shards' runs are missing.
 *
 * <results>/shards.json = { count, shards: [{ index, runs: [run ids] }] }: the whole assignment,
 * identical from every shard (each computes it from the whole sweep), written atomically after a
 * sharded `sweep` returns, so any shard that ran at all leaves it behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../atomic.js';
import { SHARD_PLAN_FILE } from '../layout.js';
import { assignShards, jobCost, type Shard } from '../shard.js';
import type { ResolvedSweep } from '../spec/resolve.js';
import type { Trainer } from '../trainer.js';

export { SHARD_PLAN_FILE };

export interface ShardPlan {
  count: number;
  shards: { index: number; runs: string[] }[];
}

export function shardPlan(sweep: ResolvedSweep, count: number, trainer: Trainer): ShardPlan {
  const assigned = assignShards(sweep.groups, count, jobCost(trainer));
  return { count, shards: assigned.map((groups, index) => ({ index, runs: groups.flatMap((g) => g.runs.map((r) => r.id)) })) };
}

/** Records the assignment of a sharded sweep (nothing for an unsharded one). */
export function writeShardPlan(results: string, sweep: ResolvedSweep, shard: Shard | undefined, trainer: Trainer): void {
  if (!shard || shard.count === 1) return;
  writeJsonAtomic(join(results, SHARD_PLAN_FILE), shardPlan(sweep, shard.count, trainer));
}

export function readShardPlan(results: string): ShardPlan | undefined {
  const p = join(results, SHARD_PLAN_FILE);
  if (!existsSync(p)) return undefined;
  const plan = JSON.parse(readFileSync(p, 'utf8')) as ShardPlan;
  if (!Number.isInteger(plan.count) || !Array.isArray(plan.shards))
    throw new Error(`${p}: expected { count, shards: [{ index, runs }] }, got ${JSON.stringify(plan).slice(0, 120)}`);
  return plan;
}

export interface MissingShard {
  index: number;
  count: number;
  /** This shard's runs without done.json. */
  missing: string[];
  /** How many runs the shard has. */
  of: number;
}

/** The shards whose runs are among `unfinished`, by index; empty when nothing is missing. */
export function missingShards(plan: ShardPlan, unfinished: readonly string[]): MissingShard[] {
  const gone = new Set(unfinished);
  return plan.shards
    .map((s) => ({ index: s.index, count: plan.count, missing: s.runs.filter((id) => gone.has(id)), of: s.runs.length }))
    .filter((s) => s.missing.length > 0);
}

/** Lines for `report`: one per shard with missing runs, and how to run just those shards again. */
export function missingShardLines(results: string, unfinished: readonly string[]): string[] {
  if (unfinished.length === 0) return [];
  const plan = readShardPlan(results);
  if (!plan) return [`report: ${unfinished.length} run(s) missing and no ${SHARD_PLAN_FILE} (no sharded sweep ran here): run the sweep again to finish them`];
  const shards = missingShards(plan, unfinished);
  const lines = shards.map((s) => `report: shard ${s.index}/${s.count} is missing ${s.missing.length} of ${s.of} run(s): ${s.missing.join(' ')}`);
  const planned = new Set(plan.shards.flatMap((s) => s.runs));
  const unplanned = unfinished.filter((id) => !planned.has(id));
  if (unplanned.length > 0) lines.push(`report: ${unplanned.length} missing run(s) belong to no shard of ${SHARD_PLAN_FILE}: ${unplanned.join(' ')}`);
  if (shards.length > 0)
    lines.push(`report: to finish them, run those shards again (sweep --shard i/${plan.count}, or sbatch --array=${shards.map((s) => s.index).join(',')} <the sweep's .sbatch>); finished runs are kept`);
  return lines;
}
