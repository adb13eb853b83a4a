import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeTrainer, decodeNpy, loadSpec, parseMetrics, resolveSweep, runSweep } from '../../src/experiments/index.js';
import { expectSameResults, listFiles, specDir, tinySpec } from './util.js';

const CHILD = join(__dirname, 'fixtures', 'sweep-child.ts');
const ROOT = join(__dirname, '../..');

/** Starts the fake sweep in a child process; `until(doneCount)` decides when to send `signal`. */
function runChild(spec: string, results: string, counter: string, opts: { sleepMs: number; signal?: NodeJS.Signals; whenDone?: number }): Promise<{ code: number | null; signal: NodeJS.Signals | null; doneAtSignal: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, spec, results, counter, String(opts.sleepMs)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let doneAtSignal = -1;
    const countDone = () => (existsSync(results) ? readdirSync(results).filter((d) => existsSync(join(results, d, 'done.json'))).length : 0);
    const timer = opts.signal ? setInterval(() => {
      const n = countDone();
      if (n >= opts.whenDone!) { doneAtSignal = n; clearInterval(timer); child.kill(opts.signal); }
    }, 10) : undefined;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      if (code !== 0 && code !== 130 && signal === null) reject(new Error(`child exited ${code}: ${stderr}`));
      else resolve({ code, signal, doneAtSignal });
    });
  });
}

/** Complete files only; a SIGKILL may leave a temporary (never read) inside an unfinished run. */
function expectNoCorruptFile(results: string, temporariesInUnfinished = false): void {
  const files = listFiles(results);
  const temps = files.filter((f) => f.includes('.tmp-'));
  if (temporariesInUnfinished) for (const t of temps) expect(existsSync(join(results, t, '..', 'done.json')), t).toBe(false);
  else expect(temps).toEqual([]);
  for (const f of files.filter((f) => !f.includes('.tmp-'))) {
    const p = join(results, f);
    if (f.endsWith('.npy')) expect(() => decodeNpy(readFileSync(p)), f).not.toThrow();
    else if (f.endsWith('.json')) expect(() => JSON.parse(readFileSync(p, 'utf8')), f).not.toThrow();
    else if (f.endsWith('metrics.jsonl') && existsSync(join(p, '..', 'done.json'))) expect(() => parseMetrics(readFileSync(p, 'utf8'), f)).not.toThrow();
  }
}

describe('runner survives being killed', () => {
  const spec = tinySpec({ widths: [16, 32, 64], seeds: 2, ensemble: 1, steps: 30, eval: 10 });

  it('SIGKILL mid-sweep, run again: finished runs are not redone, no file is corrupt, results equal an uninterrupted run', async () => {
    const { dir, spec: specPath, results, counter } = specDir(spec);
    const first = await runChild(specPath, results, counter, { sleepMs: 8, signal: 'SIGKILL', whenDone: 2 });
    expect(first.signal).toBe('SIGKILL');
    expectNoCorruptFile(results, true);
    const doneBefore = readdirSync(results).filter((d) => existsSync(join(results, d, 'done.json')));
    expect(doneBefore.length).toBeGreaterThanOrEqual(2);
    expect(doneBefore.length).toBeLessThan(6);

    const second = await runChild(specPath, results, counter, { sleepMs: 0 });
    expect(second.code).toBe(0);
    expectNoCorruptFile(results);
    const trained = readFileSync(counter, 'utf8').trim().split('\n');
    for (const id of doneBefore) expect(trained.filter((t) => t === id).length, `run ${id} trained again`).toBe(1);
    expect(new Set(trained).size).toBe(6);

    const ref = join(dir, 'reference');
    await runSweep(resolveSweep(loadSpec(specPath)), { resultsDir: ref, trainer: createFakeTrainer(), progress: false, log: () => {}, handleSignals: false });
    expectSameResults(results, ref);
  });

  it('SIGINT stops cleanly (exit 130, no partial files) and a rerun completes', async () => {
    const { spec: specPath, results, counter } = specDir(spec);
    const first = await runChild(specPath, results, counter, { sleepMs: 8, signal: 'SIGINT', whenDone: 1 });
    expect(first.code).toBe(130);
    expectNoCorruptFile(results);
    const finished = readdirSync(results).filter((d) => existsSync(join(results, d, 'done.json'))).length;
    expect(finished).toBeLessThan(6);
    const second = await runChild(specPath, results, counter, { sleepMs: 0 });
    expect(second.code).toBe(0);
    expect(readdirSync(results).filter((d) => existsSync(join(results, d, 'done.json'))).length).toBe(6);
  });
});
