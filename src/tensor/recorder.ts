/**
 * @file What the device tells a step being recorded (src/tensor/capture.ts's Recording): every
 * dispatch it encodes, copy and upload, and why a step cannot be captured. Device.recorder holds
 * one while a step is recorded.
 */
import type { BufferRange, EntryInfo } from './kernel-registry.js';

export type ParamsLayout = NonNullable<EntryInfo['params']>;
export type Values = Record<string, number | readonly number[]>;

/** What Device.dispatch reports for one dispatch it encodes while a step is recorded. */
export interface ResolvedDispatch {
  spec: { label: string; params?: Values; dynamic?: () => Values };
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  entries: GPUBindGroupEntry[];
  params: ParamsLayout | null;
  /** The uniform's bytes as written for this dispatch (null without one). */
  uniform: DataView | null;
  offsets: readonly number[];
  workgroups: [number, number, number];
}

export interface DispatchRecorder {
  dispatch(d: ResolvedDispatch): void;
  copy(src: BufferRange, dst: BufferRange): void;
  write(dst: BufferRange, data: ArrayBufferView): void;
  /** Repeats `fn` at every replay, at this point of the step (host state the step advances). */
  onReplay(fn: () => void): void;
  /** Marks the step as one that cannot be captured (it runs normally every time). */
  refuse(reason: string): void;
}
