import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from '../../src/nn/safetensors.js';

describe('safetensors', () => {
  it('round-trips f32 and i32 tensors and string metadata', () => {
    const file = {
      tensors: {
        'b.weight': { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, -6.5) },
        'a.idx': { shape: [3], data: Int32Array.of(-1, 0, 7) },
      },
      metadata: { widthscope: JSON.stringify({ width: 64 }) },
    };
    const dir = mkdtempSync(join(tmpdir(), 'ws-st-'));
    const path = join(dir, 'm.safetensors');
    writeSafetensors(path, file);
    const back = readSafetensors(path);
    expect(back.metadata).toEqual(file.metadata);
    expect(back.tensors['b.weight'].shape).toEqual([2, 3]);
    expect(Array.from(back.tensors['b.weight'].data)).toEqual([1, 2, 3, 4, 5, -6.5]);
    expect(back.tensors['a.idx'].data).toBeInstanceOf(Int32Array);
    expect(Array.from(back.tensors['a.idx'].data)).toEqual([-1, 0, 7]);
  });

  it('writes the layout other tools read: u64 header length, 8-aligned JSON, offsets in name order', () => {
    const buf = encodeSafetensors({ tensors: { x: { shape: [1], data: Float32Array.of(2) }, w: { shape: [2], data: Float32Array.of(3, 4) } }, metadata: {} });
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    expect(header.w).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    expect(header.x).toEqual({ dtype: 'F32', shape: [1], data_offsets: [8, 12] });
    expect(buf.readFloatLE(8 + n)).toBe(3);
    expect(buf.length).toBe(8 + n + 12);
  });

  it('refuses a truncated file with a clear message', () => {
    const buf = encodeSafetensors({ tensors: { w: { shape: [4], data: new Float32Array(4) } }, metadata: {} });
    expect(() => decodeSafetensors(buf.subarray(0, buf.length - 4), 'm.safetensors')).toThrow(/m\.safetensors: tensor 'w' data \[0, 16\) does not hold shape \[4\]/);
  });
});
