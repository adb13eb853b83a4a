import { describe, expect, it } from 'vitest';
import { tidyAsync } from '../../src/index.js';
import { gradcheck, gradgradcheck, GradcheckError, RULES } from '../../src/autograd/index.js';
import {
  COMPOSITE_CASES, GPU_VS_REF_TOL, PRIMITIVE_CASES, backwardMismatch, caseData, f64Inputs, gpuInputs, type Case,
} from '../../src/autograd/suite.js';
import * as o from '../../src/autograd/ops.js';

async function checkCase(c: Case): Promise<void> {
  const data = caseData(c);
  // throws a GradcheckError with the report on failure
  await gradcheck(c.fn, f64Inputs(c, data), { mode: 'f64' });
  const mismatch = await backwardMismatch(c, data);
  expect(mismatch, `${c.name}: GPU backward vs f64 reference backward`).toBeLessThan(GPU_VS_REF_TOL);
  if (c.twice ?? true) await gradgradcheck(c.fn, f64Inputs(c, data), { mode: 'f64' });
}

describe('every primitive passes gradcheck in f64, gradgradcheck, and its GPU backward matches the reference', () => {
  for (const [p, cases] of Object.entries(PRIMITIVE_CASES)) {
    it(p, async () => {
      expect(cases.length).toBeGreaterThan(0);
      for (const c of cases) await checkCase(c);
    });
  }
});

describe('composites inherit correct gradients from the primitives', () => {
  for (const c of COMPOSITE_CASES) {
    it(c.name, async () => {
      await checkCase(c);
      // the user-facing GPU check (directional derivatives in f32)
      await tidyAsync(() => gradcheck(c.fn, gpuInputs(c, caseData(c)), { mode: 'f32' }));
    });
  }
});

describe('gradcheck catches a wrong rule', () => {
  it('in f64 and in f32 on the GPU, with a report naming the input', async () => {
    const saved = RULES.sin;
    // wrong on purpose: d sin x = cos x dx, not sin x dx
    (RULES as Record<string, unknown>).sin = (g: never, { inputs: [x] }: { inputs: never[] }) => [o.mul(g, o.sin(x))];
    try {
      const c: Case = { name: 'sin', inputs: [{ shape: [3, 4] }], fn: (x) => o.sin(x) };
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
    } finally {
      (RULES as Record<string, unknown>).sin = saved;
    }
  });

  it('samples large inputs instead of checking every element', async () => {
    const c: Case = { name: 'tanh', inputs: [{ shape: [200] }], fn: (x) => o.tanh(x) };
    const r = await gradcheck(c.fn, f64Inputs(c, caseData(c)), { mode: 'f64', maxElements: 16 });
    expect(r.inputs[0].checked).toBe(16);
  });
});
