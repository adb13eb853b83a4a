import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import {
  attentionBackward, attentionComposed, attentionComposedBackward, attentionForward, scaledDotProductAttention,
} from '../../src/ops/attention.js';
import { attentionBackwardRef, attentionRef } from '../../src/reference/attention.js';
import type { NDArray } from '../../src/reference/index.js';
import { TOL, expectMatches, freshSeed, pair } from '../helpers.js';

interface Case {
  lead: number[];
  tq: number;
  tk: number;
  d: number;
  causal: boolean;
  scale?: number;
}

/** T not a multiple of the 64-row workgroup or the 8-key block; D in {8, 16, 64}; muP scale 1/D. */
const CASES: Case[] = [
  { lead: [1, 1], tq: 1, tk: 1, d: 8, causal: false },
  { lead: [1, 1], tq: 1, tk: 1, d: 8, causal: true },
  { lead: [2, 3], tq: 17, tk: 17, d: 16, causal: true },
  { lead: [2, 3], tq: 17, tk: 17, d: 16, causal: false, scale: 1 / 16 },
  { lead: [1, 2], tq: 67, tk: 67, d: 64, causal: true },
  { lead: [1, 2], tq: 67, tk: 67, d: 64, causal: false, scale: 1 / 64 },
  { lead: [3], tq: 3, tk: 67, d: 8, causal: false },
  { lead: [3], tq: 67, tk: 17, d: 8, causal: true },
  { lead: [1, 1], tq: 130, tk: 130, d: 16, causal: true },
  // D / 4 = 9 vec4s: the shuffled loads split a row into parts of 8 vec4s (one partial).
  { lead: [2], tq: 19, tk: 23, d: 36, causal: false },
];

const name = (c: Case) => `[${c.lead}] Tq ${c.tq} Tk ${c.tk} D ${c.d} ${c.causal ? 'causal' : 'full'} scale ${c.scale ?? '1/sqrt(D)'}`;

function setup(c: Case, seed: number) {
  // Spread 2 keeps the softmax neither flat nor one-hot.
  const q = pair([...c.lead, c.tq, c.d], seed, -2, 2);
  const k = pair([...c.lead, c.tk, c.d], seed + 1, -2, 2);
  const v = pair([...c.lead, c.tk, c.d], seed + 2);
  const dout = pair([...c.lead, c.tq, c.d], seed + 3);
  const opts = { causal: c.causal, scale: c.scale };
  return { q, k, v, dout, opts };
}

