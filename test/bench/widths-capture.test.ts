// The widths bench's steps (bench/widths-models.ts: linearAct / biasAct layers, the cross-entropy
// computing its gradient in its forward, grouped SGD) replayed from a capture give the very bits
// of the uncaptured steps after 100 steps.
import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { widthsStep, type WidthsFamily } from '../../bench/widths-models.js';

async function train(family: WidthsFamily, w: number, seeds: number, capture: boolean, steps: number) {
  const s = widthsStep(ws.getDevice(), family, w, seeds, capture);
  try {
    const losses: number[] = [];
    for (let k = 0; k < steps; k++) losses.push(await s.step());
    const params = await Promise.all(s.parameters().map(async (p) => Array.from(new Uint32Array((await p.data()).buffer))));
    return { losses, params, counts: s.counts() };
  } finally {
    s.dispose();
  }
}

describe('captured widths steps', () => {
  for (const [family, w, seeds] of [['mlp', 8, 1], ['mlp', 8, 2], ['cnn', 4, 1]] as [WidthsFamily, number, number][]) {
    it(`${family} w=${w}${seeds > 1 ? `, ensemble of ${seeds}` : ''}: parameters after 100 replayed steps are bit-identical to the uncaptured run's`, async () => {
      const plain = await train(family, w, seeds, false, 100);
      const replayed = await train(family, w, seeds, true, 100);
      expect(plain.losses.every(Number.isFinite)).toBe(true);
      expect(plain.losses[99]).toBeLessThan(plain.losses[0]);
      expect(replayed.losses).toEqual(plain.losses);
      expect(replayed.params).toEqual(plain.params);
      expect(replayed.counts).toEqual({ normal: 1, recorded: 1, replayed: 98 });
      expect(plain.counts.replayed).toBe(0);
    });
  }
});
