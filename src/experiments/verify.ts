/**
 * @file Checks that a run directory holds a finished run, file by file, rather than trusting
 * that `done.json` exists: done.json parses and validates, config.json is this run's, metrics.jsonl
 * has each evaluation step exactly once, and every prediction file exists, decodes and has the
 * run's prediction shape. The runner redoes a run that fails; `report` leaves it out and names it.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { npyLayout } from './npy.js';
import { CONFIG_FILE, DONE_FILE, METRICS_FILE, PREDICTION_RE, doneRecordSchema, predictionFile, type DoneRecord } from './layout.js';
import { shortHash } from './spec/canonical.js';
import type { RunConfig } from './spec/resolve.js';

export interface MetricsLine {
  step: number;
  [name: string]: number | null;
}

/** config.json of a run. */
export interface RunConfigFile {
  id: string;
  configId: string;
  seriesId: string;
  label: string;
  config: RunConfig;
}

const configFileSchema = z.object({
  id: z.string(),
  configId: z.string(),
  seriesId: z.string(),
  label: z.string(),
  config: z.object({ steps: z.number().int().nonnegative(), evalSteps: z.array(z.number().int().nonnegative()), width: z.number(), seed: z.number() }).loose(),
});

const metricsLineSchema = z.object({ step: z.number().int().nonnegative() }).catchall(z.number().nullable());

export type RunCheck =
  | { state: 'absent' }
  | { state: 'bad'; problems: string[] }
  | { state: 'finished'; config: RunConfigFile; done: DoneRecord; metrics: MetricsLine[]; predictionSteps: number[]; predictionShape: number[] };

const zodProblem = (e: z.ZodError) => e.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');

function readJson(path: string): { value?: unknown; problem?: string } {
  if (!existsSync(path)) return { problem: `${basename(path)} is missing` };
  try {
    return { value: JSON.parse(readFileSync(path, 'utf8')) };
  } catch (e) {
    return { problem: `${basename(path)} is not valid JSON (${(e as Error).message})` };
  }
}

/** Parses metrics.jsonl strictly: every line a JSON object with an integer `step` and numbers or nulls. */
export function parseMetrics(text: string, source: string): MetricsLine[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else if (lines.length > 0) throw new Error(`${source}:${lines.length}: the last line has no newline (truncated write)`);
  return lines.map((l, i) => {
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new Error(`${source}:${i + 1}: not a JSON line (${(e as Error).message})`);
    }
    const r = metricsLineSchema.safeParse(v);
    if (!r.success) throw new Error(`${source}:${i + 1}: expected {"step": integer >= 0, name: number | null, ...}: ${zodProblem(r.error)}`);
    return r.data as MetricsLine;
  });
}

/** Shape of a .npy file, reading only its header and size; throws naming what is wrong. */
export function npyShape(path: string): number[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 65536 + 12));
    readSync(fd, head, 0, head.length, 0);
    return npyLayout(head, size).shape;
  } finally {
    closeSync(fd);
  }
}

/** The evaluation steps a finished run must have in metrics.jsonl, and those that need predictions. */
function expectedSteps(evalSteps: readonly number[], done: DoneRecord, metricSteps: readonly number[]): { metrics: number[]; predictions: number[] } {
  if (done.status === 'ok') return { metrics: [...evalSteps], predictions: [...evalSteps] };
  // Diverged at `step`: every evaluation before it; the diverging evaluation's metrics may be
  // there (its non-finite numbers are how divergence showed), its predictions are not.
  const s = done.step!;
  const before = evalSteps.filter((t) => t < s);
  return { metrics: metricSteps.includes(s) ? [...before, s] : before, predictions: before };
}

