import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { adamUpdate, adamwUpdate, sgdUpdate, type AdamHyper, type SgdHyper } from '../../src/ops/optim.js';
import { ADAMW_DEFAULTS, adamHyper, adamState, sgdHyper, sgdState } from '../../src/nn/optim.js';
import { adamRefState, adamStepRef, sgdStepRef, type SgdRefState } from '../../src/reference/optim.js';
import { TrainingHealth } from '../../src/nn/health.js';
import { sizeOf } from '../../src/tensor/shape.js';
import { expectMatches, freshSeed, randomArray, recordDispatches } from '../helpers.js';

/**
 * Parameter shapes of a small model, awkward sizes included; six have sizes % 4 == 0, so Adam
 * runs one full group of 4 (adam_multi_vec4) and one of 2 (two empty slots).
 */
const SHAPES = [[1], [3], [17, 3], [257], [64, 65], [4], [8, 3], [12, 5], [20], [2, 2, 2]];
/** Gradients left out: param 1 at step 2, param 6 (in a group) at step 3. */
const skipped = (t: number, i: number) => (t === 2 && i === 1) || (t === 3 && i === 6);
const STEPS_TAKEN = SHAPES.map((_, i) => (i === 1 || i === 6 ? 4 : 5));
const STEPS = 5;
/** A learning-rate schedule: each appended step must see its own lr. */
const LR = (t: number) => 0.05 * (1 + t) ** -0.5;
/** f32 state drifts from the f64 reference by rounding at every step. */
const TOL_STEPS = 2e-6;

/**
 * |out - ref| <= TOL_STEPS * max(1, |ref|) elementwise: parameters are O(1) and a one-element
 * parameter near 0 makes the relative error of the whole tensor meaningless.
 */
async function expectClose(t: ws.Tensor, ref: Float64Array, what: string): Promise<void> {
  const out = await t.data();
  expect(out.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(out[i] - ref[i]);
    if (!(err <= TOL_STEPS * Math.max(1, Math.abs(ref[i])))) {
      throw new Error(`${what}: element ${i} is ${out[i]}, reference ${ref[i]} (error ${err})`);
    }
  }
}

interface Run {
  seed: number;
  init: Float32Array[];
  grads: Float32Array[][];
}

function makeRun(): Run {
  const seed = freshSeed();
  return {
    seed,
    init: SHAPES.map((s, i) => randomArray(s.reduce((a, b) => a * b, 1), seed + i)),
    grads: Array.from({ length: STEPS }, (_, t) => SHAPES.map((s, i) => randomArray(s.reduce((a, b) => a * b, 1), seed + 100 * (t + 1) + i))),
  };
}

/**
 * Appends STEPS updates (with the `skipped` gradients left out) and a snapshot of every parameter
 * after each step, all before one sync; returns the snapshots [step][param].
 */
function appendSteps(run: Run, update: (params: ws.Tensor[], grads: (ws.Tensor | null)[], t: number) => void): ws.Tensor[][] {
  const params = run.init.map((d, i) => ws.fromArray(d, SHAPES[i]));
  const grads = run.grads.map((gs) => gs.map((g, i) => ws.fromArray(g, SHAPES[i])));
  const snaps: ws.Tensor[][] = [];
  for (let t = 0; t < STEPS; t++) {
    update(params, grads[t].map((g, i) => (skipped(t, i) ? null : g)), t);
    snaps.push(params.map((p) => ws.mul(p, 1)));
  }
  return snaps;
}

const lrMult = SHAPES.map((_, i) => 1 / (i + 1));

