/**
 * @file Loads WGSL kernels from src/kernels/*.wgsl, reflects them with wgsl_reflect to build
 * bind-group layouts and uniform layouts, checks every dispatch against the reflection, and
 * caches pipelines by (file, entry point, override constants).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { WgslReflect, ResourceType, type VariableInfo, type FunctionInfo } from 'wgsl_reflect/wgsl_reflect.module.js';

const KERNEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'kernels');

export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export type ScalarKind = 'u32' | 'i32' | 'f32';

export interface ParamMember {
  name: string;
  offset: number;
  words: number;
  kind: ScalarKind;
}

export interface BindingInfo {
  name: string;
  binding: number;
  kind: 'uniform' | 'storage' | 'read-only-storage';
  /** A storage array's element kind (vec4f counts as f32; atomics as their scalar). */
  element?: ScalarKind;
}

export interface EntryInfo {
  file: string;
  entry: string;
  bindings: BindingInfo[];
  /** The one uniform struct of the entry point, filled from a `params` object. */
  params?: { name: string; binding: number; size: number; members: ParamMember[] };
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

function scalarKindOf(typeName: string): ScalarKind {
  if (/f32|vec\df\b|f16/.test(typeName)) return 'f32';
  if (/i32|vec\di\b/.test(typeName)) return 'i32';
  return 'u32';
}

function typeNameOf(member: { type: { getTypeName(): string; name: string } }): string {
  return member.type.getTypeName?.() ?? member.type.name;
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
  /** Number of compute pipelines created (a flat count across steps proves caching). */
  pipelinesCreated = 0;

  constructor(private readonly gpu: GPUDevice) {}

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
    return this.loadSource(name, source);
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
          throw new Error(`kernel ${file}:${i + 1}: included file ${inc} not found in ${KERNEL_DIR}`);
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
    let reflect: WgslReflect;
    try {
      reflect = new WgslReflect(source);
    } catch (e) {
      throw new Error(`kernel ${file}: WGSL parse error: ${(e as Error).message}`);
    }
    const module = this.gpu.createShaderModule({ label: file, code: source });
    const entries = new Map<string, EntryInfo>();
    const overrides = new Set(reflect.overrides.map((o) => o.name));
    for (const fn of reflect.entry.compute) entries.set(fn.name, this.reflectEntry(file, fn, overrides));
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
    const keys = Object.keys(constants).sort();
    for (const k of keys) {
      if (!entry.overrides.has(k)) {
        throw new Error(
          `kernel ${kernel.file}:${entry.entry}: unknown override constant '${k}' ` +
            `(declared: ${[...entry.overrides].join(', ') || 'none'})`,
        );
      }
    }
    const key = `${kernel.file}|${entry.entry}|${keys.map((k) => `${k}=${constants[k]}`).join(',')}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.gpu.createComputePipeline({
        label: key,
        layout: entry.pipelineLayout,
        compute: { module: kernel.module, entryPoint: entry.entry, constants },
      });
      this.pipelinesCreated++;
      this.pipelines.set(key, p);
    }
    return p;
  }

  private reflectEntry(file: string, fn: FunctionInfo, overrides: Set<string>): EntryInfo {
    const bindings: BindingInfo[] = [];
    let params: EntryInfo['params'];
    for (const r of fn.resources as VariableInfo[]) {
      if (r.group !== 0) throw new Error(`kernel ${file}:${fn.name}: only @group(0) is supported (${r.name})`);
      if (r.resourceType === ResourceType.Uniform) {
        if (params) throw new Error(`kernel ${file}:${fn.name}: more than one uniform binding`);
        const members: ParamMember[] = (r.members ?? []).map((m) => ({
          name: m.name,
          offset: m.offset,
          words: m.size / 4,
          kind: scalarKindOf(typeNameOf(m)),
        }));
        params = { name: r.name, binding: r.binding, size: r.size, members };
        bindings.push({ name: r.name, binding: r.binding, kind: 'uniform' });
      } else if (r.resourceType === ResourceType.Storage) {
        const kind = r.access === 'read' ? 'read-only-storage' : 'storage';
        bindings.push({ name: r.name, binding: r.binding, kind, element: scalarKindOf(typeNameOf(r)) });
      } else {
        throw new Error(`kernel ${file}:${fn.name}: unsupported resource ${r.name}`);
      }
    }
    bindings.sort((a, b) => a.binding - b.binding);
    const layout = this.gpu.createBindGroupLayout({
      label: `${file}:${fn.name}`,
      entries: bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        // The uniform takes a dynamic offset into the device's ring (cacheable bind groups).
        buffer: { type: b.kind, hasDynamicOffset: b.kind === 'uniform' },
      })),
    });
    const pipelineLayout = this.gpu.createPipelineLayout({ bindGroupLayouts: [layout] });
    return {
      file,
      entry: fn.name,
      bindings,
      params,
      overrides,
      layout,
      pipelineLayout,
    };
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
