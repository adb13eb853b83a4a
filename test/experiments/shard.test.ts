import { describe, expect, it } from 'vitest';
import { assignShards, parseShard, selectShard, shardFromEnv, resolveSweep, validateSpec, defaultCost, type RunGroup } from '../../src/experiments/index.js';

const sweep = resolveSweep(validateSpec({
  name: 's', task: 'teacher-image', model: ['mlp', 'cnn'], widths: [32, 64, 128, 256, 512], seeds: 3,
  parameterization: ['mup', 'sp'], lr: [0.1, 0.2], batchSize: 8, steps: 100, eval: 50, ensemble: 1,
}));
const cost = (g: RunGroup) => g.runs.reduce((a, r) => a + defaultCost(r.config), 0);

describe('sharding', () => {
  it('is disjoint, covers every job, and is balanced by cost', () => {
    for (const n of [1, 2, 3, 4, 7]) {
      const shards = assignShards(sweep.groups, n, cost);
      const ids = shards.flat().map((g) => g.id);
      expect(ids.length).toBe(sweep.groups.length);
      expect(new Set(ids).size).toBe(ids.length);
      const loads = shards.map((s) => s.reduce((a, g) => a + cost(g), 0));
      const maxJob = Math.max(...sweep.groups.map(cost));
      // LPT guarantee: no shard exceeds the mean by more than the largest job.
      const mean = loads.reduce((a, b) => a + b, 0) / n;
      expect(Math.max(...loads) - mean).toBeLessThanOrEqual(maxJob);
      if (n <= 4) expect(Math.max(...loads) / Math.min(...loads)).toBeLessThan(1.1);
    }
  });
  it('every shard computes the same assignment whatever the job order', () => {
    const a = assignShards(sweep.groups, 3, cost).map((s) => s.map((g) => g.id));
    const b = assignShards([...sweep.groups].reverse(), 3, cost).map((s) => s.map((g) => g.id));
    expect(b).toEqual(a);
    expect(selectShard(sweep.groups, { index: 1, count: 3, source: 't' }, cost).map((g) => g.id)).toEqual(a[1]);
  });
  it('parses --shard i/n (0-based) with clear errors', () => {
    expect(parseShard('2/4')).toMatchObject({ index: 2, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/0-based, expected 0\.\.3/);
    expect(() => parseShard('a/b')).toThrow(/expected i\/n/);
  });
  it('reads Slurm arrays and Kubernetes indexed jobs', () => {
    expect(shardFromEnv({})).toBeUndefined();
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 3, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' })).toMatchObject({ index: 3, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1', WIDTHSCOPE_SHARD_COUNT: '5' })).toMatchObject({ index: 1, count: 5 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1' }, 2)).toMatchObject({ index: 1, count: 2, source: 'JOB_COMPLETION_INDEX/spec.shards' });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '1' })).toThrow(/WIDTHSCOPE_SHARD_COUNT/);
  });
});
