/**
 * @file How the main thread waits for the GPU.
 *
 * Dawn's Node binding settles pending promises (mapAsync, onSubmittedWorkDone) by re-arming
 * `globalThis.setImmediate`, looked up on every re-arm: while JS awaits the GPU the main thread
 * spins on a core. On a software adapter (lavapipe, SwiftShader) that core is taken from the
 * driver's worker threads; making the poll sleep (`setTimeout`, ~1 ms granularity) made every
 * measured workload 1.5-1.9x faster there. On a discrete GPU the spin costs nothing but a core
 * and saves ~1 ms per await. We swap the global only while one of our own waits is pending.
 *
 * 'predict' (the default on software adapters) sleeps the same way, but the timer's ~1 ms steps
 * find the GPU done up to a step late, which is a quarter of a small training step. So a wait
 * that has a predecessor of the same kind (`key`: the device passes the dispatches submitted since
 * its last wait, which a training step's readback repeats) sleeps on the timer only until 1.5 ms
 * before the predecessor's duration less 10% (at most POLL_WINDOW_MS less), then blocks the thread
 * without using the CPU (Atomics.wait) until then and polls every POLL_MS, up to POLL_WINDOW_MS
 * past the predecessor's duration; past that it is back on the timer, so a wait much longer than
 * its predecessor costs no more CPU than 'sleep', and no wait polls for more than 2 POLL_WINDOW_MS.
 */

import { isSoftwareAdapter } from './adapters.js';

export type WaitStrategy = 'sleep' | 'spin' | 'predict';

const nativeSetImmediate = globalThis.setImmediate;
let sleepingWaits = 0;

/** 'predict': the poll interval near the expected end, and how long past it polling goes on. */
export const POLL_MS = 0.05;
export const POLL_WINDOW_MS = 2;
/** 'predict' sleeps on the timer while more than this is left before the expected end. */
const TIMER_STEP_MS = 1.5;

/**
 * How 'predict' re-arms Dawn's poll `elapsedMs` into a wait whose predecessor took `expectedMs`:
 * on the timer (~1 ms), or after blocking the thread for `ms`.
 */
export function predictedPoll(elapsedMs: number, expectedMs: number): { timer: true } | { timer: false; ms: number } {
  const remaining = Math.max(0.9 * expectedMs, expectedMs - POLL_WINDOW_MS) - elapsedMs;
  if (remaining > TIMER_STEP_MS || elapsedMs > expectedMs + POLL_WINDOW_MS) return { timer: true };
  return { timer: false, ms: Math.max(POLL_MS, remaining) };
}

function sleepingSetImmediate(fn: (...args: unknown[]) => void, ...args: unknown[]) {
  return setTimeout(fn, 0, ...args) as unknown as NodeJS.Immediate;
}

const blocker = new Int32Array(new SharedArrayBuffer(4));
/** The running 'predict' wait's start and its predecessor's duration (0: none, sleep as 'sleep'). */
let predicted = { start: 0, expectedMs: 0 };
/** The last duration of each kind of 'predict' wait (forgotten all at once past MAX_KINDS kinds). */
const lastDuration = new Map<number, number>();
const MAX_KINDS = 256;

function predictingSetImmediate(fn: (...args: unknown[]) => void, ...args: unknown[]) {
  const next = predictedPoll(performance.now() - predicted.start, predicted.expectedMs);
  if (next.timer) return sleepingSetImmediate(fn, ...args);
  Atomics.wait(blocker, 0, 0, next.ms);
  return nativeSetImmediate(fn, ...args);
}

/**
 * Awaits `start()`'s promise with Dawn's poll loop following `strategy`; `key` names the kind of
 * wait for 'predict' (without one, or nested in a pending wait, it polls as 'sleep' would: a
 * pipeline compile's length says nothing of the next one's).
 */
export async function waitFor<T>(strategy: WaitStrategy, start: () => Promise<T>, key?: number): Promise<T> {
  if (strategy === 'spin') return start();
  // the kind this wait predicts from and times for the next, if it predicts
  const kind = strategy === 'predict' && sleepingWaits === 0 ? key : undefined;
  if (kind !== undefined) predicted = { start: performance.now(), expectedMs: lastDuration.get(kind) ?? 0 };
  if (sleepingWaits++ === 0) {
    const poll = kind !== undefined && predicted.expectedMs > 0 ? predictingSetImmediate : sleepingSetImmediate;
    (globalThis as { setImmediate: unknown }).setImmediate = poll;
  }
  try {
    return await start();
  } finally {
    if (kind !== undefined) {
      if (lastDuration.size >= MAX_KINDS && !lastDuration.has(kind)) lastDuration.clear();
      lastDuration.set(kind, performance.now() - predicted.start);
    }
    if (--sleepingWaits === 0) globalThis.setImmediate = nativeSetImmediate;
  }
}

/** The automatic choice: predict on CPU (software) adapters, spin on real GPUs. */
export function defaultWaitStrategy(info: { vendor: string; architecture: string; description: string }): WaitStrategy {
  return isSoftwareAdapter(info) ? 'predict' : 'spin';
}
