import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { BINARY_OPS, type BinaryOp } from '../../src/index.js';
import { rowColPlan } from '../../src/ops/elementwise.js';
import { binaryRef, type NDArray } from '../../src/reference/index.js';
import { TOL, expectMatches, freshSeed, pair, recordDispatches } from '../helpers.js';

/** [full operand, per-row or per-column operand, the entry point binary() must take]. */
const CASES: [number[], number[], string][] = [
  [[3, 17], [3, 1], 'per_row'],
  [[257, 3], [257, 1], 'per_row'],
  [[17, 257], [17, 1], 'per_row'],
  [[5, 1024], [5, 1], 'per_row_vec4'],
  [[4099, 4], [4099, 1], 'per_row_vec4'],
  [[2, 3, 4], [2, 3, 1], 'per_row_vec4'],
  [[70001], [1], 'per_row'],
  [[3, 17], [17], 'per_col'],
  [[1023, 3], [1, 3], 'per_col'],
  [[5, 8], [8], 'per_col_vec4'],
  [[2, 257, 12], [12], 'per_col_vec4'],
];

describe('per-row and per-column broadcasts take their fast entries and match the f64 reference', () => {
  for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
    it(`${op}, both operand orders`, async () => {
      const dev = ws.getDevice();
      for (const [full, part, entry] of CASES) {
        const seed = freshSeed();
        const lo = op === 'pow' ? 0.1 : -2;
        const f = pair(full, seed, lo, 2);
        const p = pair(part, seed + 1, op === 'div' || op === 'pow' ? 0.5 : -2, 2);
        for (const [a, b] of [[f, p], [p, f]]) {
          const rec = recordDispatches(dev);
          const out = ws.raw.binary(op, a.t, b.t);
          rec.stop();
          expect(rec.entries.filter((e) => e !== 'fill'), `${op} ${a.r.shape} ${b.r.shape}`).toEqual([entry]); // 'fill': the poison
          await expectMatches(out, binaryRef(op, a.r, b.r), TOL.elementwise, `${op} ${a.r.shape} ${b.r.shape} seed ${seed}`);
        }
      }
    });
  }

  it('NaN and infinities propagate as in the reference (per row and per column, both orders)', async () => {
    const x = [NaN, 1, -Infinity, 2, Infinity, 0, 3, -1];
    const rows: NDArray = { shape: [4, 2], data: Float64Array.from(x) };
    const perRow: NDArray = { shape: [4, 1], data: Float64Array.of(1, NaN, Infinity, -Infinity) };
    const perCol: NDArray = { shape: [2], data: Float64Array.of(NaN, Infinity) };
    for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
      for (const part of [perRow, perCol]) {
        for (const [a, b] of [[rows, part], [part, rows]]) {
          const got = await ws.raw.binary(op, ws.fromArray(a.data, a.shape), ws.fromArray(b.data, b.shape)).toArray();
          const want = binaryRef(op, a, b).data;
          for (let i = 0; i < want.length; i++) {
            const w = Math.fround(want[i]);
            if (Number.isNaN(w)) expect(Number.isNaN(got[i]), `${op} [${a.shape}] [${b.shape}] item ${i}`).toBe(true);
            else expect(got[i], `${op} [${a.shape}] [${b.shape}] item ${i}`).toBeCloseTo(w, 5);
          }
        }
      }
    }
  });

  it('the plan takes only [R, C] against [R, 1] or [1, C] (after merging axes)', () => {
    expect(rowColPlan([4, 8], [[8, 1], [1, 0]])).toEqual({ kind: 'row', full: 0, rows: 4, cols: 8 });
    expect(rowColPlan([4, 8], [[0, 1], [8, 1]])).toEqual({ kind: 'col', full: 1, rows: 4, cols: 8 });
    expect(rowColPlan([9], [[1], [0]])).toEqual({ kind: 'row', full: 0, rows: 1, cols: 9 });
    // both broadcast ([4, 1] against [1, 8]), a transposed operand, three axes: not this path
    expect(rowColPlan([4, 8], [[1, 0], [0, 1]])).toBeNull();
    expect(rowColPlan([4, 8], [[1, 4], [1, 0]])).toBeNull();
    expect(rowColPlan([2, 4, 8], [[32, 8, 1], [4, 1, 0]])).toBeNull();
  });
});
