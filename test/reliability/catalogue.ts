/**
 * @file The reliability catalogue: bad inputs and faults a demanding user tries, each classified
 * as clear (the expected error class, with a message that names the op or field, the value given
 * and what was expected), silent (no error at all), unclear (an error that misses a named part)
 * or crash (an error of another class: a TypeError, a WebGPU validation dump, a hang). Fault
 * cases (concurrent sweeps, SIGKILL during a write, corrupt files) assert their own invariants.
 *
 * Each area's test file calls `catalogue(area, cases, faults)`; every case is a test that passes
 * only when its outcome is `clear`. With WIDTHSCOPE_CATALOGUE_OUT=<dir>, each outcome is also
 * appended to <dir>/<area>.jsonl, and `npx tsx test/reliability/counts.ts <dir>` tabulates them.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

export type Outcome = 'clear' | 'silent' | 'unclear' | 'crash';

export interface ErrorCase {
  /** What is tried, e.g. "matmul [2,3]x[4,5]". */
  name: string;
  /** Does the bad thing; may be async. Returning without throwing is a silent outcome. */
  run: () => unknown;
  /** The error class expected (Error matches any Error subclass that is not a TypeError/RangeError). */
  error?: abstract new (...args: never[]) => Error;
  /** Each must appear in the message (strings case-insensitively): the op or field, the value given, what was expected. */
  mentions: (string | RegExp)[];
}

export interface FaultCase {
  name: string;
  /** Asserts its own invariants (no result lost or duplicated, ...); a throw fails it. */
  run: () => Promise<void> | void;
  timeoutMs?: number;
}

const PROGRAM_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

export async function classify(c: ErrorCase): Promise<{ outcome: Outcome; message: string; missing: string[] }> {
  let err: unknown;
  try {
    await c.run();
    return { outcome: 'silent', message: '', missing: [] };
  } catch (e) {
    err = e;
  }
  const message = err instanceof Error ? err.message : String(err);
  const cls = c.error ?? Error;
  const programError = PROGRAM_ERRORS.some((p) => err instanceof p) && !PROGRAM_ERRORS.some((p) => (cls as unknown) === p);
  if (!(err instanceof cls) || programError || /validation error|\[Invalid/i.test(message)) {
    return { outcome: 'crash', message: `${(err as Error)?.name ?? typeof err}: ${message}`, missing: [] };
  }
  const missing = c.mentions
    .filter((m) => (typeof m === 'string' ? !message.toLowerCase().includes(m.toLowerCase()) : !m.test(message)))
    .map(String);
  return { outcome: missing.length === 0 ? 'clear' : 'unclear', message, missing };
}

function record(area: string, kind: 'error' | 'fault', name: string, outcome: Outcome | 'ok' | 'failed', message: string): void {
  const dir = process.env.WIDTHSCOPE_CATALOGUE_OUT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${area}.jsonl`), `${JSON.stringify({ area, kind, name, outcome, message })}\n`);
}

/** Registers one test per case; a case passes only when its outcome is `clear` (faults: when they hold). */
export function catalogue(area: string, cases: ErrorCase[], faults: FaultCase[] = []): void {
  for (const c of cases) {
    it(`${area}: ${c.name}`, async () => {
      const r = await classify(c);
      record(area, 'error', c.name, r.outcome, r.message);
      expect(
        r.outcome,
        `${c.name}: outcome ${r.outcome}; message: ${r.message || '(none)'}${r.missing.length ? `; missing: ${r.missing.join(', ')}` : ''}`,
      ).toBe('clear');
    });
  }
  for (const f of faults) {
    it(`${area}: ${f.name}`, async () => {
      try {
        await f.run();
        record(area, 'fault', f.name, 'ok', '');
      } catch (e) {
        record(area, 'fault', f.name, 'failed', (e as Error)?.message ?? String(e));
        throw e;
      }
    }, f.timeoutMs);
  }
}
