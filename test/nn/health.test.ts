// TrainingHealth's loss means: the mean since the last read, and the same window again when no
// step came between two reads (an evaluation right after a progress read still has its loss).
import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { TrainingHealth } from '../../src/nn/health.js';

describe('TrainingHealth', () => {
  it('reads the mean loss since the last read, then the same window when no step came between', async () => {
    const h = new TrainingHealth(ws.getDevice(), 2);
    expect((await h.read()).means).toBeNull();
    for (const [step, a, b] of [[0, 1, 4], [1, 3, 8]]) {
      const loss = ws.fromArray([a, b], [2]);
      h.addLoss(loss, step);
      loss.dispose();
    }
    expect(Array.from((await h.read()).means!)).toEqual([2, 6]);
    expect(Array.from((await h.read()).means!)).toEqual([2, 6]);
    const loss = ws.fromArray([5, 0], [2]);
    h.addLoss(loss, 2);
    loss.dispose();
    expect(Array.from((await h.read()).means!)).toEqual([5, 0]);
    h.dispose();
  });
});
