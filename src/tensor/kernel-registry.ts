/**
 * @file Loads WGSL kernels from src/kernels/*.wgsl, reflects them (reflect.ts, or the disk cache
 * of pipeline-cache.ts) to build bind-group layouts and uniform layouts, checks every dispatch
 * against the reflection, and caches pipelines by (file, entry point, override constants).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { reflectModule, type BindingInfo, type EntryReflection, type ParamsInfo } from './reflect.js';
import { KernelCache, type PipelineKey } from './pipeline-cache.js';

export type { BindingInfo, ParamMember, ScalarKind } from './reflect.js';

const KERNEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'kernels');

export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export interface EntryInfo {
  file: string;
  entry: string;
  bindings: BindingInfo[];
  /** The one uniform struct of the entry point, filled from a `params` object. */
  params?: ParamsInfo;
  overrides: Set<string>;
  layout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
}

export interface KernelModule {
  file: string;
  module: GPUShaderModule;
  /** The source as compiled (includes expanded). */
  source: string;
  /** Where each line of `source` came from (for error messages). */
  lineOrigin: { file: string; line: number }[];
  compileInfo: Promise<GPUCompilationInfo>;
  entries: Map<string, EntryInfo>;
}

/** Where the kernel toolchain's time went in this process (milliseconds and counts). */
export interface KernelProfile {
  /** Reflection: a disk-cache lookup, plus wgsl_reflect's parse on a miss. */
  reflectMs: number;
  reflectHits: number;
  reflectMisses: number;
  /** createShaderModule (Dawn's WGSL front end). */
  moduleMs: number;
  /** Bind-group and pipeline layouts. */
  layoutMs: number;
  /** createComputePipeline on the caller's thread (Dawn's back end and the driver's compiler). */
  pipelineMs: number;
  /** Pipelines compiled in the background (warm.ts) and found ready by an op. */
  warmUsed: number;
  /** Pipelines an op compiled itself while the same one was compiling in the background. */
  warmRaced: number;
}

/** How many of a process's first pipelines are remembered for the next process to warm. */
export const WARM_LIST_LENGTH = 32;

/** The cache key of a pipeline; `keys` are the constants' names, sorted. */
function pipelineKey(file: string, entry: string, constants: Record<string, number>, keys: readonly string[]): string {
  return `${file}|${entry}|${keys.map((k) => `${k}=${constants[k]}`).join(',')}`;
}

export class KernelRegistry {
  /** Includes served from text made at run time (by name, e.g. 'unary_ops.wgsl'), for every device. */
  private static provided = new Map<string, string>();

  /**
   * Serves `//!include NAME` from `text` instead of src/kernels/include/NAME (a generated
   * include). Providing a name twice with different text is an error: compiled modules would
   * disagree.
   */
  static provideInclude(name: string, text: string): void {
    const had = KernelRegistry.provided.get(name);
    if (had !== undefined && had !== text) throw new Error(`kernel include ${name}: provided twice with different text`);
    KernelRegistry.provided.set(name, text);
  }

  private modules = new Map<string, KernelModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  /** Pipelines being compiled in the background (pipelineAsync), by key. */
  private compiling = new Set<string>();
  /** Number of compute pipelines created (a flat count across steps proves caching). */
  pipelinesCreated = 0;
  readonly profile: KernelProfile = {
    reflectMs: 0, reflectHits: 0, reflectMisses: 0, moduleMs: 0, layoutMs: 0, pipelineMs: 0, warmUsed: 0, warmRaced: 0,
  };
  /** The first pipelines this process asked for, in order (the next process's warm list). */
  readonly firstPipelines: PipelineKey[] = [];
  private warmed = new Set<string>();
  /** Modules loaded from kernel files (load), as opposed to loadSource text. */
  private files = new Set<string>();

  constructor(private readonly gpu: GPUDevice, readonly cache: KernelCache = KernelCache.fromEnv()) {}

  /** Whether a module named `name` is loaded (from a file or with loadSource). */
  has(name: string): boolean {
    return this.modules.has(name);
  }

  /** The kernel file `name` (without .wgsl), loaded, compiled and reflected once. */
  load(name: string): KernelModule {
    const cached = this.modules.get(name);
    if (cached) return cached;
    const file = `${name}.wgsl`;
    let source: string;
    try {
      source = readFileSync(join(KERNEL_DIR, file), 'utf8');
    } catch {
      throw new Error(`kernel '${name}': no file ${file} in ${KERNEL_DIR}`);
    }
    const kernel = this.loadSource(name, source);
    this.files.add(name);
    return kernel;
  }

