import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ws from '../../src/index.js';
import { UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp } from '../../src/index.js';
import { binaryRef, unaryRef, whereRef, type NDArray } from '../../src/reference/index.js';
import { TOL, expectMatches, freshSeed, pair } from '../helpers.js';

const AWKWARD = [[1], [3], [17], [257], [3, 17], [257, 3], [1000, 3], [5, 1, 7], [70001]];

/** Input ranges where each function is defined and well conditioned. */
const DOMAIN: Partial<Record<UnaryOp, [number, number]>> = {
  log: [0.1, 10], sqrt: [0.01, 10], rsqrt: [0.1, 10], reciprocal: [0.5, 4], exp: [-8, 8],
  tanh: [-6, 6], log1p: [-0.9, 10], expm1: [-3, 3],
};

/**
 * The kernels' erf (Abramowitz & Stegun 7.1.26) has an absolute error of 1.5e-7, so where erf,
 * gelu or a gelu derivative is near 0 (a one-element shape can land there) the error is measured
 * against max(|ref|, 0.1) instead of the tiny result itself.
 */
const ABSOLUTE_ERF = new Set<UnaryOp | BinaryOp>(['erf', 'gelu', 'geluGrad', 'geluBackward']);
const erfScale = (op: UnaryOp | BinaryOp, ref: NDArray) =>
  ABSOLUTE_ERF.has(op) ? { shape: ref.shape, data: ref.data.map((v) => Math.max(Math.abs(v), 0.1)) } : undefined;

describe('unary ops match the f64 reference', () => {
  for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
    it(`${op} on awkward shapes`, async () => {
      const [lo, hi] = DOMAIN[op] ?? [-3, 3];
      for (const shape of AWKWARD) {
        const seed = freshSeed();
        const { t, r } = pair(shape, seed, lo, hi);
        const ref = unaryRef(op, r);
        await expectMatches(ws.unary(op, t), ref, TOL.elementwise, `${op} ${shape} seed ${seed}`, erfScale(op, ref));
      }
    });
  }

  it('tanh, sigmoid and gelu stay finite for extreme inputs', async () => {
    const x = ws.fromArray([-1e4, -90, 0, 90, 1e4]);
    expect(await ws.tanh(x).toArray()).toEqual([-1, -1, 0, 1, 1]);
    expect(await ws.sigmoid(x).toArray()).toEqual([0, 0, 0.5, 1, 1]);
    expect(await ws.gelu(x).toArray()).toEqual([-0, -0, 0, 90, 1e4]);
  });
});

const BROADCAST_PAIRS: [number[], number[]][] = [
  [[17], [17]], [[257, 3], [3]], [[3, 1], [1, 17]], [[1], [5, 3]], [[2, 3, 17], [3, 1]],
  [[4, 1, 3, 1], [5, 1, 6]], [[257], []],
  // Long rows: broadcast3 (vec4 where rows are 4-aligned: 40, 300, 36) and, past 3 merged axes,
  // the general entry ([5, 4, 7, 300] with b broadcast on two separate axes).
  [[2, 3, 40], [3, 1]], [[5, 1, 7, 300], [4, 1, 300]], [[70, 33], [33]], [[6, 36], [1, 36]],
];

/** Shapes of the two sides from `[size, a is 1, b is 1]` per axis. */
function broadcastShapes(axes: [number, boolean, boolean][]): [number[], number[]] {
  return [axes.map(([d, one]) => (one ? 1 : d)), axes.map(([d, , one]) => (one ? 1 : d))];
}

/** `op(a, b)` on fresh inputs of shapes `sa` and `sb` (seeds `seed`, `seed + 7`) matches the f64 reference. */
async function expectBroadcastMatches(op: 'mul' | 'sub', sa: number[], sb: number[], seed: number): Promise<void> {
  const a = pair(sa, seed);
  const b = pair(sb, seed + 7);
  await ws.tidyAsync(async () => {
    await expectMatches(ws[op](a.t, b.t), binaryRef(op, a.r, b.r), TOL.elementwise, `${op} ${sa} ${sb}`);
  });
  a.t.dispose();
  b.t.dispose();
}

