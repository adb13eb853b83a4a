import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { SpecError, loadSpec, parseSpecText, validateSpec, resolveSweep, resolveEvalSteps, canonicalJson, shortHash, type SweepSpecInput } from '../../src/experiments/index.js';
import { tinySpec } from './util.js';
import { ADAM_DEFAULTS, SGD_DEFAULTS } from '../../src/nn/optim.js';

const good: SweepSpecInput = tinySpec({ task: { name: 'teacher-image', testSize: 8 }, widths: [16, 32], steps: 10, eval: 5 });

function problems(input: unknown): string[] {
  try {
    validateSpec(input, 'spec');
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).problems;
  }
  throw new Error('expected the spec to be rejected');
}

describe('sweep spec validation names the bad field', () => {
  it('accepts a good spec and fills defaults', () => {
    const s = validateSpec(good);
    expect(s.optimizer).toEqual({ name: 'sgd', momentum: 0, weightDecay: 0 });
    expect(s.ensemble).toBe('all');
  });
  it("fills each optimizer field with src/nn/optim.ts's default for it", () => {
    const cases: [string, Record<string, unknown>][] = [['sgd', SGD_DEFAULTS], ['adam', ADAM_DEFAULTS]];
    for (const [name, defaults] of cases) {
      const { name: got, ...fields } = validateSpec({ ...good, optimizer: { name } as SweepSpecInput['optimizer'] }).optimizer;
      expect(got).toBe(name);
      expect(Object.keys(fields).length, name).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(fields)) expect(v, `${name}.${k}`).toBe(defaults[k]);
    }
    const { name: _, ...sgd } = validateSpec(good).optimizer;
    for (const [k, v] of Object.entries(sgd)) expect(v, `default optimizer ${k}`).toBe((SGD_DEFAULTS as Record<string, unknown>)[k]);
  });
  it('unknown model family', () => {
    const p = problems({ ...good, model: { family: 'resnet' } });
    expect(p.join('\n')).toMatch(/^model\.family: .*expected.*mlp.*cnn.*transformer.*got "resnet"/m);
  });
  it('negative width', () => {
    expect(problems({ ...good, widths: [16, -32] }).join('\n')).toMatch(/^widths\[1\]: expected a positive integer width, got -32/m);
  });
  it('non-integer width', () => {
    expect(problems({ ...good, widths: [16.5] }).join('\n')).toMatch(/^widths\[0\]: expected a positive integer width/m);
  });
  it('empty widths list', () => {
    expect(problems({ ...good, widths: [] }).join('\n')).toMatch(/^widths: expected a non-empty list of widths/m);
  });
  it('unknown field at the top and nested', () => {
    expect(problems({ ...good, widht: [1] })).toContain('widht: unknown field "widht"');
    expect(problems({ ...good, model: { family: 'mlp', dept: 3 } })).toContain('model.dept: unknown field "dept"');
    expect(problems({ ...good, optimizer: { name: 'sgd', momentun: 0.9 } })).toContain('optimizer.momentun: unknown field "momentun"');
  });
  it('missing required field', () => {
    const { steps: _s, ...noSteps } = good;
    expect(problems(noSteps).join('\n')).toMatch(/^steps: required field is missing/m);
  });
  it('mf needs gamma0; momentum belongs to sgd; eval steps within the run', () => {
    expect(problems({ ...good, parameterization: 'mf' }).join('\n')).toMatch(/^parameterization\.gamma0/m);
    expect(problems({ ...good, optimizer: { name: 'adam', momentum: 0.9 } })).toContain('optimizer.momentum: unknown field "momentum"');
    expect(problems({ ...good, eval: [0, 5, 11] }).join('\n')).toMatch(/^eval\[2\]: evaluation step 11 is past the last step/m);
  });
  it('mf with adam is refused up front, naming the parameterization', () => {
    const mfAdam = { ...good, parameterization: ['mup', { name: 'mf', gamma0: 1 }], optimizer: { name: 'adam' } };
    expect(problems(mfAdam).join('\n')).toMatch(/^parameterization\[1\]: mf \(mean-field\) is defined for SGD only, and the optimizer is adam: use mup with adam, or sgd/m);
    expect(() => validateSpec({ ...mfAdam, optimizer: { name: 'sgd' } }, 'spec')).not.toThrow();
  });
  it('model and task must fit', () => {
    expect(problems({ ...good, model: 'transformer' }).join('\n')).toMatch(/^model\.family: transformer needs a text task/m);
    expect(problems({ ...good, model: [{ family: 'mlp' }, { family: 'cnn' }], task: 'teacher-regression' }).join('\n')).toMatch(/^model\[1\]\.family: cnn needs an image task/m);
  });
  it('reports every problem at once, in the file named', () => {
    try {
      parseSpecText(JSON.stringify({ ...good, widths: [], lr: -1, extra: 1 }), 'bad.json');
      throw new Error('not rejected');
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('bad.json');
      expect(msg).toContain('widths:');
      expect(msg).toContain('lr:');
      expect(msg).toContain('extra: unknown field');
    }
  });
  it('parses YAML and refuses unparsable text', () => {
    const s = parseSpecText('name: y\ntask: mnist\nmodel: mlp\nwidths: [8]\nseeds: [3, 5]\nparameterization: sp\nlr: [0.1, 0.2]\nbatchSize: 4\nsteps: 2\neval: 1\n', 'x.yaml');
    expect(s.seeds).toEqual([3, 5]);
    expect(() => parseSpecText('{', 'x.json')).toThrow(/cannot parse/);
  });
  it('every example spec is valid', () => {
    const dir = join(__dirname, '../../examples');
    const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));
    expect(files).toContain('quick.json');
    for (const f of files) expect(() => loadSpec(join(dir, f)), f).not.toThrow();
    const quick = resolveSweep(loadSpec(join(dir, 'quick.json')));
    // MLP at 5 widths, CNN capped at maxWidth 64 (2 widths); x 2 parameterizations x 3 seeds
    expect(quick.runs.length).toBe((5 + 2) * 2 * 3);
    expect(Math.max(...quick.runs.filter((r) => r.config.model.family === 'cnn').map((r) => r.config.width))).toBe(64);
  });
});