/** Checks the run directory `dir` of run `id`; `config`, when given, must be the run's resolved config. */
export function verifyRun(dir: string, id: string, config?: RunConfig): RunCheck {
  if (!existsSync(dir)) return { state: 'absent' };
  const problems: string[] = [];

  const cfgRaw = readJson(join(dir, CONFIG_FILE));
  let cfg: RunConfigFile | undefined;
  if (cfgRaw.problem) problems.push(cfgRaw.problem);
  else {
    const r = configFileSchema.safeParse(cfgRaw.value);
    if (!r.success) problems.push(`${CONFIG_FILE} is not a run's config (${zodProblem(r.error)})`);
    else {
      const hash = shortHash(r.data.config);
      if (r.data.id !== id || hash !== id) problems.push(`${CONFIG_FILE} belongs to run ${hash === r.data.id ? hash : `${r.data.id} (its config hashes to ${hash})`}, not to run ${id}`);
      else if (config && shortHash(config) !== id) problems.push(`${CONFIG_FILE} does not match the sweep's config of run ${id}`);
      else cfg = r.data as unknown as RunConfigFile;
    }
  }

  const doneRaw = readJson(join(dir, DONE_FILE));
  let done: DoneRecord | undefined;
  if (doneRaw.problem) problems.push(existsSync(join(dir, DONE_FILE)) ? doneRaw.problem : `${DONE_FILE} is missing (the run did not finish)`);
  else {
    const r = doneRecordSchema.safeParse(doneRaw.value);
    if (!r.success) problems.push(`${DONE_FILE} is not a completion record (${zodProblem(r.error)})`);
    else done = r.data;
  }

  let metrics: MetricsLine[] | undefined;
  const metricsPath = join(dir, METRICS_FILE);
  if (!existsSync(metricsPath)) problems.push(`${METRICS_FILE} is missing`);
  else {
    try {
      metrics = parseMetrics(readFileSync(metricsPath, 'utf8'), METRICS_FILE);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (!cfg || !done || !metrics) return { state: 'bad', problems };

  const steps = metrics.map((m) => m.step);
  const want = expectedSteps(cfg.config.evalSteps, done, steps);
  const count = new Map<number, number>();
  for (const s of steps) count.set(s, (count.get(s) ?? 0) + 1);
  for (const [s, n] of count) if (n > 1) problems.push(`${METRICS_FILE}: step ${s} appears ${n} times (expected once)`);
  const missing = want.metrics.filter((s) => !count.has(s));
  if (missing.length) problems.push(`${METRICS_FILE}: no line for evaluation step(s) ${missing.join(', ')}`);
  const extra = [...count.keys()].filter((s) => !want.metrics.includes(s));
  if (extra.length) problems.push(`${METRICS_FILE}: step(s) ${extra.join(', ')} are not evaluation steps of this ${done.status} run (expected ${want.metrics.join(', ') || 'none'})`);
  if (done.evaluations !== metrics.length) problems.push(`${DONE_FILE} records ${done.evaluations} evaluations, ${METRICS_FILE} has ${metrics.length} lines`);

  const predictionSteps = readdirSync(dir).map((f) => PREDICTION_RE.exec(f)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
  const unexpected = predictionSteps.filter((s) => !want.predictions.includes(s));
  if (unexpected.length) problems.push(`unexpected prediction file(s) ${unexpected.map(predictionFile).join(', ')}`);
  let shape = done.predictionShape;
  for (const s of want.predictions) {
    const f = predictionFile(s);
    if (!predictionSteps.includes(s)) { problems.push(`${f} is missing`); continue; }
    try {
      const got = npyShape(join(dir, f));
      shape ??= got;
      if (got.join(',') !== shape.join(',')) problems.push(`${f} has shape [${got.join(', ')}], expected [${shape.join(', ')}]`);
    } catch (e) {
      problems.push(`${f}: ${(e as Error).message}`);
    }
  }
  if (problems.length) return { state: 'bad', problems };
  return { state: 'finished', config: cfg, done, metrics, predictionSteps: want.predictions, predictionShape: shape ?? [] };
}
