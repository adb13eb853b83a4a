/**
 * @file How the main thread waits for the GPU.
 *
 * Dawn's Node binding settles pending promises (mapAsync, onSubmittedWorkDone) by re-arming
 * `globalThis.setImmediate`, looked up on every re-arm: while JS awaits the GPU the main thread
 * spins on a core. On a software adapter (lavapipe, SwiftShader) that core is taken from the
 * driver's worker threads; making the poll sleep (`setTimeout`, ~1 ms granularity) made every
 * measured workload 1.5-1.9x faster there. On a discrete GPU the spin costs nothing but a core
 * and saves ~1 ms per await. We swap the global only while one of our own waits is pending.
 */

export type WaitStrategy = 'sleep' | 'spin';

const nativeSetImmediate = globalThis.setImmediate;
let sleepingWaits = 0;

function sleepingSetImmediate(fn: (...args: unknown[]) => void, ...args: unknown[]) {
  return setTimeout(fn, 0, ...args) as unknown as NodeJS.Immediate;
}

/** Awaits `start()`'s promise with Dawn's poll loop following `strategy`. */
export async function waitFor<T>(strategy: WaitStrategy, start: () => Promise<T>): Promise<T> {
  if (strategy === 'spin') return start();
  if (sleepingWaits++ === 0) {
    (globalThis as { setImmediate: unknown }).setImmediate = sleepingSetImmediate;
  }
  try {
    return await start();
  } finally {
    if (--sleepingWaits === 0) globalThis.setImmediate = nativeSetImmediate;
  }
}

/** The automatic choice: sleep on CPU (software) adapters, spin on real GPUs. */
export function defaultWaitStrategy(info: { vendor: string; architecture: string; description: string }): WaitStrategy {
  const text = `${info.vendor} ${info.architecture} ${info.description}`.toLowerCase();
  return /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text) ? 'sleep' : 'spin';
}
