/**
 * @file The WebGPU device: adapter choice, limits, the open command encoder that ops append
 * dispatches to, the per-dispatch uniform ring, error capture, readback and teardown.
 */
import { BindGroupCache } from './bind-groups.js';
import './gpu-globals.js';
import { enumerateAdapters, formatAdapter, isSoftwareAdapter, pickAdapter, type AdapterDescription } from './adapters.js';
import { BufferPool, STORAGE_USAGE, type MemoryStats } from './pool.js';
import { defaultWaitStrategy, waitFor, type WaitStrategy } from './wait.js';
import { KernelRegistry, writeParams, type BufferRange } from './kernel-registry.js';
import { ErrorFlags, FLAG_BYTES, flagContext } from './error-flags.js';
import { envChoice, envFlag, envInt } from '../util/env.js';
import { pipelineCacheDefault } from './pipeline-cache.js';
import { preloadReflector, reflectorLoadsOnDemand } from './reflect.js';
import { startWarm, warmDefault, type Warmer } from './warm.js';
import { UsageError } from '../util/usage-error.js';
import type { DispatchRecorder } from './recorder.js';

export interface DeviceOptions {
  /**
   * Part of the adapter's vendor, architecture, device or description, any case (env
   * WIDTHSCOPE_ADAPTER); no match is an error listing the adapters available.
   */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
  /** How awaits on the GPU poll (env WIDTHSCOPE_WAIT): 'auto' sleeps on CPU adapters. */
  wait?: WaitStrategy | 'auto';
  /**
   * Submit the open encoder after this many dispatches (env WIDTHSCOPE_DISPATCHES_PER_SUBMIT,
   * default 1024). Smaller values let lavapipe run a step's first kernels while JS records the
   * rest, but on 2 cores a training step reads the same at 1024, 32, 8 and 2 within the noise;
   * 1024 is the value the test suite has run with longest.
   */
  maxDispatchesPerSubmit?: number;
  /** Print the adapter that was picked, and Dawn's notices at adapter discovery (default: false). */
  verbose?: boolean;
  /**
   * Fill every new op output with NaN before its kernel runs, so an element a kernel forgets to
   * write shows up (tests; env WIDTHSCOPE_POISON=1). Costs one fill dispatch per output.
   */
  poison?: boolean;
  /**
   * Anomaly mode (env WIDTHSCOPE_ANOMALY=1): after every dispatch, one more scans each f32 output
   * for a non-finite value; the next readback names the first op that wrote one (fill kernels
   * excepted: poison and full() write what they are asked). Off: no cost.
   */
  anomaly?: boolean;
  /**
   * Compile the pipelines this process will likely need first in the background (warm.ts; env
   * WIDTHSCOPE_WARM=1|0, default on outside vitest).
   */
  warm?: boolean;
}

export type { AdapterDescription } from './adapters.js';

export interface DispatchSpec {
  kernel: string;
  entry?: string;
  /** Names the op and its arguments in error messages and WebGPU labels. */
  label: string;
  constants?: Record<string, number>;
  bindings: Record<string, BufferRange>;
  params?: Record<string, number | readonly number[]>;
  workgroups: readonly [number, number?, number?];
  /**
   * Uniform members that change from one step to the next (a learning rate, a step count): a
   * captured step (src/tensor/capture.ts) calls this at every replay and writes what it returns
   * over the recorded `params`. Ignored outside a recording.
   */
  dynamic?: () => Record<string, number | readonly number[]>;
}

const UNIFORM_CHUNK = 64 * 1024;

class UniformRing {
  private chunks: { buffer: GPUBuffer; cpu: ArrayBuffer; used: number }[] = [];
  private current = 0;

  constructor(private readonly gpu: GPUDevice, private readonly align: number) {}

