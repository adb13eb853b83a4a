// `widthscope gradcheck` (src/cli/gradcheck.ts): the command line picks cases with --only, prints
// one row per case and exits 1 when a case fails; a primitive with a wrong rule is reported as
// failing.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRIMITIVES, apply } from '../../src/autograd/index.js';
import * as o from '../../src/autograd/ops.js';
import type { PrimitiveDef } from '../../src/autograd/primitive.js';
import { PRIMITIVE_CASES, type Case } from '../../src/autograd/suite.js';
import { allCases, gradcheckCommand, selectCases } from '../../src/cli/gradcheck.js';
import { UsageError } from '../../src/util/usage-error.js';

const ROOT = join(__dirname, '../..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'gradcheck', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });

/** exp with a wrong rule on purpose: d e^x = e^x dx, not x dx. */
const wrongExp: PrimitiveDef<Record<string, never>> = {
  ...PRIMITIVES.exp,
  name: 'wrongExp',
  rule: (g, { inputs: [x] }) => [o.mul(g, x as typeof g)],
};
const wrongCase: Case = { name: 'exp with a wrong rule', inputs: [{ shape: [2, 3] }], fn: (x) => apply(wrongExp, [x], {}) };

describe('widthscope gradcheck', () => {
  it('runs the cases --only names and prints a passing table', () => {
    const r = cli(['--only', 'neg,expand']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^case +primitive +f64 +f32 +gpu~ref +gradgrad +result$/m);
    expect(r.stdout).toMatch(/^neg +neg +\S+ +\S+ +\S+ +\S+ +pass$/m);
    expect(r.stdout).toMatch(/^expand \[3, 1\] -> \[2, 3, 4\] +expand +.* pass$/m);
    expect(r.stdout).toMatch(/^2\/2 passed$/m);
    expect(r.stderr).toContain('..');
  }, 300_000);

  it('refuses a name that picks no case, before starting a device', () => {
    const r = cli(['--only', 'neg,nosuchop']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/widthscope: gradcheck: --only: no primitive or case named 'nosuchop'; primitives: neg, abs, /);
    expect(() => selectCases(allCases(), ['nosuchop'])).toThrow(UsageError);
  }, 300_000);

  it('selects by primitive, by case name and composite', () => {
    const picked = selectCases(allCases(), ['matmul', 'softmax', 'sum all']);
    expect(picked.filter(([g]) => g === 'matmul').length).toBe(PRIMITIVE_CASES.matmul.length);
    expect(picked.map(([, c]) => c.name)).toContain('sum all');
    expect(picked.filter(([g]) => g === 'softmax').length).toBe(PRIMITIVE_CASES.softmax.length);
    expect(picked.length).toBe(PRIMITIVE_CASES.matmul.length + PRIMITIVE_CASES.softmax.length + 1);
  });

  it('reports a wrong rule as failing and exits 1', async () => {
    let out = '';
    let dots = '';
    const code = await gradcheckCommand(
      { write: (t) => (out += t), progress: (t) => (dots += t) },
      [['wrongExp', wrongCase], ['neg', PRIMITIVE_CASES.neg[0]]],
    );
    expect(code).toBe(1);
    expect(dots).toBe('F.\n');
    expect(out).toMatch(/^exp with a wrong rule +wrongExp +.* FAIL$/m);
    expect(out).toMatch(/^neg +neg +.* pass$/m);
    expect(out).toMatch(/^1\/2 passed$/m);
  });
});
