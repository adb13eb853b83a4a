import { describe, expect, it } from 'vitest';
import { makeSchedule, warmupCosine } from '../../src/nn/schedule.js';

describe('learning-rate schedules', () => {
  it('constant is 1 at every step', () => {
    const s = makeSchedule({ kind: 'constant' });
    expect([0, 10, 1e6].map(s)).toEqual([1, 1, 1]);
  });
  it('warmup-cosine ramps linearly, peaks at 1, decays to the final factor', () => {
    const s = warmupCosine(4, 14, 0.1);
    expect([0, 1, 2, 3].map(s)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(s(4)).toBe(1);
    expect(s(9)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(s(14)).toBeCloseTo(0.1, 12);
    expect(s(100)).toBeCloseTo(0.1, 12);
  });
  it('refuses a warmup that does not end before the total', () => {
    expect(() => warmupCosine(10, 10)).toThrow(/need 0 <= warmup < total, got warmup 10, total 10/);
  });
});
