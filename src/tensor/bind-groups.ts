/**
 * @file Bind groups cached by layout and exact buffer ranges. Creating one costs ~40 us of
 * Dawn's Node bindings per dispatch, and a training loop binds the same pooled buffers step
 * after step; uniforms bind the ring buffer with a dynamic offset so they do not enter the key.
 * Least recently used groups are dropped past `capacity`. A destroyed buffer never comes back
 * from the pool, so its groups are never hit again; `clear` (the pool's trim, the device's
 * destroy) just lets them go at once.
 *
 * A dropped group's native descriptor set lives until V8 collects its wrapper (see util/gc.ts):
 * every `gcEvery` dropped groups the cache runs a full collection, so a long run that binds ever
 * new buffers (probes, many sweep jobs in one process) keeps a bounded number alive.
 */
import { fullGc } from '../util/gc.js';

export class BindGroupCache {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly groups = new Map<string, GPUBindGroup>();
  hits = 0;
  misses = 0;
  /** Full collections this cache asked for. */
  collections = 0;
  private dropped = 0;
  private created = 0;
  private finalized = 0;
  private readonly finalizer = new FinalizationRegistry<void>(() => {
    this.finalized++;
  });

  constructor(
    private readonly gpu: GPUDevice,
    private readonly capacity = 4096,
    private readonly gcEvery = 4096,
  ) {}

  private drop(n: number): void {
    this.dropped += n;
    if (this.dropped < this.gcEvery) return;
    this.dropped = 0;
    if (fullGc()) this.collections++;
  }

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  get(layout: GPUBindGroupLayout, entries: GPUBindGroupEntry[], label: string): GPUBindGroup {
    let key = `${this.id(layout)}`;
    for (const e of entries) {
      const r = e.resource as GPUBufferBinding;
      key += `|${e.binding}:${this.id(r.buffer)}:${r.offset ?? 0}:${r.size ?? -1}`;
    }
    let group = this.groups.get(key);
    if (group) {
      this.hits++;
      this.groups.delete(key);
    } else {
      this.misses++;
      group = this.gpu.createBindGroup({ label, layout, entries });
      this.created++;
      this.finalizer.register(group, undefined);
      if (this.groups.size >= this.capacity) {
        this.groups.delete(this.groups.keys().next().value as string);
        this.drop(1);
      }
    }
    this.groups.set(key, group);
    return group;
  }

  get size(): number {
    return this.groups.size;
  }

  /** Bind groups created and not yet collected (cached or waiting for the collector). */
  get live(): number {
    return this.created - this.finalized;
  }

  clear(): void {
    const n = this.groups.size;
    this.groups.clear();
    this.drop(n);
  }
}
