/**
 * @file The device's error flags: a small storage buffer that kernels write when they meet an
 * input they cannot use (an index outside its range) or, in anomaly mode, an output that is not
 * finite. Kernels never read it; the host copies it into the staging buffer of the next readback
 * (data(), item(), Device.sync(): no extra submit or wait), throws a clear error naming the op,
 * and clears it.
 *
 * Layout (u32 words, see src/kernels/include/error_flags.wgsl): two records of 4 words, each
 * [tag, value, flat position, unused]; record 0 holds a bad index, record 1 a non-finite output.
 * `tag` (0: none) is a number the host gave the dispatch when it was recorded; the first
 * dispatch to find a problem wins (compare-exchange on the tag) and later ones leave the record
 * alone, so the record names the first offender in submission order.
 */
import { fmt } from './shape.js';

export const FLAG_WORDS = 8;
export const FLAG_BYTES = FLAG_WORDS * 4;

/** What a dispatch that checks its indices reads (one tag each). */
export interface IndexCheck {
  kind: 'index';
  /** The op, as the user called it (e.g. 'embedding', 'crossEntropyBackward'). */
  op: string;
  /** The dispatch's label (the op and its shapes). */
  label: string;
  /** What the indices are called in messages ('index', 'label'). */
  noun: string;
  /** The indices tensor's name and shape, to turn the flat position into a multi-index. */
  tensor: string;
  shape: readonly number[];
  /** Valid indices are [0, bound). */
  bound: number;
}

/** One output binding a non-finite check (anomaly mode) scans. */
export interface OutputCheck {
  kind: 'output';
  /** The dispatch's label, the output binding's name and the words it holds. */
  label: string;
  binding: string;
  words: number;
  /** The shape of the tensor bound there, when known. */
  shape?: readonly number[];
  /** Where it ran: forward or the backward of an op, and the training step (Device.context). */
  context: string;
}

export type FlagTag = IndexCheck | OutputCheck;

/** Row-major multi-index of flat position `pos` in `shape`. */
export function unravel(pos: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  let rest = pos;
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a];
    if (d > 0) {
      out[a] = rest % d;
      rest = Math.floor(rest / d);
    }
  }
  return out;
}

function describeIndex(t: IndexCheck, value: number, pos: number): string {
  return (
    `${t.op}: ${t.noun} ${value} at position [${unravel(pos, t.shape).join(', ')}] (flat ${pos}) of ${t.tensor} ` +
    `${fmt(t.shape)} is outside [0, ${t.bound}) (found on the device by ${t.label}; reported at the first readback after it)`
  );
}

function describeOutput(t: OutputCheck, bits: number, pos: number): string {
  const value = new Float32Array(new Uint32Array([bits]).buffer)[0];
  return (
    `anomaly: ${t.label} wrote a non-finite value (${value}) to its output '${t.binding}' ` +
    `(${t.shape ? `tensor ${fmt(t.shape)}` : `${t.words} words`}) at element ${pos} ` +
    `(${t.context}; reported at the first readback after it)`
  );
}

export class ErrorFlags {
  readonly buffer: GPUBuffer;
  private readonly tags = new Map<number, FlagTag>();
  private next = 1;
  /** Tags up to this one were read back and reported already. */
  private reported = 0;

  constructor(private readonly gpu: GPUDevice) {
    // WebGPU zero-fills new buffers: no record set.
    this.buffer = gpu.createBuffer({
      label: 'error flags',
      size: FLAG_BYTES,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  /** The range kernels bind as `flags`. */
  get range(): { buffer: GPUBuffer; offset: number; size: number } {
    return { buffer: this.buffer, offset: 0, size: FLAG_BYTES };
  }

  /** A tag for one dispatch that may write the flags (pass it to the kernel, e.g. as p.tag). */
  tag(what: FlagTag): number {
    if (this.next > 0xffffffff) throw new Error('device: the error flags ran out of dispatch tags (2^32 since creation)');
    const t = this.next++;
    this.tags.set(t, what);
    return t;
  }

  /** What tag `t` was handed out for, while it is not yet covered by a readback. */
  described(t: number): FlagTag | undefined {
    return this.tags.get(t);
  }

  /** The last tag handed out: a readback whose copy is recorded now covers every tag up to it. */
  get last(): number {
    return this.next - 1;
  }

  /**
   * Decodes flag words read back by a readback that covered tags up to `upTo`: returns the
   * message of the first problem not reported yet (and clears the device's flags), or null.
   */
  take(words: Uint32Array, upTo: number): string | null {
    let message: string | null = null;
    for (const base of [0, 4]) {
      const tag = words[base];
      if (tag === 0 || tag <= this.reported || message) continue;
      const t = this.tags.get(tag);
      const value = words[base + 1];
      const pos = words[base + 2];
      if (!t) message = `device error flag set by an unknown dispatch (tag ${tag}, value ${value}, position ${pos})`;
      else if (t.kind === 'index') message = describeIndex(t, value | 0, pos);
      else message = describeOutput(t, value, pos);
    }
    // a record of a tag already reported is a stale copy: the flags were cleared since
    if (message) {
      this.gpu.queue.writeBuffer(this.buffer, 0, new Uint32Array(FLAG_WORDS));
      this.reported = Math.max(this.reported, upTo);
    }
    for (const k of this.tags.keys()) {
      if (k > upTo) break;
      this.tags.delete(k);
    }
    return message;
  }

  destroy(): void {
    this.buffer.destroy();
    this.tags.clear();
  }
}

/**
 * Where the dispatches being recorded belong, for anomaly messages: the tape sets the phase
 * (the backward of an op), trainers set the step.
 */
export const flagContext = {
  phase: 'forward',
  step: null as number | null,
  describe(): string {
    return `${this.phase}${this.step === null ? '' : `, training step ${this.step}`}`;
  },
};
