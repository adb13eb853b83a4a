/**
 * @file Captured steps. A function of tensors whose input shapes do not change (a training step,
 * a probe's iteration) runs normally on its first call, is recorded on its second (every op's
 * checks, the tape walk and the shape logic run as usual while the device reports each resolved
 * dispatch, copy and upload here), and every later call replays the record: per dispatch only
 * the pipeline, the bind group and its uniform's dynamic offset are encoded
 * (Device.encodeDispatch), with no op checks, no tape and no bind-group lookup.
 *
 * What a record holds:
 * - the buffers the step allocated and freed (its intermediates), taken out of the pool for the
 *   record's lifetime (BufferPool.pin), so every replay finds them where the recording put them;
 * - the buffers of its outputs: a call returns fresh tensors copied from them, so a replay never
 *   writes a tensor the caller still holds;
 * - one uniform buffer with every dispatch's uniform at its own offset, written once; members
 *   that change per step (DispatchSpec.dynamic: the optimizer's lr and step constants) and
 *   error-flag tags are recomputed at each replay, and the buffer is rewritten (after a submit,
 *   when the previous replay's dispatches are still in the open encoder);
 * - host effects the step has besides its dispatches (Recording.onReplay: the optimizer's step
 *   counts), repeated at each replay in recorded order;
 * - the inputs' buffers: a call whose inputs live in other buffers rebinds only the dispatches
 *   that read them (bind groups from the device's cache).
 * Buffers the step uses without owning them (parameters, optimizer state) are watched: when one
 * is released to the pool the record is retired and the next call records again.
 *
 * Not captured (the call runs normally, and the reason goes to the debug output,
 * WIDTHSCOPE_DEBUG=1): a step that reads a tensor back, leaves tensors it made alive besides its
 * outputs (gradients not zeroed), draws random numbers without an explicit seed, or calls an
 * optimizer update without live hyperparameters; a call in anomaly mode; a call whose input
 * shapes have no record yet. WIDTHSCOPE_CAPTURE=0 turns capture off everywhere.
 * NOTE: host values a step passes to its ops (a scale, a constant's data) are replayed as
 * recorded; only those registered as dynamic change. A captured function must be a function of
 * its tensor inputs and of the state it updates through registered hooks.
 */
import type { Device } from './device.js';
import type { BufferRange } from './kernel-registry.js';
import type { DispatchRecorder, ParamsLayout, ResolvedDispatch, Values } from './recorder.js';
import { writeParams } from './kernel-registry.js';
import type { FlagTag } from './error-flags.js';
import { Tensor, type DType, type Storage } from './tensor.js';
import { fmt } from './shape.js';
import { envFlag } from '../util/env.js';


/** Whether captured steps are on (env WIDTHSCOPE_CAPTURE, default 1). */
export function captureEnabled(): boolean {
  return envFlag('WIDTHSCOPE_CAPTURE') ?? true;
}

/** Prints `message` to stderr when WIDTHSCOPE_DEBUG=1. */
export function debugNote(message: string): void {
  if (envFlag('WIDTHSCOPE_DEBUG')) process.stderr.write(`widthscope debug: ${message}\n`);
}

interface DispatchEvent {
  kind: 'dispatch';
  label: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  entries: GPUBindGroupEntry[];
  params: ParamsLayout | null;
  values: Values | null;
  bytes: Uint8Array | null;
  dynamic: (() => Values) | null;
  /** The index check whose tag the uniform's `tag` member holds (a fresh tag per replay). */
  retag: FlagTag | null;
  tagOffset: number;
  workgroups: [number, number, number];
  /** Set when the record is finished: the group binding the record's uniform buffer, its offset. */
  bindGroup: GPUBindGroup | null;
  offset: number;
  offsets: number[];
}

type Event =
  | DispatchEvent
  | { kind: 'copy'; src: BufferRange; dst: BufferRange }
  | { kind: 'write'; dst: BufferRange; data: Uint8Array; at: number }
  | { kind: 'hook'; fn: () => void };

/** The device's view of a step being recorded (Device.recorder). */
export class Recording implements DispatchRecorder {
  readonly events: Event[] = [];
  /** Buffers acquired from the pool while recording, and those of them not released since. */
  readonly acquired = new Set<GPUBuffer>();
  readonly live = new Set<GPUBuffer>();
  /** Buffers made before the recording and released during it. */
  readonly releasedOutside = new Set<GPUBuffer>();
  /** Why this step cannot be captured (the first reason given), or null. */
  refused: string | null = null;

