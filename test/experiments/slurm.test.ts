/**
 * The Slurm scale-out on a real (one-node) cluster: `widthscope slurm --submit` of a 4-shard sweep
 * with the fake trainer, one task cancelled mid-run, the same command again, and the merged
 * results compared with a single-process run of the same spec, bit for bit.
 *
 * Needs root, slurmctld, slurmd, the Slurm client commands and munge (scripts/setup-slurm.sh,
 * run by npm test). When the cluster cannot start, the test fails with the reason.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runSweepCommand } from '../../src/experiments/commands.js';
import { slurmCall, startLocalSlurm, waitForJobs, type LocalSlurm } from '../cluster/local-slurm.js';
import { listFiles, tinySpec, tmp, writeSpec } from './util.js';

const CLI = join(__dirname, '..', '..', 'bin', 'widthscope.mjs');
const SLEEP_MS_PER_STEP = 150;

function widthscope(args: string[], env: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Run directories: those holding a config.json. */
const runDirs = (results: string) => readdirSync(results).filter((d) => existsSync(join(results, d, 'config.json'))).sort();
const doneFiles = (results: string) => Object.fromEntries(runDirs(results).filter((d) => existsSync(join(results, d, 'done.json'))).map((d) => [d, readFileSync(join(results, d, 'done.json'), 'utf8')]));

/** Every file of every run directory, bytes; done.json without its timing fields. */
function runContents(results: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of runDirs(results))
    for (const f of listFiles(join(results, d))) {
      const bytes = readFileSync(join(results, d, f));
      if (f === 'done.json') {
        const { wallSeconds: _w, finishedAt: _f, ...rest } = JSON.parse(bytes.toString('utf8'));
        out[`${d}/${f}`] = JSON.stringify(rest);
      } else out[`${d}/${f}`] = bytes.toString('base64');
    }
  return out;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('widthscope slurm on a one-node Slurm cluster', () => {
  let cluster: LocalSlurm | undefined;
  let dir: string | undefined;
  let passed = false;
  // The cluster always stops; its directory (logs, results) stays when the test failed.
  afterAll(() => {
    cluster?.stop();
    if (passed && dir) rmSync(dir, { recursive: true, force: true });
  });

  it('4 shards, one task cancelled mid-run, re-submitted: the merged results equal a single-process run bit for bit', async () => {
    const t0 = Date.now();
    const phase = (what: string) => console.log(`slurm test: ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    dir = tmp('ws-slurm-');
    cluster = startLocalSlurm(join(dir, 'cluster'));
    // 4 widths x 2 seeds, one job each: 2 jobs per shard (balanced by cost).
    const specPath = writeSpec(dir, tinySpec({ name: 'four', widths: [30, 31, 32, 33], seeds: 2, ensemble: 1, steps: 20, eval: 5 }));
    const results = join(dir, 'results');
    const env = { ...cluster.env, WIDTHSCOPE_FAKE_SLEEP_MS: String(SLEEP_MS_PER_STEP) };
    const submitArgs = ['slurm', specPath, '--shards', '4', '--results', results, '--fake', '--submit'];

    phase('cluster up');
    const first = widthscope(submitArgs, env);
    expect(first.status, first.out).toBe(0);
    const [, array1, report1] = /submitted array job (\d+) \(4 tasks\) and report job (\d+)/.exec(first.out) ?? [];
    expect(array1, first.out).toBeDefined();

    // Cancel task 1 once its first job is finished (its log says so) and its second is under way.
    const log1 = join(results, 'slurm', 'logs', `sweep-${array1}_1.out`);
    await waitFor('task 1 to finish its first job', () => existsSync(log1) && /\[1\/2\] .*: ok/.test(readFileSync(log1, 'utf8')), 90_000);
    phase('task 1 finished its first job: cancelling it');
    slurmCall(cluster, 'scancel', [`${array1}_1`]);

    const states1 = await waitForJobs(cluster, [array1, report1], 90_000);
    phase('first array finished');
    expect(states1[`${array1}_1`], JSON.stringify(states1)).toBe('CANCELLED');
    for (const t of [0, 2, 3]) expect(states1[`${array1}_${t}`], JSON.stringify(states1)).toBe('COMPLETED');
    // afterok can no longer be met: the report job is removed, not left pending.
    expect(states1[report1], JSON.stringify(states1)).toBe('CANCELLED');
    expect(readFileSync(log1, 'utf8')).toMatch(/\[1\/2\] .*: ok/);
    expect(readFileSync(log1, 'utf8')).not.toMatch(/\[2\/2\] .*: ok/);

    // The cancelled task lost nothing finished: 7 runs are done, the eighth at most begun.
    const finishedBefore = doneFiles(results);
    expect(Object.keys(finishedBefore).length).toBe(7);
    expect(runDirs(results).filter((d) => !existsSync(join(results, d, 'done.json'))).length).toBeLessThanOrEqual(1);

    // The same command again: finished runs are skipped (their done.json stays as it was), shard 1's
    // unfinished run trains again from scratch, then the report job (afterok) runs.
    const second = widthscope(submitArgs, env);
    expect(second.status, second.out).toBe(0);
    const [, array2, report2] = /submitted array job (\d+) \(4 tasks\) and report job (\d+)/.exec(second.out) ?? [];
    const states2 = await waitForJobs(cluster, [array2, report2], 90_000);
    phase('second array and report job finished');
    expect(Object.values(states2).every((s) => s === 'COMPLETED'), JSON.stringify(states2)).toBe(true);
    const done = doneFiles(results);
    for (const [id, text] of Object.entries(finishedBefore)) expect(done[id], `finished run ${id} was trained again`).toBe(text);
    expect(existsSync(join(results, 'report', 'index.html'))).toBe(true);
    expect(listFiles(results).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const reference = join(dir, 'reference');
    const single = await runSweepCommand(specPath, { results: reference, fake: true, progress: false, log: () => {}, env: {} });
    expect(single.exitCode).toBe(0);
    phase('single-process reference run finished');
    expect(runDirs(results)).toEqual(runDirs(reference));
    expect(runDirs(results).length).toBe(8);
    const a = runContents(results);
    const b = runContents(reference);
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const k of Object.keys(b)) expect(a[k], k).toBe(b[k]);

    const pids = ['slurmctld', 'slurmd', 'munged'].map((d) => Number(readFileSync(join(cluster!.dir, 'run', `${d}.pid`), 'utf8')));
    cluster.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0), `daemon ${pid} still running`).toThrow();
    passed = true;
  }, 180_000);
});
