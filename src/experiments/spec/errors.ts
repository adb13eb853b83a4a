/**
 * @file Turns zod issues into messages that point at the bad field: `widths[1]: expected a
 * positive integer width, got -4`.
 */
import type { z } from 'zod';
import { UsageError } from '../../util/usage-error.js';

/** A spec that cannot be read or is invalid: one line per problem, each naming its field. */
export class SpecError extends UsageError {
  constructor(readonly source: string, readonly problems: string[]) {
    super(
      problems.length === 1
        ? `invalid sweep spec ${source}: ${problems[0]}`
        : `invalid sweep spec ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'SpecError';
  }
}

/** `model[0].family`, `widths[2]`, `(top level)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(top level)';
}

/** Keys that a bare string stands for (`"mlp"` is `{ "family": "mlp" }`, see schema.ts). */
const SHORTHAND_KEYS = new Set<PropertyKey>(['name', 'family']);

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let v: unknown = root;
  for (const k of path) {
    if (typeof v === 'string' && SHORTHAND_KEYS.has(k)) continue;
    if (v === null || typeof v !== 'object' || !(k in (v as object))) return { found: false };
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return { found: true, value: v };
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** One readable line per issue; unions are reduced to the branch that got furthest. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(`${formatPath([...path, key])}: unknown field ${JSON.stringify(key)}`);
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Pick the branch with the fewest issues that got past the top (the one the writer most
      // likely meant: a list for a list, an object for an object).
      const deeper = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
      const best = [...deeper].sort((a, b) => a.length - b.length)[0];
      if (best) {
        out.push(...formatIssues(best.map((i) => ({ ...i, path: [...path, ...i.path] }) as z.core.$ZodIssue), input));
        continue;
      }
    }
    const at = valueAt(input, path);
    const got = !at.found ? 'missing' : `got ${show(at.value)}`;
    const msg = !at.found && issue.code === 'invalid_type' ? `required field is missing (${issue.message.replace(/^Invalid input: /, '')})` : `${issue.message}, ${got}`;
    out.push(`${formatPath(path)}: ${msg}`);
  }
  return [...new Set(out)];
}