describe('fused attention matches the f64 reference', () => {
  for (const loads of ['plain', 'shuffle'] as const) {
  // D = 64 runs with the shuffled loads only (lavapipe's default): the plain kernel is the same
  // body with other row fetches, and its D = 64 pipelines cost ~1 min to compile cold.
  const cases = CASES.filter((c) => loads === 'shuffle' || c.d !== 64);
  it(`forward (out and log-sum-exp), ${loads} loads`, async () => {
    for (const c of cases) {
      const seed = freshSeed();
      await ws.tidyAsync(async () => {
        const { q, k, v, opts: base } = setup(c, seed);
        const opts = { ...base, loads };
        const ref = attentionRef(q.r, k.r, v.r, opts);
        const { out, lse } = attentionForward(q.t, k.t, v.t, opts);
        await expectMatches(out, ref.out, TOL.matmul, `out ${name(c)} seed ${seed}`);
        await expectMatches(lse, ref.lse, TOL.matmul, `lse ${name(c)} seed ${seed}`);
      });
    }
  });

  it(`backward (dq, dk, dv) from the saved log-sum-exp, ${loads} loads`, async () => {
    for (const c of cases) {
      const seed = freshSeed();
      await ws.tidyAsync(async () => {
        const { q, k, v, dout, opts: base } = setup(c, seed);
        const opts = { ...base, loads };
        const ref = attentionBackwardRef(q.r, k.r, v.r, dout.r, opts);
        const { out, lse } = attentionForward(q.t, k.t, v.t, opts);
        const g = attentionBackward(q.t, k.t, v.t, out, lse, dout.t, opts);
        await expectMatches(g.dq, ref.dq, TOL.matmul, `dq ${name(c)} seed ${seed}`);
        await expectMatches(g.dk, ref.dk, TOL.matmul, `dk ${name(c)} seed ${seed}`);
        await expectMatches(g.dv, ref.dv, TOL.matmul, `dv ${name(c)} seed ${seed}`);
      });
    }
  });
  }

  it('the composed path (oracle) matches the reference too, forward and backward', async () => {
    for (const c of [CASES[2], CASES[5], CASES[7]]) {
      const seed = freshSeed();
      await ws.tidyAsync(async () => {
        const { q, k, v, dout, opts } = setup(c, seed);
        const ref = attentionRef(q.r, k.r, v.r, opts);
        const gref = attentionBackwardRef(q.r, k.r, v.r, dout.r, opts);
        const { out, probs } = attentionComposed(q.t, k.t, v.t, opts);
        await expectMatches(out, ref.out, TOL.matmul, `composed out ${name(c)} seed ${seed}`);
        const g = attentionComposedBackward(q.t, k.t, v.t, probs, dout.t, opts);
        await expectMatches(g.dq, gref.dq, TOL.matmul, `composed dq ${name(c)}`);
        await expectMatches(g.dk, gref.dk, TOL.matmul, `composed dk ${name(c)}`);
        await expectMatches(g.dv, gref.dv, TOL.matmul, `composed dv ${name(c)}`);
        // Fused equals composed (same f32 inputs, different summation orders).
        const fused: NDArray = { shape: out.shape as number[], data: Float64Array.from(await out.data()) };
        await expectMatches(scaledDotProductAttention(q.t, k.t, v.t, opts), fused, TOL.matmul, `fused vs composed ${name(c)}`);
      });
    }
  });

  it('large scores stay finite (online softmax rescales; masked keys get exactly 0)', async () => {
    const c: Case = { lead: [1], tq: 20, tk: 20, d: 8, causal: true, scale: 30 };
    const seed = freshSeed();
    await ws.tidyAsync(async () => {
      const { q, k, v, dout, opts } = setup(c, seed);
      const ref = attentionRef(q.r, k.r, v.r, opts);
      const { out, lse } = attentionForward(q.t, k.t, v.t, opts);
      await expectMatches(out, ref.out, TOL.matmul, `out seed ${seed}`);
      await expectMatches(lse, ref.lse, TOL.matmul, `lse seed ${seed}`);
      const g = attentionBackward(q.t, k.t, v.t, out, lse, dout.t, opts);
      for (const t of [g.dq, g.dk, g.dv]) expect((await t.toArray()).every(Number.isFinite)).toBe(true);
    });
  });

  it('the reference backward agrees with central finite differences of the reference forward', () => {
    const c: Case = { lead: [2], tq: 4, tk: 5, d: 3, causal: true, scale: 0.7 };
    const seed = freshSeed();
    const { q, k, v, dout, opts } = setup(c, seed);
    const loss = () => attentionRef(q.r, k.r, v.r, opts).out.data.reduce((s, x, i) => s + x * dout.r.data[i], 0);
    const g = attentionBackwardRef(q.r, k.r, v.r, dout.r, opts);
    const h = 1e-6;
    for (const [arr, grad, which] of [[q.r, g.dq, 'q'], [k.r, g.dk, 'k'], [v.r, g.dv, 'v']] as const) {
      for (let i = 0; i < arr.data.length; i++) {
        const keep = arr.data[i];
        arr.data[i] = keep + h;
        const up = loss();
        arr.data[i] = keep - h;
        const down = loss();
        arr.data[i] = keep;
        expect(Math.abs((up - down) / (2 * h) - grad.data[i]), `d${which}[${i}] seed ${seed}`).toBeLessThan(1e-7);
      }
    }
  });
});

describe('attention rejects bad inputs with clear errors', () => {
  const q = () => ws.zeros([2, 4, 17, 16]);
  it('Q/K head dims that differ', () => {
    expect(() => scaledDotProductAttention(q(), ws.zeros([2, 4, 17, 8]), ws.zeros([2, 4, 17, 16]))).toThrow(
      /attention: head dims differ: q \[2, 4, 17, 16\] has D = 16 but k \[2, 4, 17, 8\] has D = 8/,
    );
  });
  it('K/V length mismatch', () => {
    expect(() => scaledDotProductAttention(q(), ws.zeros([2, 4, 17, 16]), ws.zeros([2, 4, 16, 16]))).toThrow(
      /attention: K\/V length mismatch: k \[2, 4, 17, 16\] has 17 keys but v \[2, 4, 16, 16\] has 16/,
    );
  });
  it('batch/head axes, rank and backward operand shapes', () => {
    expect(() => scaledDotProductAttention(q(), ws.zeros([2, 3, 17, 16]), ws.zeros([2, 3, 17, 16]))).toThrow(
      /attention: leading \(batch, head\) axes differ/,
    );
    expect(() => scaledDotProductAttention(ws.zeros([16]), ws.zeros([16]), ws.zeros([16]))).toThrow(/attention: q \[16\] must be \[\.\.\., T, D\]/);
    const x = q();
    expect(() => attentionBackward(x, x, x, x, ws.zeros([2, 4, 16]), x)).toThrow(/attentionBackward: lse \[2, 4, 16\] must be \[2, 4, 17\]/);
  });
});
