import { describe, expect, it } from 'vitest';
import { detectCatapult, largestTrainableLr } from '../../../src/experiments/observables/catapult.js';

const curve = (values: number[], every = 10) => values.map((value, i) => ({ step: i * every, value }));

describe('catapult detection', () => {
  it('finds a spike above 2 L0 early, a recovery below L0 and a sharpness fall', () => {
    const loss = curve([1, 1.5, 4, 9, 3, 0.8, 0.5, 0.4, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]);
    const sharp = curve([10, 12, 14, 6, 4, 4, 4, 4], 20);
    expect(detectCatapult(loss, sharp)).toEqual({
      catapult: true, spikeStep: 20, peakLoss: 9, recoveryStep: 50, sharpnessBefore: 10, sharpnessAfter: 6,
    });
  });

  it('no catapult: a smooth descent, a spike without recovery (divergence), a recovery without a sharpness fall, a late spike', () => {
    const sharp = curve([10, 10, 10, 10]);
    expect(detectCatapult(curve([1, 0.9, 0.8, 0.7]), sharp).catapult).toBe(false);
    const diverged = detectCatapult(curve([1, 5, NaN, NaN, NaN, NaN, NaN, NaN]), sharp);
    expect(diverged).toMatchObject({ catapult: false, spikeStep: 10, recoveryStep: null });
    expect(detectCatapult(curve([1, 5, 0.5, 0.4]), curve([10, 20, 9.5, 9])).catapult).toBe(false);
    expect(detectCatapult(curve([1, 0.9, 0.8, 0.7, 0.6, 0.5, 5, 0.1]), curve([10, 1, 1, 1, 1, 1, 1, 1])).catapult).toBe(false);
  });

  it('refuses empty or unordered curves and a spike factor <= 1', () => {
    expect(() => detectCatapult([], curve([1]))).toThrow(/detectCatapult: the loss curve is empty/);
    expect(() => detectCatapult(curve([1, 2]), [{ step: 5, value: 1 }, { step: 5, value: 1 }])).toThrow(/detectCatapult: the sharpness curve's steps must increase, got 5 then 5 at index 1/);
    expect(() => detectCatapult(curve([1, 2]), curve([1]), { spikeFactor: 1 })).toThrow(/detectCatapult: spikeFactor must be a number > 1, got 1/);
  });
});

describe('largest lr that trains', () => {
  const runs = [
    { lr: 0.1, initialLoss: 1, finalLoss: 0.2 },
    { lr: 0.1, initialLoss: 1, finalLoss: 0.3 },
    { lr: 1, initialLoss: 1, finalLoss: 0.5 },
    { lr: 1, initialLoss: 1, finalLoss: NaN },
    { lr: 10, initialLoss: 1, finalLoss: Infinity },
    { lr: 3, initialLoss: 1, finalLoss: 1.2 },
  ];
  it('is the largest lr whose every run (or any run) ends finite and below its initial loss', () => {
    expect(largestTrainableLr(runs)).toBe(0.1);
    expect(largestTrainableLr(runs, { require: 'any' })).toBe(1);
    expect(largestTrainableLr(runs.slice(4))).toBeNull();
    expect(() => largestTrainableLr([{ lr: 0, initialLoss: 1, finalLoss: 0 }])).toThrow(/largestTrainableLr: expected positive learning rates, got lr 0/);
  });
});
