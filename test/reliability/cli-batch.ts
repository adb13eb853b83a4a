/**
 * @file Runs several CLI command lines in one process (test helper for cli.test.ts): each is a
 * fresh evaluation of src/cli/main.ts (imported under a new query string, so its commander
 * program is new) with its own argv and environment; what it writes to stderr and its exit code
 * are collected. Usage: `node --import tsx test/reliability/cli-batch.ts <cases.json>`, where the
 * file holds `[{ args, env }]`; prints `[{ status, stderr }]` as JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const main = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts')).href;
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { args: string[]; env: Record<string, string> }[];
const results: { status: number; stderr: string }[] = [];
const argv = process.argv.slice(0, 1);
const writeErr = process.stderr.write.bind(process.stderr);
const writeOut = process.stdout.write.bind(process.stdout);

for (const [i, c] of cases.entries()) {
  const saved = Object.fromEntries(Object.keys(c.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, c.env);
  process.argv = [...argv, 'main.ts', ...c.args];
  process.exitCode = undefined;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await import(`${main}?case=${i}`);
  } catch (e) {
    stderr += `cli-batch: the import threw: ${(e as Error).stack}\n`;
  } finally {
    process.stderr.write = writeErr;
    process.stdout.write = writeOut;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  results.push({ status: Number(process.exitCode ?? 0), stderr });
}
process.exitCode = 0;
writeOut(`${JSON.stringify(results)}\n`);