describe('fused optimizer updates match the f64 reference step by step', () => {
  const sgdCases: Partial<Omit<SgdHyper, 'lr'>>[] = [
    {},
    { weightDecay: 0.1 },
    { momentum: 0.9 },
    { momentum: 0.9, dampening: 0.5, weightDecay: 0.01 },
    { momentum: 0.8, nesterov: true, weightDecay: 0.05 },
  ];
  for (const h of sgdCases) {
    it(`SGD ${JSON.stringify(h)}: ${STEPS} steps appended before one sync`, async () => {
      await ws.tidyAsync(async () => {
        const run = makeRun();
        const state = sgdState(run.init.map((d, i) => ws.zeros(SHAPES[i])));
        const device = ws.getDevice();
        const { entries, stop } = recordDispatches(device);
        let snaps: ws.Tensor[][];
        try {
          snaps = appendSteps(run, (params, grads, t) => sgdUpdate(params, grads, state, sgdHyper({ ...h, lr: LR(t), lrMult })));
        } finally {
          stop();
        }
        if (device.limits.maxStorageBuffersPerShaderStage >= 16) {
          // Per step: the 10 parameters (9 at steps 2 and 3) in groups of 7 + 3 (5 + 5 with momentum).
          const multi = h.momentum ? 'sgd_multi_momentum' : 'sgd_multi';
          expect(entries.filter((e) => e.startsWith('sgd'))).toEqual(Array(2 * STEPS).fill(multi));
        }
        const w = run.init.map((d) => Float64Array.from(d));
        const rs: SgdRefState[] = SHAPES.map(() => ({ buf: null }));
        for (let t = 0; t < STEPS; t++) {
          for (let i = 0; i < SHAPES.length; i++) {
            if (skipped(t, i)) continue;
            sgdStepRef(w[i], run.grads[t][i], rs[i], { ...h, lr: LR(t) * lrMult[i] });
          }
          for (let i = 0; i < SHAPES.length; i++) {
            await expectClose(snaps[t][i], w[i], `sgd step ${t} param ${i} seed ${run.seed}`);
          }
        }
        expect(state.steps).toEqual(STEPS_TAKEN);
        state.dispose();
      });
    });
  }

  const adamCases: Partial<Omit<AdamHyper, 'lr'>>[] = [
    {},
    { decoupled: false, weightDecay: 0.1 },
    { decoupled: true, weightDecay: 0.1 },
    { beta1: 0.5, beta2: 0.9, eps: 1e-3, decoupled: true, weightDecay: 0.3 },
  ];
  for (const h of adamCases) {
    it(`Adam ${JSON.stringify(h)}: ${STEPS} steps with bias correction appended before one sync`, async () => {
      await ws.tidyAsync(async () => {
        const run = makeRun();
        const state = adamState(run.init.map((d, i) => ws.zeros(SHAPES[i])));
        const wdMult = SHAPES.map((_, i) => (i === 0 ? 0 : 1));
        const device = ws.getDevice();
        const { entries, stop } = recordDispatches(device);
        let snaps: ws.Tensor[][];
        try {
          snaps = appendSteps(run, (params, grads, t) => adamUpdate(params, grads, state, adamHyper({ ...h, lr: LR(t), lrMult, wdMult })));
        } finally {
          stop();
        }
        if (device.limits.maxStorageBuffersPerShaderStage >= 16) {
          // Per step: 4 scalar params, then the 6 vec4 ones as groups of 4 + 2 (4 + 1 at step 3,
          // the 1 taking adam_vec4); at step 2 param 1 has no gradient.
          expect(entries.filter((e) => e === 'adam_multi_vec4').length).toBe(2 * STEPS - 1);
          expect(entries.filter((e) => e === 'adam_vec4').length).toBe(1);
        }
        const w = run.init.map((d) => Float64Array.from(d));
        const rs = SHAPES.map((_, i) => adamRefState(w[i].length));
        for (let t = 0; t < STEPS; t++) {
          for (let i = 0; i < SHAPES.length; i++) {
            if (skipped(t, i)) continue;
            adamStepRef(w[i], run.grads[t][i], rs[i], { ...h, lr: LR(t) * lrMult[i], weightDecay: (h.weightDecay ?? 0) * wdMult[i] });
          }
          for (let i = 0; i < SHAPES.length; i++) {
            await expectClose(snaps[t][i], w[i], `adam step ${t} param ${i} seed ${run.seed}`);
          }
        }
        await expectMatches(state.m[4], { shape: SHAPES[4], data: rs[4].m }, TOL_STEPS, 'adam m');
        await expectMatches(state.v[4], { shape: SHAPES[4], data: rs[4].v }, TOL_STEPS, 'adam v');
        expect(state.steps).toEqual(STEPS_TAKEN);
        state.dispose();
      });
    });
  }

  it('grouped SGD flags the first non-finite gradient with its parameter index, and still updates the others', async () => {
    await ws.tidyAsync(async () => {
      const health = new TrainingHealth(ws.getDevice(), 1);
      const shapes = [[3], [17], [5, 4], [1], [257], [2, 3]];
      const params = shapes.map((s, i) => ws.fromArray(randomArray(sizeOf(s), 7 + i), s));
      const init = await Promise.all(params.map((p) => p.data()));
      const grads = shapes.map((s, i) => ws.fromArray(i === 4 ? Array.from({ length: 257 }, (_, k) => (k === 200 ? NaN : 1)) : Array(sizeOf(s)).fill(1), s));
      const state = sgdState(params);
      const { entries, stop } = recordDispatches(ws.getDevice());
      try {
        sgdUpdate(params, grads, state, sgdHyper({ lr: 0.5, check: health.check(3) }));
      } finally {
        stop();
      }
      if (ws.getDevice().limits.maxStorageBuffersPerShaderStage >= 16) expect(entries).toEqual(['sgd_multi']);
      expect((await health.read()).diverged).toEqual([{ member: 0, step: 3, what: 'gradient', param: 4 }]);
      for (let i = 0; i < shapes.length; i++) {
        const out = await params[i].data();
        out.forEach((v, k) => {
          const want = i === 4 && k === 200 ? NaN : Math.fround(init[i][k] - 0.5);
          if (!Object.is(v, want)) throw new Error(`param ${i} element ${k}: ${v}, expected ${want}`);
        });
      }
      state.dispose();
      health.dispose();
    });
  });

  it('optimizer state outlives the scope that created it and is freed by dispose()', async () => {
    const before = ws.memoryStats().liveTensors;
    const p = ws.zeros([10]);
    const state = ws.tidy(() => adamState([p]));
    ws.tidy(() => adamwUpdate([p], [ws.ones([10])], state, { ...ADAMW_DEFAULTS, lr: 0.1 }));
    expect(state.m[0].disposed).toBe(false);
    // First Adam step: m/sqrt(v) after bias correction is sign(g), so w = -lr (up to eps).
    for (const v of await p.toArray()) expect(v).toBeCloseTo(-0.1, 6);
    state.dispose();
    p.dispose();
    expect(ws.memoryStats().liveTensors).toBe(before);
  });
});

