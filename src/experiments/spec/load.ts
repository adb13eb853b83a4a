/**
 * @file Reads a sweep spec from JSON or YAML and validates it before anything trains.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { sweepSpecSchema, type SweepSpec } from './schema.js';
import { SpecError, formatIssues } from './errors.js';

/** Validates an already-parsed object; throws SpecError naming each bad field. */
export function validateSpec(input: unknown, source = '<object>'): SweepSpec {
  const r = sweepSpecSchema.safeParse(input);
  if (!r.success) throw new SpecError(source, formatIssues(r.error.issues, input));
  return r.data;
}

/** Parses spec text; `.yaml`/`.yml` sources are YAML, everything else JSON. */
export function parseSpecText(text: string, source: string): SweepSpec {
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(source) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new SpecError(source, [`cannot parse: ${(e as Error).message}`]);
  }
  return validateSpec(raw, source);
}

export function loadSpec(path: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new SpecError(path, [`cannot read it (${why}): expected the path of a JSON or YAML sweep spec`]);
  }
  return parseSpecText(text, path);
}
