/**
 * @file Reliability catalogue of probes during training: the spec's `probes` field, the runner's
 * onArtifact hook, and verify on damaged probe files.
 */
import { describe, expect } from 'vitest';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ws from '../../src/index.js';
import { resolveSweep, runSweep, validateSpec } from '../../src/experiments/index.js';
import { createModelTrainer } from '../../src/experiments/model-trainer.js';
import { verifyRun } from '../../src/experiments/verify.js';
import { PROBES_FILE, entkFile, preactivationFile } from '../../src/experiments/layout.js';
import type { Trainer } from '../../src/experiments/trainer.js';
import { tinySpec, tmp } from '../experiments/util.js';
import { catalogue } from './catalogue.js';

const withProbes = (probes: unknown) => () => validateSpec(tinySpec({ probes } as never));

/** A trainer whose first evaluation writes an artifact named `name`. */
const writesArtifact = (name: string): Trainer => ({
  async trainRun(job, hooks) {
    hooks.onArtifact!(0, name, new Float32Array(1), [1], 0);
  },
});

async function sweepThrowing(trainer: Trainer): Promise<void> {
  const spec = validateSpec(tinySpec({ widths: [16], seeds: 1 }));
  const s = await runSweep(resolveSweep(spec), { resultsDir: tmp(), trainer, progress: false, log: () => {}, handleSignals: false });
  if (s.errors.length) throw new Error(s.errors[0]);
}

/** A finished MLP run with probes; its directory and id. */
async function probedRun(): Promise<{ dir: string; id: string }> {
  const spec = validateSpec({ ...tinySpec({ widths: [16], seeds: 1, steps: 2, eval: 1 }), task: { name: 'teacher-gaussian', inputDim: 4, testSize: 8 }, probes: { size: 8, entk: { size: 4 } } });
  const resolved = resolveSweep(spec);
  const results = tmp();
  const s = await runSweep(resolved, { resultsDir: results, trainer: createModelTrainer({ device: ws.getDevice() }), progress: false, log: () => {}, handleSignals: false });
  expect(s.errors).toEqual([]);
  return { dir: join(results, resolved.runs[0].id), id: resolved.runs[0].id };
}

const problems = (r: { dir: string; id: string }) => {
  const c = verifyRun(r.dir, r.id);
  if (c.state !== 'bad') throw new Error(`verify: expected a bad run directory, got ${c.state}`);
  return c.problems.join('; ');
};

describe('probes catalogue', () => {
  catalogue('probes', [
    { name: 'probes.size 0', run: withProbes({ size: 0 }), mentions: ['probes.size', 'got 0', 'positive integer'] },
    { name: 'probes.every 1.5', run: withProbes({ every: 1.5 }), mentions: ['probes.every', '1.5', 'positive integer'] },
    { name: 'probes.sharpness "yes"', run: withProbes({ sharpness: 'yes' }), mentions: ['probes.sharpness', '"yes"', 'true, false or { "iterations"'] },
    { name: 'probes.sharpness.iterations 0', run: withProbes({ sharpness: { iterations: 0 } }), mentions: ['probes.sharpness.iterations', 'got 0', 'positive integer'] },
    { name: 'probes.entk with an unknown field', run: withProbes({ entk: { n: 3 } }), mentions: ['probes.entk.n', 'unknown field'] },
    { name: 'probes with an unknown field', run: withProbes({ kernel: true }), mentions: ['probes.kernel', 'unknown field'] },
    { name: 'probes "on"', run: withProbes('on'), mentions: ['probes', '"on"', 'expected an object'] },
    { name: 'onArtifact with a path outside the run directory', run: () => sweepThrowing(writesArtifact('../escape.npy')), mentions: ['onArtifact', '../escape.npy', 'expected targets.npy'] },
    { name: 'onArtifact with a name that is no run file', run: () => sweepThrowing(writesArtifact('notes.npy')), mentions: ['onArtifact', 'notes.npy', 'gram-, preact- or entk-'] },
  ], [
    {
      name: 'verify names a truncated probes.jsonl line, a missing preact file and a corrupt entk file',
      timeoutMs: 60_000,
      run: async () => {
        const a = await probedRun();
        appendFileSync(join(a.dir, PROBES_FILE), '{"step": 2, "sharp');
        expect(problems(a)).toMatch(/probes\.jsonl:4: .*no newline|probes\.jsonl:4/);
        const b = await probedRun();
        rmSync(join(b.dir, preactivationFile('hidden1', 1)));
        writeFileSync(join(b.dir, entkFile(2)), readFileSync(join(b.dir, entkFile(2))).subarray(0, 100));
        const p = problems(b);
        expect(p).toContain(`${preactivationFile('hidden1', 1)} is missing`);
        expect(p).toContain(entkFile(2));
      },
    },
  ]);
});
