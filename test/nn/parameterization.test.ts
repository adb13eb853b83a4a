import { describe, expect, it } from 'vitest';
import { getDevice } from '../../src/index.js';
import { buildModel } from '../../src/nn/models.js';
import { classify, describeRules, ruleFor, type ParamConfig, type ParamInfo } from '../../src/nn/parameterization.js';

/** The parameters of a 3-layer MLP (input 16, classes 10) at width w, base width 64. */
function mlpParams(w: number, base = 64): ParamInfo[] {
  return [
    { name: 'l0.weight', shape: [w, 16], fanIn: 16, fanOut: w, baseFanIn: 16, baseFanOut: base, kind: 'weight' },
    { name: 'l0.bias', shape: [w], fanIn: w, fanOut: w, baseFanIn: base, baseFanOut: base, kind: 'bias' },
    { name: 'l1.weight', shape: [w, w], fanIn: w, fanOut: w, baseFanIn: base, baseFanOut: base, kind: 'weight' },
    { name: 'ln.gain', shape: [w], fanIn: w, fanOut: w, baseFanIn: base, baseFanOut: base, kind: 'gain' },
    { name: 'out.weight', shape: [10, w], fanIn: w, fanOut: 10, baseFanIn: base, baseFanOut: 10, kind: 'weight', readout: true },
    { name: 'out.bias', shape: [10], fanIn: 10, fanOut: 10, baseFanIn: 10, baseFanOut: 10, kind: 'bias' },
  ];
}

const rules = (w: number, config: ParamConfig) => Object.fromEntries(mlpParams(w).map((p) => [p.name, ruleFor(p, config)]));

describe('parameter roles follow from which dimensions grow with width', () => {
  it('classifies input, hidden, output, vector and fixed parameters', () => {
    expect(mlpParams(256).map(classify)).toEqual(['input', 'vector', 'hidden', 'vector', 'output', 'fixed']);
  });
});

describe('muP table (exact numbers) at two widths', () => {
  it('SGD at width 256 = 4 x base', () => {
    const r = rules(256, { parameterization: 'mup', optimizer: 'sgd' });
    expect(r['l0.weight']).toEqual({ role: 'input', initStd: 1 / 4, multiplier: 1, lrMultiplier: 4 });
    expect(r['l0.bias']).toEqual({ role: 'vector', initStd: 0, constant: 0, multiplier: 1, lrMultiplier: 4 });
    expect(r['l1.weight']).toEqual({ role: 'hidden', initStd: 1 / 16, multiplier: 1, lrMultiplier: 1 });
    expect(r['out.weight']).toEqual({ role: 'output', initStd: (1 / 16) * 2, multiplier: 1 / 4, lrMultiplier: 4 });
    expect(r['out.bias']).toEqual({ role: 'fixed', initStd: 0, constant: 0, multiplier: 1, lrMultiplier: 1 });
    expect(r['ln.gain']).toMatchObject({ constant: 1, lrMultiplier: 4 });
  });

  it('Adam at width 1024 = 16 x base', () => {
    const r = rules(1024, { parameterization: 'mup', optimizer: 'adam' });
    expect(r['l0.weight']).toEqual({ role: 'input', initStd: 1 / 4, multiplier: 1, lrMultiplier: 1 });
    expect(r['l1.weight']).toEqual({ role: 'hidden', initStd: 1 / 32, multiplier: 1, lrMultiplier: 1 / 16 });
    expect(r['out.weight']).toEqual({ role: 'output', initStd: (1 / 32) * 4, multiplier: 1 / 16, lrMultiplier: 1 });
    expect(r['l0.bias'].lrMultiplier).toBe(1);
  });

  it('the effective readout variance falls like 1/width^2 and the hidden update like 1/width (SGD)', () => {
    const at = (w: number) => rules(w, { parameterization: 'mup', optimizer: 'sgd' })['out.weight'];
    for (const w of [128, 512, 2048]) {
      const r = at(w);
      expect((r.initStd * r.multiplier) ** 2 * w * w).toBeCloseTo(64, 9);
      // effective update of the readout: lr * lrMult * multiplier^2 ~ 1/width
      expect(r.lrMultiplier * r.multiplier ** 2 * w).toBeCloseTo(64, 9);
    }
  });

  it('muP equals SP at the base width, for SGD and Adam, readout included', () => {
    for (const optimizer of ['sgd', 'adam'] as const) {
      expect(rules(64, { parameterization: 'mup', optimizer })).toEqual(rules(64, { parameterization: 'sp', optimizer }));
    }
  });

  it('zero-init options', () => {
    const r = rules(256, { parameterization: 'mup', optimizer: 'adam', readoutZeroInit: true });
    expect(r['out.weight'].initStd).toBe(0);
    const q: ParamInfo = { name: 'attn.q', shape: [256, 256], fanIn: 256, fanOut: 256, baseFanIn: 64, baseFanOut: 64, kind: 'weight', query: true };
    expect(ruleFor(q, { parameterization: 'mup', optimizer: 'adam', zeroInitQuery: true }).initStd).toBe(0);
  });
});

