/**
 * @file A per-adapter autotuner: times candidate kernel configurations for a shape class and
 * caches the winner in a JSON file under the user's cache directory
 * ($XDG_CACHE_HOME/widthscope or ~/.cache/widthscope), one file per adapter. The cache survives
 * restarts; a file written for another adapter is ignored, and an op's entries are dropped when
 * the WGSL source of its kernels changes (sha256 of the sources). Generic: an op supplies a
 * candidate list, a shape-class key and a launch function (matmul does; conv2d can).
 *
 * Ops are synchronous (they append dispatches), timing is not: `lookup` is the synchronous path
 * an op takes (winner or undefined); with tuning on, a miss is queued by `request` and tuned by
 * `await tunePending(device)` (call it after a first step, or use `tune` directly).
 * On/off: `configureAutotune(device, { enabled })`, else env WIDTHSCOPE_AUTOTUNE=1|0, else on
 * outside tests and off under vitest (results must not depend on a machine's cache).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '../tensor/device.js';
import { defaultCacheDir } from '../util/cache-dir.js';
import { envFlag } from '../util/env.js';

export { defaultCacheDir };

export interface TuneTarget<C> {
  /** The op's name (one section of the cache file). */
  op: string;
  /** Kernel files (names without .wgsl) whose sources key the cache. */
  kernels: readonly string[];
  /** The shape class the winner is cached for. */
  shapeClass: string;
  /** Configurations to time; the first is the default. */
  candidates: readonly C[];
  /** A stable name of a configuration (tables, logs). */
  name(c: C): string;
  /** Appends one run of `c` to the device's open encoder (no await). */
  launch(c: C): void;
  /** Frees what `launch` allocated (called once timing ends). */
  dispose?(): void;
}

export interface TuneResult<C> {
  winner: C;
  timings: { name: string; ms: number }[];
}

export interface AutotuneOptions {
  enabled?: boolean;
  /** Cache directory (tests use a temp dir). */
  dir?: string;
  /** Timed repetitions per candidate and round (min over rounds is kept). */
  reps?: number;
  rounds?: number;
}

interface CacheEntry {
  config: unknown;
  ms: number;
  timings: { name: string; ms: number }[];
}

interface CacheFile {
  version: 1;
  adapter: string;
  ops: Record<string, { hash: string; entries: Record<string, CacheEntry> }>;
}

/** env WIDTHSCOPE_AUTOTUNE=1|0 decides (any other value is an error); otherwise on, except under vitest. */
export function autotuneDefault(): boolean {
  return envFlag('WIDTHSCOPE_AUTOTUNE') ?? !process.env.VITEST;
}

export class Autotuner {
  enabled: boolean;
  readonly dir: string;
  private reps: number;
  private rounds: number;
  private cache: CacheFile | null = null;
  private hashes = new Map<string, string>();
  private pending = new Map<string, () => Promise<unknown>>();

  constructor(readonly device: Device, opts: AutotuneOptions = {}) {
    this.enabled = opts.enabled ?? autotuneDefault();
    this.dir = opts.dir ?? defaultCacheDir();
    this.reps = opts.reps ?? 2;
    this.rounds = opts.rounds ?? 2;
  }

  get file(): string {
    return join(this.dir, `autotune-${this.device.adapterSlug}.json`);
  }

  private get adapterId(): string {
    const { vendor, architecture, description } = this.device.adapterInfo;
    return `${vendor} / ${architecture} / ${description}`;
  }

  /** sha256 of the kernels' WGSL sources (what invalidates an op's cached winners). */
  sourceHash(kernels: readonly string[]): string {
    const key = kernels.join(',');
    let h = this.hashes.get(key);
    if (!h) {
      const hash = createHash('sha256');
      for (const k of kernels) hash.update(`${k}\n${this.device.kernels.load(k).source}\n`);
      h = hash.digest('hex').slice(0, 16);
      this.hashes.set(key, h);
    }
    return h;
  }

