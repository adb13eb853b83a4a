/**
 * @file The kernel cache and background warming under faults: bad switch values, a cache
 * directory that cannot be written (everything still works, one warning at most per process),
 * and a device destroyed while a warm-up is compiling.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import * as ws from '../../src/index.js';
import { Device } from '../../src/index.js';
import { KernelRegistry } from '../../src/tensor/kernel-registry.js';
import { KernelCache, resetCacheWarning } from '../../src/tensor/pipeline-cache.js';
import { UsageError } from '../../src/util/usage-error.js';
import { catalogue, type ErrorCase, type FaultCase } from './catalogue.js';

/** Runs `fn` with the environment variables set, then restores them. */
async function withEnv(vars: Record<string, string>, fn: () => unknown): Promise<unknown> {
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
  try {
    return await fn();
  } finally {
    vi.unstubAllEnvs();
  }
}

/** A path under which no directory can be made (its parent is a regular file), even for root. */
function unwritableHome(): { home: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'widthscope-unwritable-'));
  writeFileSync(join(root, 'file'), 'not a directory');
  return { home: join(root, 'file', 'cache'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const cases: ErrorCase[] = [
  { name: 'WIDTHSCOPE_PIPELINE_CACHE=yes', error: UsageError, run: () => withEnv({ WIDTHSCOPE_PIPELINE_CACHE: 'yes' }, () => Device.create()), mentions: ['WIDTHSCOPE_PIPELINE_CACHE', "'yes'", '1 | 0'] },
  { name: 'WIDTHSCOPE_WARM=later', error: UsageError, run: () => withEnv({ WIDTHSCOPE_WARM: 'later' }, () => Device.create()), mentions: ['WIDTHSCOPE_WARM', "'later'", '1 | 0'] },
];

const faults: FaultCase[] = [
  {
    name: 'a cache directory that cannot be written: kernels load and run, one warning naming the directory',
    timeoutMs: 120_000,
    run: async () => {
      const { home, cleanup } = unwritableHome();
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      resetCacheWarning();
      try {
        await withEnv({ XDG_CACHE_HOME: home }, async () => {
          // A device with warming on writes its warm list at destroy: a second failed write.
          const d = await Device.create({ warm: true });
          try {
            const reg = new KernelRegistry(d.gpu, KernelCache.fromEnv());
            reg.load('binary');
            reg.load('unary');
            expect(reg.cache.stats.writeFailures).toBe(2);
            const a = ws.fromArray([1, -2, 3], [3], { device: d });
            expect(Array.from(await ws.relu(ws.add(a, a)).data())).toEqual([2, 0, 6]);
            await d.warmer!.done;
          } finally {
            d.destroy();
          }
        });
        expect(warn).toHaveBeenCalledTimes(1);
        const message = String(warn.mock.calls[0][0]);
        expect(message).toContain(join(home, 'widthscope', 'kernels'));
        expect(message).toMatch(/cannot write the kernel cache .*ENOTDIR.*XDG_CACHE_HOME.*WIDTHSCOPE_PIPELINE_CACHE=0/);
      } finally {
        warn.mockRestore();
        cleanup();
      }
    },
  },
  {
    name: 'a device destroyed while its warm-up may be compiling: no error, no late pipeline, the next device works',
    timeoutMs: 120_000,
    run: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'widthscope-warm-'));
      try {
        await withEnv({ XDG_CACHE_HOME: dir }, async () => {
          const d = await Device.create({ warm: true });
          await new Promise((r) => setTimeout(r, 1)); // the first compile has started
          d.destroy();
          await d.warmer!.done;
          expect(d.warmer!.stats.compiled + d.warmer!.stats.failed).toBeLessThanOrEqual(1);
          expect(() => ws.zeros([2], { device: d })).toThrow(/the device was destroyed/);
          const next = await Device.create({ warm: false });
          try {
            expect(Array.from(await ws.mul(ws.full([2], 3, { device: next }), 2).data())).toEqual([6, 6]);
          } finally {
            next.destroy();
          }
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];

catalogue('kernel cache', cases, faults);
