import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import {
  MAX_REGISTER_VEC4, logSoftmax, logSoftmaxBackward, softmax, softmaxBackward, softmaxPlan, type SoftmaxVariant,
} from '../../src/ops/softmax.js';
import {
  logSoftmaxBackwardRef, logSoftmaxRef, maxScaledDiff, numericVjp, softmaxBackwardRef, softmaxRef, type NDArray,
} from '../../src/reference/index.js';
import { TOL, expectMatches, freshSeed, pair, randomArray, recordDispatches } from '../helpers.js';

const MODES = [
  { name: 'softmax', fwd: softmax, bwd: softmaxBackward, ref: softmaxRef, bwdRef: softmaxBackwardRef },
  { name: 'logSoftmax', fwd: logSoftmax, bwd: logSoftmaxBackward, ref: logSoftmaxRef, bwdRef: logSoftmaxBackwardRef },
] as const;

const lanes = () => ws.getDevice().subgroupLanes;
const variants = (): SoftmaxVariant[] =>
  lanes() > 0 ? ['invocation', 'workgroup', 'subgroup', 'subgroup-registers'] : ['invocation', 'workgroup'];
/** subgroup-registers takes rows of a multiple of 4 that fit its registers (others: an error, tested below). */
const applies = (variant: SoftmaxVariant, len: number) =>
  variant !== 'subgroup-registers' || (len % 4 === 0 && len <= 4 * lanes() * MAX_REGISTER_VEC4);

/** [rows, len]: awkward lengths (scalar entries) and multiples of 4 (vec4 entries; 8, 64 and 132
 *  keep rows in registers with K = 1, 2 and 8 vec4s a lane on 8 lanes). */
const ROWS: [number, number][] = [
  [33, 1], [7, 3], [5, 17], [3, 257], [2, 1023], [2, 4099], [9, 8], [4, 64], [3, 132], [2, 4100],
];

/** f32 tensor + f64 array of the same values; y for the backward is the reference forward rounded to f32. */
function backwardInputs(ref: (x: NDArray, axis?: number) => NDArray, shape: number[], axis: number, seed: number) {
  const x = pair(shape, seed, -3, 3);
  const y32 = Float32Array.from(ref(x.r, axis).data);
  const g = pair(shape, seed + 1);
  return { y: ws.fromArray(y32, shape), yr: { shape, data: Float64Array.from(y32) }, g };
}

