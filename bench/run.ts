/**
 * @file `npm run bench`: measures the ceilings, runs every suite in bench/suites (or those named
 * with --suite), prints a table and writes bench/results/<adapter>.json.
 *   npm run bench -- [--suite NAME ...] [--quick] [--runs N] [--out FILE]
 * With --runs N (odd), the suites run N times in turn and each row is its median run's row (by
 * median ms), with every run's ms in `extra.runsMs`.
 */
import { readdirSync, writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { init, shutdown } from '../src/index.js';
import { formatTable, timeInterleaved, timeLaunch, type BenchContext, type BenchRow, type BenchSuite } from './harness.js';
import { measureCeilings } from './ceilings.js';

const here = dirname(fileURLToPath(import.meta.url));

async function main() {
  const cli = new Command('bench')
    .option('--suite <names...>', 'suites to run (default: all)')
    .option('--quick', 'smaller sizes, fewer samples', false)
    .option('--out <file>', 'JSON output (default: bench/results/<adapter>.json)')
    .option('--runs <n>', 'run the suites n times (odd); each row is its median run', '1')
    .parse();
  const opts = cli.opts<{ suite?: string[]; quick: boolean; out?: string; runs: string }>();
  const runs = Number(opts.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs % 2 === 0) throw new Error(`bench: --runs must be an odd count, got '${opts.runs}'`);
  const device = await init();
  console.log(`adapter: ${device.describe()}`);
  const { ceilings, rows: ceilingRows } = await measureCeilings(device, opts.quick);
  console.log(`ceilings: ${ceilings.gflops.toFixed(1)} GFLOP/s (FMA), ${ceilings.gbps.toFixed(1)} GB/s (copy)`);
  const ctx: BenchContext = {
    device,
    ceilings,
    quick: opts.quick,
    time: (launch, o) => timeLaunch(device, launch, o),
    timeInterleaved: (launches, o) => timeInterleaved(device, launches, o),
  };
  const files = readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.ts')).sort();
  const suites: BenchSuite[] = [];
  for (const f of files) {
    const suite = (await import(pathToFileURL(join(here, 'suites', f)).href)).default as BenchSuite;
    if (!opts.suite || opts.suite.includes(suite.name)) suites.push(suite);
  }
  const perRun: BenchRow[][] = [];
  for (let run = 1; run <= runs; run++) {
    const got: BenchRow[] = [];
    for (const suite of suites) {
      console.log(`running ${suite.name}${runs > 1 ? ` (run ${run} of ${runs})` : ''} ...`);
      const rowsOfSuite = await suite.run(ctx);
      got.push(...rowsOfSuite);
      console.log(formatTable(rowsOfSuite));
    }
    perRun.push(got);
  }
  const rows: BenchRow[] = [...ceilingRows, ...(runs === 1 ? perRun[0] : medianRuns(perRun))];
  const out = opts.out ?? join(here, 'results', `${device.adapterSlug}.json`);
  mkdirSync(dirname(out), { recursive: true });
  // Merge with earlier results of other suites on the same adapter.
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')).rows as BenchRow[]) : [];
  const ran = new Set(rows.map((r) => r.suite));
  const merged = [...previous.filter((r) => !ran.has(r.suite)), ...rows];
  writeFileSync(
    out,
    JSON.stringify({ adapter: device.adapterInfo, date: new Date().toISOString(), ceilings, rows: merged }, null, 1),
  );
  console.log(`\n${formatTable(rows)}\n\nwrote ${out}`);
  shutdown();
}

/** Each row (by suite, name and shape, in the first run's order) as its median run's row, with every run's ms. */
function medianRuns(perRun: BenchRow[][]): BenchRow[] {
  const key = (r: BenchRow) => `${r.suite}\u0000${r.name}\u0000${r.shape}`;
  return perRun[0].map((first) => {
    const all = perRun.map((rs) => rs.find((r) => key(r) === key(first))).filter((r): r is BenchRow => r !== undefined);
    const sorted = [...all].sort((p, q) => p.medianMs - q.medianMs);
    const mid = sorted[sorted.length >> 1];
    return { ...mid, extra: { ...mid.extra, runsMs: all.map((r) => Number(r.medianMs.toPrecision(4))).join(' ') } };
  });
}

await main();
