// `widthscope sweep` under its hang watchdog (src/cli/supervise.ts): a worker whose main thread
// blocks (as in a stuck native call) is killed with its stacks printed and started again; the
// sweep then finishes. A worker that hangs every time is given up on with a clear message.
// The hang comes from test/fixtures/hang-sweep*.ts, loaded with `node --import` (the CLI has no
// hook for it).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tinySpec, tmp, writeSpec } from '../experiments/util.js';
import { exitStatus } from '../../src/cli/supervise.js';

const ROOT = join(__dirname, '../..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const HANG = (mode: 'once' | 'always') => pathToFileURL(join(ROOT, 'test', 'fixtures', `hang-sweep-${mode}.ts`)).href;

/** Runs the sweep CLI on a tiny spec; `hang` loads the hang fixture into it (and its workers). */
function sweep(args: string[], hang?: 'once' | 'always') {
  const dir = tmp('ws-supervise-');
  const spec = writeSpec(dir, tinySpec());
  const results = join(dir, 'results');
  const preload = hang ? ['--import', HANG(hang)] : [];
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...preload, MAIN, 'sweep', spec, '--fake', '--results', results, '--no-progress', '--no-report', ...args], {
    // the fake trainer sleeps per step so that the hook sees a run in training
    cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, WIDTHSCOPE_FAKE_SLEEP_MS: hang ? '20' : '0' },
  });
  const done = existsSync(results) ? readdirSync(results).filter((d) => existsSync(join(results, d, 'done.json'))).length : 0;
  return { ...r, dir, done, marker: join(dir, 'hung') };
}

describe('sweep hang supervision', () => {
  it('restarts a worker that hung and finishes the sweep', () => {
    const r = sweep(['--hang-timeout', '2'], 'once');
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(r.marker)).toBe(true);
    expect(r.stderr).toMatch(/widthscope watchdog: sweep .*spec\.json: the main thread has not run for \d+ s/);
    expect(r.stderr).toContain('the worker hung in a native call (stacks above) and was killed; starting it again (restart 1 of 3)');
    const clean = sweep([]);
    expect(clean.status, clean.stderr).toBe(0);
    expect(r.done).toBe(clean.done);
    expect(r.done).toBeGreaterThan(0);
  }, 120_000);

  it('gives up after --restarts with its own exit status and says how to resume', () => {
    const r = sweep(['--hang-timeout', '2', '--restarts', '1'], 'always');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('restart 1 of 1');
    expect(r.stderr).toContain('gave up after 1 restart(s). Finished runs are kept: run the same command to resume.');
  }, 120_000);

  it('rejects a bad --hang-timeout or --restarts', () => {
    for (const args of [['--hang-timeout', '-1'], ['--restarts', '1.5'], ['--hang-timeout', 'soon']]) {
      const r = sweep(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('sweep: --hang-timeout must be a number of seconds >= 0 and --restarts an integer >= 0');
    }
  }, 60_000);

  it('a worker killed by a signal gives 128 + its number, and a crash is named', () => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    expect(exitStatus({ code: 0, signal: null }, log)).toBe(0);
    expect(exitStatus({ code: 2, signal: null }, log)).toBe(2);
    expect(exitStatus({ code: null, signal: 'SIGINT' }, log)).toBe(130);
    expect(exitStatus({ code: null, signal: 'SIGTERM' }, log)).toBe(143);
    expect(lines).toEqual([]); // the user's own stop needs no explanation
    expect(exitStatus({ code: null, signal: 'SIGSEGV' }, log)).toBe(139);
    expect(lines).toEqual(['widthscope sweep: the worker was killed by SIGSEGV (a crash in native code). Finished runs are kept: run the same command to resume.']);
    expect(exitStatus({ code: null, signal: 'SIGKILL' }, log)).toBe(137);
    expect(lines[1]).toContain('killed by SIGKILL (out of memory, or killed by hand)');
  });
});