describe('binary ops broadcast like NumPy and match the f64 reference', () => {
  for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
    it(`${op}`, async () => {
      for (const [sa, sb] of BROADCAST_PAIRS) {
        const seed = freshSeed();
        const lo = op === 'pow' ? 0.1 : -2;
        const a = pair(sa, seed, lo, 2);
        const b = pair(sb, seed + 1, op === 'div' ? 0.5 : -2, 2);
        const ref = binaryRef(op, a.r, b.r);
        await expectMatches(ws.raw.binary(op, a.t, b.t), ref, TOL.elementwise, `${op} ${sa} ${sb} seed ${seed}`, erfScale(op, ref));
      }
    });
  }

  it('scalar operands on either side', async () => {
    const { t, r } = pair([3, 17], freshSeed());
    await expectMatches(ws.sub(2, t), binaryRef('sub', { shape: [], data: Float64Array.of(2) }, r), TOL.elementwise);
    await expectMatches(ws.div(t, 4), binaryRef('div', r, { shape: [], data: Float64Array.of(4) }), TOL.elementwise);
  });

  it('pow follows IEEE for negative bases and zero', async () => {
    const a = ws.fromArray([-2, -2, 0, 0, 0, 4]);
    const b = ws.fromArray([3, 2, 0, 2, -1, 0.5]);
    expect(await ws.pow(a, b).toArray()).toEqual([-8, 4, 1, 0, Infinity, 2]);
    expect(Number.isNaN((await ws.pow(ws.fromArray([-2]), 0.5).toArray())[0])).toBe(true);
  });

  it('broadcasting fuzzed over random shapes (property test)', async () => {
    const dims = fc.integer({ min: 1, max: 5 });
    const shapePair = fc.array(fc.tuple(dims, fc.boolean(), fc.boolean()), { minLength: 0, maxLength: 5 }).chain((axes) =>
      fc.tuple(fc.constant(axes), fc.integer({ min: 0, max: axes.length }), fc.integer({ min: 0, max: 2 ** 31 })),
    );
    await fc.assert(
      fc.asyncProperty(shapePair, async ([axes, drop, seed]) => {
        const [sa, sb] = broadcastShapes(axes);
        await expectBroadcastMatches('mul', sa, sb.slice(drop), seed);
      }),
      { numRuns: 40 },
    );
  });

  it('broadcasting fuzzed with long last axes, vec4-aligned or not (broadcast3 and its vec4 entry, or more axes)', async () => {
    const lead = fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.boolean()), { minLength: 0, maxLength: 4 });
    const last = fc.tuple(fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 75 }).map((k) => 4 * k)), fc.boolean());
    await fc.assert(
      fc.asyncProperty(lead, last, fc.integer({ min: 0, max: 2 ** 31 }), async (axes, [n, bOne], seed) => {
        const [sa, sb] = broadcastShapes(axes);
        await expectBroadcastMatches('sub', [...sa, n], [...sb, bOne ? 1 : n], seed);
      }),
      { numRuns: 25 },
    );
  });
});

describe('broadcast3 splits indices exactly on both sides of the f32 division limit (2^22 items)', () => {
  // Scalar items (C odd): 4095 x 1023 = 4,189,185 items split by f32 division, 4097 x 1025 =
  // 4,199,425 by u32 division; rows scaled by a per-row factor and a bias row, checked per element.
  for (const [R, C] of [[4095, 1023], [4097, 1025]]) {
    it(`[${R}, ${C}] * [${R}, 1] + [${C}]`, async () => {
      const seed = freshSeed();
      const x = pair([R, C], seed);
      const f = pair([R, 1], seed + 1);
      const bias = pair([C], seed + 2);
      await ws.tidyAsync(async () => {
        const y = ws.add(ws.mul(x.t, f.t), bias.t);
        await expectMatches(y, binaryRef('add', binaryRef('mul', x.r, f.r), bias.r), TOL.elementwise, `[${R}, ${C}]`);
      });
      for (const t of [x, f, bias]) t.t.dispose();
    });
  }
});

describe('where', () => {
  it('selects with three-way broadcasting', async () => {
    const seed = freshSeed();
    const c = pair([3, 1], seed, -1, 1);
    const cond = ws.gt(c.t, 0);
    const condRef = { shape: c.r.shape, data: c.r.data.map((v) => +(v > 0)) };
    const a = pair([1, 17], seed + 1);
    const b = pair([17], seed + 2);
    await expectMatches(ws.where(cond, a.t, b.t), whereRef(condRef, a.r, b.r), TOL.elementwise);
  });
});

describe('bad input gets a clear error', () => {
  it('non-broadcastable shapes name the op and both shapes', () => {
    expect(() => ws.add(ws.zeros([3, 4]), ws.zeros([5]))).toThrow(/add: shapes \[3, 4\] and \[5\] do not broadcast/);
  });
  it('a disposed tensor names the op', () => {
    const t = ws.zeros([2]);
    t.dispose();
    expect(() => ws.exp(t)).toThrow(/exp: tensor #\d+ \[2\] was disposed/);
  });
  it('an i32 tensor in an f32 op names the dtype', () => {
    expect(() => ws.exp(ws.fromArray(Int32Array.of(1, 2)))).toThrow(/exp: input \[2\] has dtype i32, expected f32/);
  });
});
