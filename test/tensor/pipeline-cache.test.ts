/**
 * @file The kernel cache across processes (reflections on disk, keyed by the expanded source)
 * and background warming: hits and misses, a corrupt or tampered file ignored and rewritten,
 * the switches, a fresh process that never loads wgsl_reflect, and warmed pipelines used by ops.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as ws from '../../src/index.js';
import { Device } from '../../src/index.js';
import { KernelRegistry } from '../../src/tensor/kernel-registry.js';
import { KernelCache, pipelineCacheDefault, reflectionKey } from '../../src/tensor/pipeline-cache.js';
import { reflectModule } from '../../src/tensor/reflect.js';
import { waitFor } from '../../src/tensor/wait.js';
import { DEFAULT_WARM_LIST, warmDefault } from '../../src/tensor/warm.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// out[i] = x[i] * SCALE + p.bias for i < p.n
const SOURCE = `
override SCALE: f32 = 1.0;
struct Params { n: u32, bias: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.n) { out[g.x] = x[g.x] * SCALE + p.bias; }
}
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'widthscope-kernel-cache-'));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `main` of `name` (loaded by `reg`) on x with SCALE = 3, bias 0.5, reading `out` back. */
async function runScaled(reg: KernelRegistry, name: string, x: number[]): Promise<number[]> {
  const gpu = ws.getDevice().gpu;
  const kernel = reg.load(name);
  const entry = kernel.entries.get('main')!;
  const bytes = 4 * x.length;
  const mk = (usage: number, size = bytes) => gpu.createBuffer({ size, usage });
  const xb = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const ob = mk(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  const ub = mk(GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 256);
  const rb = mk(GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  gpu.queue.writeBuffer(xb, 0, new Float32Array(x));
  gpu.queue.writeBuffer(ob, 0, new Float32Array(x.length).fill(NaN));
  const params = new DataView(new ArrayBuffer(entry.params!.size));
  params.setUint32(entry.params!.members.find((m) => m.name === 'n')!.offset, x.length, true);
  params.setFloat32(entry.params!.members.find((m) => m.name === 'bias')!.offset, 0.5, true);
  gpu.queue.writeBuffer(ub, 0, params.buffer);
  const bind = gpu.createBindGroup({
    layout: entry.layout,
    entries: [
      { binding: 0, resource: { buffer: xb } },
      { binding: 1, resource: { buffer: ob } },
      { binding: 2, resource: { buffer: ub, size: entry.params!.size } },
    ],
  });
  const enc = gpu.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(reg.pipeline(kernel, entry, { SCALE: 3 }));
  pass.setBindGroup(0, bind, [0]);
  pass.dispatchWorkgroups(Math.ceil(x.length / 64));
  pass.end();
  enc.copyBufferToBuffer(ob, 0, rb, 0, bytes);
  gpu.queue.submit([enc.finish()]);
  await waitFor('sleep', () => rb.mapAsync(GPUMapMode.READ));
  const out = Array.from(new Float32Array(rb.getMappedRange().slice(0)));
  for (const b of [xb, ob, ub, rb]) b.destroy();
  return out;
}

/** A registry on the default device whose `probe` kernel is SOURCE (plus `extra`), cached in `cacheDir`. */
function registry(cacheDir: string | null, extra = ''): KernelRegistry {
  const reg = new KernelRegistry(ws.getDevice().gpu, new KernelCache(cacheDir));
  reg.loadSource('probe', SOURCE + extra);
  return reg;
}

function cacheFiles(): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json'));
}

describe('kernel reflection cache', () => {
  it('a miss reflects and writes one file; a later registry hits it and builds the same, working layouts', async () => {
    const first = registry(dir);
    expect(first.profile).toMatchObject({ reflectHits: 0, reflectMisses: 1 });
    expect(cacheFiles()).toEqual([`${reflectionKey(KernelRegistry.expandIncludes('probe.wgsl', SOURCE).source)}.json`]);
    const second = registry(dir);
    expect(second.profile).toMatchObject({ reflectHits: 1, reflectMisses: 0 });
    expect(second.cache.stats).toMatchObject({ hits: 1, misses: 0, corrupt: 0, writes: 0 });
    const a = first.load('probe').entries.get('main')!;
    const b = second.load('probe').entries.get('main')!;
    expect(b.bindings).toEqual(a.bindings);
    expect(b.params).toEqual(a.params);
    expect([...b.overrides]).toEqual(['SCALE']);
    // n = 67: two workgroups, the second partly idle; every element written, none past n
    const x = Array.from({ length: 67 }, (_, i) => i - 30.25);
    expect(await runScaled(second, 'probe', x)).toEqual(x.map((v) => Math.fround(Math.fround(v * 3) + 0.5)));
  });

  it('the cached reflection equals a fresh one for a kernel file with includes', () => {
    const reg = new KernelRegistry(ws.getDevice().gpu, new KernelCache(dir));
    const binary = reg.load('binary');
    const again = new KernelRegistry(ws.getDevice().gpu, new KernelCache(dir)).load('binary');
    expect(again.entries.get('same_vec4')!.bindings).toEqual(reflectModule('binary.wgsl', binary.source).entries.find((e) => e.entry === 'same_vec4')!.bindings);
    expect([...again.entries.keys()].sort()).toEqual([...binary.entries.keys()].sort());
    expect(again.entries.get('broadcast3')!.params).toEqual(binary.entries.get('broadcast3')!.params);
  });

  it('an include that is neither a file nor provided is refused with the file, the line and the provided names', () => {
    expect(() => KernelRegistry.expandIncludes('k.wgsl', 'fn f() {}\n//!include nowhere.wgsl\n')).toThrow(
      /k\.wgsl:2: included file include\/nowhere\.wgsl not found in .*no module provided it \(generated includes, provided so far: .*unary_ops\.wgsl/,
    );
  });

  it('a corrupt file is ignored and rewritten', () => {
    registry(dir);
    const [file] = cacheFiles();
    writeFileSync(join(dir, file), '{"format":1,"key":"trunc');
    const reg = registry(dir);
    expect(reg.profile.reflectMisses).toBe(1);
    expect(reg.cache.stats).toMatchObject({ corrupt: 1, writes: 1 });
    expect(registry(dir).cache.stats).toMatchObject({ hits: 1, corrupt: 0 });
  });

  it('a file whose body does not match its checksum is ignored (a tampered binding never reaches a layout)', () => {
    const good = registry(dir).load('probe').entries.get('main')!.bindings;
    const [file] = cacheFiles();
    const text = readFileSync(join(dir, file), 'utf8');
    const f = JSON.parse(text) as { body: string };
    f.body = f.body.replace('"binding":1', '"binding":7');
    expect(f.body).not.toBe((JSON.parse(text) as { body: string }).body);
    writeFileSync(join(dir, file), JSON.stringify(f));
    const reg = registry(dir);
    expect(reg.cache.stats.corrupt).toBe(1);
    expect(reg.load('probe').entries.get('main')!.bindings).toEqual(good);
  });

  it('a different source is a different key (one comment is enough)', () => {
    registry(dir);
    registry(dir, '// another comment\n');
    expect(cacheFiles()).toHaveLength(2);
    expect(reflectionKey(SOURCE)).not.toBe(reflectionKey(`${SOURCE} `));
  });

  it('WIDTHSCOPE_PIPELINE_CACHE=0 turns it off; XDG_CACHE_HOME moves it; a bad value is refused', () => {
    vi.stubEnv('XDG_CACHE_HOME', dir);
    expect(KernelCache.fromEnv().dir).toBe(join(dir, 'widthscope', 'kernels'));
    vi.stubEnv('WIDTHSCOPE_PIPELINE_CACHE', '0');
    const off = KernelCache.fromEnv();
    expect(off.dir).toBeNull();
    const reg = new KernelRegistry(ws.getDevice().gpu, off);
    reg.loadSource('probe', SOURCE);
    expect(reg.profile.reflectMisses).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    vi.stubEnv('WIDTHSCOPE_PIPELINE_CACHE', 'yes');
    expect(() => pipelineCacheDefault()).toThrow(/WIDTHSCOPE_PIPELINE_CACHE: expected 1 \| 0, got 'yes'/);
  });

  it('a fresh process whose kernels are all cached never loads wgsl_reflect', () => {
    const entries = new KernelRegistry(ws.getDevice().gpu, new KernelCache(dir)).load('binary').entries.size;
    // The child builds a registry on a stand-in GPUDevice (layouts are opaque objects there).
    const script = `
      import './src/tensor/gpu-globals.ts';
      import { KernelRegistry } from './src/tensor/kernel-registry.ts';
      import { KernelCache } from './src/tensor/pipeline-cache.ts';
      import { reflectorLoaded } from './src/tensor/reflect.ts';
      import './src/ops/elementwise.ts'; // serves binary.wgsl's generated op switch
      const gpu = { createShaderModule: () => ({ getCompilationInfo: async () => ({ messages: [] }) }), createBindGroupLayout: () => ({}), createPipelineLayout: () => ({}) };
      const reg = new KernelRegistry(gpu, new KernelCache(process.argv[1]));
      const k = reg.load('binary');
      console.log(JSON.stringify({ loaded: reflectorLoaded(), hits: reg.profile.reflectHits, entries: k.entries.size }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { loaded: boolean; hits: number; entries: number };
    expect(out).toEqual({ loaded: false, hits: 1, entries });
  });
});

describe('background warming', () => {
  it('is off under vitest unless WIDTHSCOPE_WARM=1; a bad value is refused', () => {
    expect(warmDefault()).toBe(false);
    expect(ws.getDevice().warmer).toBeNull();
    vi.stubEnv('WIDTHSCOPE_WARM', '1');
    expect(warmDefault()).toBe(true);
    vi.stubEnv('WIDTHSCOPE_WARM', 'sometimes');
    expect(() => warmDefault()).toThrow(/WIDTHSCOPE_WARM: expected 1 \| 0, got 'sometimes'/);
  });

  it('compiles the default list off the JS thread; ops then use those pipelines; the next device warms what this one used', async () => {
    vi.stubEnv('XDG_CACHE_HOME', dir);
    const d = await Device.create({ warm: true });
    try {
      await d.warmer!.done;
      expect(d.warmer!.stats).toEqual({ compiled: DEFAULT_WARM_LIST.length, skipped: 0, failed: 0 });
      const created = d.kernels.pipelinesCreated;
      const a = ws.fromArray([1, 2, 3, 4], [4], { device: d });
      const b = ws.fromArray([0.5, -2, 8, 1e-3], [4], { device: d });
      const sum = ws.add(a, b);
      const prod = ws.mul(a, b);
      expect(Array.from(await sum.data())).toEqual([1.5, 0, 11, Math.fround(4 + Math.fround(1e-3))]);
      expect(Array.from(await prod.data())).toEqual([0.5, -4, 24, Math.fround(4 * Math.fround(1e-3))]);
      expect(d.kernels.pipelinesCreated).toBe(created); // both found compiled
      expect(d.kernels.profile.warmUsed).toBe(2);
      expect(d.kernels.profile.pipelineMs).toBe(0);
    } finally {
      d.destroy();
    }
    const next = await Device.create({ warm: true });
    try {
      expect(next.warmer!.list).toEqual([
        { kernel: 'binary', entry: 'same_vec4', constants: { OP: 0 } },
        { kernel: 'binary', entry: 'same_vec4', constants: { OP: 2 } },
      ]);
      await next.warmer!.done;
      expect(next.warmer!.stats.compiled).toBe(2);
    } finally {
      next.destroy();
    }
  });

  it('a stale list entry (a kernel or entry point that no longer exists) is skipped, never thrown', async () => {
    vi.stubEnv('XDG_CACHE_HOME', dir);
    new KernelCache(join(dir, 'widthscope', 'kernels')).putWarmList(ws.getDevice().adapterSlug, [
      { kernel: 'no_such_kernel', entry: 'main', constants: {} },
      { kernel: 'binary', entry: 'no_such_entry', constants: {} },
      { kernel: 'binary', entry: 'same', constants: { NO_SUCH_OVERRIDE: 1 } },
      { kernel: 'binary', entry: 'same', constants: { OP: 1 } },
    ]);
    const d = await Device.create({ warm: true });
    try {
      await d.warmer!.done;
      expect(d.warmer!.stats).toEqual({ compiled: 1, skipped: 1, failed: 2 });
      const diff = ws.sub(ws.fromArray([5, 7, 9], [3], { device: d }), ws.fromArray([1, 2, 3], [3], { device: d }));
      expect(Array.from(await diff.data())).toEqual([4, 5, 6]);
      expect(d.kernels.profile.warmUsed).toBe(1);
    } finally {
      d.destroy();
    }
  });
});
