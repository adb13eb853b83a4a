/**
 * @file A hang watchdog for test files.
 *
 * One clean-clone run of the suite once stopped inside a native call (Dawn or lavapipe; main
 * thread asleep at 0% CPU, cause not found): vitest's timeouts are timers on that blocked thread,
 * so they never fired and the run waited until CI's limit. Here a worker thread watches a
 * heartbeat that the main thread's event loop beats every second. When no beat has come for
 * WIDTHSCOPE_HANG_S seconds (default 300; a cold pipeline compile blocks for a few seconds at
 * most), it prints every thread's native stack (gdb, when installed), writes the same under
 * WIDTHSCOPE_HANG_DIR (where .ci/run looks for them) and kills its own process: vitest reports
 * "Worker exited unexpectedly" for this file and goes on with the next.
 */
import { Worker } from 'node:worker_threads';

const NAME_BYTES = 1024;

const WATCHER = `
const { workerData } = require('node:worker_threads');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { beat, name, limitS, pid, file, dir } = workerData;
const nameBytes = new Uint8Array(name);
setInterval(() => {
  const stalled = Math.floor(Date.now() / 1000) - Atomics.load(beat, 0);
  if (stalled < limitS) return;
  const end = nameBytes.indexOf(0);
  const test = Buffer.from(nameBytes.subarray(0, end < 0 ? nameBytes.length : end)).toString('utf8');
  const head = 'widthscope watchdog: ' + file + ' > ' + test + ': the main thread has not run for ' +
    stalled + ' s (blocked in a native call); killing pid ' + pid + ' so the run goes on\\n';
  let stacks = '';
  try {
    const r = spawnSync('gdb', ['-p', String(pid), '-batch', '-ex', 'thread apply all bt'], { encoding: 'utf8', timeout: 120000 });
    stacks = r.error ? 'gdb: ' + r.error.message + '\\n' : r.stdout + r.stderr;
  } catch (e) { stacks = 'gdb: ' + e + '\\n'; }
  fs.writeSync(2, head + stacks);
  if (dir) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'hang-' + pid + '.txt'), 'file: ' + file + '\\n' + head + stacks);
    } catch (e) { fs.writeSync(2, 'widthscope watchdog: could not record the hang: ' + e + '\\n'); }
  }
  process.kill(pid, 'SIGKILL');
}, 5000);
`;

export interface Watchdog {
  /** Names the running test in the report. */
  setTest(name: string): void;
  stop(): void;
}

/** Starts the watchdog for this test file (`file` names it in the report). */
export function startWatchdog(file: string, limitS = Number(process.env.WIDTHSCOPE_HANG_S ?? 300)): Watchdog {
  if (!(limitS > 0)) throw new Error(`watchdog: WIDTHSCOPE_HANG_S must be a positive number of seconds, got '${limitS}'`);
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const name = new SharedArrayBuffer(NAME_BYTES);
  const now = () => Atomics.store(beat, 0, Math.floor(Date.now() / 1000));
  now();
  const heart = setInterval(now, 1000);
  heart.unref();
  const worker = new Worker(WATCHER, {
    eval: true,
    workerData: { beat, name, limitS, pid: process.pid, file, dir: process.env.WIDTHSCOPE_HANG_DIR ?? '' },
  });
  worker.unref();
  return {
    setTest(test: string) {
      const bytes = new Uint8Array(name);
      bytes.fill(0);
      bytes.set(Buffer.from(test, 'utf8').subarray(0, NAME_BYTES - 1));
      now();
    },
    stop() {
      clearInterval(heart);
      void worker.terminate();
    },
  };
}
