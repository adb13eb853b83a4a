import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';

describe('creation', () => {
  it('zeros, ones, full, arange and fromArray give exactly their values', async () => {
    expect(Array.from(await ws.zeros([3, 17]).data())).toEqual(Array(51).fill(0));
    expect(Array.from(await ws.ones([257]).data())).toEqual(Array(257).fill(1));
    expect(Array.from(await ws.full([2, 2], -2.5).data())).toEqual([-2.5, -2.5, -2.5, -2.5]);
    expect(Array.from(await ws.arange(5).data())).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(await ws.arange(1, 2, 0.25).data())).toEqual([1, 1.25, 1.5, 1.75]);
    expect(Array.from(await ws.fromArray([1, 2, 3, 4, 5, 6], [2, 3]).data())).toEqual([1, 2, 3, 4, 5, 6]);
    const i = ws.full([3], -7, { dtype: 'i32' });
    expect(i.dtype).toBe('i32');
    expect(Array.from(await i.data())).toEqual([-7, -7, -7]);
  });

  it('cast converts between f32 and i32', async () => {
    const x = ws.fromArray([-2.7, -0.5, 0, 1.9, 300]);
    const i = ws.cast(x, 'i32');
    expect(Array.from(await i.data())).toEqual([-2, 0, 0, 1, 300]);
    expect(Array.from(await ws.cast(i, 'f32').data())).toEqual([-2, 0, 0, 1, 300]);
  });

  it('readback fills a preallocated array', async () => {
    const into = new Float32Array(4);
    const out = await ws.fromArray([1, 2, 3, 4]).data(into);
    expect(out).toBe(into);
    expect(Array.from(into)).toEqual([1, 2, 3, 4]);
  });
});

describe('views', () => {
  it('reshape, squeeze and unsqueeze share storage and infer -1', async () => {
    const x = ws.arange(12);
    const y = x.reshape([3, -1]);
    expect(y.shape).toEqual([3, 4]);
    expect(y.unsqueeze(1).shape).toEqual([3, 1, 4]);
    expect(y.unsqueeze(-1).shape).toEqual([3, 4, 1]);
    expect(y.unsqueeze(1).squeeze().shape).toEqual([3, 4]);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([...Array(12).keys()]);
  });
});