describe('NTK and mean-field', () => {
  it('NTK: N(0,1) weights, 1/sqrt(fan_in) multipliers, equal to SP at the base width in effect', () => {
    const r = rules(64, { parameterization: 'ntk', optimizer: 'sgd' });
    const sp = rules(64, { parameterization: 'sp', optimizer: 'sgd' });
    for (const name of ['l0.weight', 'l1.weight', 'out.weight']) {
      expect(r[name].initStd * r[name].multiplier).toBeCloseTo(sp[name].initStd, 12);
      expect(r[name].lrMultiplier * r[name].multiplier ** 2).toBeCloseTo(sp[name].lrMultiplier, 12);
    }
  });

  it('MF: readout multiplier 1/(gamma0 N), SGD lr x gamma0^2 N, Adam refused', () => {
    const r = rules(512, { parameterization: 'mf', optimizer: 'sgd', gamma0: 0.5, width: 512 });
    expect(r['out.weight']).toEqual({ role: 'output', initStd: 1, multiplier: 1 / (0.5 * 512), lrMultiplier: 0.25 * 512 });
    expect(r['l1.weight'].multiplier).toBe(1 / Math.sqrt(512));
    expect(() => rules(512, { parameterization: 'mf', optimizer: 'adam', gamma0: 1 })).toThrow(/mf is defined for SGD only/);
    expect(() => rules(512, { parameterization: 'mf', optimizer: 'sgd', width: 512 })).toThrow(/gamma0 must be a positive number/);
  });

  it('MF: every parameter gets lr x gamma0^2 N with N the model width, also where no dimension grows', () => {
    // at the base width nothing grows: the input layer (fan-in 3072) and the readout bias (10)
    // still take N = the model width, not their own larger or smaller fans
    const layer = (name: string, fanIn: number, fanOut: number, kind: ParamInfo['kind'] = 'weight', readout = false): ParamInfo =>
      ({ name, shape: [fanIn, fanOut], fanIn, fanOut, baseFanIn: fanIn, baseFanOut: fanOut, kind, readout });
    const at = (w: number, base: number): ParamInfo[] => [
      { ...layer('in.weight', 3072, w), baseFanOut: base },
      { ...layer('in.bias', w, w, 'bias'), baseFanIn: base, baseFanOut: base },
      { ...layer('h.weight', w, w), baseFanIn: base, baseFanOut: base },
      { ...layer('out.weight', w, 10, 'weight', true), baseFanIn: base },
      layer('out.bias', 10, 10, 'bias'),
    ];
    for (const [w, base] of [[32, 32], [128, 32], [512, 32]]) {
      const lrs = at(w, base).map((p) => ruleFor(p, { parameterization: 'mf', optimizer: 'sgd', gamma0: 2, width: w }).lrMultiplier);
      expect(lrs, `width ${w}, base ${base}`).toEqual(Array(5).fill(4 * w));
    }
    expect(() => ruleFor(at(32, 32)[0], { parameterization: 'mf', optimizer: 'sgd', gamma0: 1 }))
      .toThrow(/parameterization mf: the model width \(ParamConfig.width\) must be a positive integer for parameter in.weight, got undefined/);
  });

  it('MF: buildModel passes the model width, so a 3072-dimensional input layer at width 32 gets lr x 32', () => {
    for (const width of [32, 64]) {
      const model = buildModel(
        { device: getDevice(), seed: 1, param: { parameterization: 'mf', optimizer: 'sgd', gamma0: 1 } },
        { family: 'mlp', width, baseWidth: 32, depth: 2, inputShape: [32, 32, 3], classes: 10 },
      );
      const lrs = Object.fromEntries(model.parameters().map((p) => [p.name, p.rule.lrMultiplier]));
      model.dispose();
      expect(Object.keys(lrs)).toEqual(['input.weight', 'input.bias', 'hidden1.weight', 'hidden1.bias', 'readout.weight', 'readout.bias']);
      for (const [name, lr] of Object.entries(lrs)) expect(lr, `${name} at width ${width}`).toBe(width);
    }
  });
});

describe('describe', () => {
  it('prints one row per parameter', () => {
    const t = describeRules(mlpParams(256), { parameterization: 'mup', optimizer: 'adam' });
    expect(t.split('\n')).toHaveLength(2 + 6);
    expect(t).toMatch(/out\.weight\s+\[10, 256\]\s+output\s+N\(0, 0\.1250\^2\)\s+0\.2500\s+1/);
  });
});
