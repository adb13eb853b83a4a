// bench/harness.ts timeInterleaved: every round samples every launch, in turn, and the ratios
// are per round against the first launch. A fake clock makes each launch cost a known time, so
// the medians and ratios have exact expected values.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as ws from '../../src/index.js';
import { timeInterleaved } from '../../bench/harness.js';

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
