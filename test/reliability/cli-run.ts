/**
 * @file Test helpers: run the CLI as a child process, and turn its result into what the
 * reliability catalogue classifies.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface CliResult {
  status: number | null;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let running = 0;
const queue: (() => void)[] = [];
const MAX_CHILDREN = 2;

/**
 * Runs the CLI (or `script`) with `args` (and `env` added) as a child process; stderr goes to a
 * file, as when a user redirects it, or to a pipe (Node's pipes are socket pairs). Resolves when
 * it exits (killed after 60 s).
 */
export function runCli(args: string[], env: Record<string, string> = {}, opts: { script?: string; stderr?: 'file' | 'pipe' } = {}): Promise<CliResult> {
  const script = opts.script ?? 'src/cli/main.ts';
  return new Promise((resolve, reject) => {
    const start = () => {
      running++;
      const dir = mkdtempSync(join(tmpdir(), 'widthscope-cli-'));
      const errFile = join(dir, 'stderr.txt');
      const errFd = opts.stderr === 'pipe' ? 'pipe' : openSync(errFile, 'w');
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
        cwd: ROOT,
        env: { ...process.env, VITEST: '', WIDTHSCOPE_POISON: '', ...env },
        stdio: ['ignore', 'pipe', errFd],
        timeout: 60_000,
      });
      if (typeof errFd === 'number') closeSync(errFd);
      let stdout = '';
      let piped = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr?.on('data', (d) => (piped += d));
      child.on('error', reject);
      child.on('close', (status, signal) => {
        running--;
        queue.shift()?.();
        const stderr = typeof errFd === 'number' ? readFileSync(errFile, 'utf8') : piped;
        rmSync(dir, { recursive: true, force: true });
        resolve({ status, signal, stdout, stderr });
      });
    };
    if (running < MAX_CHILDREN) start();
    else queue.push(start);
  });
}

/**
 * Turns a child's result into what the catalogue classifies: returns on status 0 (silent), throws
 * an Error with the stderr line when the CLI refused cleanly (status `expected`, one line, no
 * stack), and a TypeError (a crash) otherwise.
 */
export async function cliOutcome(result: Promise<Omit<CliResult, 'stdout'>>, expected = 2): Promise<void> {
  const r = await result;
  if (r.status === 0) return;
  // The sweep's own first log line ("sweep <name>: N runs in M jobs -> <dir>") is not an error line.
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^sweep \S+: \d+ runs in \d+ jobs -> /.test(l));
  if (r.status !== expected) throw new TypeError(`exit status ${r.status} (signal ${r.signal ?? 'none'}), expected ${expected}; stderr: ${r.stderr}; stdout: ${'stdout' in r ? r.stdout : ''}`);
  if (lines.some((l) => l.startsWith('    at '))) throw new TypeError(`a stack trace on stderr: ${r.stderr}`);
  if (lines.length !== 1) throw new TypeError(`${lines.length} lines on stderr, expected one: ${r.stderr}`);
  throw new Error(lines[0]);
}

