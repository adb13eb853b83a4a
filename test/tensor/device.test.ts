import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as ws from '../../src/index.js';
import { Device } from '../../src/index.js';
import { POLL_MS, POLL_WINDOW_MS, predictedPoll, waitFor } from '../../src/tensor/wait.js';

describe('device', () => {
  it("'predict' polls on the timer until shortly before its predecessor's duration, then often, then on the timer again", () => {
    // a predecessor of 10 ms: the timer while more than 1.5 ms is left before 9 ms
    expect(predictedPoll(0, 10)).toEqual({ timer: true });
    expect(predictedPoll(7.4, 10)).toEqual({ timer: true });
    // then one block until 0.9 x 10 ms, then polls every POLL_MS
    expect(predictedPoll(7.6, 10)).toEqual({ timer: false, ms: expect.closeTo(1.4, 9) });
    expect(predictedPoll(9.5, 10)).toEqual({ timer: false, ms: POLL_MS });
    expect(predictedPoll(10 + POLL_WINDOW_MS - 0.01, 10)).toEqual({ timer: false, ms: POLL_MS });
    // a wait far longer than its predecessor goes back to the timer
    expect(predictedPoll(10 + POLL_WINDOW_MS + 0.01, 10)).toEqual({ timer: true });
    // a long predecessor: blocking starts POLL_WINDOW_MS before its end, not 10% before
    expect(predictedPoll(100, 200)).toEqual({ timer: true });
    expect(predictedPoll(200 - POLL_WINDOW_MS - 1.6, 200)).toEqual({ timer: true });
    expect(predictedPoll(200 - POLL_WINDOW_MS - 1, 200)).toEqual({ timer: false, ms: expect.closeTo(1, 9) });
  });

  it("'predict' polls the sleeping way for a first wait of a kind and the predicting way for the next", async () => {
    const pollDuring = (key: number) => waitFor('predict', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return globalThis.setImmediate.name;
    }, key);
    const key = 1e9 + Math.floor(Math.random() * 1e6);
    expect(await pollDuring(key)).toBe('sleepingSetImmediate');
    expect(await pollDuring(key)).toBe('predictingSetImmediate');
    expect(await pollDuring(key + 1)).toBe('sleepingSetImmediate');
    // without a kind (a pipeline compile) 'predict' polls the sleeping way
    expect(await waitFor('predict', async () => globalThis.setImmediate.name)).toBe('sleepingSetImmediate');
    expect(await waitFor('sleep', async () => globalThis.setImmediate.name)).toBe('sleepingSetImmediate');
    expect(globalThis.setImmediate.name).toBe('setImmediate');
  });

  it("'predict' still predicts a readback while a pipeline compile's wait is pending beside it", async () => {
    const key = 2e9 + Math.floor(Math.random() * 1e6);
    const pollDuring = () => waitFor('predict', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return globalThis.setImmediate.name;
    }, key);
    await pollDuring();
    let release!: () => void;
    const compile = waitFor('predict', () => new Promise<void>((resolve) => { release = resolve; }));
    expect(globalThis.setImmediate.name).toBe('sleepingSetImmediate');
    expect(await pollDuring()).toBe('predictingSetImmediate');
    // the compile alone polls the sleeping way again, and nothing of ours once it is through
    expect(globalThis.setImmediate.name).toBe('sleepingSetImmediate');
    release();
    await compile;
    expect(globalThis.setImmediate.name).toBe('setImmediate');
  });

  it("'predict' reads back the same values as the other strategies, waits repeated", async () => {
    const results: number[][] = [];
    for (const wait of ['sleep', 'spin', 'predict'] as const) {
      const d = await Device.create({ wait });
      expect(d.wait).toBe(wait);
      const x = ws.randn([64, 64], { seed: 3, device: d });
      for (let i = 0; i < 3; i++) {
        const y = ws.matmul(x, x);
        results.push(Array.from(await y.data()));
        y.dispose();
      }
      d.destroy();
    }
    for (const r of results) expect(r).toEqual(results[0]);
  });

  it('describes the adapter it picked and waits by predicting on a software adapter', () => {
    const d = ws.getDevice();
    expect(d.describe()).toMatch(/\S+ \/ \S+ \/ .+ \(wait: (predict|spin)\)/);
    if (d.isSoftware) expect(d.wait).toBe('predict');
    expect(d.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
  });

  it('takes the wait strategy as an option and refuses unknown ones', async () => {
    const spin = await Device.create({ wait: 'spin' });
    expect(spin.wait).toBe('spin');
    const t = ws.full([4], 2, { device: spin });
    expect(Array.from(await ws.mul(t, t).data())).toEqual([4, 4, 4, 4]);
    spin.destroy();
    await expect(Device.create({ wait: 'busy' as never })).rejects.toThrow(/wait strategy must be 'auto', 'sleep', 'spin' or 'predict', got 'busy'/);
  });

  it('refuses an adapter that does not match the one asked for', async () => {
    await expect(Device.create({ adapter: 'no-such-adapter-xyz' })).rejects.toThrow(/no-such-adapter-xyz|no WebGPU adapter/);
  });

  it('a destroyed device gives a clear error', async () => {
    const d = await Device.create();
    d.destroy();
    expect(() => ws.zeros([2], { device: d })).toThrow(/the device was destroyed/);
  });
});

