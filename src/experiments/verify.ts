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
import { CONFIG_FILE, DONE_FILE, METRICS_FILE, PREDICTION_RE, PROBES_FILE, PROBE_ARTIFACT_RE, PROBE_TARGETS_FILE, TARGETS_FILE, doneRecordSchema, entkFile, gramFile, preactivationFile, predictionFile, type DoneRecord } from './layout.js';
import { PREACTIVATION_SAMPLE_MAX, entkSize, probeBatchSize, probeLayers, probeSteps, type ProbeSettings } from './probes/settings.js';
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
  return parseJsonLines(text, source, metricsLineSchema, '{"step": integer >= 0, name: number | null, ...}') as MetricsLine[];
}

/** Parses an append-only JSON-lines file strictly: every line `schema` (described by `expected` in errors). */
export function parseJsonLines<S extends z.ZodType>(text: string, source: string, schema: S, expected: string): z.infer<S>[] {
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
    const r = schema.safeParse(v);
    if (!r.success) throw new Error(`${source}:${i + 1}: expected ${expected}: ${zodProblem(r.error)}`);
    return r.data as z.infer<S>;
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

const probeLineSchema = z.strictObject({
  step: z.number().int().nonnegative(),
  sharpness: z.number().nullable(),
  sharpnessIterations: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
});

/** Problems with `name`'s shape (it must exist and decode as `expected`; a null entry matches any size up to its bound). */
function checkNpy(dir: string, name: string, expected: readonly (number | { max: number })[]): string[] {
  if (!existsSync(join(dir, name))) return [`${name} is missing`];
  try {
    const got = npyShape(join(dir, name));
    const ok = got.length === expected.length && expected.every((e, i) => (typeof e === 'number' ? got[i] === e : got[i] >= 1 && got[i] <= e.max));
    const want = expected.map((e) => (typeof e === 'number' ? e : `1..${e.max}`)).join(', ');
    return ok ? [] : [`${name} has shape [${got.join(', ')}], expected [${want}]`];
  } catch (e) {
    return [`${name}: ${(e as Error).message}`];
  }
}

/**
 * targets.npy (optional without probes: runs written before it existed verify) and the probe
 * files of a run with probes: probes.jsonl has exactly the probe steps among the steps with
 * predictions (a diverged run may also have its diverging step's), and every probe step has its
 * gram, preact and entk files with the expected shapes.
 */
function checkProbeFiles(dir: string, config: RunConfig, done: DoneRecord, predictionSteps: readonly number[], predictionShape: readonly number[]): string[] {
  const problems: string[] = [];
  const p = (config as { probes?: ProbeSettings }).probes;
  const testSize = predictionShape[0];
  if (existsSync(join(dir, TARGETS_FILE)) || (p && predictionSteps.length > 0)) {
    const got = existsSync(join(dir, TARGETS_FILE)) ? (() => { try { return npyShape(join(dir, TARGETS_FILE)); } catch { return null; } })() : null;
    problems.push(...checkNpy(dir, TARGETS_FILE, [testSize, ...(got ?? []).slice(1)]));
  }
  const files = readdirSync(dir);
  const artifacts = files.map((f) => ({ f, m: PROBE_ARTIFACT_RE.exec(f) })).filter((a) => a.m !== null).map(({ f, m }) => ({ f, step: Number(m![3] ?? m![4]) }));
  if (!p) {
    const stray = [...artifacts.map((a) => a.f), ...files.filter((f) => f === PROBES_FILE || f === PROBE_TARGETS_FILE)];
    if (stray.length) problems.push(`probe file(s) ${stray.join(', ')} in a run without probes`);
    return problems;
  }
  const want = probeSteps(config).filter((s) => predictionSteps.includes(s));
  const optional = done.status === 'diverged' ? done.step : undefined;
  let lines: z.infer<typeof probeLineSchema>[] = [];
  try {
    lines = parseJsonLines(readFileSync(join(dir, PROBES_FILE), 'utf8'), PROBES_FILE, probeLineSchema, '{"step": integer >= 0, "sharpness": number | null, "sharpnessIterations": integer >= 0, "seconds": number >= 0}');
  } catch (e) {
    problems.push(existsSync(join(dir, PROBES_FILE)) ? (e as Error).message : `${PROBES_FILE} is missing`);
  }
  const steps = lines.map((l) => l.step);
  const missing = want.filter((s) => !steps.includes(s));
  if (missing.length) problems.push(`${PROBES_FILE}: no line for probe step(s) ${missing.join(', ')}`);
  const extra = steps.filter((s, i) => (!want.includes(s) && s !== optional) || steps.indexOf(s) !== i);
  if (extra.length) problems.push(`${PROBES_FILE}: step(s) ${extra.join(', ')} are not probe steps of this run or appear twice (expected ${want.join(', ') || 'none'}, once each)`);
  const n = probeBatchSize(p, testSize);
  const ne = entkSize(p, testSize);
  const layers = probeLayers(config.model);
  const expected = new Set<string>();
  for (const s of want) {
    const names: [string, (number | { max: number })[]][] = [
      ...(p.kernels ? layers.features.map((l): [string, number[]] => [gramFile(l, s), [n, n]]) : []),
      ...(p.preactivations ? layers.preactivations.map((l): [string, { max: number }[]] => [preactivationFile(l, s), [{ max: PREACTIVATION_SAMPLE_MAX }]]) : []),
      ...(ne > 0 ? [[entkFile(s), [ne, ne]] as [string, number[]]] : []),
    ];
    for (const [name, shape] of names) { expected.add(name); problems.push(...checkNpy(dir, name, shape)); }
  }
  const unexpected = artifacts.filter((a) => !expected.has(a.f) && a.step !== optional).map((a) => a.f);
  if (unexpected.length) problems.push(`unexpected probe file(s) ${unexpected.join(', ')}`);
  if (ne > 0 && want.length > 0) problems.push(...checkNpy(dir, PROBE_TARGETS_FILE, [ne]));
  return problems;
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
  if (shape) problems.push(...checkProbeFiles(dir, cfg.config, done, want.predictions, shape));
  if (problems.length) return { state: 'bad', problems };
  return { state: 'finished', config: cfg, done, metrics, predictionSteps: want.predictions, predictionShape: shape ?? [] };
}
