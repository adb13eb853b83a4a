import { describe, expect, it } from 'vitest';
import { MarkovLanguage } from '../../src/data/markov.js';

describe('synthetic Markov language', () => {
  const lang = new MarkovLanguage({ vocab: 12, branching: 3, seed: 5 });

  it('rows of the transition matrix are distributions with `branching` successors', () => {
    for (let a = 0; a < 12; a++) {
      const row = Array.from(lang.probs.slice(a * 12, a * 12 + 12));
      expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
      expect(row.filter((p) => p > 0)).toHaveLength(3);
    }
  });

  it('batches are reproducible from (dataSeed, index) and differ across indices', () => {
    const a = lang.sample(4, 16, 1, 0);
    expect(Array.from(lang.sample(4, 16, 1, 0))).toEqual(Array.from(a));
    expect(Array.from(lang.sample(4, 16, 1, 1))).not.toEqual(Array.from(a));
  });

  it('samples follow the chain: empirical bigram frequencies match the transition matrix', () => {
    const s = lang.sample(200, 200, 3, 0);
    const counts = new Float64Array(144);
    const from = new Float64Array(12);
    for (let b = 0; b < 200; b++) {
      for (let i = 0; i + 1 < 200; i++) {
        const x = s[b * 200 + i];
        const y = s[b * 200 + i + 1];
        if (!(lang.probs[x * 12 + y] > 0)) throw new Error(`impossible transition ${x} -> ${y}`);
        counts[x * 12 + y]++;
        from[x]++;
      }
    }
    let worst = 0;
    // tokens seen often enough for the frequency to be within ~0.03 (4 sigma at n >= 2000)
    for (let i = 0; i < 144; i++) {
      const n = from[Math.floor(i / 12)];
      if (n >= 2000) worst = Math.max(worst, Math.abs(counts[i] / n - lang.probs[i]));
    }
    expect(from.filter((n) => n >= 2000).length).toBeGreaterThan(3);
    expect(worst).toBeLessThan(0.035);
  });

  it('the entropy rate lies between 0 and log(branching)', () => {
    const h = lang.entropyRate();
    expect(h).toBeGreaterThan(0);
    expect(h).toBeLessThan(Math.log(3) + 1e-12);
  });

  it('bad specs say what was expected', () => {
    expect(() => new MarkovLanguage({ vocab: 1, branching: 1, seed: 0 })).toThrow(/need integer vocab >= 2 and 1 <= branching <= vocab/);
  });
});
