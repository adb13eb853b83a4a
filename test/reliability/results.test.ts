/**
 * Reliability catalogue of results directories (issue 17, parts 4, 5 and 9): bad uses of a
 * results directory (ErrorCases), and faults (FaultCases): two sweeps on one directory, SIGKILL
 * while holding locks, corrupt or missing files, stale locks, a second spec.
 */
import { describe, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  createFakeTrainer, decodeNpy, loadSpec, parseMetrics, readResults, readRun, reportCommand, ReportIncompleteError,
  resolveSweep, runSweep, runSweepCommand, validateSpec, verifyRun, writeAnalysis, type ResolvedSweep, type RunSweepOptions,
} from '../../src/experiments/index.js';
import { lockFile, stagingDir } from '../../src/experiments/layout.js';
import { tryLock } from '../../src/experiments/lock.js';
import { expectSameResults, listFiles, specDir, tinySpec, tmp, writeSpec } from '../experiments/util.js';
import { catalogue, type ErrorCase, type FaultCase } from './catalogue.js';

const WORKER = join(__dirname, 'fixtures', 'sweep-worker.ts');
const ROOT = join(__dirname, '../..');
const quiet = { progress: false, log: () => {}, handleSignals: false } as const;

// ---- helpers ---------------------------------------------------------------------------------

interface WorkerExit { code: number | null; signal: NodeJS.Signals | null; stderr: string; summary?: { counts: Record<string, number>; statuses: Record<string, string> } }

/** Starts the fake sweep in a child process; `killWhen` (polled every 10 ms) decides when to SIGKILL it. */
function worker(spec: string, results: string, counter: string, o: Record<string, unknown>, killWhen?: () => boolean): Promise<WorkerExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, spec, results, counter, JSON.stringify(o)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = killWhen ? setInterval(() => { if (killWhen()) { clearInterval(timer); child.kill('SIGKILL'); } }, 10) : undefined;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stderr, summary: stdout.trim() ? JSON.parse(stdout.trim().split('\n').pop()!) : undefined });
    });
  });
}

