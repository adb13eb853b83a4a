// `widthscope paper` on the fake trainer: every sweep runs and is reported, every claim is
// evaluated with numbers, and the page and claims.json are written; --quick applies quick.json.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paperCommand } from '../../src/experiments/paper/command.js';
import { CLAIMS } from '../../src/experiments/paper/claims.js';
import { tinySpec, tmp } from './util.js';
import { validateSpec } from '../../src/experiments/index.js';

function specsDir(): string {
  const dir = tmp('ws-paper-specs-');
  const write = (name: string, spec: object) => writeFileSync(join(dir, `${name}.json`), JSON.stringify(spec));
  write('teacher', tinySpec({ name: 'teacher', widths: [16, 64, 256, 1024], seeds: 4, steps: 12, eval: 4 }));
  write('harder-cnn', tinySpec({ name: 'harder-cnn', task: { name: 'teacher-image', testSize: 16 }, widths: [16, 64], seeds: 2, steps: 12, eval: 4 }));
  write('harder-text', tinySpec({ name: 'harder-text', task: { name: 'teacher-image', testSize: 16 }, widths: [16, 64], seeds: 3, steps: 12, eval: 4 }));
  write('lr-grid', tinySpec({ name: 'lr-grid', widths: [16, 64], parameterization: ['mup', 'sp'], lr: [0.05, 0.1, 0.2], seeds: 2, steps: 8, eval: 4 }));
  writeFileSync(join(dir, 'quick.json'), JSON.stringify({ teacher: { widths: [16, 64, 256] } }));
  return dir;
}

describe('examples/paper', () => {
  it('every spec is valid as it is and with its quick overrides, and covers every sweep a claim reads', () => {
    const dir = join(__dirname, '../../examples/paper');
    const quick = JSON.parse(readFileSync(join(dir, 'quick.json'), 'utf8')) as Record<string, object>;
    const names = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'quick.json').map((f) => f.replace(/\.json$/, ''));
    for (const c of CLAIMS) for (const sweep of c.sweeps) expect(names, c.id).toContain(sweep);
    for (const name of names) {
      const spec = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
      expect(() => validateSpec(spec, name), name).not.toThrow();
      expect(() => validateSpec({ ...spec, ...(quick[name] ?? {}) }, `${name} (quick)`), `${name} quick`).not.toThrow();
    }
  });
});

describe('the paper command', () => {
  it('runs every sweep, evaluates every claim with numbers, writes claims.json and the page', async () => {
    const results = tmp('ws-paper-');
    const lines: string[] = [];
    const r = await paperCommand({ quick: true, results, specsDir: specsDir(), fake: true, progress: false, log: (l) => lines.push(l) });
    expect(r.exitCode).toBe(0);
    expect(r.claims.map((c) => c.id)).toEqual(CLAIMS.map((c) => c.id));
    // the fake trainer writes no probe files: those claims say so; every other claim has numbers
    const probeClaims = ['representations', 'preactivations', 'sharpness', 'spectral'];
    for (const c of r.claims) {
      if (probeClaims.includes(c.id)) {
        expect(c.verdict, c.id).toBe('not measurable here');
        expect(c.why, c.id).toMatch(/no probe files/);
        continue;
      }
      expect(c.verdict, `${c.id}: ${c.why}`).not.toBe('not measurable here');
      expect(Object.values(c.numbers).some((v) => typeof v === 'number'), c.id).toBe(true);
    }
    // the fake trainer's seed noise has variance ~ 1/N: the slope claim holds
    expect(r.claims.find((c) => c.id === 'variance-1-over-width')!.verdict).toBe('holds');
    // quick.json's override reached the teacher sweep
    const teacherSpec = JSON.parse(readFileSync(join(results, 'specs', 'teacher.json'), 'utf8'));
    expect(teacherSpec.widths).toEqual([16, 64, 256]);
    const json = JSON.parse(readFileSync(r.json, 'utf8'));
    expect(json.quick).toBe(true);
    expect(json.claims).toHaveLength(CLAIMS.length);
    const html = readFileSync(r.html, 'utf8');
    for (const c of CLAIMS) expect(html).toContain(`id="claim-${c.id}"`);
    for (const name of ['teacher', 'harder-cnn', 'harder-text', 'lr-grid']) expect(existsSync(join(results, name, 'report', 'index.html')), name).toBe(true);
    expect(html).toContain('teacher/report/figures/variance-vs-width.svg');
    expect(existsSync(join(results, 'teacher/report/figures/variance-vs-width.svg'))).toBe(true);
  });

  it('refuses a quick.json that names no spec, and a spec set missing a sweep a claim reads', async () => {
    const dir = specsDir();
    writeFileSync(join(dir, 'quick.json'), JSON.stringify({ teachr: { seeds: 2 } }));
    await expect(paperCommand({ quick: true, results: tmp(), specsDir: dir, fake: true, log: () => {} })).rejects.toThrow(/overrides 'teachr', which is not a spec in .* \(harder-cnn, harder-text, lr-grid, teacher\)/);
    const empty = tmp();
    mkdirSync(empty, { recursive: true });
    await expect(paperCommand({ results: tmp(), specsDir: empty, fake: true, log: () => {} })).rejects.toThrow(/the claims read a sweep '.*' but .* has no .*\.json/);
  });
});
