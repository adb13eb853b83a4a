// biasAct and biasActBackward (bias_act.wgsl) against the f64 reference: act(z + bias), and
// dz = g act'(y) with the bias's gradient, on awkward shapes, scalar and vec4 columns, one bias
// row or one per ensemble member, one pass and chunked row sums; NaN and Inf as in IEEE.
import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { biasAct, biasActBackward, type BiasActivation } from '../../src/ops/bias-act.js';
import { TOL, expectMatches, freshSeed, pair, recordDispatches } from '../helpers.js';

const actRef = (act: BiasActivation, v: number) => (act === 'relu' ? (Number.isNaN(v) ? v : Math.max(v, 0)) : Math.tanh(v));
/** act'(x) from y = act(x): relu [y > 0] (NaN at NaN), tanh 1 - y^2. */
const gradRef = (act: BiasActivation, y: number) => (act === 'relu' ? (y > 0 ? 1 : y <= 0 ? 0 : NaN) : 1 - y * y);

/** [z shape, bias shape]: bias [C] or one row per member [S, 1, ..., C]. */
const CASES: [number[], number[]][] = [
  [[1, 1], [1]], [[3, 3], [3]], [[17, 5], [5]], [[257, 4], [4]], [[2, 3, 17], [17]], [[4, 1, 12], [4, 1, 12]],
  [[3, 2, 5, 7], [3, 1, 1, 7]], [[40000, 3], [3]], [[2, 33000, 4], [2, 1, 4]],
  // past the one-pass rows (1024): chunked, vec4 columns, one bias and one per member
  [[1500, 16], [16]], [[3, 1100, 8], [3, 1, 8]],
];

function reference(act: BiasActivation, z: Float64Array, b: Float64Array, g: Float64Array, zShape: number[], bShape: number[]) {
  const C = zShape[zShape.length - 1];
  const outer = b.length / C;
  const len = z.length / (outer * C);
  const y = new Float64Array(z.length);
  const dz = new Float64Array(z.length);
  const db = new Float64Array(b.length);
  const absDb = new Float64Array(b.length);
  for (let i = 0; i < z.length; i++) {
    const k = i % C;
    const o = Math.floor(i / (len * C));
    y[i] = actRef(act, z[i] + b[o * C + k]);
    // the kernel's y is f32: its derivative from the rounded y
    dz[i] = g[i] * gradRef(act, Math.fround(y[i]));
    db[o * C + k] += dz[i];
    absDb[o * C + k] += Math.abs(dz[i]);
  }
  return { y: { shape: zShape, data: y }, dz: { shape: zShape, data: dz }, db: { shape: bShape, data: db }, absDb: { shape: bShape, data: absDb } };
}

describe('biasAct and its backward match the f64 reference', () => {
  for (const act of ['relu', 'tanh'] as const) {
    it(`${act}: forward, dz and the bias gradient`, async () => {
      for (const [zs, bs] of CASES) {
        await ws.tidyAsync(async () => {
          const seed = freshSeed();
          const z = pair(zs, seed, -2, 2);
          const b = pair(bs, seed + 1, -1, 1);
          const g = pair(zs, seed + 2, -1, 1);
          const ref = reference(act, z.r.data, b.r.data, g.r.data, zs, bs);
          const what = `${act} ${zs} + ${bs} seed ${seed}`;
          const y = biasAct(z.t, b.t, act);
          await expectMatches(y, ref.y, TOL.elementwise, `${what} y`);
          const { dz, dbias } = biasActBackward(g.t, y, act, bs);
          await expectMatches(dz, ref.dz, TOL.elementwise, `${what} dz`);
          // NOTE: column sums of mixed signs cancel: measured against the sums of |dz|
          await expectMatches(dbias, ref.db, TOL.reduction, `${what} dbias`, ref.absDb);
        });
      }
    });
  }

  it('long columns split into chunks whose partials a second pass sums; short ones take one pass', async () => {
    const { entries, stop } = recordDispatches(ws.getDevice());
    try {
      for (const [zs, passes] of [[[1500, 16], ['bwd_vec4', 'strided_vec4']], [[257, 4], ['bwd_vec4']]] as const) {
        await ws.tidyAsync(async () => {
          const seed = freshSeed();
          const y = pair([...zs], seed, -2, 2);
          const g = pair([...zs], seed + 1, -1, 1);
          const b = [zs[1]];
          const ref = reference('relu', y.r.data, new Float64Array(zs[1]), g.r.data, [...zs], b);
          entries.length = 0;
          const yt = biasAct(y.t, ws.zeros(b), 'relu');
          const { dz, dbias } = biasActBackward(g.t, yt, 'relu', b);
          expect(entries.filter((e) => e !== 'fill' && e !== 'fwd_vec4'), `${zs}`).toEqual([...passes]);
          await expectMatches(dz, ref.dz, TOL.elementwise, `${zs} dz seed ${seed}`);
          await expectMatches(dbias, ref.db, TOL.reduction, `${zs} dbias seed ${seed}`, ref.absDb);
        });
      }
    } finally {
      stop();
    }
  });

  it('NaN and +-Inf propagate as in IEEE and the reference', async () => {
    for (const act of ['relu', 'tanh'] as const) {
      await ws.tidyAsync(async () => {
        const zv = Float32Array.of(NaN, Infinity, -Infinity, 1, -1, 0.5, 2, -3);
        const bv = Float32Array.of(0.25, -0.5, Infinity, NaN);
        const gv = Float32Array.of(1, 2, 3, 4, NaN, -1, Infinity, 0.5);
        const ref = reference(act, Float64Array.from(zv), Float64Array.from(bv), Float64Array.from(gv), [2, 4], [4]);
        const y = biasAct(ws.fromArray(zv, [2, 4]), ws.fromArray(bv), act);
        const { dz, dbias } = biasActBackward(ws.fromArray(gv, [2, 4]), y, act, [4]);
        for (const [t, r, name] of [[y, ref.y, 'y'], [dz, ref.dz, 'dz'], [dbias, ref.db, 'dbias']] as const) {
          const out = await t.data();
          r.data.forEach((v, i) => {
            const same = Number.isNaN(v) ? Number.isNaN(out[i]) : Math.abs(out[i] - v) <= 1e-6 * Math.max(1, Math.abs(v)) || out[i] === v;
            if (!same) throw new Error(`${act} ${name}[${i}]: ${out[i]}, reference ${v}`);
          });
        }
      });
    }
  });

  it('a bias that does not fit, or an unknown activation, is refused naming the op and shapes', () => {
    ws.tidy(() => {
      const z = ws.zeros([2, 3, 4]);
      expect(() => biasAct(z, ws.zeros([3]), 'relu')).toThrow(
        'biasAct: bias [3] does not fit [2, 3, 4]: expected [4] or [2, 1, ..., 1, 4] of the same rank',
      );
      expect(() => biasAct(z, ws.zeros([2, 4]), 'relu')).toThrow('biasAct: bias [2, 4] does not fit [2, 3, 4]');
      expect(() => biasAct(z, ws.zeros([4]), 'gelu' as BiasActivation)).toThrow("biasAct: activation \"gelu\" is not one of 'relu', 'tanh'");
      expect(() => biasActBackward(z, ws.zeros([2, 3, 5]), 'relu', [5])).toThrow('biasActBackward: g [2, 3, 4] and y [2, 3, 5] must have the same shape');
    });
  });
});