const doneRuns = (results: string) => (existsSync(results) ? readdirSync(results).filter((d) => existsSync(join(results, d, 'done.json'))) : []);
const trainedLines = (counter: string) => (existsSync(counter) ? readFileSync(counter, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ')) : []);
const countBy = <T,>(xs: T[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());

/** Every run of the sweep is finished and checks out (each eval once in metrics.jsonl, every .npy decodes). */
function expectAllFinished(results: string, sweep: ResolvedSweep): void {
  for (const r of sweep.runs) {
    const c = verifyRun(join(results, r.id), r.id, r.config);
    expect(c.state, `${r.id}: ${c.state === 'bad' ? c.problems.join('; ') : ''}`).toBe('finished');
    const steps = readFileSync(join(results, r.id, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
    expect(steps, r.id).toEqual(r.config.evalSteps);
  }
  const leftovers = listFiles(results).filter((f) => f.startsWith('locks/') || f.startsWith('partial/') || f.includes('.tmp-'));
  expect(leftovers, 'locks, staging directories or temporaries left behind').toEqual([]);
}

/** The report's analysis counts every seed of every width once. */
function expectSeedCounts(results: string, seeds: number): void {
  const a = writeAnalysis(results);
  expect(a.skipped).toEqual([]);
  expect(a.unfinished).toEqual([]);
  for (const s of a.series) {
    expect(s.seeds.length).toBe(seeds);
    for (const p of s.curves.testLoss) expect(p.n, `${s.label} w=${p.width} step ${p.step}`).toBe(seeds);
  }
}

const childSpec = tinySpec({ widths: [16, 32, 64, 128], seeds: 2, ensemble: 1, steps: 30, eval: 10 });

/** A finished reference sweep (in-process, deterministic), built once and copied per case. */
const small = tinySpec({ widths: [16, 64], seeds: 2, ensemble: 1, steps: 6, eval: 3 });
const smallSweep = resolveSweep(validateSpec(small));
let reference: string | undefined;
async function freshCopy(): Promise<{ dir: string; results: string; ref: string }> {
  if (!reference) {
    reference = join(tmp('ws-rel-ref-'), 'results');
    await runSweep(smallSweep, { resultsDir: reference, trainer: createFakeTrainer(), ...quiet });
  }
  const dir = tmp('ws-rel-');
  const results = join(dir, 'results');
  cpSync(reference, results, { recursive: true });
  return { dir, results, ref: reference };
}

/** Resumes `results`; returns the runs trained, the summary and the log. */
async function resume(results: string, extra: Partial<RunSweepOptions> = {}) {
  const started: string[] = [];
  const lines: string[] = [];
  const summary = await runSweep(smallSweep, { resultsDir: results, trainer: createFakeTrainer({ onJobStart: (j) => started.push(...j.members.map((r) => r.id)) }), ...quiet, log: (l) => lines.push(l), ...extra });
  return { started, summary, log: lines.join('\n') };
}

/** `report` leaves the run out, names the file, goes on with the rest, and fails. */
async function expectReportSkips(results: string, runId: string, file: string): Promise<void> {
  const lines: string[] = [];
  const err = await reportCommand(results, { log: (l) => lines.push(l) }).then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(ReportIncompleteError);
  const out = (err as ReportIncompleteError).output;
  expect(out.analysis.skipped.map((s) => s.id)).toEqual([runId]);
  expect(out.analysis.skipped[0].problems.join(' ')).toContain(file);
  expect((err as Error).message).toContain(join(results, runId));
  expect(lines.join('\n')).toContain(file);
  const html = readFileSync(out.html, 'utf8');
  expect(html).toContain('id="skipped"');
  expect(html).toContain(runId);
  // The rest is still reported: the victim's width has one seed fewer.
  const victim = smallSweep.runs.find((r) => r.id === runId)!;
  const loss = out.analysis.series[0].curves.testLoss.filter((p) => p.step === 6);
  expect(loss.find((p) => p.width === victim.config.width)!.n).toBe(1);
  expect(loss.find((p) => p.width !== victim.config.width)!.n).toBe(2);
}

/** A corrupt-file fault: corrupt one finished run; report names it; resume redoes exactly it; results equal the reference. */
function corruptCase(name: string, file: string, corrupt: (runDir: string, results: string) => void): FaultCase {
  return victimCase(
    name,
    1,
    async (results, victim) => {
      corrupt(join(results, victim), results);
      await expectReportSkips(results, victim, file);
    },
    (r, victim) => {
      expect(Object.keys(r.summary.redone)).toEqual([victim]);
      expect(r.summary.redone[victim].join(' ')).toContain(file);
      expect(r.log).toContain(file);
      expect(r.summary.counts).toMatchObject({ ok: 1, skipped: 3, failed: 0 });
    },
  );
}

/**
 * A fault planted in run `index` of a fresh copy of the reference results: `plant` plants it (and
 * checks what the report says), the resume starts exactly that run, `check` checks the resume, and
 * the results equal the reference after.
 */
function victimCase(
  name: string,
  index: number,
  plant: (results: string, victim: string) => Promise<void>,
  check: (r: Awaited<ReturnType<typeof resume>>, victim: string) => void,
): FaultCase {
  return {
    name,
    timeoutMs: 30_000,
    run: async () => {
      const { results, ref } = await freshCopy();
      const victim = smallSweep.runs[index].id;
      await plant(results, victim);
      const r = await resume(results);
      expect(r.started).toEqual([victim]);
      check(r, victim);
      expectSameRuns(results, ref);
      expectAllFinished(results, smallSweep);
    },
  };
}

/** The run directories equal the reference's, byte for byte (timings aside); the report this test wrote is set aside. */
function expectSameRuns(results: string, ref: string): void {
  for (const d of ['analysis', 'report']) rmSync(join(results, d), { recursive: true, force: true });
  expectSameResults(results, ref);
}

/** A dead pid: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

/** Plants a lock file for run `id` as another process would have left it. */
function plantLock(results: string, id: string, info: { pid: number; host: string }, ageSeconds = 0): string {
  const path = lockFile(results, id);
  mkdirSync(join(results, 'locks'), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ ...info, startedAt: new Date(Date.now() - ageSeconds * 1000).toISOString(), token: 'f00dfeedf00dfeed' })}\n`);
  const t = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(path, t, t);
  return path;
}

/** A stale-lock fault: the victim's run directory is gone, its lock and staging directory remain. */
function staleLockCase(name: string, info: () => Promise<{ pid: number; host: string; age: number; garbage?: boolean }>, why: RegExp): FaultCase {
  return victimCase(
    name,
    2,
    async (results, victim) => {
      rmSync(join(results, victim), { recursive: true });
      const i = await info();
      const lock = plantLock(results, victim, i, i.age);
      if (i.garbage) { writeFileSync(lock, '\0\0garbage'); const t = new Date(Date.now() - i.age * 1000); utimesSync(lock, t, t); }
      const partial = stagingDir(results, victim, 'f00dfeedf00dfeed');
      mkdirSync(partial, { recursive: true });
      writeFileSync(join(partial, 'metrics.jsonl'), '{"step":0,"trainLoss":1}\n{"step":3,"tr');
      // The report names the unfinished run and who holds its lock.
      const lines: string[] = [];
      await reportCommand(results, { log: (l) => lines.push(l) });
      expect(lines.join('\n')).toMatch(new RegExp(`not finished: ${victim}, locked by .*stale`));
    },
    (r) => {
      expect(r.log).toMatch(why);
      expect(r.log).toContain(`took over the lock`);
    },
  );
}

// ---- error cases ------------------------------------------------------------------------------

function errorCases(): ErrorCase[] {
  const specA = () => { const d = tmp('ws-rel-e-'); return { d, a: writeSpec(d, tinySpec({ name: 'alpha' }), 'a.json'), b: writeSpec(d, tinySpec({ name: 'beta', widths: [16, 32] }), 'b.json') }; };
  return [
    {
      name: 'report on a directory that does not exist',
      run: () => reportCommand(join(tmp('ws-rel-e-'), 'nope'), { log: () => {} }),
      mentions: ['report', 'nope', 'does not exist'],
    },
    {
      name: 'report on a path that is a file',
      run: () => { const f = join(tmp('ws-rel-e-'), 'results.txt'); writeFileSync(f, 'x'); return reportCommand(f, { log: () => {} }); },
      mentions: ['report', 'results.txt', 'is a file', 'expected a directory'],
    },
    {
      name: 'report on a directory whose sweep.json is garbage',
      run: () => { const d = tmp('ws-rel-e-'); writeFileSync(join(d, 'sweep.json'), '{"name": "x", "runs": [tr'); return reportCommand(d, { log: () => {} }); },
      mentions: ['sweep.json', 'not valid JSON', 'expected the sweep.json'],
    },
    {
      name: 'report on a sweep.json without a run list',
      run: () => { const d = tmp('ws-rel-e-'); writeFileSync(join(d, 'sweep.json'), JSON.stringify({ name: 'x', spec: tinySpec() })); return readResults(d); },
      mentions: ['sweep.json', 'runs', 'expected'],
    },
    {
      name: 'report on a sweep.json whose spec is invalid',
      run: () => { const d = tmp('ws-rel-e-'); writeFileSync(join(d, 'sweep.json'), JSON.stringify({ name: 'x', spec: { ...tinySpec(), widths: [-4] }, runs: [] })); return readResults(d); },
      mentions: ['sweep.json', 'widths[0]', '-4'],
    },
    {
      name: 'a second spec into a used results directory (no --force)',
      run: async () => {
        const { d, a, b } = specA();
        await runSweepCommand(a, { results: join(d, 'r'), fake: true, log: () => {}, progress: false });
        await runSweepCommand(b, { results: join(d, 'r'), fake: true, log: () => {}, progress: false });
      },
      mentions: ['spec "alpha" (hash ', 'spec "beta" (hash ', /[0-9a-f]{12}\).*[0-9a-f]{12}\)/, '/r holds the results of', '--force'],
    },
    {
      name: 'sweep --results at a path that is a file',
      run: () => { const { d, a } = specA(); writeFileSync(join(d, 'r'), 'x'); return runSweepCommand(a, { results: join(d, 'r'), fake: true, log: () => {} }); },
      mentions: ['sweep', '/r', 'is a file', 'expected a directory'],
    },
    {
      name: 'sweep into a directory whose sweep.json is garbage (no --force)',
      run: () => { const { d, a } = specA(); mkdirSync(join(d, 'r')); writeFileSync(join(d, 'r', 'sweep.json'), 'garbage'); return runSweepCommand(a, { results: join(d, 'r'), fake: true, log: () => {} }); },
      mentions: ['sweep.json', 'not valid JSON', '--force'],
    },
    {
      name: 'sweep into a non-empty directory that is not a results directory',
      run: () => { const { d, a } = specA(); mkdirSync(join(d, 'r')); writeFileSync(join(d, 'r', 'thesis.tex'), 'x'); return runSweepCommand(a, { results: join(d, 'r'), fake: true, log: () => {} }); },
      mentions: ['no sweep.json', "'thesis.tex'", 'expected a new, empty or widthscope results directory', '--force'],
    },
    {
      name: 'WIDTHSCOPE_LOCK_STALE_S that is not a number',
      run: () => { const { d, a } = specA(); return runSweepCommand(a, { results: join(d, 'r'), fake: true, log: () => {}, env: { WIDTHSCOPE_LOCK_STALE_S: 'soon' } }); },
      mentions: ['WIDTHSCOPE_LOCK_STALE_S', '"soon"', 'seconds > 0'],
    },
    {
      name: 'readRun on a run directory with a garbage done.json',
      run: async () => { const { results } = await freshCopy(); const id = smallSweep.runs[0].id; writeFileSync(join(results, id, 'done.json'), 'not json'); return readRun(join(results, id)); },
      mentions: ['run directory', 'is not a finished run', 'done.json is not valid JSON'],
    },
    {
      name: 'readRun on a run directory that does not exist',
      run: () => readRun(join(tmp('ws-rel-e-'), '0123456789ab')),
      mentions: ['run directory', '0123456789ab', 'does not exist'],
    },
    {
      name: 'report on a directory with a truncated .npy',
      error: ReportIncompleteError,
      run: async () => { const { results } = await freshCopy(); const id = smallSweep.runs[3].id; const f = join(results, id, 'pred-00000003.npy'); writeFileSync(f, readFileSync(f).subarray(0, 150)); return reportCommand(results, { log: () => {} }); },
      mentions: ['1 run(s) left out', 'pred-00000003.npy', 'expected 192 data bytes', 'trains these runs again'],
    },
    {
      name: 'parseMetrics on a truncated last line',
      run: () => parseMetrics('{"step":0,"trainLoss":1}\n{"step":3,"trai', 'metrics.jsonl'),
      mentions: ['metrics.jsonl:2', 'truncated'],
    },
    {
      name: 'parseMetrics on a line without an integer step',
      run: () => parseMetrics('{"step":"3","trainLoss":1}\n', 'metrics.jsonl'),
      mentions: ['metrics.jsonl:1', 'step', 'integer'],
    },
    {
      name: 'decodeNpy on a truncated file',
      run: () => { const b = readFileSync(join(ROOT, 'test/experiments/fixtures/numpy-2x3.npy')); return decodeNpy(b.subarray(0, b.length - 4)); },
      mentions: ['npy', 'expected 24 data bytes', 'found 20'],
    },
  ];
}

// ---- fault cases ------------------------------------------------------------------------------

/** Two workers on one results directory, released at the same moment; both must exit 0. */
async function twoAtOnce(w: { spec: string; results: string; counter: string }, a: Record<string, unknown>, b: Record<string, unknown>): Promise<[WorkerExit, WorkerExit]> {
  const startAt = Date.now() + 2500;
  const both = await Promise.all([worker(w.spec, w.results, w.counter, { ...a, startAt }), worker(w.spec, w.results, w.counter, { ...b, startAt })]);
  expect(both.map((x) => x.code), both[0].stderr + both[1].stderr).toEqual([0, 0]);
  return both;
}

function faultCases(): FaultCase[] {
  return [
    {
      name: 'two sweeps on one directory at once: every run trained exactly once, each eval once, the report counts 2 seeds',
      timeoutMs: 60_000,
      run: async () => {
        const w = specDir(childSpec, 'ws-rel-f-');
        const { spec, results, counter } = w;
        const [a, b] = await twoAtOnce(w, { sleepMs: 10 }, { sleepMs: 10 });
        const sweep = resolveSweep(loadSpec(spec));
        const trained = trainedLines(counter);
        expect([...countBy(trained.map((t) => t[0])).values()].every((n) => n === 1), `trained twice: ${trained.join(' | ')}`).toBe(true);
        expect(trained.length).toBe(sweep.runs.length);
        // They shared the work: both trained some, and each says the other's runs were done by another process.
        expect(new Set(trained.map((t) => t[1])).size).toBe(2);
        expect(a.summary!.counts.ok + b.summary!.counts.ok).toBe(sweep.runs.length);
        expect(a.summary!.counts.ok + a.summary!.counts.skipped).toBe(sweep.runs.length);
        expectAllFinished(results, sweep);
        expectSeedCounts(results, 2);
      },
    },
    {
      name: 'SIGKILL while holding a lock mid-run, then two resumers at once: everything finished, nothing trained twice, results equal an uninterrupted run byte for byte',
      timeoutMs: 60_000,
      run: async () => {
        const w = specDir(childSpec, 'ws-rel-f-');
        const { spec, results, counter } = w;
        let locksAtKill: string[] = [];
        const killed = await worker(spec, results, counter, { sleepMs: 10 }, () => {
          const done = doneRuns(results);
          if (done.length < 2) return false;
          // A lock of a run still in training (not the one just published and about to be released).
          locksAtKill = existsSync(join(results, 'locks')) ? readdirSync(join(results, 'locks')).filter((f) => f.endsWith('.lock') && !f.startsWith('.tmp-') && !done.includes(f.slice(0, -5))) : [];
          return locksAtKill.length > 0;
        });
        expect(killed.signal).toBe('SIGKILL');
        expect(locksAtKill.length).toBeGreaterThan(0);
        // Whether a resumer logs a takeover depends on where the kill landed (the run locked at the
        // check may be published, or unlocked, before the kill): the stale-lock cases below assert
        // the takeover itself; this one asserts what must hold whatever the timing.
        const lockDir = join(results, 'locks');
        const doneBefore = doneRuns(results);
        const sweep = resolveSweep(loadSpec(spec));
        expect(doneBefore.length).toBeLessThan(sweep.runs.length);
        const before = trainedLines(counter).length;
        await twoAtOnce(w, {}, {});
        expect(existsSync(lockDir) ? readdirSync(lockDir).filter((f) => f.endsWith('.lock')) : [], 'no lock is left behind').toEqual([]);
        const resumed = trainedLines(counter).slice(before).map((t) => t[0]);
        expect([...countBy(resumed).values()].every((n) => n === 1), `a resumer trained a run twice: ${resumed.join(' ')}`).toBe(true);
        for (const id of doneBefore) expect(resumed, `finished run ${id} trained again`).not.toContain(id);
        expect(resumed.length + doneBefore.length).toBe(sweep.runs.length);
        expectAllFinished(results, sweep);
        const ref = join(w.dir, 'reference');
        await runSweep(sweep, { resultsDir: ref, trainer: createFakeTrainer(), ...quiet });
        expectSameResults(results, ref);
      },
    },
    {
      name: 'two shards of one spec start together on an empty directory: one sweep.json, every run once',
      timeoutMs: 60_000,
      run: async () => {
        const w = specDir(childSpec, 'ws-rel-f-');
        const { spec, results, counter } = w;
        await twoAtOnce(w, { shard: '0/2' }, { shard: '1/2' });
        const sweep = resolveSweep(loadSpec(spec));
        expect(trainedLines(counter).map((t) => t[0]).sort()).toEqual(sweep.runs.map((r) => r.id).sort());
        expect(readResults(results).sweep!.name).toBe('tiny');
        expectAllFinished(results, sweep);
      },
    },
    corruptCase('garbage done.json: report names it, resume redoes the run', 'done.json', (d) => writeFileSync(join(d, 'done.json'), '{"status": "ok", "evalu')),
    corruptCase('done.json of the wrong shape (valid JSON): redone', 'done.json', (d) => writeFileSync(join(d, 'done.json'), '{"status": "finished"}\n')),
    corruptCase('truncated .npy: redone', 'pred-00000003.npy', (d) => { const f = join(d, 'pred-00000003.npy'); writeFileSync(f, readFileSync(f).subarray(0, 150)); }),
    corruptCase('missing .npy: redone (not dropped silently)', 'pred-00000006.npy', (d) => rmSync(join(d, 'pred-00000006.npy'))),
    corruptCase('.npy of the wrong shape: redone', 'pred-00000000.npy', (d) => writeFileSync(join(d, 'pred-00000000.npy'), readFileSync(join(ROOT, 'test/experiments/fixtures/numpy-2x3.npy')))),
    corruptCase('truncated metrics.jsonl: redone', 'metrics.jsonl', (d) => { const f = join(d, 'metrics.jsonl'); const t = readFileSync(f, 'utf8'); writeFileSync(f, t.slice(0, t.length - 20)); }),
    corruptCase('a duplicated metrics line: redone', 'step 3 appears 2 times', (d) => { const f = join(d, 'metrics.jsonl'); const l = readFileSync(f, 'utf8').split('\n'); writeFileSync(f, [l[0], l[1], l[1], l[2], ''].join('\n')); }),
    corruptCase("config.json of another run: redone", 'config.json belongs to run', (d, results) => cpSync(join(results, smallSweep.runs[0].id, 'config.json'), join(d, 'config.json'))),
    corruptCase('run directory without done.json: redone', 'done.json is missing', (d) => rmSync(join(d, 'done.json'))),
    staleLockCase('a stale lock of a dead pid on this host (and its staging directory): taken over, run redone', async () => ({ pid: await deadPid(), host: hostname(), age: 1 }), /pid \d+ is not running/),
    staleLockCase('a lock from another host with an old heartbeat: taken over, run redone', async () => ({ pid: 4242, host: 'node-b.cluster.example', age: 7200 }), /heartbeat is 72\d\d s old \(stale after 600 s\)/),
    staleLockCase('an unreadable lock file with an old heartbeat: taken over', async () => ({ pid: 1, host: 'x', age: 7200, garbage: true }), /an unreadable lock file/),
    {
      name: 'killed between publishing a run and releasing its lock: the lock (of a dead pid) and an orphan staging directory are cleared, nothing retrained',
      run: async () => {
        const { results, ref } = await freshCopy();
        const id = smallSweep.runs[0].id;
        plantLock(results, id, { pid: await deadPid(), host: hostname() });
        mkdirSync(stagingDir(results, id, '0123abcd0123abcd'), { recursive: true });
        writeFileSync(join(stagingDir(results, id, '0123abcd0123abcd'), 'metrics.jsonl'), '{"step":0}\n');
        const r = await resume(results);
        expect(r.started).toEqual([]);
        expect(r.summary.counts.skipped).toBe(4);
        expectSameRuns(results, ref);
        expectAllFinished(results, smallSweep);
      },
    },
    {
      name: 'a live lock from another host is respected: the run is reported as locked (exit 75), not trained',
      run: async () => {
        const { dir, results } = await freshCopy();
        const victim = smallSweep.runs[0].id;
        rmSync(join(results, victim), { recursive: true });
        plantLock(results, victim, { pid: 4242, host: 'node-b.cluster.example' }, 5);
        const r = await resume(results, { waitForOthersSeconds: 0 });
        expect(r.started).toEqual([]);
        expect(r.summary.statuses[victim]).toBe('locked');
        expect(r.summary.lockedElsewhere[victim]).toMatch(/pid 4242 on node-b\.cluster\.example/);
        const spec = writeSpec(dir, small);
        const lines: string[] = [];
        const c = await runSweepCommand(spec, { results, fake: true, progress: false, log: (l) => lines.push(l), waitForOthersSeconds: 0 });
        expect(c.exitCode).toBe(75);
        expect(lines.join('\n')).toContain(`not done yet: ${victim} is being trained by pid 4242 on node-b.cluster.example`);
        // With a wait, the run is taken over once the heartbeat is stale.
        const w = await resume(results, { waitForOthersSeconds: 30, lockStaleSeconds: 6, pollMs: 100 });
        expect(w.started).toEqual([victim]);
        expectAllFinished(results, smallSweep);
      },
      timeoutMs: 30_000,
    },
    {
      name: 'taking over a stale lock is exclusive: while another process holds the takeover marker, nobody else takes it',
      run: async () => {
        const dir = tmp('ws-rel-f-');
        const path = plantLock(dir, 'aaaaaaaaaaaa', { pid: await deadPid(), host: hostname() });
        const bytes = (await import('node:crypto')).createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
        const marker = tryLock(`${path}.break-${bytes}`, 600); // a live taker (this process) holds the marker
        expect(marker.lock).toBeDefined();
        const second = tryLock(path, 600);
        expect(second.lock).toBeUndefined();
        expect(second.holder).toMatch(/being taken over by another process/);
        marker.lock!.release();
        const third = tryLock(path, 600);
        expect(third.lock).toBeDefined();
        expect(third.tookOver?.reason).toMatch(/is not running/);
        expect(tryLock(path, 600).holder).toMatch(new RegExp(`pid ${process.pid} on`));
        third.lock!.release();
        expect(existsSync(path)).toBe(false);
      },
    },
    {
      name: '--force with a second spec: sweep.json replaced, old run directories kept, shared runs not retrained, report covers the new spec',
      timeoutMs: 30_000,
      run: async () => {
        const dir = tmp('ws-rel-f-');
        const a = writeSpec(dir, tinySpec({ name: 'alpha', widths: [16, 64] }), 'a.json');
        const b = writeSpec(dir, tinySpec({ name: 'beta', widths: [16, 32] }), 'b.json');
        const results = join(dir, 'r');
        await runSweepCommand(a, { results, fake: true, progress: false, log: () => {} });
        const oldRuns = readdirSync(results).filter((f) => /^[0-9a-f]{12}$/.test(f)).sort();
        const lines: string[] = [];
        const started: string[] = [];
        const trainer = createFakeTrainer({ onJobStart: (j) => started.push(...j.members.map((r) => r.id)) });
        const r = await runSweepCommand(b, { results, trainer, force: true, report: true, progress: false, log: (l) => lines.push(l) });
        expect(r.exitCode).toBe(0);
        expect(lines.join('\n')).toMatch(/--force: .* was the directory of spec "alpha" \(hash [0-9a-f]{12}\); it is now that of spec "beta" \(hash [0-9a-f]{12}\)/);
        const sweepB = resolveSweep(loadSpec(b));
        expect(started.sort()).toEqual(sweepB.runs.filter((x) => x.config.width === 32).map((x) => x.id).sort());
        for (const id of oldRuns) expect(existsSync(join(results, id, 'done.json'))).toBe(true);
        expect(readResults(results).sweep!.name).toBe('beta');
        expect(r.report!.analysis.series[0].widths).toEqual([16, 32]);
        // The same spec again (a resume) is accepted without --force.
        expect((await runSweepCommand(b, { results, fake: true, progress: false, log: () => {} })).summary!.counts.skipped).toBe(4);
      },
    },
    {
      name: '--force over a garbage sweep.json: replaced, the sweep runs',
      run: async () => {
        const dir = tmp('ws-rel-f-');
        const a = writeSpec(dir, tinySpec(), 'a.json');
        mkdirSync(join(dir, 'r'));
        writeFileSync(join(dir, 'r', 'sweep.json'), 'garbage');
        const lines: string[] = [];
        const r = await runSweepCommand(a, { results: join(dir, 'r'), fake: true, force: true, progress: false, log: (l) => lines.push(l) });
        expect(r.exitCode).toBe(0);
        expect(lines.join('\n')).toContain('--force: replaced the unreadable');
        expect(readResults(join(dir, 'r')).runs.length).toBe(4);
      },
    },
  ];
}

describe('reliability: results directories', () => {
  catalogue('results', errorCases(), faultCases());
});
