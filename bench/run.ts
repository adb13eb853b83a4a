/**
 * @file `npm run bench`: measures the ceilings, runs every suite in bench/suites (or those named
 * with --suite), prints a table and writes bench/results/<adapter>.json.
 *   npm run bench -- [--suite NAME ...] [--quick] [--out FILE]
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
    .parse();
  const opts = cli.opts<{ suite?: string[]; quick: boolean; out?: string }>();
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
  const rows: BenchRow[] = [...ceilingRows];
  for (const f of files) {
    const suite = (await import(pathToFileURL(join(here, 'suites', f)).href)).default as BenchSuite;
    if (opts.suite && !opts.suite.includes(suite.name)) continue;
    console.log(`running ${suite.name} ...`);
    const got = await suite.run(ctx);
    rows.push(...got);
    console.log(formatTable(got));
  }
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

await main();
