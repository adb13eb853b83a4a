/** Helpers shared by the experiments tests. */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { SweepSpecInput } from '../../src/experiments/spec/schema.js';

export const tmp = (prefix = 'ws-exp-') => mkdtempSync(join(tmpdir(), prefix));

export function tinySpec(over: Partial<SweepSpecInput> = {}): SweepSpecInput {
  return {
    name: 'tiny',
    task: { name: 'teacher-regression', testSize: 16 },
    model: { family: 'mlp', depth: 2 },
    widths: [16, 64],
    seeds: 2,
    parameterization: 'mup',
    lr: 0.1,
    batchSize: 8,
    steps: 6,
    eval: 3,
    ...over,
  };
}

/** A fresh directory holding `spec` as spec.json, with the paths of its results and of the trained-runs counter file. */
export function specDir(spec: SweepSpecInput, prefix?: string): { dir: string; spec: string; results: string; counter: string } {
  const dir = tmp(prefix);
  return { dir, spec: writeSpec(dir, spec), results: join(dir, 'results'), counter: join(dir, 'trained.txt') };
}

export function writeSpec(dir: string, spec: SweepSpecInput, name = 'spec.json'): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(spec, null, 2));
  return p;
}

/** Every file under dir, relative paths, sorted. */
export function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p, `${prefix}${f}/`) : [`${prefix}${f}`];
  }).sort();
}

/** The run directories of two results directories hold the same results (timings aside). */
export function expectSameResults(a: string, b: string): void {
  const fa = listFiles(a).filter((f) => f.includes('/'));
  const fb = listFiles(b).filter((f) => f.includes('/'));
  expect(fa).toEqual(fb);
  for (const f of fa) {
    if (f.endsWith('done.json')) {
      const strip = (p: string) => { const { wallSeconds: _w, finishedAt: _f, ...rest } = JSON.parse(readFileSync(p, 'utf8')); return rest; };
      expect(strip(join(a, f)), f).toEqual(strip(join(b, f)));
    } else {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    }
  }
}
