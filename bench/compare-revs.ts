/**
 * @file One bench suite at another revision and at this checkout, in alternating processes of
 * the same run, and the ratio of their medians per row (other revision / this one: above 1
 * means this checkout is faster). The other revision is checked out into a temporary git
 * worktree that shares this checkout's node_modules.
 * With `--steps`, each round instead runs bench/widths-step.ts once per listed step in each tree
 * (one step per process, the trees a few seconds apart): on a machine whose speed drifts over
 * minutes, this pairs the trees more closely than whole suites do.
 *   npx tsx bench/compare-revs.ts --rev <rev> --suite <name> [--rounds 3] [--full] [--out FILE]
 *   npx tsx bench/compare-revs.ts --rev <rev> --steps 'cnn 16,cnn 16 --seeds 8,mlp 128' [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { geomean, median, type BenchRow } from './harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function runSuite(tree: string, suite: string, quick: boolean, out: string): BenchRow[] {
  execFileSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--suite', suite, ...(quick ? ['--quick'] : []), '--out', out], {
    cwd: tree, stdio: ['ignore', 'ignore', 'inherit'],
  });
  return (JSON.parse(readFileSync(out, 'utf8')).rows as BenchRow[]).filter((r) => r.suite === suite);
}

/**
 * One widths-suite step alone in a process of `tree` (bench/widths-step.ts): its median ms. The
 * background pipeline warm-up is off (WIDTHSCOPE_WARM=0, honoured by both trees): its compiles
 * would take a core from the adapter during the first ~0.5 s, which a step's timed steps span.
 */
function runStep(tree: string, step: string): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/widths-step.ts', ...step.split(/\s+/)], {
    cwd: tree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, WIDTHSCOPE_WARM: '0' },
  });
  const m = /median ([\d.]+) ms/.exec(out);
  if (!m) throw new Error(`compare-revs: bench/widths-step.ts ${step} in ${tree} printed no median: ${out}`);
  return Number(m[1]);
}

const opts = new Command('compare-revs')
  .requiredOption('--rev <rev>', 'the revision to compare with (e.g. HEAD~1, a commit)')
  .option('--suite <name>', 'the bench suite (bench/suites/<name>.ts at both revisions)')
  .option('--steps <list>', "widths steps, comma-separated bench/widths-step.ts arguments ('cnn 16,mlp 64 --seeds 8')")
  .option('--rounds <n>', 'alternating rounds (each runs both trees once)', '3')
  .option('--full', 'full sizes instead of --quick', false)
  .option('--out <file>', 'JSON output')
  .parse()
  .opts<{ rev: string; suite?: string; steps?: string; rounds: string; full: boolean; out?: string }>();
if ((opts.suite === undefined) === (opts.steps === undefined)) {
  console.error('compare-revs: give one of --suite <name> and --steps <list>');
  process.exit(2);
}
const steps = opts.steps?.split(',').map((x) => x.trim()).filter((x) => x.length > 0) ?? [];

const work = mkdtempSync(join(tmpdir(), 'widthscope-revs-'));
const old = join(work, 'tree');
execFileSync('git', ['worktree', 'add', '--detach', old, opts.rev], { cwd: root, stdio: 'ignore' });
symlinkSync(join(root, 'node_modules'), join(old, 'node_modules'));
const times: Record<string, { old: number[]; now: number[] }> = {};
try {
  for (let r = 0; r < Number(opts.rounds); r++) {
    // alternate which tree goes first, so neither always pays a cold machine
    const order: ['old' | 'now', string][] = r % 2 === 0 ? [['old', old], ['now', root]] : [['now', root], ['old', old]];
    if (opts.suite !== undefined) {
      for (const [which, tree] of order) {
        for (const row of runSuite(tree, opts.suite, !opts.full, join(work, `${which}-${r}.json`))) {
          const key = `${row.name} ${row.shape}`;
          (times[key] ??= { old: [], now: [] })[which].push(row.medianMs);
        }
      }
    }
    for (const step of steps) {
      for (const [which, tree] of order) (times[step] ??= { old: [], now: [] })[which].push(runStep(tree, step));
    }
    console.error(`round ${r + 1} of ${opts.rounds} done`);
  }
} finally {
  execFileSync('git', ['worktree', 'remove', '--force', old], { cwd: root, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
const rows = Object.entries(times)
  .filter(([, t]) => t.old.length > 0 && t.now.length > 0)
  .map(([row, t]) => ({ row, oldMs: median(t.old), nowMs: median(t.now), ratio: median(t.old) / median(t.now) }));
const geomeanRatio = geomean(rows.map((r) => r.ratio));
console.log(`${opts.suite !== undefined ? `suite ${opts.suite}` : 'widths steps'}, ${opts.rev} / this checkout, medians over ${opts.rounds} alternating rounds`);
for (const r of rows) console.log(`${r.row.padEnd(60)} ${r.oldMs.toFixed(2).padStart(9)} ms ${r.nowMs.toFixed(2).padStart(9)} ms  x${r.ratio.toFixed(2)}`);
console.log(`geomean ratio (rows in both): x${geomeanRatio.toFixed(3)} over ${rows.length} rows`);
if (opts.out) writeFileSync(opts.out, JSON.stringify({ rev: opts.rev, suite: opts.suite, steps: opts.steps, rounds: Number(opts.rounds), rows, geomean: geomeanRatio }, null, 1));
