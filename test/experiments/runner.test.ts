import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeTrainer, decodeNpy, readResults, resolveSweep, runSweep, runSweepCommand, validateSpec, SpecError, type Trainer } from '../../src/experiments/index.js';
import { expectSameResults, listFiles, tinySpec, tmp, writeSpec } from './util.js';

const quiet = { progress: false, log: () => {}, handleSignals: false };

describe('runner: a tiny fake sweep end to end', () => {
  it('writes config, metrics, .npy predictions and done.json per run; a rerun skips finished runs', async () => {
    const dir = tmp();
    const sweep = resolveSweep(validateSpec(tinySpec()));
    const started: string[] = [];
    const trainer = createFakeTrainer({ onJobStart: (j) => started.push(...j.members.map((r) => r.id)) });
    const s1 = await runSweep(sweep, { resultsDir: dir, trainer, ...quiet });
    expect(s1.counts).toMatchObject({ ok: 4, failed: 0, diverged: 0 });
    expect(started.length).toBe(4);
    expect(existsSync(join(dir, 'sweep.json'))).toBe(true);
    for (const run of sweep.runs) {
      const rd = join(dir, run.id);
      expect(readdirSync(rd).sort()).toEqual(['config.json', 'done.json', 'metrics.jsonl', 'pred-00000000.npy', 'pred-00000003.npy', 'pred-00000006.npy']);
      expect(JSON.parse(readFileSync(join(rd, 'config.json'), 'utf8')).config).toEqual(run.config);
      const lines = readFileSync(join(rd, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.step)).toEqual([0, 3, 6]);
      for (const l of lines) expect(typeof l.trainLoss).toBe('number');
      const npy = readFileSync(join(rd, 'pred-00000006.npy'));
      expect(npy.subarray(0, 10).toString('latin1')).toBe('\x93NUMPY\x01\x00v\x00');
      expect(npy.toString('latin1', 10, 128)).toContain("'shape': (16, 3)");
      expect(decodeNpy(npy).shape).toEqual([16, 3]);
      expect(JSON.parse(readFileSync(join(rd, 'done.json'), 'utf8'))).toMatchObject({ status: 'ok', evaluations: 3 });
    }
    expect(listFiles(dir).some((f) => f.includes('.tmp-'))).toBe(false);

    const s2 = await runSweep(sweep, { resultsDir: dir, trainer, ...quiet });
    expect(s2.counts.skipped).toBe(4);
    expect(started.length).toBe(4);
    expect(readResults(dir).runs.length).toBe(4);
  });

  it('redoes an unfinished run from a clean directory', async () => {
    const dir = tmp();
    const sweep = resolveSweep(validateSpec(tinySpec({ ensemble: 1 })));
    await runSweep(sweep, { resultsDir: dir, trainer: createFakeTrainer(), ...quiet });
    const ref = tmp();
    await runSweep(sweep, { resultsDir: ref, trainer: createFakeTrainer(), ...quiet });
    const victim = join(dir, sweep.runs[1].id);
    // Simulate a crash: no done.json, a truncated metrics line, a stray temporary.
    rmSync(join(victim, 'done.json'));
    writeFileSync(join(victim, 'metrics.jsonl'), '{"step":0,"trainLo');
    writeFileSync(join(victim, '.tmp-999-pred-00000003.npy'), 'junk');
    const started: string[] = [];
    const s = await runSweep(sweep, { resultsDir: dir, trainer: createFakeTrainer({ onJobStart: (j) => started.push(...j.members.map((r) => r.id)) }), ...quiet });
    expect(started).toEqual([sweep.runs[1].id]);
    expect(s.counts).toMatchObject({ ok: 1, skipped: 3 });
    expectSameResults(dir, ref);
  });

  it('ensemble grouping does not change the files', async () => {
    const a = tmp();
    const b = tmp();
    const jobs: number[] = [];
    await runSweep(resolveSweep(validateSpec(tinySpec({ seeds: 3 }))), { resultsDir: a, trainer: createFakeTrainer({ onJobStart: (j) => jobs.push(j.members.length) }), ...quiet });
    await runSweep(resolveSweep(validateSpec(tinySpec({ seeds: 3, ensemble: 1 }))), { resultsDir: b, trainer: createFakeTrainer(), ...quiet });
    expect(jobs).toEqual([3, 3]);
    expectSameResults(a, b);
  });
});