describe('fused softmax and logSoftmax match the f64 reference on every variant', () => {
  for (const m of MODES) {
    it(`${m.name} forward and backward over the last axis, rows of 1 to 4100`, async () => {
      for (const variant of variants()) {
        for (const [r, c] of ROWS.filter(([, len]) => applies(variant, len))) {
          const seed = freshSeed();
          const { t, r: xr } = pair([r, c], seed, -3, 3);
          const what = `${m.name} ${variant} [${r}, ${c}] seed ${seed}`;
          await expectMatches(m.fwd(t, -1, { variant }), m.ref(xr, -1), TOL.reduction, what);
          const b = backwardInputs(m.ref, [r, c], -1, seed + 2);
          await expectMatches(m.bwd(b.g.t, b.y, -1, { variant }), m.bwdRef(b.g.r, b.yr, -1), TOL.reduction, `${what} backward`);
        }
      }
    });

    it(`${m.name} over non-last axes (strided), and last axes followed by size-1 axes`, async () => {
      const cases: [number[], number][] = [[[3, 17, 5], 1], [[257, 3], 0], [[2, 3, 4, 5], 1], [[2, 3, 4, 5], 0], [[4, 6, 1], 1], [[1, 9], 0]];
      for (const [shape, axis] of cases) {
        const seed = freshSeed();
        const { t, r } = pair(shape, seed, -3, 3);
        const what = `${m.name} ${shape} axis ${axis} seed ${seed}`;
        await expectMatches(m.fwd(t, axis), m.ref(r, axis), TOL.reduction, what);
        const b = backwardInputs(m.ref, shape, axis, seed + 2);
        await expectMatches(m.bwd(b.g.t, b.y, axis), m.bwdRef(b.g.r, b.yr, axis), TOL.reduction, `${what} backward`);
      }
    });
  }

  it('auto picks one dispatch of the planned kernel: a subgroup per row from 32 items where there are subgroups', async () => {
    const dev = ws.getDevice();
    for (const [r, c] of [[4, 10], [4, 64], [4, 1024], [4, 4096], [4, 1023]]) {
      const rec = recordDispatches(dev);
      softmax(ws.zeros([r, c])).dispose();
      rec.stop();
      const plan = softmaxPlan('softmax', dev, r, c, 1);
      expect(rec.entries.filter((e) => e !== 'fill'), `[${r}, ${c}]`).toEqual([`fwd_${plan.entry}`]);
      if (lanes() > 0 && c >= 32) {
        expect(plan.entry).toBe(c % 4 === 0 ? 'vec4' : 'stream');
        expect(plan.constants.K ?? 0, 'auto streams the row (K = 0)').toBe(0);
      }
    }
    expect(softmaxPlan('softmax', dev, 3, 17, 5).entry).toBe('strided');
  });

  it('the differentiable softmax and logSoftmax are one fused dispatch forward and one backward', async () => {
    const dev = ws.getDevice();
    const { t, r } = pair([5, 40], freshSeed(), -3, 3);
    const p = ws.fromArray(await t.toArray(), [5, 40]);
    p.requiresGrad = true;
    const rec = recordDispatches(dev);
    const y = ws.softmax(p);
    const ly = ws.logSoftmax(p, 0);
    rec.stop();
    expect(rec.entries.filter((e) => e !== 'fill')).toEqual([`fwd_${softmaxPlan('softmax', dev, 5, 40, 1).entry}`, 'fwd_strided']);
    await expectMatches(y, softmaxRef(r), TOL.reduction, 'softmax');
    await expectMatches(ly, logSoftmaxRef(r, 0), TOL.reduction, 'logSoftmax');
    const g = ws.randn([5, 40], { seed: 3 });
    const recB = recordDispatches(dev);
    const [dx] = ws.grad((x: ws.Tensor) => ws.sum(ws.mul(ws.softmax(x), g)))(p);
    recB.stop();
    expect(recB.entries.filter((e) => e.startsWith('bwd_')).length, recB.entries.join(' ')).toBe(1);
    await expectMatches(dx, softmaxBackwardRef({ shape: [5, 40], data: Float64Array.from(await g.toArray()) }, softmaxRef(r)), TOL.reduction, 'softmax backward');
  });

  it('the composed path agrees with the fused one', async () => {
    const { t } = pair([6, 33], freshSeed(), -3, 3);
    const fused = await softmax(t).toArray();
    const composed = await ws.raw.softmaxComposed(t).toArray();
    fused.forEach((v, i) => expect(v).toBeCloseTo(composed[i], 6));
    const lf = await logSoftmax(t, 0).toArray();
    const lc = await ws.raw.logSoftmaxComposed(t, 0).toArray();
    lf.forEach((v, i) => expect(v).toBeCloseTo(lc[i], 5));
  });
});

describe('the backward rules of the reference match finite differences', () => {
  for (const m of MODES) {
    it(`${m.name} over axis 1 of [3, 5, 2] and axis -1 of [4, 7]`, () => {
      for (const [shape, axis] of [[[3, 5, 2], 1], [[4, 7], -1]] as [number[], number][]) {
        const seed = freshSeed();
        const x = { shape, data: Float64Array.from(randomArray(shape.reduce((a, b) => a * b), seed, -2, 2)) };
        const u = { shape, data: Float64Array.from(randomArray(x.data.length, seed + 1)) };
        const got = m.bwdRef(u, m.ref(x, axis), axis);
        expect(maxScaledDiff(got, numericVjp((xx) => m.ref(xx, axis), x, u)), `${m.name} ${shape}`).toBeLessThan(1e-6);
      }
    });
  }
});

