/**
 * @file Background pipeline warming. After the device is created, the pipelines a process is
 * likely to need first are compiled with createComputePipelineAsync (Dawn's worker threads, off
 * the JS thread), one at a time and only when the JS thread yields, so that the ops find them
 * compiled. The list is the one the previous process on this adapter recorded (its first
 * WARM_LIST_LENGTH pipelines, kept by pipeline-cache.ts), else the elementwise pipelines.
 * A pipeline an op needs before its warm-up finished is compiled by the op as usual (the
 * warm-up's copy is then dropped): warming never makes an op wait.
 *
 * On/off: DeviceOptions.warm, else env WIDTHSCOPE_WARM=1|0, else on outside tests and off under
 * vitest (tests count pipelines and must not race a background compile).
 */
import type { KernelRegistry } from './kernel-registry.js';
import type { PipelineKey } from './pipeline-cache.js';
import { waitFor, type WaitStrategy } from './wait.js';
import { envFlag } from '../util/env.js';

/** What warming needs of a device (the Device in device.ts, which starts it). */
export interface WarmTarget {
  readonly kernels: KernelRegistry;
  readonly adapterSlug: string;
  readonly wait: WaitStrategy;
  readonly alive: boolean;
}

/** env WIDTHSCOPE_WARM=1|0 decides (any other value is an error); otherwise on, except under vitest. */
export function warmDefault(): boolean {
  return envFlag('WIDTHSCOPE_WARM') ?? !process.env.VITEST;
}

/** Warmed when no earlier process left a list: the elementwise pipelines of small tensors. */
export const DEFAULT_WARM_LIST: readonly PipelineKey[] = [
  { kernel: 'binary', entry: 'same', constants: { OP: 0 } }, // add
  { kernel: 'binary', entry: 'same_vec4', constants: { OP: 0 } },
  { kernel: 'binary', entry: 'same', constants: { OP: 2 } }, // mul
  { kernel: 'binary', entry: 'same_vec4', constants: { OP: 2 } },
  { kernel: 'binary', entry: 'same', constants: { OP: 1 } }, // sub
  { kernel: 'binary', entry: 'scalar_vec4', constants: { OP: 2 } },
  { kernel: 'unary', entry: 'main_vec4', constants: { OP: 10 } }, // relu
  { kernel: 'unary', entry: 'main_vec4', constants: { OP: 3 } }, // exp
];

export interface WarmStats {
  /** Pipelines compiled in the background. */
  compiled: number;
  /** Skipped: already compiled (an op was first), or gone from the kernels. */
  skipped: number;
  failed: number;
}

/** A running warm-up; `done` settles when the list is through or the warm-up was stopped. */
export class Warmer {
  readonly stats: WarmStats = { compiled: 0, skipped: 0, failed: 0 };
  readonly done: Promise<void>;
  private stopped = false;

  constructor(private readonly device: WarmTarget, readonly list: readonly PipelineKey[]) {
    this.done = this.run();
  }

  /** Starts no further compile (the one in flight finishes in Dawn). */
  stop(): void {
    this.stopped = true;
  }

  /** Stops, and keeps this process's first pipelines as the next process's list (when they differ). */
  finish(): void {
    this.stop();
    const first = this.device.kernels.firstPipelines;
    if (first.length === 0 || JSON.stringify(first) === JSON.stringify(this.list)) return;
    this.device.kernels.cache.putWarmList(this.device.adapterSlug, first);
  }

  private async run(): Promise<void> {
    const kernels = this.device.kernels;
    for (const key of this.list) {
      // Yield first: code that runs right after `await init()` goes before any warm-up work.
      await new Promise((r) => setTimeout(r, 0));
      if (this.stopped || !this.device.alive) return;
      try {
        const kernel = kernels.load(key.kernel);
        const entry = kernel.entries.get(key.entry);
        if (!entry || kernels.hasPipeline(kernel, entry, key.constants)) {
          this.stats.skipped++;
          continue;
        }
        await kernels.pipelineAsync(kernel, entry, key.constants, (start) => waitFor(this.device.wait, start));
        this.stats.compiled++;
      } catch {
        // A stale list entry (a kernel renamed, an override removed) or a lost device: warming
        // is an optimisation, the op that needs the pipeline reports any real error itself.
        this.stats.failed++;
      }
    }
  }
}

/** Starts warming `device`'s pipelines in the background (the list from the cache, else the default). */
export function startWarm(device: WarmTarget): Warmer {
  const recorded = device.kernels.cache.getWarmList(device.adapterSlug);
  return new Warmer(device, recorded.length > 0 ? recorded : DEFAULT_WARM_LIST);
}