describe('optimizer input errors', () => {
  it('rejects mismatched grads, states and hyperparameters', () => {
    ws.tidy(() => {
      const p = [ws.zeros([3]), ws.zeros([2, 2])];
      const s = sgdState(p);
      const a = adamState(p);
      expect(() => sgdUpdate(p, [ws.zeros([3]), ws.zeros([4])], s, sgdHyper({ lr: 0.1 }))).toThrow(
        "sgdUpdate: grad 1 has shape [4], expected the parameter's [2, 2]",
      );
      expect(() => sgdUpdate([p[0]], [null], s, sgdHyper({ lr: 0.1 }))).toThrow('sgdUpdate: 1 parameters given, the state was made for 2');
      expect(() => sgdUpdate(p, [null, null], s, sgdHyper({ lr: 0.1, nesterov: true }))).toThrow(
        'sgdUpdate: nesterov needs momentum > 0 and dampening 0 (got momentum 0, dampening 0)',
      );
      expect(() => adamUpdate(p, [null, null], a, adamHyper({ decoupled: false, lr: 0.1, beta2: 1 }))).toThrow('adamUpdate: beta2 must be in [0, 1), got 1');
      expect(() => adamUpdate(p, [null, null], a, adamHyper({ decoupled: false, lr: NaN }))).toThrow('adamUpdate: lr must be in [0, Infinity], got NaN');
      expect(() => adamUpdate(p, [null, null], a, adamHyper({ decoupled: false, lr: 0.1, lrMult: [1] }))).toThrow('adamUpdate: lrMult has 1 entries for 2 parameters');
      expect(() => adamUpdate(p, [ws.zeros([3], { dtype: 'i32' }), null], a, adamHyper({ decoupled: false, lr: 0.1 }))).toThrow(
        'adamUpdate: grad 0 [3] has dtype i32, expected f32',
      );
      a.dispose();
      expect(() => adamUpdate(p, [null, null], a, adamHyper({ decoupled: false, lr: 0.1 }))).toThrow('adamUpdate: the optimizer state was disposed');
      s.dispose();
    });
  });
});