  constructor(private readonly device: Device) {}

  dispatch(d: ResolvedDispatch): void {
    const values = d.spec.params ?? null;
    let retag: FlagTag | null = null;
    let tagOffset = -1;
    const tag = values?.tag;
    if (typeof tag === 'number' && tag > 0 && d.params) {
      const what = this.device.flags.described(tag);
      const member = d.params.members.find((m) => m.name === 'tag');
      if (what && member) {
        retag = what;
        tagOffset = member.offset;
      }
    }
    const u = d.uniform;
    this.events.push({
      kind: 'dispatch', label: d.spec.label, pipeline: d.pipeline, layout: d.layout, entries: [...d.entries], params: d.params, values,
      bytes: u && d.params ? new Uint8Array(u.buffer, u.byteOffset, d.params.size).slice() : null,
      dynamic: d.spec.dynamic ?? null, retag, tagOffset, workgroups: d.workgroups, bindGroup: null, offset: 0, offsets: [],
    });
  }

  copy(src: BufferRange, dst: BufferRange): void {
    this.events.push({ kind: 'copy', src: { ...src }, dst: { ...dst } });
  }

  write(dst: BufferRange, data: ArrayBufferView): void {
    if (data.byteLength % 4 !== 0 || dst.offset % 4 !== 0) {
      this.refuse(`it uploads ${data.byteLength} bytes at offset ${dst.offset} (not whole words)`);
      return;
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.events.push({ kind: 'write', dst: { buffer: dst.buffer, offset: dst.offset, size: bytes.byteLength }, data: bytes, at: 0 });
  }

  /** Repeats `fn` at every replay, at this point of the step (host state the step advances). */
  onReplay(fn: () => void): void {
    this.events.push({ kind: 'hook', fn });
  }

  /** Marks the step as one that cannot be captured (it runs normally every time). */
  refuse(reason: string): void {
    this.refused ??= reason;
  }
}

/** The buffers the events bind, copy or upload to (uniforms excepted). */
function bufferUses(events: readonly Event[]): GPUBuffer[] {
  const out: GPUBuffer[] = [];
  for (const e of events) {
    if (e.kind === 'dispatch') {
      for (const x of e.entries) if (x.binding !== e.params?.binding) out.push((x.resource as GPUBufferBinding).buffer);
    } else if (e.kind === 'copy') out.push(e.src.buffer, e.dst.buffer);
    else if (e.kind === 'write') out.push(e.dst.buffer);
  }
  return out;
}

interface InputSlot {
  recorded: GPUBuffer;
  current: GPUBuffer;
  /** The dispatches that bind it, and which of their entries. */
  uses: Map<DispatchEvent, number[]>;
}

/** A finished record (see the file comment). */
class CaptureRecord {
  retired: string | null = null;
  lastSubmit = -1;
  readonly view: DataView | null;

  constructor(
    readonly events: Event[],
    readonly host: Event[],
    readonly dynamic: boolean,
    readonly uniformBuffer: GPUBuffer | null,
    readonly block: ArrayBuffer,
    readonly constBuffer: GPUBuffer | null,
    readonly pinned: GPUBuffer[],
    readonly outputs: { storage: Storage; range: BufferRange; shape: readonly number[]; dtype: DType }[],
    readonly inputs: InputSlot[],
    readonly identity: readonly unknown[],
    readonly watched: GPUBuffer[],
    readonly onWatched: () => void,
    readonly dispatches: number,
  ) {
    this.view = uniformBuffer ? new DataView(block) : null;
  }
}

export interface CaptureOptions {
  /** Names the function in notes and labels. */
  name: string;
  /** Capture at all (default: captureEnabled(), env WIDTHSCOPE_CAPTURE). */
  enabled?: boolean;
  /** A reason this call must run normally (e.g. a parameter already has a gradient), or null. */
  guard?: () => string | null;
  /** Host objects the step depends on (e.g. the parameters' tensors): when one changes, the step records again. */
  identity?: () => readonly unknown[];
  /** Where notes go (default: debugNote). */
  note?: (message: string) => void;
  /** Normal calls of a new input signature before it is recorded (default 1: lazily made state exists by then). */
  warmup?: number;
  /** Input signatures kept recorded (default 4); further ones run normally. */
  maxSignatures?: number;
}

interface SignatureState {
  calls: number;
  record: CaptureRecord | null;
  refused: string | null;
}

/**
 * A captured function of tensors: `run(inputs)` returns what `fn(inputs)` returns (fresh
 * tensors the caller owns), recorded once per input signature and replayed after.
 */
export class CapturedFunction {
  readonly enabled: boolean;
  /** Calls that ran normally, were recorded, were replayed. */
  readonly counts = { normal: 0, recorded: 0, replayed: 0 };
  /** The notes given so far (the last 50). */
  readonly notes: string[] = [];
  private readonly states = new Map<string, SignatureState>();
  private lastSignature: string | null = null;
  private disposed = false;

