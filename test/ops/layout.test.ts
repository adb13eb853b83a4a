import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ws from '../../src/index.js';
import { concatRef, mapBroadcast, permuteRef, sliceRef } from '../../src/reference/index.js';
import { expectMatches, freshSeed, pair, recordDispatches } from '../helpers.js';
import { index3Plan } from '../../src/ops/launch.js';

/** permute of a fresh tensor by every `[shape, perm, seed]` the arbitrary draws copies exactly (property test). */
async function expectPermutesMatch(arb: fc.Arbitrary<[number[], number[], number]>, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arb, async ([shape, perm, seed]) => {
      const { t, r } = pair(shape, seed);
      await ws.tidyAsync(() => expectMatches(ws.permute(t, perm), permuteRef(r, perm), 0, `permute ${shape} ${perm}`));
      t.dispose();
    }),
    { numRuns },
  );
}

describe('layout ops copy exactly', () => {
  it('permute and transpose on random permutations (property test)', async () => {
    const arb = fc
      .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.shuffledSubarray([...shape.keys()], { minLength: shape.length }), fc.integer({ min: 0, max: 2 ** 31 })));
    await expectPermutesMatch(arb, 50);
    // Last output axis >= 32 (long rows through copy3 / copy3_vec4 or, past 3 merged axes, main).
    const arbWide = fc
      .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })
      .chain((small) => fc.tuple(fc.constant(small), fc.integer({ min: 32, max: 90 }), fc.integer({ min: 0, max: 2 ** 31 })))
      .chain(([small, wide, seed]) => {
        const shape = [...small, wide];
        return fc.tuple(fc.constant(shape), fc.shuffledSubarray([...shape.keys()], { minLength: shape.length }), fc.constant(seed));
      })
      .filter(([shape, perm]) => shape[perm[perm.length - 1]] >= 32);
    await expectPermutesMatch(arbWide, 25);
    const { t, r } = pair([3, 17, 257], freshSeed());
    await expectMatches(ws.transpose(t), permuteRef(r, [0, 2, 1]), 0, 'transpose');
    await expectMatches(ws.transpose(t, 0, 1), permuteRef(r, [1, 0, 2]), 0, 'transpose 0 1 (last axis 257)');
    await expectMatches(ws.transpose(t, 0, 2), permuteRef(r, [2, 1, 0]), 0, 'transpose 0 2');
  });

  it('vec4 copies (last axis % 4 == 0, aligned offsets) and their scalar neighbours', async () => {
    const { entries, stop } = recordDispatches(ws.getDevice());
    try {
      const seed = freshSeed();
      const { t, r } = pair([6, 5, 12], seed);
      const cases: [string, () => ws.Tensor, () => ReturnType<typeof sliceRef>, string][] = [
        ['slice axis 0', () => ws.slice(t, 0, 1, 4), () => sliceRef(r, 0, 1, 4), 'copy3_vec4'],
        ['slice axis 2 at 4', () => ws.slice(t, 2, 4, 12), () => sliceRef(r, 2, 4, 12), 'copy3_vec4'],
        ['slice axis 2 at 1', () => ws.slice(t, 2, 1, 9), () => sliceRef(r, 2, 1, 9), 'copy3'],
        ['permute [1, 0, 2]', () => ws.permute(t, [1, 0, 2]), () => permuteRef(r, [1, 0, 2]), 'copy3_vec4'],
        ['permute [2, 0, 1]', () => ws.permute(t, [2, 0, 1]), () => permuteRef(r, [2, 0, 1]), 'copy3'],
      ];
      for (const [what, run, ref, entry] of cases) {
        entries.length = 0;
        await ws.tidyAsync(() => expectMatches(run(), ref(), 0, what));
        expect(entries, what).toContain(entry);
      }
      // 4 merged axes: the outermost runs along the grid's y (an attention head split/merge)
      const heads = pair([3, 5, 4, 8], seed + 4);
      const odd = pair([3, 5, 4, 7], seed + 5);
      const five = pair([2, 3, 2, 3, 5], seed + 6);
      const more: [string, () => ws.Tensor, () => ReturnType<typeof sliceRef>, string][] = [
        ['permute 4 axes, vec4 rows', () => ws.permute(heads.t, [0, 2, 1, 3]), () => permuteRef(heads.r, [0, 2, 1, 3]), 'copy3_vec4'],
        ['permute 4 axes, odd rows', () => ws.permute(odd.t, [0, 2, 1, 3]), () => permuteRef(odd.r, [0, 2, 1, 3]), 'copy3'],
        ['permute 4 axes, outer moved', () => ws.permute(odd.t, [2, 0, 3, 1]), () => permuteRef(odd.r, [2, 0, 3, 1]), 'copy3'],
        ['permute 5 axes', () => ws.permute(five.t, [4, 2, 0, 3, 1]), () => permuteRef(five.r, [4, 2, 0, 3, 1]), 'main'],
      ];
      for (const [what, run, ref, entry] of more) {
        entries.length = 0;
        await ws.tidyAsync(() => expectMatches(run(), ref(), 0, what));
        expect(entries.filter((e) => e !== 'fill'), what).toEqual([entry]);
      }
      const parts = [[2, 3, 8], [2, 3, 4]].map((s, k) => pair(s, seed + 1 + k));
      entries.length = 0;
      await expectMatches(ws.concat(parts.map((q) => q.t), 2), concatRef(parts.map((q) => q.r), 2), 0, 'concat axis 2');
      expect(entries.filter((e) => e.startsWith('copy'))).toEqual(['copy3_vec4', 'copy3_vec4']);
      const row = pair([1, 8], seed + 3);
      await expectMatches(ws.expand(row.t, [5, 8]), mapBroadcast('expand', [row.r, { shape: [5, 8], data: new Float64Array(40) }], (v) => v), 0, 'expand');
    } finally {
      stop();
    }
  });

  it('permutes split indices exactly on both sides of the f32 division limit (2^22 items)', async () => {
    const { entries, stop } = recordDispatches(ws.getDevice());
    try {
      // 5 merged axes (main): 3 x 5 x 2 x 2 x 69905 = 4,194,300 items (f32 divisions), x 69906 = 4,194,360 (u32).
      for (const last of [69905, 69906]) {
        const { t, r } = pair([3, 5, 2, 2, last], freshSeed());
        entries.length = 0;
        await ws.tidyAsync(() => expectMatches(ws.permute(t, [1, 0, 3, 2, 4]), permuteRef(r, [1, 0, 3, 2, 4]), 0, `permute 5 axes, last ${last}`));
        expect(entries.filter((e) => e !== 'fill')).toEqual(['main']);
        t.dispose();
      }
      // 4 merged axes (copy3, the outermost along y): 3 x 4 x 349525 = 4,194,300 items a slice, x 349526 = 4,194,312.
      for (const last of [349525, 349526]) {
        const { t, r } = pair([2, 4, 3, last], freshSeed());
        entries.length = 0;
        await ws.tidyAsync(() => expectMatches(ws.permute(t, [0, 2, 1, 3]), permuteRef(r, [0, 2, 1, 3]), 0, `permute 4 axes, last ${last}`));
        expect(entries.filter((e) => e !== 'fill')).toEqual(['copy3']);
        t.dispose();
      }
    } finally {
      stop();
    }
  });

  it('the split3 plan counts vec4s only where every stride and offset steps by 4', () => {
    const rows = [[24, 8, 1], [48, 8, 1]];
    expect(index3Plan([2, 3, 8], rows, [0, 4])).toMatchObject({ vec4: true, n: 12, dims: [2, 3, 2], strides: [[6, 2, 1], [12, 2, 1]], offsets: [0, 1] });
    expect(index3Plan([2, 3, 8], rows, [0, 2])?.vec4).toBe(false);
    // copy3's outermost-axis strides: a slice step of 6 floats is not a whole vec4
    expect(index3Plan([2, 3, 8], rows, [0, 0], [96, 48])?.vec4).toBe(true);
    expect(index3Plan([2, 3, 8], rows, [0, 0], [96, 6])).toMatchObject({ vec4: false, n: 48, dims: [2, 3, 8] });
    expect(index3Plan([2, 2, 3, 8], [[1, 1, 1, 1], [1, 1, 1, 1]])).toBeNull();
  });

  it('slice with negative and clamped bounds', async () => {
    const { t, r } = pair([17, 3, 257], freshSeed());
    for (const [axis, s, e] of [[0, 3, 10], [1, -2, undefined], [2, 100, 1000], [-1, 0, 1], [0, 17, 17]] as [number, number, number | undefined][]) {
      await expectMatches(ws.slice(t, axis, s, e), sliceRef(r, axis, s, e), 0, `slice ${axis} ${s} ${e}`);
    }
  });

  it('concat along every axis', async () => {
    const seed = freshSeed();
    for (const axis of [0, 1, 2]) {
      const shapes = [0, 1, 2].map((k) => [3, 5, 17].map((d, i) => (i === axis ? d + k : d)));
      const parts = shapes.map((s, k) => pair(s, seed + k));
      await expectMatches(ws.concat(parts.map((p) => p.t), axis), concatRef(parts.map((p) => p.r), axis), 0, `concat ${axis}`);
    }
  });

  it('expand broadcasts like NumPy and contiguous copies', async () => {
    const { t, r } = pair([3, 1, 17], freshSeed());
    const target = [2, 3, 5, 17];
    await expectMatches(ws.expand(t, target), mapBroadcast('expand', [r, { shape: target, data: new Float64Array(2 * 3 * 5 * 17) }], (v) => v), 0, 'expand');
    await expectMatches(ws.contiguous(t), r, 0, 'contiguous');
  });

  it('expand over rows (a pooled gradient broadcast back over the pixels) stores each loaded vec4 to its rows', async () => {
    const { entries, stop } = recordDispatches(ws.getDevice());
    try {
      // rows not a multiple of the 16 an item stores (35, 17, 1000), one slice (Z = 1), an
      // ensemble's leading axes merged; the neighbours: odd rows (copy3), broadcast along two
      // axes (copy3_vec4 with an outer axis, main past 4 merged axes).
      const cases: [number[], number[], string][] = [
        [[3, 1, 1, 8], [3, 5, 7, 8], 'expand_rows_vec4'],
        [[5, 1, 4], [5, 17, 4], 'expand_rows_vec4'],
        [[1, 12], [1000, 12], 'expand_rows_vec4'],
        [[2, 3, 1, 1, 16], [2, 3, 4, 4, 16], 'expand_rows_vec4'],
        [[3, 1, 7], [3, 5, 7], 'copy3'],
        [[3, 1, 8], [3, 5, 8], 'expand_rows_vec4'],
        [[1, 2, 1, 8], [5, 2, 5, 8], 'copy3_vec4'],
        [[3, 1, 2, 1, 8], [3, 2, 2, 5, 8], 'main'],
      ];
      for (const [from, to, entry] of cases) {
        const seed = freshSeed();
        const { t, r } = pair(from, seed);
        const what = `expand ${from} -> ${to} seed ${seed}`;
        entries.length = 0;
        await ws.tidyAsync(() => expectMatches(ws.expand(t, to), mapBroadcast('expand', [r, { shape: to, data: new Float64Array(to.reduce((a, b) => a * b, 1)) }], (v) => v), 0, what));
        expect(entries.filter((e) => e !== 'fill'), what).toEqual([entry]);
        t.dispose();
      }
    } finally {
      stop();
    }
  });

  it('i32 tensors go through the same copies', async () => {
    const x = ws.fromArray(Int32Array.from({ length: 12 }, (_, i) => i - 5), [3, 4]);
    const y = ws.transpose(x);
    expect(y.dtype).toBe('i32');
    expect(Array.from(await y.data())).toEqual([-5, -1, 3, -4, 0, 4, -3, 1, 5, -2, 2, 6]);
  });
});

describe('layout errors', () => {
  it('permute needs a permutation', () => {
    expect(() => ws.permute(ws.zeros([2, 3]), [0, 0])).toThrow(/permute: axes \[0, 0\] must be a permutation of 0\.\.1 for shape \[2, 3\]/);
  });
  it('concat needs matching sizes outside the axis', () => {
    expect(() => ws.concat([ws.zeros([2, 3]), ws.zeros([2, 4])], 0)).toThrow(/concat: shapes \[2, 3\], \[2, 4\] differ outside axis 0/);
  });
  it('slice bounds are checked', () => {
    expect(() => ws.slice(ws.zeros([4]), 0, 3, 1)).toThrow(/slice: range \[3, 1\) is invalid for axis 0 of size 4/);
  });
  it('expand refuses shapes that do not broadcast', () => {
    expect(() => ws.expand(ws.zeros([3]), [4])).toThrow(/expand: shapes \[3\] and \[4\] do not broadcast/);
  });
});
