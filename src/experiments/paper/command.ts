/**
 * @file `widthscope paper [--quick]`: runs the sweeps of examples/paper/ (with the overrides of
 * examples/paper/quick.json under --quick), reports each, evaluates every claim and writes
 * <results>/claims.json and <results>/index.html (the claims page). Resumable like any sweep:
 * finished runs are kept.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative, resolve as resolvePath } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../atomic.js';
import type { Analysis } from '../analysis/analyze.js';
import { runSweepCommand } from '../commands.js';
import type { Trainer } from '../trainer.js';
import { CLAIMS, evaluateClaims, type ClaimResult } from './claims.js';
import { claimsHtml } from './page.js';
import { UsageError } from '../../util/usage-error.js';

export interface PaperOptions {
  quick?: boolean;
  /** Results root (default results/paper or results/paper-quick). */
  results?: string;
  /** Where the sweep specs are (default examples/paper). */
  specsDir?: string;
  trainer?: Trainer;
  /** The deterministic stand-in trainer (tests of the pipeline). */
  fake?: boolean;
  progress?: boolean;
  log?: (line: string) => void;
}

export interface PaperResult {
  dir: string;
  claims: ClaimResult[];
  html: string;
  json: string;
  /** 0 when every sweep finished, 1 when a run failed, 130 when interrupted. */
  exitCode: number;
}

const QUICK_FILE = 'quick.json';

export async function paperCommand(opts: PaperOptions = {}): Promise<PaperResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const specsDir = resolvePath(opts.specsDir ?? 'examples/paper');
  const dir = resolvePath(opts.results ?? (opts.quick ? 'results/paper-quick' : 'results/paper'));
  const files = readdirSync(specsDir).filter((f) => f.endsWith('.json') && f !== QUICK_FILE).sort();
  const quick = opts.quick ? (JSON.parse(readFileSync(join(specsDir, QUICK_FILE), 'utf8')) as Record<string, Record<string, unknown>>) : {};
  const known = new Set(files.map((f) => basename(f, '.json')));
  for (const name of Object.keys(quick)) {
    if (!known.has(name)) throw new UsageError(`paper: ${join(specsDir, QUICK_FILE)} overrides '${name}', which is not a spec in ${specsDir} (${[...known].join(', ')})`);
  }
  const needed = new Set(CLAIMS.flatMap((c) => c.sweeps));
  for (const n of needed) if (!known.has(n)) throw new UsageError(`paper: the claims read a sweep '${n}' but ${specsDir} has no ${n}.json`);

  mkdirSync(join(dir, 'specs'), { recursive: true });
  const analyses: Record<string, Analysis> = {};
  const sweeps: { name: string; report: string; wallSeconds: number }[] = [];
  let exitCode = 0;
  for (const f of files) {
    const name = basename(f, '.json');
    const spec = { ...(JSON.parse(readFileSync(join(specsDir, f), 'utf8')) as Record<string, unknown>), ...(quick[name] ?? {}) };
    const specPath = join(dir, 'specs', f);
    writeJsonAtomic(specPath, spec);
    const t0 = performance.now();
    const r = await runSweepCommand(specPath, { results: join(dir, name), trainer: opts.trainer, fake: opts.fake, progress: opts.progress, report: true, log });
    const wallSeconds = (performance.now() - t0) / 1000;
    log(`paper: ${name} took ${wallSeconds.toFixed(0)} s`);
    if (r.exitCode !== 0) exitCode = exitCode || r.exitCode;
    if (r.exitCode === 130) break;
    if (r.report) {
      analyses[name] = r.report.analysis;
      sweeps.push({ name, report: relative(dir, r.report.html), wallSeconds });
    }
  }
  const claims = evaluateClaims(analyses);
  const json = join(dir, 'claims.json');
  writeJsonAtomic(json, { quick: opts.quick ?? false, date: new Date().toISOString(), sweeps, claims });
  const html = join(dir, 'index.html');
  writeFileAtomic(html, claimsHtml({ title: `widthscope: the paper's claims${opts.quick ? ' (quick)' : ''}`, quick: opts.quick ?? false, claims, sweeps }));
  for (const c of claims) log(`paper: ${c.verdict.padEnd(19)} ${c.id}: ${c.why}`);
  log(`paper: ${html}`);
  return { dir, claims, html, json, exitCode };
}
