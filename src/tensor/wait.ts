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
/** Waits of ours pending now (while any is, Dawn's poll loop is ours). */
let pendingWaits = 0;

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
/** A pending 'predict' wait: its start and its predecessor's duration. */
interface Prediction { start: number; expectedMs: number }
/** The pending 'predict' waits that have a predecessor (usually one: a readback). */
const predictions = new Set<Prediction>();
/** The last duration of each kind of 'predict' wait (forgotten all at once past MAX_KINDS kinds). */
const lastDuration = new Map<number, number>();
const MAX_KINDS = 256;

/** Polls as the pending prediction that asks for the earliest poll would. */
function predictingSetImmediate(fn: (...args: unknown[]) => void, ...args: unknown[]) {
  const now = performance.now();
  let blockMs = Infinity;
  for (const w of predictions) {
    const next = predictedPoll(now - w.start, w.expectedMs);
    if (!next.timer) blockMs = Math.min(blockMs, next.ms);
  }
  if (blockMs === Infinity) return sleepingSetImmediate(fn, ...args);
  Atomics.wait(blocker, 0, 0, blockMs);
  return nativeSetImmediate(fn, ...args);
}

/** Dawn's poll loop for the waits pending now: the native one when none is, else sleeping or predicting. */
function choosePoll(): void {
  const poll = pendingWaits === 0 ? nativeSetImmediate : predictions.size > 0 ? predictingSetImmediate : sleepingSetImmediate;
  (globalThis as { setImmediate: unknown }).setImmediate = poll;
}

/**
 * Awaits `start()`'s promise with Dawn's poll loop following `strategy`; `key` names the kind of
 * wait for 'predict'. A wait without one (a pipeline compile: its length says nothing of the
 * next one's) polls as 'sleep' would, unless a predicting wait is pending beside it: the poll
 * loop is one for all pending waits, so a background compile does not make a readback sleep.
 */
export async function waitFor<T>(strategy: WaitStrategy, start: () => Promise<T>, key?: number): Promise<T> {
  if (strategy === 'spin') return start();
  const began = performance.now();
  // the kind this wait predicts from and times for the next, if it predicts
  const kind = strategy === 'predict' ? key : undefined;
  const expectedMs = kind === undefined ? 0 : lastDuration.get(kind) ?? 0;
  const own: Prediction | undefined = expectedMs > 0 ? { start: began, expectedMs } : undefined;
  if (own) predictions.add(own);
  pendingWaits++;
  choosePoll();
  try {
    return await start();
  } finally {
    if (kind !== undefined) {
      if (lastDuration.size >= MAX_KINDS && !lastDuration.has(kind)) lastDuration.clear();
      lastDuration.set(kind, performance.now() - began);
    }
    if (own) predictions.delete(own);
    pendingWaits--;
    choosePoll();
  }
}

/** The automatic choice: predict on CPU (software) adapters, spin on real GPUs. */
export function defaultWaitStrategy(info: { vendor: string; architecture: string; description: string }): WaitStrategy {
  return isSoftwareAdapter(info) ? 'predict' : 'spin';
}