  constructor(
    readonly device: Device,
    private readonly fn: (inputs: readonly Tensor[]) => Tensor[],
    private readonly opts: CaptureOptions,
  ) {
    this.enabled = opts.enabled ?? captureEnabled();
  }

  private note(message: string): void {
    const m = `${this.opts.name}: ${message}`;
    this.notes.push(m);
    if (this.notes.length > 50) this.notes.shift();
    (this.opts.note ?? debugNote)(m);
  }

  /** Dispatches a replay encodes (0 before a record exists for the last signature). */
  get replayDispatches(): number {
    const st = this.lastSignature === null ? undefined : this.states.get(this.lastSignature);
    return st?.record?.dispatches ?? 0;
  }

  run(inputs: readonly Tensor[]): Tensor[] {
    if (this.disposed) throw new Error(`${this.opts.name}: the captured function was disposed`);
    const dev = this.device;
    if (!this.enabled || dev.recorder) return this.normal(inputs);
    if (dev.anomaly) {
      if (this.counts.normal === 0 || !this.notes.at(-1)?.endsWith('anomaly mode')) this.note('not captured in anomaly mode');
      return this.normal(inputs);
    }
    const key = inputs.map((t) => `${t.dtype}${fmt(t.shape)}`).join(' ');
    let st = this.states.get(key);
    if (!st) {
      if (this.states.size >= (this.opts.maxSignatures ?? 4)) {
        this.note(`input shapes ${key} are new and ${this.states.size} others are recorded: runs uncaptured`);
        return this.normal(inputs);
      }
      if (this.lastSignature !== null) this.note(`input shapes changed to ${key}: runs uncaptured until recorded for them`);
      this.states.set(key, (st = { calls: 0, record: null, refused: null }));
    }
    this.lastSignature = key;
    if (st.refused) return this.normal(inputs);
    const blocked = this.opts.guard?.();
    if (blocked) {
      this.note(`${blocked}: runs uncaptured`);
      return this.normal(inputs);
    }
    const r = st.record;
    if (r) {
      const changed = r.identity.length > 0 && this.identityChanged(r);
      if (!r.retired && !changed) return this.replay(r, inputs);
      this.note(`record retired (${r.retired ?? 'the state it binds was replaced'}): records again`);
      this.release(r);
      st.record = null;
      return this.record(st, inputs);
    }
    if (st.calls++ < (this.opts.warmup ?? 1)) return this.normal(inputs);
    return this.record(st, inputs);
  }

  private identityChanged(r: CaptureRecord): boolean {
    const now = this.opts.identity!();
    return now.length !== r.identity.length || now.some((x, i) => x !== r.identity[i]);
  }

  private normal(inputs: readonly Tensor[]): Tensor[] {
    this.counts.normal++;
    return this.fn(inputs);
  }

  private record(st: SignatureState, inputs: readonly Tensor[]): Tensor[] {
    const dev = this.device;
    const rec = new Recording(dev);
    const pool = dev.pool;
    dev.recorder = rec;
    pool.observer = {
      acquired: (b) => {
        rec.acquired.add(b);
        rec.live.add(b);
      },
      released: (b) => {
        if (!rec.live.delete(b)) rec.releasedOutside.add(b);
      },
    };
    let outs: Tensor[];
    try {
      outs = this.fn(inputs);
    } finally {
      dev.recorder = null;
      pool.observer = null;
    }
    const made = this.finish(rec, inputs, outs);
    if (typeof made === 'string') {
      st.refused = made;
      this.note(`not captured: ${made}`);
      this.counts.normal++;
      return outs;
    }
    st.record = made.record;
    this.counts.recorded++;
    return made.outputs;
  }