describe('command batching', () => {
  it('hundreds of dispatches with different uniforms in one submit each see their own values', async () => {
    // 700 dispatches cross the uniform ring's 64 KiB chunks (256 slots each).
    let x = ws.zeros([3]);
    const expected = (700 * 701) / 2;
    for (let i = 1; i <= 700; i++) {
      const next = ws.add(x, i);
      x.dispose();
      x = next;
    }
    expect(Array.from(await x.data())).toEqual([expected, expected, expected]);
  });

  it('a small dispatch bound submits early and stays correct', async () => {
    const d = await Device.create({ maxDispatchesPerSubmit: 3 });
    let x = ws.ones([5], { device: d });
    for (let i = 0; i < 20; i++) x = ws.mul(x, 2);
    expect(Array.from(await x.data())).toEqual(Array(5).fill(2 ** 20));
    d.destroy();
  });

  it('a buffer freed in the open encoder is reused without corrupting an upload', async () => {
    const a = ws.fromArray([1, 2, 3, 4]);
    const b = ws.mul(a, 10); // pending in the open encoder, reads a
    a.dispose(); // a's buffer goes back to the pool while the encoder still reads it
    const c = ws.fromArray([7, 7, 7, 7]); // must not land in a's buffer before b runs
    expect(Array.from(await b.data())).toEqual([10, 20, 30, 40]);
    expect(Array.from(await c.data())).toEqual([7, 7, 7, 7]);
  });
});

describe('kernel toolchain', () => {
  const d = () => ws.getDevice();

  it('reports a WGSL compile error with the file, line and message', async () => {
    d().kernels.loadSource('broken', [
      '@group(0) @binding(0) var<storage, read_write> out: array<f32>;',
      '@compute @workgroup_size(1) fn main() {',
      '  let x: f32 = 1u;',
      '  out[0] = x;',
      '}',
    ].join('\n'));
    const out = ws.zeros([1]);
    d().dispatch({ kernel: 'broken', label: 'broken()', bindings: { out: out.binding('t') }, workgroups: [1] });
    await expect(d().sync()).rejects.toThrow(/broken\.wgsl:3:\d+: .*/);
  });

  it('expands //!include lines and still reports errors at the including file and line', async () => {
    const k = d().kernels.loadSource('with_include', [
      '//!include matmul_common.wgsl',
      '@compute @workgroup_size(1) fn main() {',
      '  let x: f32 = 1u;',
      '  out[0] = x + f32(batch_offsets(0u).x);',
      '}',
    ].join('\n'));
    expect(k.source).toContain('fn batch_offsets');
    expect(k.lineOrigin[0]).toEqual({ file: 'include/matmul_common.wgsl', line: 1 });
    const errors = (await d().kernels.compileErrors()).filter((e) => e.startsWith('with_include'));
    expect(errors.join('\n')).toMatch(/^with_include\.wgsl:3:\d+: /);
    expect(() => d().kernels.loadSource('bad_include', '//!include nope.wgsl')).toThrow(/bad_include\.wgsl:1: included file include\/nope\.wgsl not found/);
  });

  it('checks every dispatch against the reflected bindings', () => {
    const x = ws.zeros([4]);
    const y = ws.zeros([4]);
    const base = { kernel: 'unary', label: 'exp([4])', params: { n: 4 }, workgroups: [1] as [number] };
    expect(() => d().dispatch({ ...base, bindings: { x: x.binding('t') } })).toThrow(/exp\(\[4\]\): kernel unary\.wgsl:main binding 'out' not given/);
    expect(() => d().dispatch({ ...base, bindings: { x: x.binding('t'), out: y.binding('t'), z: y.binding('t') } })).toThrow(/has no binding named z/);
    expect(() => d().dispatch({ ...base, bindings: { x: x.binding('t'), out: x.binding('t') } })).toThrow(/bound both for reading and for writing|aliasing/);
    expect(() => d().dispatch({ ...base, constants: { NOPE: 1 }, bindings: { x: x.binding('t'), out: y.binding('t') } })).toThrow(/unknown override constant 'NOPE'/);
    expect(() => d().dispatch({ ...base, params: { n: 4, m: 1 }, bindings: { x: x.binding('t'), out: y.binding('t') } })).toThrow(/unknown uniform member 'm'/);
    expect(() => d().dispatch({ ...base, params: {}, bindings: { x: x.binding('t'), out: y.binding('t') } })).toThrow(/uniform member 'n' not given/);
    expect(() => d().dispatch({ ...base, entry: 'nope', bindings: {} })).toThrow(/has no compute entry point 'nope'/);
  });

  it('caches pipelines by (kernel, constants)', () => {
    const k = d().kernels;
    const x = ws.zeros([4]);
    ws.exp(x);
    const n = k.pipelinesCreated;
    for (let i = 0; i < 10; i++) ws.exp(x);
    expect(k.pipelinesCreated).toBe(n);
    ws.log(x);
    expect(k.pipelinesCreated).toBe(n + 1);
  });

  it('every kernel file compiles and opens with a header comment naming its bindings', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../../src/kernels/', import.meta.url);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.wgsl'))) {
      const src = readFileSync(new URL(f, dir), 'utf8');
      expect(src.startsWith('//'), `${f} header`).toBe(true);
      expect(src.split('\n').filter((l) => l.startsWith('//')).join('\n'), `${f} header`).toMatch(/[Bb]inding/);
      d().kernels.load(f.replace(/\.wgsl$/, ''));
    }
    expect((await d().kernels.compileErrors()).filter((e) => !/^(broken|with_include)\.wgsl/.test(e))).toEqual([]);
  });
});

describe('teardown', () => {
  it('a process that uses the device and shuts down exits cleanly', () => {
    const script = `import * as ws from './src/index.js';
await ws.init();
const t = ws.randn([1000], { seed: 1 });
ws.exp(t);
ws.shutdown();
console.log('clean');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).not.toMatch(/futex|Segmentation|Aborted/);
    expect(r.stdout).toContain('clean');
    expect(r.status).toBe(0);
  });
});
