/**
 * @file A hang watchdog for a process that drives the GPU.
 *
 * Dawn over llvmpipe can stop inside a native call and never return (seen once in a clean-clone
 * test run here; reported for Dawn's WaitAny on llvmpipe by llama.cpp's WebGPU backend): the main
 * thread sleeps, so no timer of its own ever fires. A worker thread watches a heartbeat that the
 * main thread's event loop beats every second. When no beat has come for `limitS` seconds, it
 * prints the label, what was running and every thread's native stack (gdb, when installed),
 * writes the same under `dir` (when given) and kills its own process with SIGKILL.
 * Test files run under it (test/setup.ts, WIDTHSCOPE_HANG_S / WIDTHSCOPE_HANG_DIR), and so does
 * the sweep worker (src/cli/supervise.ts restarts it).
 */
import { Worker } from 'node:worker_threads';

const NAME_BYTES = 1024;

const WATCHER = `
const { workerData } = require('node:worker_threads');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { beat, name, limitS, pid, file, dir } = workerData;
// look every 5 s, or twice per limit when the limit is shorter
const every = Math.min(5000, limitS * 500);
const nameBytes = new Uint8Array(name);
setInterval(() => {
  const stalled = Math.floor(Date.now() / 1000) - Atomics.load(beat, 0);
  if (stalled < limitS) return;
  const end = nameBytes.indexOf(0);
  const test = Buffer.from(nameBytes.subarray(0, end < 0 ? nameBytes.length : end)).toString('utf8');
  const head = 'widthscope watchdog: ' + file + (test ? ' > ' + test : '') + ': the main thread has not run for ' +
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
}, every);
`;

export interface Watchdog {
  /** Names what is running now (a test, a run) in the report. */
  setTest(name: string): void;
  stop(): void;
}

/**
 * Starts the watchdog (`file` names the process in the report: a test file, a sweep). `dir`
 * defaults to WIDTHSCOPE_HANG_DIR.
 */
export function startWatchdog(file: string, limitS: number, dir = process.env.WIDTHSCOPE_HANG_DIR ?? ''): Watchdog {
  if (!(limitS > 0)) throw new Error(`watchdog: the hang limit must be a positive number of seconds, got '${limitS}'`);
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const name = new SharedArrayBuffer(NAME_BYTES);
  const now = () => Atomics.store(beat, 0, Math.floor(Date.now() / 1000));
  now();
  const heart = setInterval(now, 1000);
  heart.unref();
  // execArgv: [] so the watcher runs as plain CommonJS whatever flags the host was started with
  // (--input-type=module would make the eval'd code a module without `require`).
  const worker = new Worker(WATCHER, {
    eval: true,
    execArgv: [],
    workerData: { beat, name, limitS, pid: process.pid, file, dir },
  });
  // A watcher that fails must not take the process it watches down with it.
  worker.on('error', (e) => console.error(`widthscope watchdog: the watcher stopped (${e}); hangs will not be caught`));
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
