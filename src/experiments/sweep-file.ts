/**
 * @file `sweep.json`, the identity of a results directory: one results directory holds one spec.
 *
 * The first process to run a spec into a directory creates sweep.json (exclusively: shards that
 * start together agree on one file). A later run of the same spec (a resume, another shard)
 * finds its own spec there and goes on; a different spec is refused, naming both specs (name and
 * hash) and the directory, unless `force` is given: then sweep.json is replaced by the new spec's,
 * every run directory stays on disk, a run that both specs contain (same resolved config, so the
 * same id) counts as done for the new spec, and the next report covers only the new spec's runs.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createFileExclusive, writeJsonAtomic } from './atomic.js';
import { RESULTS_ENTRIES, RUN_ID_RE, SWEEP_FILE } from './layout.js';
import { shortHash } from './spec/canonical.js';
import { validateSpec } from './spec/load.js';
import { runLabel, type ResolvedSweep } from './spec/resolve.js';
import type { SweepSpec } from './spec/schema.js';
import { UsageError } from '../util/usage-error.js';

export interface SweepFile {
  name: string;
  /** shortHash of the validated spec: what "the same spec" means. */
  specHash: string;
  spec: SweepSpec;
  runs: { id: string; configId: string; seriesId: string; label: string }[];
}

const sweepFileSchema = z.object({
  name: z.string(),
  specHash: z.string().optional(),
  spec: z.unknown(),
  runs: z.array(z.object({ id: z.string(), configId: z.string(), seriesId: z.string(), label: z.string() })),
});

export const specHash = (spec: SweepSpec) => shortHash(spec);

export function sweepFileContent(sweep: ResolvedSweep): SweepFile {
  return {
    name: sweep.spec.name,
    specHash: specHash(sweep.spec),
    spec: sweep.spec,
    runs: sweep.runs.map((r) => ({ id: r.id, configId: r.configId, seriesId: r.seriesId, label: runLabel(r.config) })),
  };
}

/** Throws unless `dir` is a directory (or, with `mayBeAbsent`, does not exist). */
export function checkResultsPath(dir: string, what: string, mayBeAbsent: boolean): void {
  if (!existsSync(dir)) {
    if (mayBeAbsent) return;
    throw new UsageError(`${what}: results directory ${dir} does not exist`);
  }
  if (!statSync(dir).isDirectory()) throw new UsageError(`${what}: results directory ${dir} is a file, expected a directory${mayBeAbsent ? ' (or a path that does not exist yet)' : ''}`);
}

/** Reads and validates `<dir>/sweep.json`; undefined when absent; throws naming the file when it is not one. */
export function readSweepFile(dir: string): SweepFile | undefined {
  const path = join(dir, SWEEP_FILE);
  if (!existsSync(path)) return undefined;
  const expected = 'expected the sweep.json that `widthscope sweep` writes ({name, specHash, spec, runs})';
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message}); ${expected}`);
  }
  const r = sweepFileSchema.safeParse(raw);
  if (!r.success) throw new UsageError(`${path}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}; ${expected}`);
  const spec = validateSpec(r.data.spec, `${path} (field spec)`);
  return { ...r.data, spec, specHash: specHash(spec) };
}

const describe = (f: { name: string; specHash: string }) => `spec "${f.name}" (hash ${f.specHash})`;

/**
 * Makes `results` this sweep's directory: creates sweep.json, or checks that the one there is
 * this spec's (refusing another spec's unless `force`). Returns a line for the log when it
 * replaced something.
 */
export function claimResultsDir(results: string, sweep: ResolvedSweep, opts: { force?: boolean } = {}): string | undefined {
  checkResultsPath(results, 'sweep', true);
  mkdirSync(results, { recursive: true });
  const path = join(results, SWEEP_FILE);
  const mine = sweepFileContent(sweep);
  const text = `${JSON.stringify(mine, null, 2)}\n`;
  const forceHint = 'choose another --results directory, or pass --force to make this spec the directory\'s spec (run directories are kept; sweep.json is replaced)';
  if (!existsSync(path)) {
    const foreign = readdirSync(results).filter((f) => !RESULTS_ENTRIES.includes(f) && !RUN_ID_RE.test(f) && !f.startsWith('.'));
    if (foreign.length > 0 && !opts.force)
      throw new UsageError(`sweep: ${results} has no ${SWEEP_FILE} but holds ${foreign.slice(0, 3).map((f) => `'${f}'`).join(', ')}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''}: expected a new, empty or widthscope results directory; ${forceHint}`);
    if (createFileExclusive(path, text)) return undefined;
  }
  let theirs: SweepFile | undefined;
  try {
    theirs = readSweepFile(results);
  } catch (e) {
    if (!opts.force) throw new UsageError(`sweep: ${(e as Error).message}; ${forceHint}`);
    writeJsonAtomic(path, mine);
    return `--force: replaced the unreadable ${path} with ${describe(mine)}`;
  }
  if (!theirs) return claimResultsDir(results, sweep, opts); // removed meanwhile
  if (theirs.specHash === mine.specHash) {
    if (theirs.runs.map((r) => r.id).join() === mine.runs.map((r) => r.id).join()) return undefined;
    writeJsonAtomic(path, mine);
    return `${path}: same spec, but its run list is from an older resolution of it; rewritten`;
  }
  if (!opts.force)
    throw new UsageError(`sweep: ${results} holds the results of ${describe(theirs)}; this is ${describe(mine)}. One results directory holds one spec: ${forceHint}`);
  writeJsonAtomic(path, mine);
  return `--force: ${results} was the directory of ${describe(theirs)}; it is now that of ${describe(mine)} (run directories kept; runs of both specs are shared; the next report covers ${mine.runs.length} runs of the new spec)`;
}