  /** Reserves `bytes` of uniform memory for one dispatch of the open encoder. */
  alloc(bytes: number): { buffer: GPUBuffer; offset: number; view: DataView } {
    const need = Math.ceil(bytes / this.align) * this.align;
    let chunk = this.chunks[this.current];
    if (chunk && chunk.used + need > UNIFORM_CHUNK) chunk = this.chunks[++this.current];
    if (!chunk) {
      chunk = {
        buffer: this.gpu.createBuffer({
          label: 'uniform ring',
          size: UNIFORM_CHUNK,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        cpu: new ArrayBuffer(UNIFORM_CHUNK),
        used: 0,
      };
      this.chunks[this.current] = chunk;
    }
    const offset = chunk.used;
    chunk.used += need;
    return { buffer: chunk.buffer, offset, view: new DataView(chunk.cpu, offset, need) };
  }

  /** Uploads what this encoder used; lands before the submit that follows. */
  upload(queue: GPUQueue): void {
    for (let i = 0; i <= this.current && i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c.used > 0) queue.writeBuffer(c.buffer, 0, c.cpu, 0, c.used);
      c.used = 0;
    }
    this.current = 0;
  }

  destroy(): void {
    for (const c of this.chunks) c.buffer.destroy();
    this.chunks = [];
  }
}

/** Default of DeviceOptions.maxDispatchesPerSubmit. */
export const DISPATCHES_PER_SUBMIT = 1024;

const WAIT_CHOICES = ['auto', 'sleep', 'spin', 'predict'] as const;

/** The options as given, else from the environment; bad values are UsageErrors naming the variable. */
function resolveOptions(opts: DeviceOptions): { wait: WaitStrategy | 'auto'; maxDispatchesPerSubmit: number; poison: boolean; anomaly: boolean; warm: boolean; pipelineCache: boolean } {
  const wait = opts.wait ?? envChoice('WIDTHSCOPE_WAIT', WAIT_CHOICES) ?? 'auto';
  if (!WAIT_CHOICES.includes(wait)) throw new UsageError(`device: wait strategy must be 'auto', 'sleep', 'spin' or 'predict', got '${wait}' (--wait / DeviceOptions.wait)`);
  const perSubmit = opts.maxDispatchesPerSubmit ?? envInt('WIDTHSCOPE_DISPATCHES_PER_SUBMIT', 1) ?? DISPATCHES_PER_SUBMIT;
  if (!Number.isInteger(perSubmit) || perSubmit < 1) {
    throw new UsageError(`device: maxDispatchesPerSubmit expected an integer >= 1, got ${perSubmit}`);
  }
  return {
    wait, maxDispatchesPerSubmit: perSubmit,
    poison: opts.poison ?? envFlag('WIDTHSCOPE_POISON') ?? false,
    anomaly: opts.anomaly ?? envFlag('WIDTHSCOPE_ANOMALY') ?? false,
    warm: opts.warm ?? warmDefault(),
    pipelineCache: pipelineCacheDefault(),
  };
}

export class Device {
  readonly kernels: KernelRegistry;
  readonly pool: BufferPool;
  readonly adapterInfo: AdapterDescription;
  readonly limits: GPUSupportedLimits;
  readonly wait: WaitStrategy;
  readonly maxDispatchesPerSubmit: number;
  readonly poison: boolean;
  /** Anomaly mode (DeviceOptions.anomaly); may be switched on and off between ops. */
  anomaly: boolean;
  /** Index errors and non-finite outputs found on the device, read with the next readback. */
  readonly flags: ErrorFlags;
  /** Anomaly mode: the shape of the tensor each new buffer was made for (Tensor.empty sets it). */
  readonly shapes = new WeakMap<GPUBuffer, readonly number[]>();
  liveTensors = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** The pipeline the open pass has set (a dispatch with the same one skips setPipeline). */
  private passPipeline: GPUComputePipeline | null = null;
  private dispatches = 0;
  /** Dispatches recorded since creation (benchmarks report counts from it). */
  dispatchCount = 0;
  /** dispatchCount at the last wait for the GPU (a wait's kind, for the 'predict' strategy). */
  private dispatchesAtWait = 0;
  /** Submits since creation (a captured step flushes before rewriting uniforms an unsubmitted replay reads). */
  submitCount = 0;
  /** The step being recorded (src/tensor/capture.ts), told of every dispatch, copy, upload and readback. */
  recorder: DispatchRecorder | null = null;
  /**
   * The largest buffer asked of allocStorage since creation (bytes; set it to 0 to start a
   * measurement). The sweep sizes ensembles by it: every tensor of an S-member model is S times
   * a single model's.
   */
  largestAllocation = 0;
  private ring: UniformRing;
  readonly bindGroups: BindGroupCache;
  private errors: string[] = [];
  private lostInfo: string | null = null;
  private destroyed = false;
  private staging = new Map<number, GPUBuffer[]>();
  /** The background pipeline warm-up (DeviceOptions.warm), if on. */
  warmer: Warmer | null = null;