  /**
   * Expands `//!include NAME.wgsl` lines with src/kernels/include/NAME.wgsl, or with the text
   * given to provideInclude (WGSL has no includes), remembering each line's origin so errors still name the right file and line.
   */
  static expandIncludes(file: string, source: string, seen: ReadonlySet<string> = new Set([file])): { source: string; lineOrigin: { file: string; line: number }[] } {
    const out: string[] = [];
    const lineOrigin: { file: string; line: number }[] = [];
    source.replace(/\n$/, '').split('\n').forEach((text, i) => {
      const m = /^\/\/!include\s+(\S+\.wgsl)\s*$/.exec(text);
      if (!m) {
        out.push(text);
        lineOrigin.push({ file, line: i + 1 });
        return;
      }
      const inc = `include/${m[1]}`;
      if (seen.has(inc)) throw new Error(`kernel ${file}:${i + 1}: ${inc} includes itself`);
      let body = KernelRegistry.provided.get(m[1]);
      if (body === undefined) {
        try {
          body = readFileSync(join(KERNEL_DIR, inc), 'utf8');
        } catch {
          const provided = [...KernelRegistry.provided.keys()].join(', ') || 'none';
          throw new Error(
            `kernel ${file}:${i + 1}: included file ${inc} not found in ${KERNEL_DIR}, and no module provided it ` +
              `(generated includes, provided so far: ${provided}, come from KernelRegistry.provideInclude in the module that generates them, which must be imported first)`,
          );
        }
      }
      // included files may include others (each expanded where it is named)
      const nested = KernelRegistry.expandIncludes(inc, body, new Set([...seen, inc]));
      out.push(...nested.source.split('\n'));
      lineOrigin.push(...nested.lineOrigin);
    });
    return { source: out.join('\n'), lineOrigin };
  }

  /** Compiles WGSL given as text (tests, user kernels) under the name `name`. */
  loadSource(name: string, raw: string): KernelModule {
    const file = `${name}.wgsl`;
    const { source, lineOrigin } = KernelRegistry.expandIncludes(file, raw);
    const prof = this.profile;
    const t0 = performance.now();
    let reflection = this.cache.getReflection(source);
    if (reflection) {
      prof.reflectHits++;
    } else {
      prof.reflectMisses++;
      reflection = reflectModule(file, source);
      this.cache.putReflection(source, reflection);
    }
    const t1 = performance.now();
    const module = this.gpu.createShaderModule({ label: file, code: source });
    const t2 = performance.now();
    const entries = new Map<string, EntryInfo>();
    const overrides = new Set(reflection.overrides);
    for (const e of reflection.entries) entries.set(e.entry, this.entryInfo(file, e, overrides));
    const t3 = performance.now();
    prof.reflectMs += t1 - t0;
    prof.moduleMs += t2 - t1;
    prof.layoutMs += t3 - t2;
    const kernel: KernelModule = {
      file,
      module,
      source,
      lineOrigin,
      compileInfo: module.getCompilationInfo(),
      entries,
    };
    this.modules.set(name, kernel);
    return kernel;
  }

  /** Errors of every module compiled so far, as `file:line:col: message`. */
  async compileErrors(): Promise<string[]> {
    const out: string[] = [];
    for (const k of this.modules.values()) {
      const info = await k.compileInfo;
      for (const m of info.messages) {
        const at = k.lineOrigin[m.lineNum - 1] ?? { file: k.file, line: m.lineNum };
        if (m.type === 'error') out.push(`${at.file}:${at.line}:${m.linePos}: ${m.message}`);
      }
    }
    return out;
  }

  pipeline(kernel: KernelModule, entry: EntryInfo, constants: Record<string, number>): GPUComputePipeline {
    const key = this.checkedKey(kernel, entry, constants);
    let p = this.pipelines.get(key);
    if (p) {
      if (this.warmed.delete(key)) {
        this.profile.warmUsed++;
        this.remember(kernel, entry, constants);
      }
      return p;
    }
    if (this.compiling.has(key)) this.profile.warmRaced++;
    const t0 = performance.now();
    p = this.gpu.createComputePipeline(this.descriptor(key, kernel, entry, constants));
    this.profile.pipelineMs += performance.now() - t0;
    this.pipelinesCreated++;
    this.pipelines.set(key, p);
    this.remember(kernel, entry, constants);
    return p;
  }

