/**
 * @file What survives a restart of the kernel toolchain: each module's reflection (bindings,
 * uniform layout, overrides), keyed by sha256 of its expanded WGSL source, so a process whose
 * kernels are all cached never loads the WGSL parser; and the list of pipelines a process
 * created first (warm.ts compiles them in the background at the next start). Dawn's compiled
 * pipelines themselves cannot be kept: the `webgpu` package gives Dawn no blob cache.
 *
 * Files live under <cache dir>/kernels ($XDG_CACHE_HOME/widthscope/kernels or
 * ~/.cache/widthscope/kernels): one `<sha256>.json` per module, holding its body and the body's
 * sha256, written to a temporary name and renamed (a reader never sees half a file). A file that
 * does not parse, or whose checksum or key does not match, is ignored and rewritten. A directory
 * that cannot be written costs one warning per process; everything still works, uncached.
 * Off: WIDTHSCOPE_PIPELINE_CACHE=0.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir } from '../util/cache-dir.js';
import { envFlag } from '../util/env.js';
import type { ModuleReflection } from './reflect.js';

/** Bump when the reflection's shape or meaning changes: older files are then never read. */
const FORMAT = 1;

export interface PipelineKey {
  kernel: string;
  entry: string;
  constants: Record<string, number>;
}

/** env WIDTHSCOPE_PIPELINE_CACHE=1|0 decides (any other value is an error); default on. */
export function pipelineCacheDefault(): boolean {
  return envFlag('WIDTHSCOPE_PIPELINE_CACHE') ?? true;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The key of a module's reflection: its expanded source and the cache format. */
export function reflectionKey(source: string): string {
  return sha256(`widthscope-reflection-${FORMAT}\n${source}`);
}

let warned = false;

/** Forgets that the unwritable-directory warning was printed (tests). */
export function resetCacheWarning(): void {
  warned = false;
}

export class KernelCache {
  /** Files read and written, and files found corrupt (tests and the first-op bench read them). */
  readonly stats = { hits: 0, misses: 0, corrupt: 0, writes: 0, writeFailures: 0 };

  /** `dir`: the kernels directory; null: no cache (every lookup misses, nothing is written). */
  constructor(readonly dir: string | null) {}

  /** The cache the environment asks for: <cache dir>/kernels, or none with WIDTHSCOPE_PIPELINE_CACHE=0. */
  static fromEnv(): KernelCache {
    return new KernelCache(pipelineCacheDefault() ? join(defaultCacheDir(), 'kernels') : null);
  }

  /** The cached reflection of `source`, or undefined (also for a corrupt file, counted in stats). */
  getReflection(source: string): ModuleReflection | undefined {
    if (!this.dir) return undefined;
    const key = reflectionKey(source);
    const body = this.readChecked(`${key}.json`, key);
    if (body === undefined) return undefined;
    const r = body as ModuleReflection;
    if (!Array.isArray(r.overrides) || !Array.isArray(r.entries)) {
      this.stats.corrupt++;
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return r;
  }

  putReflection(source: string, reflection: ModuleReflection): void {
    if (!this.dir) return;
    const key = reflectionKey(source);
    this.writeChecked(`${key}.json`, key, reflection);
  }

  /** The pipelines the last process on `adapter` created first (its warm list), or []. */
  getWarmList(adapter: string): PipelineKey[] {
    if (!this.dir) return [];
    const body = this.readChecked(`warm-${adapter}.json`, `warm-${adapter}`);
    if (body === undefined) return [];
    if (!Array.isArray(body)) {
      this.stats.corrupt++;
      this.stats.misses++;
      return [];
    }
    this.stats.hits++;
    return body as PipelineKey[];
  }

  putWarmList(adapter: string, list: readonly PipelineKey[]): void {
    if (!this.dir) return;
    this.writeChecked(`warm-${adapter}.json`, `warm-${adapter}`, list);
  }

  private readChecked(name: string, key: string): unknown {
    let text: string;
    try {
      text = readFileSync(join(this.dir!, name), 'utf8');
    } catch {
      this.stats.misses++;
      return undefined;
    }
    try {
      const file = JSON.parse(text) as { format: number; key: string; checksum: string; body: string };
      if (file.format === FORMAT && file.key === key && typeof file.body === 'string' && sha256(file.body) === file.checksum) {
        return JSON.parse(file.body) as unknown;
      }
    } catch {
      /* counted as corrupt below */
    }
    this.stats.corrupt++;
    this.stats.misses++;
    return undefined;
  }

  private writeChecked(name: string, key: string, value: unknown): void {
    const body = JSON.stringify(value);
    const text = JSON.stringify({ format: FORMAT, key, checksum: sha256(body), body });
    const file = join(this.dir!, name);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      mkdirSync(this.dir!, { recursive: true });
      writeFileSync(tmp, text);
      renameSync(tmp, file);
      this.stats.writes++;
    } catch (e) {
      this.stats.writeFailures++;
      try {
        unlinkSync(tmp);
      } catch {
        /* never created */
      }
      if (!warned) {
        warned = true;
        console.warn(
          `widthscope: cannot write the kernel cache in ${this.dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ` +
            'kernels are reflected again in every process (set XDG_CACHE_HOME to a writable directory, or WIDTHSCOPE_PIPELINE_CACHE=0)',
        );
      }
    }
  }
}
