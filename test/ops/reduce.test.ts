import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ws from '../../src/index.js';
import {
  argReduceRef, logSoftmaxRef, logsumexpRef, reduceRef, softmaxRef, varianceRef,
} from '../../src/reference/index.js';
import { TOL, expectMatches, freshSeed, pair, recordDispatches } from '../helpers.js';
import { unaryRef, type NDArray } from '../../src/reference/index.js';

/** Sums and means of mixed signs can cancel to ~0: measure their error against the reduction of |x|. */
const scaleOf = (op: string, r: NDArray, axes: number | number[] | undefined, keepdims: boolean) =>
  op === 'sum' || op === 'mean' ? reduceRef(op, unaryRef('abs', r), axes, keepdims) : undefined;

const CASES: [number[], number | number[] | undefined][] = [
  [[1], 0], [[3], undefined], [[17, 3], 0], [[17, 3], 1], [[257, 17], -1], [[3, 257], [0, 1]],
  [[70001], 0], [[2, 70001], 1], [[70001, 2], 0], [[5, 3, 17], [0, 2]], [[4, 1, 6, 3], [1, 2]],
  [[1000, 8], 1], [[8, 1000], 1], [[2, 3, 4, 5], [0, 3]], [[1 << 20], undefined], [[33, 1, 2049], 2],
  // inner % 4 == 0 (strided_vec4): one pass, several outer slices, two passes (chunked)
  [[1000, 8], 0], [[5, 3, 8], 1], [[3, 257, 12], 1], [[70001, 4], 0],
];

describe('reductions match the f64 reference on long rows, many short rows and scattered axes', () => {
  for (const op of ['sum', 'mean', 'max', 'min'] as const) {
    it(op, async () => {
      for (const [shape, axes] of CASES) {
        for (const keepdims of [false, true]) {
          const seed = freshSeed();
          const { t, r } = pair(shape, seed);
          await expectMatches(ws.reduce(op, t, axes, keepdims), reduceRef(op, r, axes, keepdims), TOL.reduction,
            `${op} ${shape} axes ${axes} keepdims ${keepdims} seed ${seed}`, scaleOf(op, r, axes, keepdims));
          t.dispose();
        }
      }
    });
  }

  it('middle-axis reductions of vec4 rows (inner % 4 == 0) take strided_vec4 in both passes', async () => {
    const { entries, stop } = recordDispatches(ws.getDevice());
    try {
      for (const [shape, axis, passes] of [[[5, 3, 8], 1, 1], [[70001, 4], 0, 2], [[1000, 6], 0, 1]] as const) {
        entries.length = 0;
        const { t, r } = pair([...shape], freshSeed());
        await expectMatches(ws.sum(t, axis), reduceRef('sum', r, axis), TOL.reduction, `sum ${shape}`, scaleOf('sum', r, axis, false));
        expect(entries.filter((e) => e !== 'fill'), `sum ${shape}`).toEqual(Array(passes).fill(shape[shape.length - 1] % 4 === 0 ? 'strided_vec4' : 'strided'));
        t.dispose();
      }
    } finally {
      stop();
    }
  });

  it('a large sum of equal values keeps f32 accuracy (blocked and chunked passes)', async () => {
    const n = 1 << 22;
    const x = ws.full([n], 0.1);
    const s = await ws.sum(x).item();
    expect(Math.abs(s - n * Math.fround(0.1)) / (n * 0.1)).toBeLessThan(1e-6);
  });

  for (const op of ['argmax', 'argmin'] as const) {
    it(`${op} gives i32 indices like the reference`, async () => {
      for (const [shape, axis] of [[[17], 0], [[3, 257], 1], [[257, 3], 0], [[4, 5, 6], 1], [[4, 5, 6], undefined]] as const) {
        const { t, r } = pair([...shape], freshSeed());
        const got = ws[op](t, axis as number | undefined);
        expect(got.dtype).toBe('i32');
        const ref = argReduceRef(op, r, axis as number | undefined);
        expect(got.shape).toEqual(ref.shape);
        expect(Array.from(await got.data())).toEqual(Array.from(ref.data));
      }
    });
  }
});

describe('ops composed from reductions', () => {
  it('logsumexp, variance, std, softmax and logSoftmax match the reference', async () => {
    for (const [shape, axis] of [[[17], 0], [[3, 257], 1], [[257, 3], 0], [[4, 5, 6], 1]] as [number[], number][]) {
      const { t, r } = pair(shape, freshSeed(), -5, 5);
      await expectMatches(ws.logsumexp(t, axis), logsumexpRef(r, axis), TOL.reduction, 'logsumexp');
      await expectMatches(ws.variance(t, axis, true, 1), varianceRef(r, axis, true, 1), TOL.reduction, 'variance');
      await expectMatches(ws.softmax(t, axis), softmaxRef(r, axis), TOL.reduction, 'softmax');
      await expectMatches(ws.logSoftmax(t, axis), logSoftmaxRef(r, axis), TOL.reduction, 'logSoftmax');
      const s = varianceRef(r, axis);
      await expectMatches(ws.std(t, axis), { shape: s.shape, data: s.data.map(Math.sqrt) }, TOL.reduction, 'std');
    }
  });

  it('softmax and logSoftmax stay finite for logits of +-1e4', async () => {
    const x = ws.fromArray([1e4, -1e4, 0, 1e4, 1e4, -1e4], [2, 3]);
    const p = Array.from(await ws.softmax(x).data());
    expect(p.every(Number.isFinite)).toBe(true);
    expect(p[0]).toBeCloseTo(1, 6);
    expect(p[3]).toBeCloseTo(0.5, 6);
    const l = Array.from(await ws.logSoftmax(x).data());
    expect(l.every(Number.isFinite)).toBe(true);
    expect(l[1]).toBeCloseTo(-2e4, 0);
  });

  it('reductions over random shapes and axes (property test)', async () => {
    const arb = fc
      .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 })
      .chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.subarray([...shape.keys()], { minLength: 1 }),
          fc.boolean(),
          fc.constantFrom('sum' as const, 'mean' as const, 'max' as const),
          fc.integer({ min: 0, max: 2 ** 31 }),
        ),
      );
    await fc.assert(
      fc.asyncProperty(arb, async ([shape, axes, keepdims, op, seed]) => {
        const { t, r } = pair(shape, seed);
        await ws.tidyAsync(() =>
          expectMatches(ws.reduce(op, t, axes, keepdims), reduceRef(op, r, axes, keepdims), TOL.reduction, `${op} ${shape} ${axes}`, scaleOf(op, r, axes, keepdims)),
        );
        t.dispose();
      }),
      { numRuns: 60 },
    );
  });
});

describe('reduction errors', () => {
  it('an axis out of range names the op, the axis and the shape', () => {
    expect(() => ws.sum(ws.zeros([2, 3]), 2)).toThrow(/sum: axis 2 is out of range for shape \[2, 3\] \(expected -2 \.\. 1\)/);
    expect(() => ws.softmax(ws.zeros([2, 3]), -3)).toThrow(/softmax: axis -3 is out of range for shape \[2, 3\]/);
  });
  it('a repeated axis is refused', () => {
    expect(() => ws.mean(ws.zeros([2, 3]), [1, -1])).toThrow(/mean: repeated axis/);
  });
  it('max over an empty axis has no identity', () => {
    expect(() => ws.max(ws.zeros([0, 3]), 0)).toThrow(/max: cannot reduce \[0, 3\]/);
  });
});