  private load(): CacheFile {
    if (this.cache) return this.cache;
    let file: CacheFile | null = null;
    try {
      file = JSON.parse(readFileSync(this.file, 'utf8')) as CacheFile;
    } catch {
      file = null;
    }
    // A file for another adapter (or an old format) is ignored.
    if (!file || file.version !== 1 || file.adapter !== this.adapterId || typeof file.ops !== 'object') {
      file = { version: 1, adapter: this.adapterId, ops: {} };
    }
    this.cache = file;
    return file;
  }

  private section(op: string, kernels: readonly string[]) {
    const cache = this.load();
    const hash = this.sourceHash(kernels);
    let s = cache.ops[op];
    if (!s || s.hash !== hash) s = cache.ops[op] = { hash, entries: {} };
    return s;
  }

  /** The cached winner for a shape class, or undefined (also when tuning is off). */
  lookup<C>(op: string, kernels: readonly string[], shapeClass: string): C | undefined {
    if (!this.enabled) return undefined;
    return this.section(op, kernels).entries[shapeClass]?.config as C | undefined;
  }

  /** Queues a tune for a cache miss; `tunePending` runs it. */
  request<C>(target: TuneTarget<C>): void {
    if (!this.enabled) return;
    const id = `${target.op}|${target.shapeClass}`;
    if (!this.pending.has(id)) this.pending.set(id, () => this.tune(target));
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  async tunePending(): Promise<void> {
    const jobs = [...this.pending.values()];
    this.pending.clear();
    for (const job of jobs) await job();
  }

  /** Times every candidate (pipelines compiled first), caches and returns the fastest. */
  async tune<C>(t: TuneTarget<C>): Promise<TuneResult<C>> {
    if (t.candidates.length === 0) throw new Error(`autotune ${t.op} ${t.shapeClass}: no candidates`);
    await this.device.sync();
    const timings: { name: string; ms: number }[] = [];
    try {
      await this.timeAll(t, timings);
    } finally {
      t.dispose?.();
    }
    let w = 0;
    for (let i = 1; i < timings.length; i++) if (timings[i].ms < timings[w].ms) w = i;
    const winner = t.candidates[w];
    this.section(t.op, t.kernels).entries[t.shapeClass] = { config: winner, ms: timings[w].ms, timings };
    this.save();
    return { winner, timings };
  }

  private async timeAll<C>(t: TuneTarget<C>, timings: { name: string; ms: number }[]): Promise<void> {
    for (const c of t.candidates) {
      t.launch(c);
      await this.device.sync();
      let best = Infinity;
      for (let r = 0; r < this.rounds; r++) {
        const t0 = performance.now();
        for (let i = 0; i < this.reps; i++) t.launch(c);
        await this.device.sync();
        best = Math.min(best, (performance.now() - t0) / this.reps);
      }
      timings.push({ name: t.name(c), ms: best });
    }
  }

  /** Forgets the in-memory copy (the next lookup re-reads the file). */
  reload(): void {
    this.cache = null;
    this.hashes.clear();
  }

  private save(): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.load(), null, 1));
    renameSync(tmp, this.file);
  }
}

const tuners = new WeakMap<Device, Autotuner>();

/** The device's autotuner (created with the defaults on first use). */
export function autotunerFor(device: Device): Autotuner {
  let t = tuners.get(device);
  if (!t) tuners.set(device, (t = new Autotuner(device)));
  return t;
}

/** Turns autotuning on/off for a device, or points it at another cache directory. */
export function configureAutotune(device: Device, opts: AutotuneOptions): Autotuner {
  const t = new Autotuner(device, opts);
  tuners.set(device, t);
  return t;
}

/** Runs every tune queued by ops since the last call. */
export async function tunePending(device: Device): Promise<void> {
  await autotunerFor(device).tunePending();
}
