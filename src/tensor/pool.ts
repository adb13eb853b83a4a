/**
 * @file Size-bucketed pool of storage GPUBuffers with live/peak byte accounting.
 *
 * Buckets grow in quarter steps between powers of two (waste <= 25%). A buffer released while
 * the device's open command encoder may still use it can be reused by a later dispatch of that
 * encoder (dispatches run in order) but not as the target of `queue.writeBuffer`, which lands
 * before the whole encoder runs: such buffers are kept apart until the next submit.
 */
import './gpu-globals.js';

export const STORAGE_USAGE =
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export interface MemoryStats {
  /** Tensors not yet disposed. */
  liveTensors: number;
  /** Bytes of GPU buffers held by live tensors (bucket sizes). */
  liveBytes: number;
  /** Bytes of free buffers kept for reuse. */
  pooledBytes: number;
  /** Highest liveBytes seen since creation or the last `resetPeak()`. */
  peakBytes: number;
  /** GPUBuffers created so far (a flat count across a loop proves reuse). */
  buffersCreated: number;
  /** Bind groups created and not yet collected by V8 (each holds native memory until then). */
  liveBindGroups: number;
}

export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  const step = pow / 4;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  /** Released since the last submit: reusable by dispatches, not by writeBuffer. */
  private freeInEncoder = new Map<number, GPUBuffer[]>();
  liveBytes = 0;
  pooledBytes = 0;
  peakBytes = 0;
  buffersCreated = 0;

  /** Runs before trim destroys buffers (the device drops bind groups that may bind them). */
  beforeDestroy: (() => void) | null = null;
  /**
   * Told of every acquire and release while set (a step being recorded, src/tensor/capture.ts,
   * learns which buffers the step made).
   */
  observer: { acquired(b: GPUBuffer): void; released(b: GPUBuffer): void } | null = null;
  /**
   * Buffers that captured steps read or write without owning them (parameters, optimizer
   * state): releasing one calls its listeners, which retire the captures that bind it.
   */
  readonly watched = new Map<GPUBuffer, Set<() => void>>();

  constructor(private readonly create: (bytes: number) => GPUBuffer) {}

  /** A buffer of at least `bytes`; `forUpload` excludes buffers the open encoder may touch. */
  acquire(bytes: number, forUpload: boolean): GPUBuffer {
    const size = bucketBytes(bytes);
    const buffer =
      (!forUpload ? this.freeInEncoder.get(size)?.pop() : undefined) ?? this.free.get(size)?.pop();
    if (buffer) {
      this.pooledBytes -= size;
    }
    const out = buffer ?? this.allocate(size);
    this.liveBytes += size;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    this.observer?.acquired(out);
    return out;
  }

  release(buffer: GPUBuffer): void {
    this.observer?.released(buffer);
    if (this.watched.size > 0) {
      const listeners = this.watched.get(buffer);
      if (listeners) for (const f of [...listeners]) f();
    }
    const size = buffer.size;
    this.liveBytes -= size;
    this.pooledBytes += size;
    let list = this.freeInEncoder.get(size);
    if (!list) this.freeInEncoder.set(size, (list = []));
    list.push(buffer);
  }

  /**
   * Takes a free buffer out of the pool for a captured step's lifetime (it counts as live);
   * false when `buffer` is not free here.
   */
  pin(buffer: GPUBuffer): boolean {
    for (const lists of [this.freeInEncoder, this.free]) {
      const list = lists.get(buffer.size);
      const at = list ? list.indexOf(buffer) : -1;
      if (at < 0) continue;
      list!.splice(at, 1);
      this.pooledBytes -= buffer.size;
      this.liveBytes += buffer.size;
      if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
      return true;
    }
    return false;
  }

  /** Called after each submit: buffers released before it are safe for uploads again. */
  onSubmit(): void {
    for (const [size, list] of this.freeInEncoder) {
      let target = this.free.get(size);
      if (!target) this.free.set(size, (target = []));
      target.push(...list);
    }
    this.freeInEncoder.clear();
  }

  /** Destroys the free buffers that no pending encoder can use. */
  trim(): void {
    this.beforeDestroy?.();
    for (const list of this.free.values()) {
      for (const b of list) {
        this.pooledBytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  private allocate(size: number): GPUBuffer {
    this.buffersCreated++;
    return this.create(size);
  }
}
