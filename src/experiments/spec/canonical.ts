/**
 * @file Canonical JSON (sorted keys, no whitespace) and the short hash that names a run.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so that key order never changes an id. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`canonicalJson: non-finite number ${v}`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** First `length` hex digits of sha256(canonicalJson(v)). */
export function shortHash(v: unknown, length = 12): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, length);
}
