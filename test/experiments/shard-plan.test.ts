/**
 * shards.json and the report's list of shards whose runs are missing: a sharded sweep records
 * the whole assignment; `report` names the shards that did not finish and how to rerun them.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { reportCommand, runSweepCommand } from '../../src/experiments/commands.js';
import { missingShardLines, readShardPlan } from '../../src/experiments/scale-out/shard-plan.js';
import { tinySpec, tmp, writeSpec } from './util.js';

const quiet = { fake: true, progress: false, log: () => {}, env: {} };

describe('shards.json and the missing shards in report', () => {
  it('shards 0 and 2 of 3 ran: report lists shard 1 and its runs; after shard 1, nothing', async () => {
    const dir = tmp();
    const specPath = writeSpec(dir, tinySpec({ widths: [16, 32, 64], seeds: 2, ensemble: 1 }));
    const results = join(dir, 'results');
    for (const s of ['0/3', '2/3']) expect((await runSweepCommand(specPath, { ...quiet, results, shard: s })).exitCode).toBe(0);

    const plan = readShardPlan(results)!;
    expect(plan.count).toBe(3);
    expect(plan.shards.map((s) => s.index)).toEqual([0, 1, 2]);
    const all = plan.shards.flatMap((s) => s.runs);
    expect(all.length).toBe(6);
    expect(new Set(all).size).toBe(6);
    const shard1 = plan.shards[1].runs;
    for (const id of all) expect(existsSync(join(results, id, 'done.json')), id).toBe(!shard1.includes(id));

    const lines: string[] = [];
    await reportCommand(results, { log: (l) => lines.push(l) });
    expect(lines).toContain(`report: shard 1/3 is missing ${shard1.length} of ${shard1.length} run(s): ${shard1.join(' ')}`);
    expect(lines.some((l) => /shard [02]\/3 is missing/.test(l))).toBe(false);
    expect(lines.some((l) => l.includes('sbatch --array=1 '))).toBe(true);

    expect((await runSweepCommand(specPath, { ...quiet, results, shard: '1/3' })).exitCode).toBe(0);
    const after: string[] = [];
    await reportCommand(results, { log: (l) => after.push(l) });
    expect(after.filter((l) => l.includes('missing'))).toEqual([]);
  });

  it('an unsharded sweep writes no shards.json; missing runs are then reported without shards', async () => {
    const dir = tmp();
    const results = join(dir, 'results');
    expect((await runSweepCommand(writeSpec(dir, tinySpec()), { ...quiet, results })).exitCode).toBe(0);
    expect(readShardPlan(results)).toBeUndefined();
    expect(missingShardLines(results, [])).toEqual([]);
    expect(missingShardLines(results, ['abc'])).toEqual(['report: 1 run(s) missing and no shards.json (no sharded sweep ran here): run the sweep again to finish them']);
  });
});