  /** Checks a recording and turns it into a record, or says why it cannot be one. */
  private finish(rec: Recording, inputs: readonly Tensor[], outs: Tensor[]): string | { record: CaptureRecord; outputs: Tensor[] } {
    if (rec.refused) return rec.refused;
    const name = this.opts.name;
    const dev = this.device;
    const inputBuffers = inputs.map((t) => t.storage(name).buffer);
    if (inputBuffers.some((b) => rec.acquired.has(b))) return 'an input was released and made again inside the step';
    if (new Set(inputBuffers).size < inputBuffers.length) return 'two of its inputs share a buffer';
    const outBuffers = new Set<GPUBuffer>();
    for (const t of outs) {
      const b = t.storage(name).buffer;
      if (!rec.live.has(b)) return `its output ${t} is not a tensor the step made`;
      outBuffers.add(b);
    }
    const kept = [...rec.live].filter((b) => !outBuffers.has(b)).length;
    if (kept > 0) return `it leaves ${kept} tensor(s) it made alive besides its outputs (gradients not zeroed, or state made in the step)`;
    if (rec.releasedOutside.size > 0 && bufferUses(rec.events).some((b) => rec.releasedOutside.has(b))) {
      return 'it uses a tensor it did not make and released it';
    }
    const pinned: GPUBuffer[] = [];
    for (const b of rec.acquired) {
      if (rec.live.has(b)) continue;
      if (!dev.pool.pin(b)) {
        for (const p of pinned) dev.pool.release(p);
        return 'a buffer the step used was destroyed';
      }
      pinned.push(b);
    }
    // the uniform block: each dispatch's uniform at its own aligned offset
    const align = dev.limits.minUniformBufferOffsetAlignment;
    const dispatches = rec.events.filter((e): e is DispatchEvent => e.kind === 'dispatch');
    let bytes = 0;
    for (const e of dispatches) {
      if (!e.bytes) continue;
      e.offset = bytes;
      e.offsets = [bytes];
      bytes += Math.ceil(e.bytes.byteLength / align) * align;
    }
    const block = new ArrayBuffer(Math.max(bytes, 16));
    const u8 = new Uint8Array(block);
    for (const e of dispatches) if (e.bytes) u8.set(e.bytes, e.offset);
    const uniformBuffer = bytes > 0
      ? dev.gpu.createBuffer({ label: `${name} uniforms`, size: block.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })
      : null;
    if (uniformBuffer) dev.gpu.queue.writeBuffer(uniformBuffer, 0, block);
    for (const e of dispatches) {
      if (e.bytes && uniformBuffer) {
        const at = e.entries.findIndex((x) => x.binding === e.params!.binding);
        e.entries[at] = { binding: e.params!.binding, resource: { buffer: uniformBuffer, offset: 0, size: e.params!.size } };
        e.bindGroup = dev.gpu.createBindGroup({ label: e.label, layout: e.layout, entries: e.entries });
      } else {
        e.bindGroup = dev.bindGroups.get(e.layout, e.entries, e.label);
      }
    }
    // uploads inside the step replay as copies from one constant buffer
    const writes = rec.events.filter((e): e is Extract<Event, { kind: 'write' }> => e.kind === 'write');
    let constBytes = 0;
    for (const w of writes) {
      w.at = constBytes;
      constBytes += w.data.byteLength;
    }
    let constBuffer: GPUBuffer | null = null;
    if (constBytes > 0) {
      constBuffer = dev.gpu.createBuffer({ label: `${name} uploads`, size: constBytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      for (const w of writes) dev.gpu.queue.writeBuffer(constBuffer, w.at, w.data);
    }
    // inputs: which dispatch entries bind them
    const slots: InputSlot[] = inputBuffers.map((b) => ({ recorded: b, current: b, uses: new Map() }));
    const external = new Set<GPUBuffer>();
    const note = (b: GPUBuffer) => {
      if (!rec.acquired.has(b) && !inputBuffers.includes(b)) external.add(b);
    };
    for (const e of rec.events) {
      if (e.kind === 'dispatch') {
        e.entries.forEach((x, i) => {
          const b = (x.resource as GPUBufferBinding).buffer;
          if (b === uniformBuffer) return;
          note(b);
          slots.forEach((s) => {
            if (s.recorded !== b) return;
            const list = s.uses.get(e) ?? [];
            list.push(i);
            s.uses.set(e, list);
          });
        });
      } else if (e.kind === 'copy') {
        note(e.src.buffer);
        note(e.dst.buffer);
      } else if (e.kind === 'write') {
        note(e.dst.buffer);
      }
    }
    // outputs: the record keeps their buffers; the caller gets copies
    const outputs = outs.map((t) => {
      const storage = t.storage(name);
      storage.refs++;
      return { storage, range: t.binding(name), shape: t.shape, dtype: t.dtype };
    });
    let record: CaptureRecord | null = null;
    const onWatched = () => {
      if (record && !record.retired) record.retired = 'a tensor it uses without owning was released';
    };
    const watched = [...external];
    for (const b of watched) {
      let set = dev.pool.watched.get(b);
      if (!set) dev.pool.watched.set(b, (set = new Set()));
      set.add(onWatched);
    }
    const host = rec.events.filter((e) => e.kind === 'hook' || (e.kind === 'dispatch' && (e.dynamic || e.retag)));
    const dynamic = host.some((e) => e.kind === 'dispatch');
    record = new CaptureRecord(
      rec.events, host, dynamic, uniformBuffer, block, constBuffer, pinned, outputs, slots,
      this.opts.identity?.() ?? [], watched, onWatched, dispatches.length,
    );
    const fresh = this.copyOutputs(record);
    for (const t of outs) t.dispose();
    return { record, outputs: fresh };
  }

  private copyOutputs(r: CaptureRecord): Tensor[] {
    return r.outputs.map((o) => {
      const t = Tensor.empty(this.device, o.shape, o.dtype, `${this.opts.name} output`);
      if (t.size > 0) this.device.copy(o.range, t.binding(this.opts.name));
      return t;
    });
  }

  private replay(r: CaptureRecord, inputs: readonly Tensor[]): Tensor[] {
    const dev = this.device;
    const name = this.opts.name;
    for (let k = 0; k < r.inputs.length; k++) {
      const slot = r.inputs[k];
      const b = inputs[k].storage(name).buffer;
      if (b === slot.current) continue;
      for (const [e, at] of slot.uses) {
        for (const i of at) {
          const old = e.entries[i].resource as GPUBufferBinding;
          e.entries[i] = { binding: e.entries[i].binding, resource: { buffer: b, offset: old.offset, size: old.size } };
        }
        e.bindGroup = dev.bindGroups.get(e.layout, e.entries, e.label);
      }
      slot.current = b;
    }
    if (r.host.length > 0) {
      const view = r.view!;
      for (const e of r.host) {
        if (e.kind === 'hook') e.fn();
        else if (e.kind === 'dispatch') {
          if (e.dynamic) writeParams(e.label, e.params!, { ...e.values!, ...e.dynamic() }, view, e.offset);
          if (e.retag) view.setUint32(e.offset + e.tagOffset, dev.flags.tag(e.retag), true);
        }
      }
      if (r.dynamic) {
        // the previous replay's dispatches must read the values they were recorded with
        if (dev.submitCount === r.lastSubmit) dev.flush();
        dev.gpu.queue.writeBuffer(r.uniformBuffer!, 0, r.block);
      }
    }
    const resolve = (x: BufferRange): BufferRange => {
      const slot = r.inputs.find((s) => s.recorded === x.buffer);
      return slot ? { buffer: slot.current, offset: x.offset, size: x.size } : x;
    };
    for (const e of r.events) {
      if (e.kind === 'dispatch') {
        const [x, y, z] = e.workgroups;
        dev.encodeDispatch(e.pipeline, e.bindGroup!, e.offsets, x, y, z);
      } else if (e.kind === 'copy') {
        dev.copy(resolve(e.src), resolve(e.dst));
      } else if (e.kind === 'write') {
        dev.copy({ buffer: r.constBuffer!, offset: e.at, size: e.data.byteLength }, e.dst);
      }
    }
    const outs = this.copyOutputs(r);
    r.lastSubmit = dev.submitCount;
    this.counts.replayed++;
    return outs;
  }

  /** Gives a record's buffers back. */
  private release(r: CaptureRecord): void {
    const dev = this.device;
    for (const b of r.watched) {
      const set = dev.pool.watched.get(b);
      set?.delete(r.onWatched);
      if (set?.size === 0) dev.pool.watched.delete(b);
    }
    // dispatches still in the open encoder may bind what is destroyed below
    try {
      dev.flush();
    } catch {
      /* a destroyed or lost device cannot submit; nothing is pending then */
    }
    for (const b of r.pinned) dev.pool.release(b);
    for (const o of r.outputs) o.storage.release();
    r.uniformBuffer?.destroy();
    r.constBuffer?.destroy();
  }

  /** Releases every record (the function can no longer run). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const st of this.states.values()) if (st.record) this.release(st.record);
    this.states.clear();
  }
}

/** A captured function of tensors (see CapturedFunction). */
export function capture(device: Device, fn: (inputs: readonly Tensor[]) => Tensor[], opts: CaptureOptions): CapturedFunction {
  return new CapturedFunction(device, fn, opts);
}
