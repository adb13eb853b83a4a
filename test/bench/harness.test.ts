// bench/harness.ts timeInterleaved, timeStepsInRounds and geomean: every round samples every launch (or
// variant), in turn; timeInterleaved's ratios are per round against the first launch. A fake clock
// makes each launch or step cost a known time, so the medians and ratios have exact expected values.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as ws from '../../src/index.js';
import { geomean, timeInterleaved, timeStepsInRounds } from '../../bench/harness.js';

describe('timeInterleaved', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('takes one sample of each launch per round, in turn; medians and per-round ratios come from the samples', async () => {
    const dev = ws.getDevice();
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const order: string[] = [];
    // a costs 1 ms, b 3 ms, c 0.5 ms in rounds 0 and 2 and 1.5 ms in rounds 1 and 3 (a round
    // samples a 30 times: repsFor(1 ms) with the 30 ms target, after a's two probes)
    let aCalls = 0;
    const t = ws.zeros([16], { device: dev });
    const launch = (name: string, ms: () => number) => () => {
      order.push(name);
      clock += ms();
      ws.tidy(() => ws.add(t, 1));
    };
    const { medians, ratios } = await timeInterleaved(dev, [
      launch('a', () => { aCalls++; return 1; }),
      launch('b', () => 3),
      launch('c', () => ((aCalls - 2) / 30 - 1) % 2 === 0 ? 0.5 : 1.5),
    ], { minRounds: 4, maxTimeS: 0 });
    t.dispose();
    // warm-up and repetition probes (a, a, b, b, c, c), then rounds: all of a's repetitions, then b's, then c's
    expect(order.slice(0, 6)).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    expect(order.slice(6).join('')).toMatch(/^(a+b+c+){4}$/);
    expect(medians[0]).toBeCloseTo(1, 12);
    expect(medians[1]).toBeCloseTo(3, 12);
    expect(medians[2]).toBeCloseTo(1, 12); // median of 0.5, 1.5, 0.5, 1.5
    expect(ratios[0]).toEqual([1, 1, 1, 1]);
    ratios[1].forEach((r) => expect(r).toBeCloseTo(3, 12));
    expect(ratios[2].map((r) => Math.round(r * 10) / 10)).toEqual([0.5, 1.5, 0.5, 1.5]);
  });
});

describe('timeStepsInRounds', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('runs each variant\'s untimed then timed steps per round, in turn; only timed steps are counted', async () => {
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const order: string[] = [];
    // variant 0 costs 1 ms a step, variant 1 costs 2 ms in even rounds and 6 ms in odd ones;
    // an untimed step costs 100 ms (it must not reach the times)
    const { times, roundMedians } = await timeStepsInRounds(2, async (i, timed, round) => {
      order.push(`${i}${timed ? 't' : 'u'}${round}`);
      clock += !timed ? 100 : i === 0 ? 1 : round % 2 === 0 ? 2 : 6;
    }, { rounds: 3, perRound: 2, untimed: 1 });
    expect(order).toEqual(['0u0', '0t0', '0t0', '1u0', '1t0', '1t0', '0u1', '0t1', '0t1', '1u1', '1t1', '1t1', '0u2', '0t2', '0t2', '1u2', '1t2', '1t2']);
    expect(times).toEqual([[1, 1, 1, 1, 1, 1], [2, 2, 6, 6, 2, 2]]);
    expect(roundMedians).toEqual([[1, 1, 1], [2, 6, 2]]);
  });
});

describe('geomean', () => {
  it('is the n-th root of the product, and 1 for no ratios', () => {
    expect(geomean([2, 8])).toBeCloseTo(4, 12);
    expect(geomean([0.5, 2, 1])).toBeCloseTo(1, 12);
    expect(geomean([])).toBe(1);
  });
});
