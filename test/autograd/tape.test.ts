import { describe, expect, it } from 'vitest';
import * as raw from '../../src/ops/index.js';
import { fromArray, getDevice, keep, memoryStats, tidy, tidyAsync, type Tensor } from '../../src/index.js';
import * as ag from '../../src/autograd/index.js';
import { F64Tensor, backward, gradients, noGrad } from '../../src/autograd/index.js';
import { cnnLoss, mlpLoss } from '../../src/autograd/suite.js';

const param = (values: number[], shape: number[]) => {
  const t = fromArray(values, shape);
  t.requiresGrad = true;
  return keep(t);
};

describe('the tape', () => {
  it('broadcasting gradients sum back to each input shape', async () => {
    const a = param([1, 2, 3], [3, 1]);
    const b = param([10, 20, 30, 40], [4]);
    tidy(() => backward(ag.sum(ag.mul(a, b))));
    expect(a.grad!.shape).toEqual([3, 1]);
    expect(b.grad!.shape).toEqual([4]);
    expect(await a.grad!.toArray()).toEqual([100, 100, 100]);
    expect(await b.grad!.toArray()).toEqual([6, 6, 6, 6]);
    // a scalar-shaped operand against a matrix, and a number operand
    const s = param([2], []);
    tidy(() => backward(ag.sum(ag.mul(ag.add(s, fromArray([1, 2, 3, 4, 5, 6], [2, 3])), 3))));
    expect(s.grad!.shape).toEqual([]);
    expect(await s.grad!.toArray()).toEqual([18]);
  });

  it('accumulates gradients over two backward calls', async () => {
    const x = param([1, 2, 3], [3]);
    tidy(() => backward(ag.sum(ag.square(x))));
    tidy(() => backward(ag.sum(ag.square(x))));
    expect(await x.grad!.toArray()).toEqual([4, 8, 12]);
  });

  it('noGrad records nothing', () => {
    const x = param([1, 2], [2]);
    const y = noGrad(() => ag.exp(ag.mul(x, x)));
    expect(y.node).toBeNull();
    expect(ag.isTracked(y)).toBe(false);
    expect(() => backward(ag.sum(y))).toThrow(/backward: tensor #\d+ \[\] does not require grad/);
    // and recording resumes after the block
    expect(ag.mul(x, x).node).not.toBeNull();
  });

  it('Tensor.reshape/squeeze/unsqueeze (views made in tensor.ts) are recorded', async () => {
    const x = param([1, 2, 3, 4], [2, 2]);
    tidy(() => backward(ag.sum(ag.mul(x.reshape([4]).unsqueeze(0).squeeze(), fromArray([1, 10, 100, 1000])))));
    expect(await x.grad!.toArray()).toEqual([1, 10, 100, 1000]);
  });

  it('a graph survives tidy disposing its intermediates, and is freed with its output', async () => {
    const x = param([0.5, -1, 2], [3]);
    const before = memoryStats().liveTensors;
    const loss = tidy(() => ag.sum(ag.tanh(ag.mul(ag.exp(x), 2))));
    const held = memoryStats().liveTensors;
    expect(held).toBeGreaterThan(before + 1); // saved aliases keep the intermediates' storage
    backward(loss, { retainGraph: true });
    const g = await x.grad!.toArray();
    const want = [0.5, -1, 2].map((v) => 2 * Math.exp(v) * (1 - Math.tanh(2 * Math.exp(v)) ** 2));
    g.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    x.grad!.dispose();
    x.grad = null;
    loss.dispose();
    expect(memoryStats().liveTensors).toBe(before);
  });

  it('backward without retainGraph frees the saved tensors', () => {
    const x = param([1, 2, 3], [3]);
    const before = memoryStats().liveTensors;
    const loss = tidy(() => ag.sum(ag.sin(ag.exp(x))));
    backward(loss);
    // what remains: the loss and x.grad
    expect(memoryStats().liveTensors).toBe(before + 2);
    loss.dispose();
  });

  it('createGraph gives a differentiable gradient (double backward)', async () => {
    const x = param([1, 2, -3], [3]);
    tidy(() => {
      backward(ag.sum(ag.pow(x, 3)), { createGraph: true }); // x.grad = 3 x^2, with a graph
      const g1 = x.grad!;
      x.grad = null;
      backward(ag.sum(g1)); // d/dx sum(3 x^2) = 6 x
      g1.dispose();
    });
    (await x.grad!.toArray()).forEach((v, i) => expect(v).toBeCloseTo([6, 12, -18][i], 4));
  });

  it('gradients() leaves .grad alone and gives zeros for unused inputs', async () => {
    const x = param([1, 2], [2]);
    const z = param([5], [1]);
    const [gx, gz] = tidy(() => gradients(ag.sum(ag.square(x)), [x, z]));
    expect(await gx.toArray()).toEqual([2, 4]);
    expect(await gz.toArray()).toEqual([0]);
    expect(x.grad).toBeNull();
  });
});

describe('misuse gives clear errors', () => {
  it('backward on a non-scalar without a seed gradient', async () => {
    const x = param([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = ag.mul(x, 2);
    expect(() => backward(y)).toThrow(
      /backward: the output has shape \[2, 3\]; without a seed gradient it must have one element \(pass \{ grad \}/,
    );
    backward(y, { grad: raw.ones([2, 3]) });
    expect(await x.grad!.toArray()).toEqual([2, 2, 2, 2, 2, 2]);
    expect(() => y.backward({ grad: raw.ones([3]) })).toThrow(/seed gradient has shape \[3\], the output \[2, 3\]/);
  });

  it('backward twice without retainGraph', () => {
    const x = param([1, 2], [2]);
    const loss = ag.sum(ag.exp(x));
    loss.backward();
    expect(() => loss.backward()).toThrow(/graph through 'sum' was already freed by an earlier backward; pass \{ retainGraph: true \}/);
  });

  it('gradients of a disposed tensor', () => {
    const x = param([1, 2], [2]);
    const loss = ag.sum(ag.exp(x));
    x.dispose();
    expect(() => loss.backward()).toThrow(/backward: the leaf tensor #\d+ \[2\] was disposed before its gradient arrived/);
    const y = param([1, 2], [2]);
    y.dispose();
    expect(() => ag.grad((t: Tensor) => ag.sum(t))(y)).toThrow(/grad: argument 0 \[2\] was disposed/);
    expect(() => ag.exp(y)).toThrow(/exp: tensor #\d+ \[2\] was disposed/);
    const out = ag.sum(ag.exp(param([1], [1])));
    out.dispose();
    expect(() => backward(out)).toThrow(/backward: the output was disposed/);
  });

  it('gradcheck with integer inputs', async () => {
    const i = fromArray(Int32Array.of(1, 2));
    await expect(ag.gradcheck((t) => ag.sum(t), [i])).rejects.toThrow(/gradcheck: input 0 \[2\] has dtype i32; gradients need float inputs/);
  });

  it('mixing GPU and f64 tensors', () => {
    expect(() => ag.add(fromArray([1]), F64Tensor.from([1]) as never)).toThrow(/add: mixes GPU tensors and f64 reference tensors/);
  });
});

describe('functional API', () => {
  it('grad, valueAndGrad and vjp', async () => {
    const f = <A extends ag.GradTensor>(x: A, y: A) => ag.sum(ag.mul(ag.sin(x), y));
    const x = fromArray([0, 1]);
    const y = fromArray([2, 3]);
    const { value, grads } = tidy(() => ag.valueAndGrad(f)(x, y));
    expect(await value.item()).toBeCloseTo(3 * Math.sin(1), 5);
    expect(value.node).toBeNull();
    const [gx, gy] = await Promise.all(grads.map((g) => g.toArray()));
    expect(gx[0]).toBeCloseTo(2, 5);
    expect(gx[1]).toBeCloseTo(3 * Math.cos(1), 5);
    expect(gy[1]).toBeCloseTo(Math.sin(1), 5);
    expect(x.requiresGrad).toBe(false);
    const v = ag.vjp((a: Tensor) => ag.square(a), x);
    const [g1] = v.vjp(fromArray([1, 1]));
    const [g2] = v.vjp(fromArray([0, 5]));
    expect(await g1.toArray()).toEqual([0, 2]);
    expect(await g2.toArray()).toEqual([0, 10]);
    v.dispose();
  });
});

describe('Hessian-vector products', () => {
  const shapes = [[4, 3], [3, 5], [5], [5, 2], [2], [4, 2]];
  const values = shapes.map((s, k) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(1.7 * i + 3.1 * k)));
  const dirs = shapes.map((s, k) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(0.9 * i + k)));
  // H v over the weights and biases (x and target fixed)
  const f = <A extends ag.GradTensor>(x: A, t: A) => (w1: A, b1: A, w2: A, b2: A) => mlpLoss(x, w1, b1, w2, b2, t);

  it('exact HVP matches finite-difference HVP on a small MLP (f64), and the GPU HVP matches f64', async () => {
    const P = (i: number) => F64Tensor.from(values[i], shapes[i]);
    const V = (i: number) => F64Tensor.from(dirs[i], shapes[i]);
    const fr = f(P(0), P(5));
    const exact = ag.hvp(fr, [1, 2, 3, 4].map(P), [1, 2, 3, 4].map(V));
    const fd = ag.hvpFiniteDiff(fr, [1, 2, 3, 4].map(P), [1, 2, 3, 4].map(V), 1e-4);
    const norm = (a: Float64Array[]) => Math.sqrt(a.reduce((s, d) => s + d.reduce((t, v) => t + v * v, 0), 0));
    const diff = exact.map((e, i) => e.data.map((v, j) => v - fd[i].data[j]));
    expect(norm(diff) / norm(exact.map((e) => e.data))).toBeLessThan(1e-7);

    const G = (i: number) => fromArray(values[i], shapes[i]);
    const GV = (i: number) => fromArray(dirs[i], shapes[i]);
    const gpuExact = await tidyAsync(async () => {
      const hv = ag.hvp(f(G(0), G(5)), [1, 2, 3, 4].map(G), [1, 2, 3, 4].map(GV));
      return Promise.all(hv.map((t) => t.data()));
    });
    const gpuFd = await tidyAsync(async () => {
      const hv = ag.hvpFiniteDiff(f(G(0), G(5)), [1, 2, 3, 4].map(G), [1, 2, 3, 4].map(GV), 1e-2);
      return Promise.all(hv.map((t) => t.data()));
    });
    const rel = (a: ArrayLike<number>[]) =>
      norm(a.map((d, i) => Float64Array.from(d, (v, j) => v - exact[i].data[j]))) / norm(exact.map((e) => e.data));
    expect(rel(gpuExact)).toBeLessThan(1e-4);
    expect(rel(gpuFd)).toBeLessThan(1e-2);
  });
});

describe('Hessian-vector products on a small CNN', () => {
  it('exact HVP matches finite-difference HVP (f64)', () => {
    const seq = (n: number, a: number) => Array.from({ length: n }, (_, i) => Math.sin(a * i + 1));
    const x = F64Tensor.from(seq(2 * 5 * 5 * 2, 0.7), [2, 5, 5, 2]);
    const params = [F64Tensor.from(seq(18 * 3, 1.3), [3, 3, 2, 3]), F64Tensor.from(seq(3, 2.1), [3])];
    const v = [F64Tensor.from(seq(18 * 3, 0.4), [3, 3, 2, 3]), F64Tensor.from(seq(3, 0.9), [3])];
    const f = (w: F64Tensor, b: F64Tensor) => cnnLoss(x, w, b);
    const exact = ag.hvp(f, params, v);
    const fd = ag.hvpFiniteDiff(f, params, v, 1e-4);
    let num = 0;
    let den = 0;
    exact.forEach((e, i) => e.data.forEach((val, j) => ((num += (val - fd[i].data[j]) ** 2), (den += val * val))));
    expect(Math.sqrt(num / den)).toBeLessThan(1e-6); // O(eps^2) truncation of the differences
  });
});

describe('memory', () => {
  it('1,000 forward/backward steps of a small MLP leave live bytes flat', async () => {
    const device = getDevice();
    const init = (shape: number[], seed: number, scale: number) => {
      const t = keep(raw.randn(shape, { seed, std: scale }));
      t.requiresGrad = true;
      return t;
    };
    let params = [init([4, 16], 1, 0.5), init([16], 2, 0.1), init([16, 2], 3, 0.25), init([2], 4, 0.1)];
    const x = keep(raw.randn([8, 4], { seed: 5 }));
    const target = keep(raw.randn([8, 2], { seed: 6 }));
    const step = () =>
      tidy(() => {
        const [w1, b1, w2, b2] = params;
        const loss = mlpLoss(x, w1, b1, w2, b2, target, ag.relu);
        loss.backward();
        params = noGrad(() =>
          params.map((p) => {
            const next = keep(raw.sub(p, raw.mul(p.grad!, 0.05)));
            next.requiresGrad = true;
            p.dispose(); // also disposes p.grad
            return next;
          }),
        );
        return keep(loss);
      });
    const first = step();
    const firstLoss = await first.item();
    first.dispose();
    let stats = memoryStats();
    for (let i = 1; i < 1000; i++) {
      step().dispose();
      if (i === 10) {
        await device.sync();
        stats = memoryStats();
      }
      if (i % 100 === 0) await device.sync();
    }
    const last = step();
    const lastLoss = await last.item();
    last.dispose();
    const end = memoryStats();
    expect(end.liveBytes).toBe(stats.liveBytes);
    expect(end.liveTensors).toBe(stats.liveTensors);
    expect(end.buffersCreated).toBe(stats.buffersCreated);
    expect(lastLoss).toBeLessThan(firstLoss);
    for (const t of [...params, x, target]) t.dispose();
  });
});

describe('the differentiable op layer', () => {
  it('exports every name of src/ops/index.ts', () => {
    const missing = Object.keys(raw).filter((k) => !(k in ag));
    expect(missing).toEqual([]);
  });
});

describe('fused ops', () => {
  it('are recorded on the tape (no guard left), and run under noGrad without a node', async () => {
    const xs = [1, 2, 4, 5, -1, 0.5];
    const ws = [0.3, -1, 2, 1.5, 0.7, -0.4];
    const x = param(xs, [2, 3]);
    const y = tidy(() => keep(ag.layerNorm(x, 3)));
    expect(y.node).not.toBeNull();
    tidy(() => backward(ag.sum(ag.mul(y, fromArray(ws, [2, 3])))));
    y.dispose();
    // the same loss through the f64 reference path gives the gradient to compare with
    const [want] = ag.grad((t: F64Tensor) => ag.sum(ag.mul(ag.layerNorm(t, 3), F64Tensor.from(ws, [2, 3]))))(F64Tensor.from(xs, [2, 3]));
    const got = await x.grad!.toArray();
    const norm = Math.hypot(...want.data);
    expect(norm).toBeGreaterThan(0.5);
    expect(Math.hypot(...got.map((v, i) => v - want.data[i])) / norm).toBeLessThan(1e-5);
    const r = noGrad(() => ag.layerNorm(x, 3));
    expect(r.node).toBeNull();
    expect(r.shape).toEqual([2, 3]);
    r.dispose();
  });
  it('mseLoss is composed and differentiable', async () => {
    const p = param([1, 2], [2]);
    tidy(() => backward(ag.mseLoss(p, fromArray([0, 0]))));
    expect(await p.grad!.toArray()).toEqual([1, 2]);
  });
});
