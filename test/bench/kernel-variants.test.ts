import { describe, expect, it } from 'vitest';
import { getDevice } from '../../src/index.js';
import { deriveKernel, kernelSource } from '../../bench/kernel-variants.js';
import { boundVariant } from '../../bench/bound-variants.js';

const MATMUL = ['unroll_k2', 'compute', 'loads', 'small', 'wg', 'texel'];
const CONV = ['fwd_compute', 'fwd_loads'];

describe('bench kernel variants: derived from the real kernels by checked substitutions', () => {
  it('every variant of matmul-bound derives from the current kernels, the controls unchanged', () => {
    expect(boundVariant('matmul_packed', 'real_loop')).toBe(kernelSource('matmul_packed'));
    expect(boundVariant('conv2d_shuffle', 'fwd')).toBe(kernelSource('conv2d_shuffle'));
    for (const v of MATMUL) expect(boundVariant('matmul_packed', v)).not.toBe(kernelSource('matmul_packed'));
    for (const v of CONV) expect(boundVariant('conv2d_shuffle', v)).not.toBe(kernelSource('conv2d_shuffle'));
    expect(boundVariant('matmul_packed', 'texel')).toContain('textureLoad(ta,');
    expect(() => boundVariant('matmul_packed', 'nope')).toThrow(/no variant 'nope' of matmul_packed/);
  });

  it('the buffer-only variants compile', async () => {
    const device = getDevice();
    for (const v of MATMUL.filter((m) => m !== 'texel')) device.kernels.loadSource(`test_matmul_bound_${v}`, boundVariant('matmul_packed', v));
    for (const v of CONV) device.kernels.loadSource(`test_conv_bound_${v}`, boundVariant('conv2d_shuffle', v));
    expect(await device.kernels.compileErrors()).toEqual([]);
  });

  it('an edit whose target is missing, repeated or out of its function throws, naming kernel, variant and edit', () => {
    const src = 'fn f() {\n  let a = 1u;\n}\nfn g() {\n  let a = 1u;\n  let b = 2u;\n}\n';
    const edit = (find: string, within?: string, count?: number) => deriveKernel('k', 'v', [{ name: 'e', find, replace: 'X', within, count }], src);
    expect(() => edit('let c')).toThrow(/k\.wgsl variant 'v', edit 'e': "let c" occurs 0 times, expected 1/);
    expect(() => edit('let a = 1u;')).toThrow(/occurs 2 times, expected 1/);
    expect(() => edit('let b = 2u;', 'fn f(')).toThrow(/occurs 0 times in fn f\(/);
    expect(() => edit('let a', 'fn h(')).toThrow(/anchor "fn h\(" occurs 0 times/);
    expect(edit('let a = 1u;', 'fn g(')).toBe('fn f() {\n  let a = 1u;\n}\nfn g() {\n  X\n  let b = 2u;\n}\n');
    expect(edit('let a = 1u;', undefined, 2)).toBe('fn f() {\n  X\n}\nfn g() {\n  X\n  let b = 2u;\n}\n');
    expect(deriveKernel('k', 'v', [{ name: 'span', find: 'let a', through: '2u;', replace: 'Y' }], src.slice(src.indexOf('fn g')))).toBe('fn g() {\n  Y\n}\n');
  });
});
