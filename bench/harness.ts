/**
 * @file The benchmark harness: timing with the `benchmark` package (deferred: launches are
 * batched into one submit and awaited once), ceilings measured in the same run, rows, tables.
 */
import Benchmark from 'benchmark';
import type { Device } from '../src/tensor/device.js';

export interface BenchRow {
  suite: string;
  name: string;
  /** Shape or size description. */
  shape: string;
  medianMs: number;
  gflops?: number;
  gbps?: number;
  /** Percent of the FMA ceiling (gflops) or the copy ceiling (gbps) measured in this run. */
  pctCeiling?: number;
  /** Speed-up over the baseline named in `baseline`. */
  xBaseline?: number;
  baseline?: string;
  extra?: Record<string, number | string>;
}

export interface Ceilings {
  gflops: number;
  gbps: number;
}

export interface BenchContext {
  device: Device;
  ceilings: Ceilings;
  /** Smaller sizes and fewer samples (CI smoke runs). */
  quick: boolean;
  /** Median milliseconds of one `launch()` (launch appends dispatches; no await inside). */
  time(launch: () => void, opts?: { minSamples?: number; maxTimeS?: number }): Promise<number>;
  /** Samples of several launches taken in turn (see timeInterleaved). */
  timeInterleaved(launches: (() => void)[], opts?: { minRounds?: number; maxTimeS?: number }): Promise<Interleaved>;
}

/** Per-launch medians (ms per launch) and, per round, each launch's time over the first's. */
export interface Interleaved {
  medians: number[];
  /** ratios[i]: launch i's time / launch 0's time, one per round (same round, so same machine state). */
  ratios: number[][];
}

export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

/** Launches per sample so that one sample takes about 30 ms (1 to 1000). */
function repsFor(onceMs: number): number {
  return Math.max(1, Math.min(1000, Math.round(30 / Math.max(onceMs, 0.01))));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The geometric mean of positive ratios (1 for none). */
export function geomean(xs: number[]): number {
  return xs.length === 0 ? 1 : Math.exp(xs.reduce((a, v) => a + Math.log(v), 0) / xs.length);
}

/**
 * Warms up (pipelines compiled, buffers pooled), picks a repetition count so one sample takes
 * about 30 ms, then lets Benchmark.js collect samples; returns the median per launch in ms.
 */
export async function timeLaunch(
  device: Device,
  launch: () => void,
  opts: { minSamples?: number; maxTimeS?: number } = {},
): Promise<number> {
  launch();
  await device.sync();
  const t0 = performance.now();
  launch();
  await device.sync();
  const once = performance.now() - t0;
  const reps = repsFor(once);
  const samples: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const bench = new Benchmark('launch', {
      defer: true,
      minSamples: opts.minSamples ?? 5,
      maxTime: opts.maxTimeS ?? 1.5,
      initCount: 1,
      fn(deferred: { resolve(): void }) {
        const start = performance.now();
        for (let i = 0; i < reps; i++) launch();
        device.sync().then(
          () => {
            samples.push((performance.now() - start) / reps);
            deferred.resolve();
          },
          reject,
        );
      },
      onComplete: () => resolve(),
      onError: (e: unknown) => reject(e),
    });
    bench.run({ async: true });
  });
  return median(samples);
}

/**
 * Times launches A, B, ... in turn (A, B, A, B, ...): each round takes one sample of every launch
 * (repeated to ~30 ms, awaited once), so a slow spell of a shared machine lands on all of them
 * instead of on whichever was being measured. Runs at least `minRounds` rounds (default 5) and
 * stops after `maxTimeS` seconds (default 2).
 */
export async function timeInterleaved(
  device: Device,
  launches: (() => void)[],
  opts: { minRounds?: number; maxTimeS?: number } = {},
): Promise<Interleaved> {
  const sample = async (launch: () => void, reps: number) => {
    const start = performance.now();
    for (let i = 0; i < reps; i++) launch();
    await device.sync();
    return (performance.now() - start) / reps;
  };
  const reps: number[] = [];
  for (const launch of launches) {
    await sample(launch, 1);
    reps.push(repsFor(await sample(launch, 1)));
  }
  const samples: number[][] = launches.map(() => []);
  const deadline = performance.now() + (opts.maxTimeS ?? 2) * 1000;
  for (let round = 0; round < (opts.minRounds ?? 5) || performance.now() < deadline; round++) {
    for (let i = 0; i < launches.length; i++) samples[i].push(await sample(launches[i], reps[i]));
  }
  return {
    medians: samples.map(median),
    ratios: samples.map((s) => s.map((t, r) => t / samples[0][r])),
  };
}

/**
 * Times whole steps of several variants in turn, for steps that await their own GPU work (a
 * training step reading its loss back), which timeInterleaved's synchronous launches cannot be:
 * each of `rounds` rounds runs every variant's `untimed` steps and then its `perRound` timed
 * ones, so a slow spell of the machine lands on all of them. `step(i, timed, round)` runs one
 * step of variant i. Returns, per variant, every timed step's ms and each round's median.
 */
export async function timeStepsInRounds(
  variants: number,
  step: (i: number, timed: boolean, round: number) => Promise<void>,
  opts: { rounds: number; perRound: number; untimed?: number },
): Promise<{ times: number[][]; roundMedians: number[][] }> {
  const times: number[][] = Array.from({ length: variants }, () => []);
  const roundMedians: number[][] = Array.from({ length: variants }, () => []);
  for (let round = 0; round < opts.rounds; round++) {
    for (let i = 0; i < variants; i++) {
      for (let k = 0; k < (opts.untimed ?? 0); k++) await step(i, false, round);
      const ms: number[] = [];
      for (let k = 0; k < opts.perRound; k++) {
        const t0 = performance.now();
        await step(i, true, round);
        ms.push(performance.now() - t0);
      }
      times[i].push(...ms);
      roundMedians[i].push(median(ms));
    }
  }
  return { times, roundMedians };
}

function cell(v: number | string | undefined, digits = 2): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toFixed(digits);
}

/** A plain-text table of rows: shape, median ms, GFLOP/s or GB/s, % of ceiling, x baseline. */
export function formatTable(rows: BenchRow[]): string {
  const head = ['suite', 'name', 'shape', 'median ms', 'GFLOP/s', 'GB/s', '% ceiling', 'x baseline'];
  const body = rows.map((r) => [
    r.suite, r.name, r.shape, cell(r.medianMs, 3), cell(r.gflops), cell(r.gbps), cell(r.pctCeiling, 1),
    r.xBaseline === undefined ? '' : `${cell(r.xBaseline)}x ${r.baseline ?? ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Throughput in GB/s of `bytes` moved in `ms` milliseconds. */
export const gbPerS = (bytes: number, ms: number): number => bytes / (ms * 1e6);
