// bench/harness.ts timeInterleaved: every round samples every launch, in turn, and the ratios
// are per round against the first launch. (Structure only: timings are the bench's business.)
import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { timeInterleaved } from '../../bench/harness.js';

describe('timeInterleaved', () => {
  it('takes one sample of each launch per round, in turn, for at least minRounds rounds', async () => {
    const dev = ws.getDevice();
    const order: string[] = [];
    const t = ws.zeros([1024], { device: dev });
    const launch = (name: string) => () => {
      order.push(name);
      ws.tidy(() => ws.add(t, 1));
    };
    const { medians, ratios } = await timeInterleaved(dev, [launch('a'), launch('b')], { minRounds: 4, maxTimeS: 0 });
    t.dispose();
    expect(medians).toHaveLength(2);
    expect(medians.every((m) => m > 0 && Number.isFinite(m))).toBe(true);
    expect(ratios[0]).toEqual([1, 1, 1, 1]);
    expect(ratios[1]).toHaveLength(4);
    // warm-up and repetition probes (a, a, b, b), then rounds: all of a's repetitions, then b's
    const rounds = order.slice(4).join('');
    expect(rounds).toMatch(/^(a+b+){4}$/);
    expect(order.slice(0, 4)).toEqual(['a', 'a', 'b', 'b']);
  });
});