describe('runner: divergence, failures, interruption', () => {
  it('a run whose loss becomes NaN is recorded as diverged; its ensemble siblings and the sweep go on', async () => {
    const dir = tmp();
    const sweep = resolveSweep(validateSpec(tinySpec({ seeds: 3 })));
    const bad = sweep.runs.find((r) => r.config.width === 16 && r.config.seed === 1)!;
    const trainer = createFakeTrainer({ divergeAt: (c) => (c.width === 16 && c.seed === 1 ? 4 : undefined) });
    const s = await runSweep(sweep, { resultsDir: dir, trainer, ...quiet });
    expect(s.counts).toMatchObject({ ok: 5, diverged: 1 });
    expect(s.statuses[bad.id]).toBe('diverged');
    const done = JSON.parse(readFileSync(join(dir, bad.id, 'done.json'), 'utf8'));
    expect(done).toMatchObject({ status: 'diverged', step: 4 });
    expect(done.reason).toMatch(/NaN/);
    expect(existsSync(join(dir, bad.id, 'pred-00000006.npy'))).toBe(false);
    // Siblings are identical to a sweep where nothing diverged.
    const ref = tmp();
    await runSweep(sweep, { resultsDir: ref, trainer: createFakeTrainer(), ...quiet });
    for (const r of sweep.runs.filter((r) => r !== bad))
      for (const f of readdirSync(join(ref, r.id)).filter((f) => f !== 'done.json'))
        expect(readFileSync(join(dir, r.id, f)).equals(readFileSync(join(ref, r.id, f)))).toBe(true);
    // A diverged run counts as finished.
    const again = await runSweep(sweep, { resultsDir: dir, trainer, ...quiet });
    expect(again.counts.skipped).toBe(6);
  });

  it('divergence reported only through metrics (NaN test loss at an evaluation) is caught too', async () => {
    const dir = tmp();
    const sweep = resolveSweep(validateSpec(tinySpec({ widths: [8], seeds: 1 })));
    const trainer: Trainer = {
      async trainRun(job, hooks) {
        for (const step of job.evalSteps) {
          if (hooks.shouldStop()) return;
          hooks.onMetrics(step, { trainLoss: 1, testLoss: step >= 3 ? Infinity : 1 });
          hooks.onPredictions(step, new Float32Array(2), [2, 1]);
        }
      },
    };
    const s = await runSweep(sweep, { resultsDir: dir, trainer, ...quiet });
    expect(s.counts.diverged).toBe(1);
    const id = sweep.runs[0].id;
    expect(JSON.parse(readFileSync(join(dir, id, 'done.json'), 'utf8'))).toMatchObject({ status: 'diverged', step: 3 });
    expect(readFileSync(join(dir, id, 'metrics.jsonl'), 'utf8').trim().split('\n').pop()).toBe('{"step":3,"trainLoss":1,"testLoss":null}');
  });

  it('a trainer that throws fails its runs (retried next time) and the sweep goes on', async () => {
    const dir = tmp();
    const sweep = resolveSweep(validateSpec(tinySpec({ ensemble: 1 })));
    const fake = createFakeTrainer();
    const trainer: Trainer = {
      trainRun: (job, hooks) => (job.config.width === 64 && job.config.seed === 0 ? Promise.reject(new Error('out of memory')) : fake.trainRun(job, hooks)),
    };
    const s = await runSweep(sweep, { resultsDir: dir, trainer, ...quiet });
    expect(s.counts).toMatchObject({ ok: 3, failed: 1 });
    expect(s.errors[0]).toMatch(/out of memory/);
    const s2 = await runSweep(sweep, { resultsDir: dir, trainer: fake, ...quiet });
    expect(s2.counts).toMatchObject({ ok: 1, skipped: 3 });
  });

  it('an abort (like Ctrl-C) stops after the current step with no partial files, and the rerun completes', async () => {
    const dir = tmp();
    const sweep = resolveSweep(validateSpec(tinySpec({ ensemble: 1, steps: 20, eval: 5 })));
    const ctl = new AbortController();
    let jobs = 0;
    const trainer = createFakeTrainer({ sleepMsPerStep: 1, onJobStart: () => { if (++jobs === 2) setTimeout(() => ctl.abort(), 5); } });
    const s = await runSweep(sweep, { resultsDir: dir, trainer, signal: ctl.signal, ...quiet });
    expect(s.interrupted).toBe(true);
    expect(s.counts.ok).toBe(1);
    expect(s.counts.interrupted).toBe(3);
    expect(listFiles(dir).some((f) => f.includes('.tmp-'))).toBe(false);
    expect(existsSync(join(dir, sweep.groups[1].runs[0].id, 'done.json'))).toBe(false);
    const s2 = await runSweep(sweep, { resultsDir: dir, trainer: createFakeTrainer(), ...quiet });
    expect(s2.counts).toMatchObject({ ok: 3, skipped: 1 });
    const ref = tmp();
    await runSweep(sweep, { resultsDir: ref, trainer: createFakeTrainer(), ...quiet });
    expectSameResults(dir, ref);
  });
});

