import { describe, expect, it } from 'vitest';
import { tidyAsync } from '../../src/index.js';
import { gradcheck, GradcheckError, PRIMITIVES, apply } from '../../src/autograd/index.js';
import { COMPOSITE_CASES, PRIMITIVE_CASES, type Case } from '../../src/autograd/suite.js';
import { caseData, f64Inputs, formatSuite, gpuInputs, runCase } from '../../src/cli/gradcheck.js';
import * as o from '../../src/autograd/ops.js';
import type { PrimitiveDef } from '../../src/autograd/primitive.js';

/** Runs a case as `widthscope gradcheck` does: f64 and f32 gradcheck, GPU vs reference, gradgradcheck. */
async function checkCase(c: Case, group: string): Promise<void> {
  const row = await runCase(c, group);
  expect(row.ok, formatSuite([row])).toBe(true);
}

describe('every primitive passes gradcheck in f64 and f32, gradgradcheck, and its GPU backward matches the reference', () => {
  for (const [p, cases] of Object.entries(PRIMITIVE_CASES)) {
    it(p, async () => {
      expect(cases.length).toBeGreaterThan(0);
      for (const c of cases) await checkCase(c, p);
    });
  }
});

describe('composites inherit correct gradients from the primitives', () => {
  for (const c of COMPOSITE_CASES) it(c.name, () => checkCase(c, 'composite'));
});

/** sin with a wrong rule: d sin x = cos x dx, not sin x dx. */
const wrongSin: PrimitiveDef<Record<string, never>> = {
  ...PRIMITIVES.sin,
  name: 'wrongSin',
  rule: (g, { inputs: [x] }) => [o.mul(g, o.sin(x as typeof g))],
};

describe('gradcheck catches a wrong rule', () => {
  it('in f64 and in f32 on the GPU, with a report naming the input', async () => {
    const c: Case = { name: 'sin', inputs: [{ shape: [3, 4] }], fn: (x) => apply(wrongSin, [x], {}) };
    const data = caseData(c);
    const e64 = await gradcheck(c.fn, f64Inputs(c, data), { mode: 'f64' }).catch((e) => e);
    expect(e64).toBeInstanceOf(GradcheckError);
    expect(String(e64.message)).toMatch(/f64 gradcheck: FAILED\n {2}input 0 \[3, 4\]: FAIL/);
    const e32 = await tidyAsync(() => gradcheck(c.fn, gpuInputs(c, data), { mode: 'f32' })).catch((e) => e);
    expect(e32).toBeInstanceOf(GradcheckError);
    expect((e32 as GradcheckError).report.inputs[0].ok).toBe(false);
    // and the report is returned without throwing when asked
    const r = await gradcheck(c.fn, f64Inputs(c, data), { mode: 'f64', throwOnFailure: false });
    expect(r.ok).toBe(false);
    expect(r.inputs[0].worst).not.toBeNull();
    // and the runner of `widthscope gradcheck` reports the case as failing
    const row = await runCase(c, 'wrongSin');
    expect(row.ok).toBe(false);
    expect(formatSuite([row])).toMatch(/sin +wrongSin .* FAIL\n0\/1 passed$/);
  });

  it('samples large inputs instead of checking every element', async () => {
    const c: Case = { name: 'tanh', inputs: [{ shape: [200] }], fn: (x) => o.tanh(x) };
    const r = await gradcheck(c.fn, f64Inputs(c, caseData(c)), { mode: 'f64', maxElements: 16 });
    expect(r.inputs[0].checked).toBe(16);
  });
});