  private constructor(readonly gpu: GPUDevice, info: AdapterDescription, opts: DeviceOptions) {
    this.adapterInfo = info;
    this.limits = gpu.limits;
    const { wait, maxDispatchesPerSubmit, poison, anomaly } = resolveOptions(opts);
    this.wait = wait === 'auto' ? defaultWaitStrategy(info) : wait;
    this.maxDispatchesPerSubmit = maxDispatchesPerSubmit;
    this.poison = poison;
    this.anomaly = anomaly;
    this.flags = new ErrorFlags(gpu);
    this.kernels = new KernelRegistry(gpu);
    this.pool = new BufferPool((size) => this.gpu.createBuffer({ size, usage: STORAGE_USAGE }));
    this.ring = new UniformRing(gpu, gpu.limits.minUniformBufferOffsetAlignment);
    this.bindGroups = new BindGroupCache(gpu);
    this.pool.beforeDestroy = () => this.bindGroups.clear();
    gpu.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.errors.push(ev.error.message);
    };
    void gpu.lost.then((info) => {
      if (!this.destroyed) this.lostInfo = `${info.reason}: ${info.message}`;
    });
  }

  static async create(opts: DeviceOptions = {}): Promise<Device> {
    const { warm } = resolveOptions(opts); // bad options or environment fail before any adapter is touched
    if (!reflectorLoadsOnDemand()) await preloadReflector();
    const wish = opts.adapter ?? (process.env.WIDTHSCOPE_ADAPTER || undefined);
    const offered = await enumerateAdapters(opts.powerPreference, opts.verbose);
    if (offered.length === 0) {
      throw new UsageError(
        'device: no WebGPU adapter found. Dawn needs a Vulkan driver: run `bash scripts/setup-webgpu.sh` ' +
          '(installs Mesa lavapipe on Debian bookworm) or install your GPU vendor driver.',
      );
    }
    const { adapter, info } = wish !== undefined ? pickAdapter(offered, wish) : offered[0];
    const requiredLimits: Record<string, number> = {};
    for (const name of [
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxStorageBuffersPerShaderStage',
      'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupSizeX',
      'maxComputeWorkgroupSizeY',
      'maxComputeWorkgroupsPerDimension',
    ] as const) {
      requiredLimits[name] = adapter.limits[name];
    }
    const features = (['timestamp-query', 'shader-f16', 'subgroups'] as GPUFeatureName[]).filter((f) =>
      adapter.features.has(f),
    );
    const gpu = await adapter.requestDevice({ requiredLimits, requiredFeatures: features });
    const device = new Device(gpu, info, opts);
    if (warm) device.warmer = startWarm(device);
    if (opts.verbose) console.log(`widthscope: adapter ${device.describe()}`);
    return device;
  }

  describe(): string {
    return `${formatAdapter(this.adapterInfo)} (wait: ${this.wait})`;
  }