describe('resolution and run ids', () => {
  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(shortHash({ a: 1, b: 2 })).toBe(shortHash({ b: 2, a: 1 }));
  });
  it('expands the grid; ids are stable, distinct and independent of key order and name', () => {
    const spec = { ...good, parameterization: ['mup', 'sp'], lr: [0.1, 0.3] };
    const a = resolveSweep(validateSpec(spec));
    expect(a.runs.length).toBe(2 * 2 * 2 * 2);
    expect(new Set(a.runs.map((r) => r.id)).size).toBe(a.runs.length);
    const reordered = Object.fromEntries(Object.entries({ ...spec, name: 'other', description: 'x' }).reverse());
    const b = resolveSweep(validateSpec(reordered));
    expect(b.runs.map((r) => r.id).sort()).toEqual(a.runs.map((r) => r.id).sort());
    // A pinned id guards against accidental changes of the config layout (which would orphan results).
    expect(a.runs[0].id).toMatch(/^[0-9a-f]{12}$/);
    expect(resolveSweep(validateSpec(good)).runs[0].id).toBe(shortHash(resolveSweep(validateSpec(good)).runs[0].config));
  });
  it('a changed setting changes the id; seeds share configId, widths share seriesId', () => {
    const a = resolveSweep(validateSpec(good)).runs;
    const b = resolveSweep(validateSpec({ ...good, steps: 11 })).runs;
    expect(a[0].id).not.toBe(b[0].id);
    expect(a[0].configId).toBe(a[1].configId); // width 16, seeds 0 and 1
    expect(a[0].seriesId).toBe(a[2].seriesId); // width 16 vs 32
    expect(a[0].configId).not.toBe(a[2].configId);
  });
  it('ensemble groups: all seeds by default, chunks of k, or none', () => {
    expect(resolveSweep(validateSpec({ ...good, seeds: 5 })).groups.map((g) => g.runs.length)).toEqual([5, 5]);
    expect(resolveSweep(validateSpec({ ...good, seeds: 5, ensemble: 2 })).groups.map((g) => g.runs.length)).toEqual([2, 2, 1, 2, 2, 1]);
    expect(resolveSweep(validateSpec({ ...good, seeds: 3, ensemble: 1 })).groups.length).toBe(6);
  });
  it('evaluation schedules', () => {
    expect(resolveEvalSteps(4, 10)).toEqual([0, 4, 8, 10]);
    expect(resolveEvalSteps({ every: 5, includeInit: false }, 10)).toEqual([5, 10]);
    expect(resolveEvalSteps([10, 0, 3, 3], 10)).toEqual([0, 3, 10]);
    expect(resolveEvalSteps({ steps: [2] }, 10)).toEqual([2]);
  });
  it('a spec read as JSON, as YAML, or with its keys in another order resolves to the same run ids', () => {
    const text = readFileSync(join(__dirname, '../../examples/quick.json'), 'utf8');
    const ids = (s: ReturnType<typeof validateSpec>) => resolveSweep(s).runs.map((r) => r.id);
    const fromJson = ids(parseSpecText(text, 'quick.json'));
    expect(fromJson).toHaveLength((5 + 2) * 2 * 3);
    expect(ids(parseSpecText(stringifyYaml(JSON.parse(text)), 'quick.yaml'))).toEqual(fromJson);
    const reversed = Object.fromEntries(Object.entries(JSON.parse(text) as Record<string, unknown>).reverse());
    expect(ids(validateSpec(reversed))).toEqual(fromJson);
    // a changed field changes every id
    expect(ids(validateSpec({ ...JSON.parse(text), lr: 0.06 })).some((id) => fromJson.includes(id))).toBe(false);
  });
});