describe('NaN and infinities give what the f64 reference gives', () => {
  // rows: a +Inf (all NaN), all -Inf (all NaN), a NaN (all NaN), some -Inf (0 / -Inf there),
  // logits of +-1e4 (finite), and a plain row
  const base = [
    [1, Infinity, 2, 0], [-Infinity, -Infinity, -Infinity, -Infinity], [NaN, 1, 2, 3],
    [-Infinity, 0, 1, -Infinity], [1e4, -1e4, 0, 1e4], [0.5, -1, 2, 0],
  ];
  for (const len of [4, 11, 64]) {
    it(`rows of ${len} on every variant`, async () => {
      const rows = base.map((row) => Array.from({ length: len }, (_, j) => (j < 4 ? row[j] : j % 3 === 0 ? -1 : 0.25 * j)).map((v) => v));
      // place the special items at the end of odd rows too, so that every lane position sees them
      rows.forEach((row, i) => { if (i % 2 === 1 && len > 4) row.reverse(); });
      const data = rows.flat();
      const shape = [rows.length, len];
      const xr = { shape, data: Float64Array.from(data) };
      for (const m of MODES) {
        const want = m.ref(xr, -1).data;
        for (const variant of variants().filter((v) => applies(v, len))) {
          const got = await m.fwd(ws.fromArray(data, shape), -1, { variant }).toArray();
          for (let i = 0; i < want.length; i++) {
            const what = `${m.name} ${variant} len ${len} row ${Math.floor(i / len)} item ${i % len}: got ${got[i]}, want ${want[i]}`;
            if (Number.isNaN(want[i])) expect(Number.isNaN(got[i]), what).toBe(true);
            else if (!Number.isFinite(want[i])) expect(got[i], what).toBe(want[i]);
            else expect(Math.abs(got[i] - want[i]), what).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i])));
          }
        }
      }
    });
  }

  it('a NaN upstream gradient or output spreads over its row in the backward, as in the reference', async () => {
    const y = [[0.25, 0.25, 0.5, 0], [0.1, 0.2, 0.3, 0.4]];
    const g = [[1, NaN, 0, 2], [1, 2, 3, 4]];
    for (const m of MODES) {
      const want = m.bwdRef({ shape: [2, 4], data: Float64Array.from(g.flat()) }, { shape: [2, 4], data: Float64Array.from(y.flat()) }).data;
      for (const variant of variants()) {
        const got = await m.bwd(ws.fromArray(g.flat(), [2, 4]), ws.fromArray(y.flat(), [2, 4]), -1, { variant }).toArray();
        want.forEach((w, i) => {
          if (Number.isNaN(w)) expect(Number.isNaN(got[i]), `${m.name} ${variant} item ${i}`).toBe(true);
          else expect(got[i], `${m.name} ${variant} item ${i}`).toBeCloseTo(w, 5);
        });
      }
    }
  });
});

describe('bad input gets an error naming the op and the shapes', () => {
  it('axes out of range, mismatched gradients, variants that do not apply', () => {
    const x = ws.zeros([2, 3]);
    expect(() => softmax(x, 2)).toThrow(/softmax: axis 2 is out of range for shape \[2, 3\]/);
    expect(() => logSoftmax(x, -3)).toThrow(/logSoftmax: axis -3 is out of range for shape \[2, 3\]/);
    expect(() => softmaxBackward(ws.zeros([2, 4]), x)).toThrow(/softmaxBackward: g has shape \[2, 4\], expected the forward output's \[2, 3\]/);
    expect(() => logSoftmaxBackward(x, x, 5)).toThrow(/logSoftmaxBackward: axis 5 is out of range for shape \[2, 3\]/);
    expect(() => softmax(x, 0, { variant: 'workgroup' })).toThrow(/softmax: variant 'workgroup' reduces rows of the last axis/);
    if (lanes() > 0) {
      expect(() => softmax(x, -1, { variant: 'subgroup-registers' })).toThrow(/softmax: variant 'subgroup-registers' needs rows of a multiple of 4 items, at most \d+ \(\d+ lanes\), got rows of 3/);
    }
    expect(() => softmax(ws.zeros([2], { dtype: 'i32' }))).toThrow(/softmax: input \[2\] has dtype i32, expected f32/);
  });

  it('empty tensors give empty results', async () => {
    for (const m of MODES) {
      expect(m.fwd(ws.zeros([0, 3])).shape).toEqual([0, 3]);
      expect(m.bwd(ws.zeros([2, 0]), ws.zeros([2, 0])).shape).toEqual([2, 0]);
    }
  });
});
