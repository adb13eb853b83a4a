/**
 * @file A WGSL module's reflection as plain data: per compute entry point its bindings, its one
 * uniform struct's layout, and the module's override names. wgsl_reflect (a ~300 KB parser whose
 * first parse in a process costs ~100 ms of cold JIT) is loaded on the first reflection only, so a
 * process whose reflections all come from the disk cache (pipeline-cache.ts) never loads it.
 */
import { createRequire } from 'node:module';
import type * as Reflector from 'wgsl_reflect/wgsl_reflect.module.js';

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

export interface ParamsInfo {
  name: string;
  binding: number;
  size: number;
  members: ParamMember[];
}

export interface EntryReflection {
  entry: string;
  /** Sorted by binding number. */
  bindings: BindingInfo[];
  /** The one uniform struct of the entry point, filled from a `params` object. */
  params?: ParamsInfo;
}

export interface ModuleReflection {
  overrides: string[];
  entries: EntryReflection[];
}

type ReflectorModule = typeof Reflector;
let reflector: ReflectorModule | null = null;

/**
 * wgsl_reflect, loaded synchronously on first use (`require` of an ES module, which Node >= 20.19
 * does; loadSource is synchronous, like the ops that call it). On an older Node, call
 * `preloadReflector()` (Device.create does) before the first reflection.
 */
function loadReflector(): ReflectorModule {
  if (reflector) return reflector;
  try {
    reflector = createRequire(import.meta.url)('wgsl_reflect/wgsl_reflect.module.js') as ReflectorModule;
  } catch (e) {
    throw new Error(
      `kernel reflection: cannot load wgsl_reflect synchronously (${(e as Error).message}); ` +
        'Node >= 20.19 loads it on demand, older versions need `await preloadReflector()` first',
    );
  }
  return reflector;
}

/** Whether this Node can load wgsl_reflect on demand (require of an ES module). */
export function reflectorLoadsOnDemand(): boolean {
  return (process.features as { require_module?: boolean }).require_module === true;
}

/** Loads wgsl_reflect ahead of time (needed only where Node cannot require an ES module). */
export async function preloadReflector(): Promise<void> {
  if (!reflector) reflector = await import('wgsl_reflect/wgsl_reflect.module.js');
}

/** Whether wgsl_reflect has been loaded in this process (the cache tests check it stays out). */
export function reflectorLoaded(): boolean {
  return reflector !== null;
}

function scalarKindOf(typeName: string): ScalarKind {
  if (/f32|vec\df\b|f16/.test(typeName)) return 'f32';
  if (/i32|vec\di\b/.test(typeName)) return 'i32';
  return 'u32';
}

function typeNameOf(member: { type: { getTypeName(): string; name: string } }): string {
  return member.type.getTypeName?.() ?? member.type.name;
}

/** Parses `source` (includes expanded) and reflects every compute entry point of `file`. */
export function reflectModule(file: string, source: string): ModuleReflection {
  const { WgslReflect, ResourceType } = loadReflector();
  let reflect: InstanceType<ReflectorModule['WgslReflect']>;
  try {
    reflect = new WgslReflect(source);
  } catch (e) {
    throw new Error(`kernel ${file}: WGSL parse error: ${(e as Error).message}`);
  }
  const entries = reflect.entry.compute.map((fn) => {
    const bindings: BindingInfo[] = [];
    let params: ParamsInfo | undefined;
    for (const r of fn.resources) {
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
    return params ? { entry: fn.name, bindings, params } : { entry: fn.name, bindings };
  });
  return { overrides: reflect.overrides.map((o) => o.name), entries };
}
