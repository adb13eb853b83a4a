import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, npyHeader } from '../../src/experiments/npy.js';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));

describe('.npy writer and reader (format v1.0, <f4, C order)', () => {
  // The fixtures were written by numpy.save (NumPy 2.4): our bytes must be identical.
  it('writes exactly the bytes numpy.save writes', () => {
    const a23 = Float32Array.from([0, 1, 2, 3, 4, 5].map((i) => (i - 2.5) / 3));
    expect(encodeNpy(a23, [2, 3]).equals(fixture('numpy-2x3.npy'))).toBe(true);
    const a5 = Float32Array.from([1.5, 0, Infinity, 1e-30, 3.4e38]);
    expect(encodeNpy(a5, [5]).equals(fixture('numpy-5.npy'))).toBe(true);
    const a123 = Float32Array.from([0, 1, 2, 3, 4, 5].map((i) => Math.fround(i) * Math.fround(0.1)));
    expect(encodeNpy(a123, [1, 2, 3]).equals(fixture('numpy-1x2x3.npy'))).toBe(true);
    expect(encodeNpy(Float32Array.of(7.25), []).equals(fixture('numpy-scalar.npy'))).toBe(true);
  });
  it('header: magic, version 1.0, length, 64-byte alignment, newline', () => {
    for (const shape of [[], [3], [2, 3], [1000000, 7], [1, 2, 3, 4, 5, 6, 7, 8]]) {
      const h = npyHeader(shape);
      expect([...h.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      expect(h.readUInt16LE(8)).toBe(h.length - 10);
      expect(h.length % 64).toBe(0);
      expect(h[h.length - 1]).toBe(0x0a);
      expect(h.toString('latin1')).toContain(`'descr': '<f4', 'fortran_order': False`);
    }
  });
  it('reads numpy files and round-trips its own', () => {
    const r = decodeNpy(fixture('numpy-2x3.npy'));
    expect(r.shape).toEqual([2, 3]);
    expect(r.data[5]).toBeCloseTo(2.5 / 3, 6);
    expect(decodeNpy(fixture('numpy-scalar.npy'))).toEqual({ shape: [], data: Float32Array.of(7.25) });
    const data = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i));
    const back = decodeNpy(encodeNpy(data, [2, 3, 4]));
    expect(back.shape).toEqual([2, 3, 4]);
    expect(back.data).toEqual(data);
  });
  it('refuses what it cannot read, and a shape that does not fit the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values/);
    expect(() => decodeNpy(Buffer.from('hello world'))).toThrow(/magic/);
    const f8 = Buffer.from(fixture('numpy-2x3.npy'));
    f8.write("'<f8'", f8.indexOf("'<f4'"), 'latin1');
    expect(() => decodeNpy(f8)).toThrow(/<f8/);
    expect(() => decodeNpy(fixture('numpy-2x3.npy').subarray(0, 140))).toThrow(/data bytes/);
  });
});
