/**
 * @file What `widthscope slurm` and `widthscope k8s` share: the spec and shard count they plan
 * for, the command that runs widthscope on a worker, and the `sweep` arguments of one shard.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec } from '../spec/load.js';
import type { SweepSpec } from '../spec/schema.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** POSIX shell single-quoting: the word exactly, whatever it holds. */
export const shellQuote = (word: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** How a worker runs this checkout of widthscope: this Node and the repo's bin script, by absolute path. */
export function defaultCommand(): string {
  return `${shellQuote(process.execPath)} ${shellQuote(join(repoRoot, 'bin', 'widthscope.mjs'))}`;
}

export interface PlannedSweep {
  /** Absolute. */
  specPath: string;
  spec: SweepSpec;
  shards: number;
}

/** A positive integer option, or a clear error naming it. */
export function positiveInt(option: string, value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${option}: expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Loads the spec (errors before anything is written) and settles the shard count: the option, else the spec's `shards`. */
export function planSweep(command: string, specPath: string, shardsOption: string | number | undefined): PlannedSweep {
  const abs = resolvePath(specPath);
  if (!existsSync(abs)) throw new Error(`${command}: spec file ${JSON.stringify(specPath)} does not exist`);
  const spec = loadSpec(abs);
  const shards = positiveInt('--shards', shardsOption) ?? spec.shards;
  if (shards === undefined) throw new Error(`${command}: the shard count is unknown: pass --shards <n> or set the spec's "shards" field`);
  return { specPath: abs, spec, shards };
}

/**
 * The `sweep` arguments of every shard: no report (the final job writes it) and no progress bars
 * (logs are files). The stand-in trainer makes no native calls, so it runs without the hang
 * supervisor (one process per shard instead of two).
 */
export function shardSweepArgs(specPath: string, results: string, fake: boolean): string[] {
  return ['sweep', specPath, '--results', results, '--no-report', '--no-progress', ...(fake ? ['--fake', '--hang-timeout', '0'] : [])];
}
