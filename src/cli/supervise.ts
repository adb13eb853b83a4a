/**
 * @file Runs `widthscope sweep` in a worker process and restarts it when the hang watchdog
 * (src/tensor/watchdog.ts) kills it.
 *
 * Dawn over llvmpipe can block forever inside a native call; a sweep of many hours would then sit
 * idle until someone looked. The worker runs the sweep under the watchdog; when the watchdog
 * kills it (its stacks are printed), this parent starts it again. The sweep is resumable (every
 * finished run has its done.json), so a restart loses only the run that was in progress.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Set in the worker's environment; the sweep command checks it to run instead of supervising. */
export const SWEEP_WORKER_ENV = 'WIDTHSCOPE_SWEEP_WORKER';
/** The worker's exit status after restarts ran out. */
export const GAVE_UP_EXIT = 3;

export interface SuperviseOptions {
  /** How many times a hung worker is started again. */
  restarts: number;
  log?: (line: string) => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs this same command line as the worker until it ends without a hang; resolves to its exit status. */
export async function superviseSweep(opts: SuperviseOptions): Promise<number> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const hangDir = mkdtempSync(join(tmpdir(), 'widthscope-hangs-'));
  try {
    for (let restart = 0; ; restart++) {
      const before = readdirSync(hangDir).length;
      const exit = await runWorker(hangDir);
      const hung = exit.signal === 'SIGKILL' && readdirSync(hangDir).length > before;
      if (!hung) return exitStatus(exit, log);
      if (restart >= opts.restarts) {
        log(`widthscope sweep: the worker hung in a native call again; gave up after ${opts.restarts} restart(s). ` +
          'Finished runs are kept: run the same command to resume.');
        return GAVE_UP_EXIT;
      }
      log(`widthscope sweep: the worker hung in a native call (stacks above) and was killed; starting it again ` +
        `(restart ${restart + 1} of ${opts.restarts}). Finished runs are kept; the run in progress starts over.`);
    }
  } finally {
    rmSync(hangDir, { recursive: true, force: true });
  }
}

/**
 * The worker's status as a shell reports it: its exit code, or 128 + the signal's number when a
 * signal ended it. A signal other than the user's Ctrl-C or SIGTERM (a native crash: SIGSEGV,
 * SIGABRT; the kernel's OOM killer: SIGKILL) is named in a line of its own.
 */
export function exitStatus(exit: Exit, log: (line: string) => void): number {
  if (exit.signal === null) return exit.code ?? 1;
  if (exit.signal !== 'SIGINT' && exit.signal !== 'SIGTERM') {
    log(`widthscope sweep: the worker was killed by ${exit.signal}` +
      `${exit.signal === 'SIGKILL' ? ' (out of memory, or killed by hand)' : ' (a crash in native code)'}. ` +
      'Finished runs are kept: run the same command to resume.');
  }
  return 128 + (constants.signals[exit.signal] ?? 0);
}

function runWorker(hangDir: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, [SWEEP_WORKER_ENV]: '1', WIDTHSCOPE_HANG_DIR: hangDir },
    });
    // Ctrl-C reaches the worker through the terminal's process group: it stops cleanly and we
    // wait for it. A SIGTERM sent to this process alone is passed on.
    const onInt = () => {};
    const onTerm = () => child.kill('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
    child.on('error', (e) => {
      done();
      reject(e);
    });
    child.on('exit', (code, signal) => {
      done();
      resolve({ code, signal });
    });
  });
}