  /** A short, file-name-safe adapter name (for result and cache files). */
  get adapterSlug(): string {
    const { vendor, architecture } = this.adapterInfo;
    return `${vendor}-${architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'adapter';
  }

  /** Lanes every subgroup has at least (0 without the `subgroups` feature). */
  get subgroupLanes(): number {
    return this.gpu.features.has('subgroups') ? this.adapterInfo.subgroupMinSize : 0;
  }

  get isSoftware(): boolean {
    return isSoftwareAdapter(this.adapterInfo);
  }

  /** The dispatches appended since the last wait for the GPU (and marks this wait). */
  private dispatchesSinceWait(): number {
    const n = this.dispatchCount - this.dispatchesAtWait;
    this.dispatchesAtWait = this.dispatchCount;
    return n;
  }

  /** Neither destroyed nor lost. */
  get alive(): boolean {
    return !this.destroyed && !this.lostInfo;
  }

  checkAlive(what: string): void {
    if (this.destroyed) throw new Error(`${what}: the device was destroyed`);
    if (this.lostInfo) throw new Error(`${what}: the WebGPU device was lost (${this.lostInfo})`);
  }

  /** The largest tensor the adapter can bind (bytes). */
  get maxTensorBytes(): number {
    return Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
  }

  /** A storage buffer for `bytes` (refuses sizes beyond the adapter's binding limit). */
  allocStorage(what: string, bytes: number, forUpload = false): GPUBuffer {
    this.checkAlive(what);
    const limit = this.maxTensorBytes;
    if (bytes > this.largestAllocation) this.largestAllocation = bytes;
    if (bytes > limit) {
      throw new Error(
        `${what}: needs a buffer of ${bytes} bytes, over the adapter's limit of ${limit} bytes ` +
          `(maxStorageBufferBindingSize); split the tensor`,
      );
    }
    const buffer = this.pool.acquire(Math.max(bytes, 4), forUpload);
    if (this.poison && !forUpload) {
      this.dispatch({
        kernel: 'fill',
        entry: 'fill',
        label: `poison ${what}`,
        bindings: { out: { buffer, offset: 0, size: buffer.size } },
        params: { n: buffer.size / 4, bits: 0x7fc00000, start: 0, step: 0 },
        workgroups: [Math.min(65535, Math.ceil(buffer.size / 4 / 256))],
      });
    }
    return buffer;
  }

  /** Appends one compute dispatch to the open encoder, after checking it against reflection. */
  dispatch(spec: DispatchSpec): void {
    const where = spec.label;
    this.checkAlive(where);
    const kernel = this.kernels.load(spec.kernel);
    const entryName = spec.entry ?? 'main';
    const entry = kernel.entries.get(entryName);
    if (!entry) throw new Error(`${where}: kernel ${kernel.file} has no compute entry point '${entryName}'`);
    const pipeline = this.kernels.pipeline(kernel, entry, spec.constants ?? {});
    const entries: GPUBindGroupEntry[] = [];
    const given = new Set(Object.keys(spec.bindings));
    const writers = new Set<GPUBuffer>();
    const readers = new Set<GPUBuffer>();
    const maxBinding = this.limits.maxStorageBufferBindingSize;
    let uniformOffset: number | null = null;
    let uniform: DataView | null = null;
    for (const b of entry.bindings) {
      if (b.kind === 'uniform') {
        if (!spec.params) throw new Error(`${where}: kernel ${kernel.file}:${entryName} needs params`);
        const p = entry.params!;
        const slot = this.ring.alloc(p.size);
        writeParams(where, p, spec.params, slot.view, 0);
        // A dynamic offset (the layout's uniform has one), so the group can be cached.
        uniformOffset = slot.offset;
        uniform = slot.view;
        entries.push({ binding: b.binding, resource: { buffer: slot.buffer, offset: 0, size: p.size } });
        continue;
      }
      const r = spec.bindings[b.name];
      if (!r) throw new Error(`${where}: kernel ${kernel.file}:${entryName} binding '${b.name}' not given`);
      given.delete(b.name);
      if (r.size <= 0 || r.size % 4 !== 0 || r.offset + r.size > r.buffer.size || r.size > maxBinding) {
        throw new Error(
          `${where}: binding '${b.name}' range [${r.offset}, ${r.offset + r.size}) does not fit its buffer ` +
            `(${r.buffer.size} bytes) or the binding limit (${maxBinding} bytes)`,
        );
      }
      (b.kind === 'storage' ? writers : readers).add(r.buffer);
      entries.push({ binding: b.binding, resource: { buffer: r.buffer, offset: r.offset, size: r.size } });
    }
    if (given.size > 0) {
      throw new Error(`${where}: kernel ${kernel.file}:${entryName} has no binding named ${[...given].join(', ')}`);
    }
    for (const w of writers) {
      const uses = entries.filter((e) => (e.resource as GPUBufferBinding).buffer === w).length;
      if (readers.has(w) || uses > 1) {
        throw new Error(`${where}: one buffer is bound both for reading and for writing (read_write aliasing)`);
      }
    }
    const bindGroup = this.bindGroups.get(entry.layout, entries, where);
    const [x, y = 1, z = 1] = spec.workgroups;
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new Error(`${where}: dispatch of [${x}, ${y}, ${z}] workgroups exceeds ${maxWg} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const offsets = uniformOffset === null ? [] : [uniformOffset];
    this.recorder?.dispatch({ spec, pipeline, layout: entry.layout, entries, params: entry.params ?? null, uniform, offsets, workgroups: [x, y, z] });
    this.encodeDispatch(pipeline, bindGroup, offsets, x, y, z);
    if (this.anomaly && spec.kernel !== 'anomaly' && spec.kernel !== 'fill') this.checkOutputs(spec, entry.bindings);
  }

  /**
   * Appends one resolved dispatch to the open encoder, unchecked: what `dispatch` does after its
   * checks, and all a captured step's replay does per dispatch.
   */
  encodeDispatch(pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, offsets: readonly number[], x: number, y: number, z: number): void {
    const pass = this.pass ?? this.openPass();
    if (pipeline !== this.passPipeline) {
      pass.setPipeline(pipeline);
      this.passPipeline = pipeline;
    }
    pass.setBindGroup(0, bindGroup, offsets);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatchCount++;
    if (++this.dispatches >= this.maxDispatchesPerSubmit) this.flush();
  }

  /** Anomaly mode: one dispatch per f32 output of `spec` that flags its first non-finite word. */
  private checkOutputs(spec: DispatchSpec, bindings: readonly { name: string; kind: string; element?: string }[]): void {
    for (const b of bindings) {
      if (b.kind !== 'storage' || b.element !== 'f32' || b.name === 'flags') continue;
      const r = spec.bindings[b.name];
      const words = r.size / 4;
      const shape = this.shapes.get(r.buffer);
      const tag = this.flags.tag({ kind: 'output', label: spec.label, binding: b.name, words, shape, context: flagContext.describe() });
      this.dispatch({
        kernel: 'anomaly',
        entry: 'check_finite',
        label: `anomaly check of ${spec.label} '${b.name}'`,
        bindings: { x: r, flags: this.flags.range },
        params: { n: words, tag },
        workgroups: [Math.min(65535, Math.ceil(words / 256))],
      });
    }
  }

  /** Appends a buffer-to-buffer copy to the open encoder. */
  copy(src: BufferRange, dst: BufferRange): void {
    this.checkAlive('copy');
    if (src.size !== dst.size) throw new Error(`copy: source has ${src.size} bytes, destination ${dst.size}`);
    this.recorder?.copy(src, dst);
    this.closePass();
    this.openEncoder().copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, src.size);
  }

  /** Submits the open encoder (if any). */
  flush(): void {
    if (!this.encoder) return;
    this.closePass();
    this.ring.upload(this.gpu.queue);
    this.gpu.queue.submit([this.encoder.finish()]);
    this.submitCount++;
    this.encoder = null;
    this.dispatches = 0;
    this.pool.onSubmit();
  }

  /**
   * Submits and waits until the GPU has finished; throws any WebGPU error captured so far, and
   * any index error or non-finite output (anomaly mode) the device flagged since the last readback.
   */
  async sync(): Promise<void> {
    if (this.destroyed || this.lostInfo) {
      this.flush();
      await waitFor(this.wait, () => this.gpu.queue.onSubmittedWorkDone(), this.dispatchesSinceWait());
      await this.throwErrors();
      return;
    }
    await this.readWithFlags(null, new ArrayBuffer(0), 0);
  }

  /**
   * Copies `size` bytes of `src` at `offset` into `into` (a preallocated array is reused); like
   * sync(), throws what the device flagged since the last readback (the flags ride along in the
   * same staging buffer: no extra submit or wait).
   */
  async read(src: BufferRange, into: ArrayBuffer, intoOffset = 0): Promise<void> {
    this.checkAlive('read');
    this.recorder?.refuse('it reads a tensor back');
    await this.readWithFlags(src, into, intoOffset);
  }

  private async readWithFlags(src: BufferRange | null, into: ArrayBuffer, intoOffset: number): Promise<void> {
    const size = src?.size ?? 0;
    const total = size + FLAG_BYTES;
    const stagingSize = Math.max(256, 2 ** Math.ceil(Math.log2(total)));
    const staging =
      this.staging.get(stagingSize)?.pop() ??
      this.gpu.createBuffer({ size: stagingSize, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.closePass();
    const encoder = this.openEncoder();
    if (src) encoder.copyBufferToBuffer(src.buffer, src.offset, staging, 0, size);
    encoder.copyBufferToBuffer(this.flags.buffer, 0, staging, size, FLAG_BYTES);
    const covered = this.flags.last;
    this.flush();
    try {
      await waitFor(this.wait, () => staging.mapAsync(GPUMapMode.READ, 0, total), this.dispatchesSinceWait());
    } catch (e) {
      await this.throwErrors();
      this.checkAlive('read');
      throw e;
    }
    const mapped = staging.getMappedRange(0, total);
    if (size > 0) new Uint8Array(into, intoOffset, size).set(new Uint8Array(mapped, 0, size));
    const words = new Uint32Array(mapped.slice(size, total));
    staging.unmap();
    let list = this.staging.get(stagingSize);
    if (!list) this.staging.set(stagingSize, (list = []));
    list.push(staging);
    await this.throwErrors();
    const flagged = this.flags.take(words, covered);
    if (flagged) throw new Error(flagged);
  }

  /** Uploads bytes into a buffer no pending dispatch uses (see BufferPool). */
  write(dst: BufferRange, data: ArrayBufferView): void {
    this.checkAlive('write');
    this.recorder?.write(dst, data);
    this.gpu.queue.writeBuffer(dst.buffer, dst.offset, data.buffer, data.byteOffset, data.byteLength);
  }

  memoryStats(): MemoryStats {
    const p = this.pool;
    return {
      liveTensors: this.liveTensors,
      liveBytes: p.liveBytes,
      pooledBytes: p.pooledBytes,
      peakBytes: p.peakBytes,
      buffersCreated: p.buffersCreated,
      liveBindGroups: this.bindGroups.live,
    };
  }

  /** Destroys the device (Dawn's instance stays for the process, see adapters.ts). */
  destroy(): void {
    if (this.destroyed) return;
    this.warmer?.finish();
    try {
      this.flush();
    } catch {
      /* a lost device cannot submit */
    }
    this.destroyed = true;
    this.ring.destroy();
    this.flags.destroy();
    this.pool.trim(); // drops the cached bind groups first (pool.beforeDestroy)
    this.gpu.destroy();
  }

  private async throwErrors(): Promise<void> {
    if (this.errors.length === 0) return;
    const compile = await this.kernels.compileErrors();
    const messages = [...compile, ...this.errors];
    this.errors = [];
    throw new Error(`WebGPU error:\n  ${messages.join('\n  ')}`);
  }

  private openEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.gpu.createCommandEncoder();
    return this.encoder;
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.pass = this.openEncoder().beginComputePass();
      this.passPipeline = null;
    }
    return this.pass;
  }

  private closePass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
}