describe('runSweepCommand', () => {
  it('rejects a bad spec before any training, naming the field', async () => {
    const dir = tmp();
    let trained = 0;
    const trainer: Trainer = { trainRun: async () => { trained++; } };
    for (const [bad, field] of [
      [{ model: { family: 'resnet' } }, 'model.family'],
      [{ widths: [16, -1] }, 'widths[1]'],
      [{ widths: [] }, 'widths'],
      [{ colour: 'red' }, 'colour'],
    ] as const) {
      const spec = writeSpec(dir, { ...tinySpec(), ...bad } as never);
      await expect(runSweepCommand(spec, { trainer, results: join(dir, 'r'), log: () => {} })).rejects.toThrow(SpecError);
      await expect(runSweepCommand(spec, { trainer, results: join(dir, 'r'), log: () => {} })).rejects.toThrow(new RegExp(`(^\\s+- |^invalid sweep spec \\S+: )${field.replace(/[[\]]/g, '\\$&')}:`, 'm'));
    }
    expect(trained).toBe(0);
    expect(existsSync(join(dir, 'r'))).toBe(false);
  });
  it('runs a shard of a spec file with the fake trainer', async () => {
    const dir = tmp();
    const spec = writeSpec(dir, tinySpec({ ensemble: 1 }));
    mkdirSync(join(dir, 'r'));
    const lines: string[] = [];
    const a = await runSweepCommand(spec, { fake: true, results: join(dir, 'r'), shard: '0/2', progress: false, log: (l) => lines.push(l) });
    const b = await runSweepCommand(spec, { fake: true, results: join(dir, 'r'), env: { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' }, progress: false, log: (l) => lines.push(l) });
    expect(a.exitCode).toBe(0);
    expect(a.summary!.selected + b.summary!.selected).toBe(4);
    expect(a.summary!.counts.ok + b.summary!.counts.ok).toBe(4);
    expect(readResults(join(dir, 'r')).unfinished).toEqual([]);
    expect(lines.join('\n')).toMatch(/shard 1\/2 \(from SLURM_ARRAY_TASK_ID\/SLURM_ARRAY_TASK_COUNT\)/);
    await expect(runSweepCommand(spec, { results: join(dir, 'r'), log: () => {} })).rejects.toThrow(/no trainer/);
  });
});
