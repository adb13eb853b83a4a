import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { coordCheck, type CoordSlope } from '../../src/experiments/coordcheck.js';

// Adam, lr 3e-3, zero-initialized readout (the muP option), 3 seeds averaged per point.
const flat = (s: CoordSlope[], p: string) => s.filter((x) => x.parameterization === p && (x.step === 1 || x.step === 3));

async function check(family: 'mlp' | 'cnn' | 'transformer', widths: number[], extra: object = {}) {
  const r = await coordCheck(ws.getDevice(), {
    family, widths, parameterizations: ['mup', 'sp'], optimizer: 'adam', lr: 3e-3, steps: 3, readoutZeroInit: true, seeds: 3, ...extra,
  });
  const mup = flat(r.slopes, 'mup');
  const sp = flat(r.slopes, 'sp');
  expect(mup.length).toBeGreaterThan(4);
  for (const s of mup) expect(Math.abs(s.slope), `muP ${s.layer} step ${s.step} slope ${s.slope}`).toBeLessThan(0.1);
  expect(Math.max(...sp.map((s) => s.slope)), 'some SP layer blows up with width').toBeGreaterThan(0.3);
}

describe('coordinate check: muP activations stay O(1) as width grows, SP ones do not', () => {
  it('MLP, widths 64..512', () => check('mlp', [64, 128, 256, 512]), 120_000);
  it('CNN, widths 32..128', () => check('cnn', [32, 64, 128], { depth: 1, batchSize: 32 }), 240_000);
});