describe('random numbers', () => {
  it('the same seed gives bit-identical randn twice', async () => {
    const a = await ws.randn([1000, 17], { seed: 42 }).data();
    const b = await ws.randn([1000, 17], { seed: 42 }).data();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const c = await ws.randn([1000, 17], { seed: 43 }).data();
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it('numbers depend on (seed, stream, index) only, whatever the shape split', async () => {
    const flat = await ws.randn([24], { seed: 7 }).data();
    const grid = await ws.randn([6, 4], { seed: 7 }).data();
    const longer = await ws.randn([48], { seed: 7 }).data();
    expect(Array.from(grid)).toEqual(Array.from(flat));
    expect(Array.from(longer.slice(0, 24))).toEqual(Array.from(flat));
    const other = await ws.randn([24], { seed: 7, stream: 1 }).data();
    expect(Array.from(other)).not.toEqual(Array.from(flat));
  });

  it('randn has mean 0 and std 1; rand is uniform in [0, 1)', async () => {
    const n = 1 << 20;
    const z = ws.randn([n], { seed: 3 });
    expect(Math.abs(await ws.mean(z).item())).toBeLessThan(0.005);
    expect(Math.abs((await ws.std(z).item()) - 1)).toBeLessThan(0.005);
    const u = ws.rand([n], { seed: 4 });
    expect(await ws.min(u).item()).toBeGreaterThanOrEqual(0);
    expect(await ws.max(u).item()).toBeLessThan(1);
    expect(Math.abs((await ws.mean(u).item()) - 0.5)).toBeLessThan(0.005);
    const scaled = ws.randn([n], { seed: 5, mean: 2, std: 3 });
    expect(Math.abs((await ws.mean(scaled).item()) - 2)).toBeLessThan(0.02);
  });
});

describe('memory', () => {
  it('1,000 iterations of an op chain inside scopes leave no live tensors and flat live bytes', async () => {
    const device = ws.getDevice();
    const w = ws.randn([64, 33], { seed: 1 });
    await device.sync();
    const before = ws.memoryStats();
    let created = 0;
    for (let i = 0; i < 1000; i++) {
      const loss = ws.tidy(() => {
        const h = ws.tanh(ws.add(ws.mul(w, 0.5), ws.slice(w, 0, 0, 1)));
        const s = ws.softmax(ws.concat([h, ws.transpose(h).reshape([64, 33])], 1), -1);
        return ws.mean(ws.square(s));
      });
      if (i % 100 === 99) await loss.item();
      loss.dispose();
      if (i === 99) created = ws.memoryStats().buffersCreated;
    }
    await device.sync();
    const after = ws.memoryStats();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.buffersCreated).toBe(created);
  });

  it('tidy keeps what the block returns, disposes the rest, also on error', () => {
    const before = ws.memoryStats().liveTensors;
    const kept = ws.tidy(() => {
      ws.zeros([3]);
      return { a: ws.ones([2]), list: [ws.ones([1])] };
    });
    expect(ws.memoryStats().liveTensors).toBe(before + 2);
    expect(() =>
      ws.tidy(() => {
        ws.zeros([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ws.memoryStats().liveTensors).toBe(before + 2);
    kept.a.dispose();
    kept.list[0].dispose();
    expect(ws.memoryStats().liveTensors).toBe(before);
  });

  it('keep lets a tensor outlive its scope; nested scopes hand results outward', () => {
    const before = ws.memoryStats().liveTensors;
    let inner: ws.Tensor | undefined;
    let kept: ws.Tensor | undefined;
    ws.tidy(() => {
      kept = ws.keep(ws.zeros([1]));
      inner = ws.tidy(() => ws.ones([1]));
      expect(inner.disposed).toBe(false);
    });
    expect(inner!.disposed).toBe(true);
    expect(kept!.disposed).toBe(false);
    kept!.dispose();
    expect(ws.memoryStats().liveTensors).toBe(before);
  });
});

describe('bad input gets a clear error', () => {
  it('fromArray with the wrong length', () => {
    expect(() => ws.fromArray([1, 2, 3], [2, 2])).toThrow(/fromArray: data has 3 elements, shape \[2, 2\] needs 4/);
  });
  it('NaN or negative shape entries', () => {
    expect(() => ws.zeros([2, NaN])).toThrow(/zeros: shape \[2, NaN\] must hold non-negative integers/);
    expect(() => ws.zeros([-1])).toThrow(/non-negative integers/);
  });
  it('reshape to a different size', () => {
    expect(() => ws.zeros([2, 3]).reshape([4, 2])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\] \(8 elements\)/);
  });
  it('a tensor larger than the adapter binding limit', () => {
    const limit = ws.getDevice().limits.maxStorageBufferBindingSize;
    const n = Math.ceil(limit / 4) + 1;
    expect(() => ws.zeros([n])).toThrow(new RegExp(`zeros \\[${n}\\]: needs a buffer of ${n * 4} bytes, over the adapter's limit`));
  });
  it('use of a disposed tensor, readback included', async () => {
    const t = ws.zeros([2, 2]);
    t.dispose();
    expect(() => t.reshape([4])).toThrow(/reshape: tensor #\d+ \[2, 2\] was disposed/);
    await expect(t.data()).rejects.toThrow(/data: tensor #\d+ \[2, 2\] was disposed/);
  });
  it('item of a tensor with more than one element', async () => {
    await expect(ws.zeros([2]).item()).rejects.toThrow(/item: tensor \[2\] has 2 elements, expected 1/);
  });
});
