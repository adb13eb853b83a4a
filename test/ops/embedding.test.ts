import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { checkIndices, embedding, embeddingBackward } from '../../src/ops/embedding.js';
import { embeddingBackwardRef, embeddingRef } from '../../src/reference/embedding.js';
import { maxScaledDiff, numericVjp } from '../../src/reference/finite-diff.js';
import { TOL, expectMatches, freshSeed, pair, rng } from '../helpers.js';

/** [vocab, dim, index shape]: repeated indices (vocab < n), unused rows (vocab > n), awkward sizes. */
const CASES: [number, number, number[]][] = [
  [1, 1, [1]], [3, 3, [3]], [17, 5, [2, 17]], [10, 17, [257]], [257, 3, [4, 17]], [1000, 8, [3, 5, 7]], [5, 64, [300]],
  [40000, 2, [2]],
];

function randomIndices(n: number, vocab: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * vocab));
}

describe('embedding matches the f64 reference', () => {
  it('gather on awkward shapes', async () => {
    for (const [vocab, d, ishape] of CASES) {
      await ws.tidyAsync(async () => {
        const seed = freshSeed();
        const table = pair([vocab, d], seed);
        const idx = randomIndices(ishape.reduce((a, b) => a * b, 1), vocab, seed + 1);
        const out = embedding(table.t, ws.fromArray(idx, ishape));
        await expectMatches(out, embeddingRef(table.r, idx, ishape), 0, `gather ${vocab} ${d} ${ishape} seed ${seed}`);
      });
    }
  });

  it('backward, scan, sorted and counting variants, equal bit for bit (deterministic order)', async () => {
    for (const [vocab, d, ishape] of CASES) {
      await ws.tidyAsync(async () => {
        const seed = freshSeed();
        const n = ishape.reduce((a, b) => a * b, 1);
        const idx = randomIndices(n, vocab, seed + 1);
        const dout = pair([...ishape, d], seed);
        const indices = ws.fromArray(idx, ishape);
        const ref = embeddingBackwardRef(dout.r, idx, vocab);
        const what = `embedding backward ${vocab} ${d} ${ishape} seed ${seed}`;
        const scan = embeddingBackward(dout.t, indices, vocab, { variant: 'scan' });
        const sorted = embeddingBackward(dout.t, indices, vocab, { variant: 'sorted' });
        const counting = embeddingBackward(dout.t, indices, vocab, { variant: 'counting' });
        await expectMatches(scan, ref, TOL.reduction, `${what} scan`);
        await expectMatches(sorted, ref, TOL.reduction, `${what} sorted`);
        await expectMatches(counting, ref, TOL.reduction, `${what} counting`);
        expect(Array.from(await sorted.data()), what).toEqual(Array.from(await scan.data()));
        expect(Array.from(await counting.data()), what).toEqual(Array.from(await scan.data()));
      });
    }
  });

  it('the f64 reference backward agrees with central finite differences', () => {
    const seed = freshSeed();
    const table = pair([5, 3], seed).r;
    const idx = Int32Array.of(4, 0, 4, 2, 4);
    const u = pair([5, 3], seed + 1).r;
    const num = numericVjp((t) => embeddingRef(t, idx, [5]), table, u);
    expect(maxScaledDiff(embeddingBackwardRef(u, idx, 5), num)).toBeLessThan(1e-8);
  });

  it('gives the same dtable on every run (no atomics, fixed summation order)', async () => {
    const idx = randomIndices(3000, 7, freshSeed());
    const dout = pair([3000, 33], freshSeed());
    const indices = ws.fromArray(idx);
    const first = await embeddingBackward(dout.t, indices, 7).data();
    for (let k = 0; k < 3; k++) expect(await embeddingBackward(dout.t, indices, 7).data()).toEqual(first);
  });

  it('an out-of-range index gathers a NaN row, the next readback names it, and checkIndices names it', async () => {
    const table = ws.ones([4, 2]);
    const indices = ws.fromArray(Int32Array.of(1, 4, -1, 3));
    const gathered = embedding(table, indices);
    await expect(gathered.data()).rejects.toThrow('embedding: index 4 at position [1] (flat 1) of indices [4] is outside [0, 4)');
    // the flag is cleared by the readback that reported it: the next one returns the data
    const out = await gathered.data();
    expect(Array.from(out.slice(0, 2))).toEqual([1, 1]);
    expect(Array.from(out.slice(2, 6)).every(Number.isNaN)).toBe(true);
    for (const variant of ['scan', 'sorted', 'counting'] as const) {
      const back = embeddingBackward(ws.ones([4, 2]), indices, 4, { variant });
      await expect(back.data(), variant).rejects.toThrow(/^embeddingBackward: index (4|-1) at position \[(1|2)\] .* is outside \[0, 4\)/);
      expect(Array.from(await back.data()), variant).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    }
    await expect(checkIndices(indices, 4)).rejects.toThrow('embedding: index 4 at flat index 1 of indices [4] is outside [0, 4)');
  });

  it('rejects indices that are not i32 and shapes that disagree', () => {
    ws.tidy(() => {
      const table = ws.zeros([10, 4]);
      expect(() => embedding(table, ws.zeros([3]))).toThrow('embedding: indices [3] have dtype f32, expected i32');
      expect(() => embedding(ws.zeros([10]), ws.zeros([3], { dtype: 'i32' }))).toThrow('embedding: table has shape [10], expected [vocab, dim]');
      expect(() => embeddingBackward(ws.zeros([3, 5]), ws.zeros([4], { dtype: 'i32' }), 10)).toThrow(
        'embeddingBackward: dout [3, 5] does not match indices [4]: expected [4, dim]',
      );
    });
  });
});