  /** Whether the pipeline of (kernel, entry, constants) is compiled or compiling. */
  hasPipeline(kernel: KernelModule, entry: EntryInfo, constants: Record<string, number>): boolean {
    const key = this.checkedKey(kernel, entry, constants);
    return this.pipelines.has(key) || this.compiling.has(key);
  }

  /**
   * Compiles a pipeline off the JS thread (createComputePipelineAsync) and keeps it, so that
   * `pipeline()` finds it ready; `wait` runs the await (the device's poll strategy).
   */
  async pipelineAsync(
    kernel: KernelModule,
    entry: EntryInfo,
    constants: Record<string, number>,
    wait: (start: () => Promise<GPUComputePipeline>) => Promise<GPUComputePipeline>,
  ): Promise<void> {
    const key = this.checkedKey(kernel, entry, constants);
    if (this.pipelines.has(key) || this.compiling.has(key)) return;
    this.compiling.add(key);
    try {
      const p = await wait(() => this.gpu.createComputePipelineAsync(this.descriptor(key, kernel, entry, constants)));
      if (!this.pipelines.has(key)) {
        this.pipelines.set(key, p);
        this.pipelinesCreated++;
        this.warmed.add(key);
      }
    } finally {
      this.compiling.delete(key);
    }
  }

  private checkedKey(kernel: KernelModule, entry: EntryInfo, constants: Record<string, number>): string {
    const keys = Object.keys(constants).sort();
    for (const k of keys) {
      if (!entry.overrides.has(k)) {
        throw new Error(
          `kernel ${kernel.file}:${entry.entry}: unknown override constant '${k}' ` +
            `(declared: ${[...entry.overrides].join(', ') || 'none'})`,
        );
      }
    }
    return pipelineKey(kernel.file, entry.entry, constants, keys);
  }

  private descriptor(key: string, kernel: KernelModule, entry: EntryInfo, constants: Record<string, number>): GPUComputePipelineDescriptor {
    return { label: key, layout: entry.pipelineLayout, compute: { module: kernel.module, entryPoint: entry.entry, constants } };
  }

  /** Notes a pipeline of a kernel file (not of loadSource text) among the process's first. */
  private remember(kernel: KernelModule, entry: EntryInfo, constants: Record<string, number>): void {
    const name = kernel.file.replace(/\.wgsl$/, '');
    if (this.firstPipelines.length >= WARM_LIST_LENGTH || !this.files.has(name)) return;
    this.firstPipelines.push({ kernel: name, entry: entry.entry, constants: { ...constants } });
  }

  private entryInfo(file: string, e: EntryReflection, overrides: Set<string>): EntryInfo {
    const layout = this.gpu.createBindGroupLayout({
      label: `${file}:${e.entry}`,
      entries: e.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        // The uniform takes a dynamic offset into the device's ring (cacheable bind groups).
        buffer: { type: b.kind, hasDynamicOffset: b.kind === 'uniform' },
      })),
    });
    const pipelineLayout = this.gpu.createPipelineLayout({ bindGroupLayouts: [layout] });
    return { file, entry: e.entry, bindings: e.bindings, params: e.params, overrides, layout, pipelineLayout };
  }
}

/** Writes `values` into `view` at the struct layout of `params`; checks names and sizes. */
export function writeParams(
  where: string,
  params: NonNullable<EntryInfo['params']>,
  values: Record<string, number | readonly number[]>,
  view: DataView,
  base: number,
): void {
  const known = new Set(params.members.map((m) => m.name));
  for (const k of Object.keys(values)) {
    if (!known.has(k)) throw new Error(`${where}: unknown uniform member '${k}' (members: ${[...known].join(', ')})`);
  }
  for (const m of params.members) {
    const v = values[m.name];
    if (v === undefined) throw new Error(`${where}: uniform member '${m.name}' not given`);
    const list = typeof v === 'number' ? [v] : v;
    if (list.length > m.words) {
      throw new Error(`${where}: uniform member '${m.name}' holds ${m.words} words, got ${list.length}`);
    }
    for (let i = 0; i < m.words; i++) {
      const x = list[i] ?? 0;
      const at = base + m.offset + 4 * i;
      if (m.kind === 'f32') view.setFloat32(at, x, true);
      else if (m.kind === 'i32') view.setInt32(at, x, true);
      else view.setUint32(at, x, true);
    }
  }
}
