/**
 * @file The CLI's own errors: every bad flag, environment value, spec and path is one line on
 * stderr naming the option (or variable, or field), the value and what was expected, with exit
 * status 2 and no stack trace. A few cases run `node --import tsx src/cli/main.ts ...` as a child
 * process of its own (started when the file loads, two at a time); the rest run together in one
 * child (cli-batch.ts: main.ts evaluated afresh per command line), since each tsx start costs
 * seconds on a loaded machine.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { catalogue, type ErrorCase } from './catalogue.js';
import { ROOT, cliOutcome, runCli, type CliResult } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'widthscope-cli-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = JSON.parse(readFileSync(join(ROOT, 'examples/quick.json'), 'utf8')) as Record<string, unknown>;
function specFile(name: string, patch: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...base, ...patch }));
  return path;
}
const goodSpec = specFile('good', {});
const notJson = join(dir, 'broken.json');
writeFileSync(notJson, '{ "name": "x", ');

/** A case with a child process of its own, started now; `run` awaits it. */
function spawnCase(name: string, args: string[], mentions: (string | RegExp)[], env: Record<string, string> = {}): ErrorCase {
  const result = runCli(args, env);
  return { name: `${name} (own process)`, run: () => cliOutcome(result), mentions };
}

const batch: { args: string[]; env: Record<string, string> }[] = [];
let batchRun: Promise<{ status: number; stderr: string }[]> | null = null;
/** The batch's results; its child starts at the first call, once every case is listed. */
function batchResults(): Promise<{ status: number; stderr: string }[]> {
  batchRun ??= (async () => {
    const file = join(dir, 'batch.json');
    writeFileSync(file, JSON.stringify(batch));
    const r = await runCli([file], {}, { script: 'test/reliability/cli-batch.ts' });
    if (r.status !== 0) throw new Error(`cli-batch failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as { status: number; stderr: string }[];
  })();
  return batchRun;
}

/** A case run in the batch child. */
function cliCase(name: string, args: string[], mentions: (string | RegExp)[], env: Record<string, string> = {}, status = 2): ErrorCase {
  const i = batch.push({ args, env }) - 1;
  return { name, run: () => cliOutcome(batchResults().then((all) => all[i]), status), mentions };
}

/**
 * Like cliOutcome for a refusal of several clear lines (a report that left runs out, runs locked
 * elsewhere): status `expected` and no stack trace; the lines become the Error's message.
 */
async function linesOutcome(result: Promise<CliResult>, expected: number): Promise<void> {
  const r = await result;
  if (r.status === 0) return;
  if (r.status !== expected) throw new TypeError(`exit status ${r.status}, expected ${expected}; stderr: ${r.stderr}`);
  if (/^\s+at /m.test(r.stderr)) throw new TypeError(`a stack trace on stderr: ${r.stderr}`);
  throw new Error(r.stderr.trim());
}

/** A small fake sweep (2 runs, 10 steps) finished into a results directory of its own. */
const tinySpec = specFile('tiny', { name: 'tiny', model: { family: 'mlp', depth: 2 }, parameterization: 'mup', widths: [32, 64], seeds: 1, steps: 10, eval: { every: 5 } });
const FAKE = ['--fake', '--no-progress', '--hang-timeout', '0'];
async function finishedTiny(name: string): Promise<string> {
  const results = join(dir, name);
  const r = await runCli(['sweep', tinySpec, '--results', results, ...FAKE]);
  if (r.status !== 0) throw new Error(`setup sweep failed (${r.status}): ${r.stderr}`);
  return results;
}
const runDirs = (results: string) => readdirSync(results).filter((f) => /^[0-9a-f]{12}$/.test(f));

/** A case whose command line runs after `setup` (its own processes, started now). */
function afterSetupCase(name: string, setup: () => Promise<string[]>, mentions: (string | RegExp)[], status: number, lines = false): ErrorCase {
  const result = setup().then((args) => runCli(args));
  return { name: `${name} (own processes)`, run: () => (lines ? linesOutcome(result, status) : cliOutcome(result, status)), mentions };
}

const paperSpecs = join(dir, 'paper-specs');
mkdirSync(paperSpecs);
writeFileSync(join(paperSpecs, 'alpha.json'), JSON.stringify(base));
writeFileSync(join(paperSpecs, 'quick.json'), JSON.stringify({ nosuch: { seeds: 1 } }));

const missingDir = join(dir, 'no-such-results');
const cases: ErrorCase[] = [
  spawnCase('sweep on a missing spec path', ['sweep', join(dir, 'nope.json')], ['nope.json', 'no such file', 'JSON or YAML']),
  spawnCase('--adapter LLVMPIPEX', ['--adapter', 'LLVMPIPEX', 'devices'], ['--adapter', "'LLVMPIPEX'", /adapters available: '.+ \/ .+ \/ .+'/]),
  spawnCase('WIDTHSCOPE_POISON=yes', ['describe'], ['WIDTHSCOPE_POISON', "'yes'", '1 | 0'], { WIDTHSCOPE_POISON: 'yes' }),
  // sweep: paths, specs, shards
  cliCase('sweep on a spec that is not JSON', ['sweep', notJson, '--dry-run'], ['broken.json', 'cannot parse']),
  cliCase('sweep --shard 3/2', ['sweep', goodSpec, '--shard', '3/2', '--dry-run'], ['--shard', '3', '0..1']),
  cliCase('sweep --shard abc', ['sweep', goodSpec, '--shard', 'abc', '--dry-run'], ['--shard', 'abc', 'i/n']),
  cliCase('sweep --restarts=-1', ['sweep', goodSpec, '--restarts=-1'], ['--restarts', '-1', 'integer >= 0']),
  cliCase('sweep without a spec', ['sweep'], ['missing', 'spec']),
  cliCase('SLURM_ARRAY_TASK_ID=x', ['sweep', goodSpec, '--dry-run'], ['SLURM_ARRAY_TASK_ID', "'x'", 'integer'], { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '4' }),
  cliCase('spec: maxWidth below every width', ['sweep', specFile('maxwidth', { model: { family: 'mlp', maxWidth: 16 } }), '--dry-run'], ['maxWidth', '16', 'every width', 'expected a maxWidth >= 32']),
  cliCase('spec: unknown task name', ['sweep', specFile('task', { task: 'cifar' }), '--dry-run'], ['task.name', '"cifar"', 'teacher-image | teacher-regression']),
  cliCase('spec: unknown model family in a list', ['sweep', specFile('model', { model: ['mlp', 'rnn'] }), '--dry-run'], ['model[1].family', '"rnn"', 'mlp | cnn | transformer']),
  cliCase('spec: unknown parameterization', ['sweep', specFile('param', { parameterization: 'mupp' }), '--dry-run'], ['parameterization', '"mupp"', 'sp | ntk | mup | mf']),
  cliCase('spec: unknown optimizer', ['sweep', specFile('opt', { optimizer: 'rmsprop' }), '--dry-run'], ['optimizer.name', '"rmsprop"', 'sgd | adam']),
  cliCase('sweep --results on a file', ['sweep', goodSpec, '--results', goodSpec, '--fake', '--no-progress', '--hang-timeout', '0'], ['results directory', 'good.json', 'is a file', 'expected a directory'], {}, 2),
  afterSetupCase('sweep: a second spec into a used results directory (no --force)', async () => ['sweep', goodSpec, '--results', await finishedTiny('used'), ...FAKE],
    ['holds the results of spec "tiny"', 'this is spec "quick"', 'One results directory holds one spec', '--force'], 2),
  afterSetupCase('sweep: a run locked by a live process elsewhere, --wait-for-others 0: exit 75 naming it', async () => {
    const results = await finishedTiny('locked');
    const victim = runDirs(results)[0];
    rmSync(join(results, victim), { recursive: true });
    writeFileSync(join(results, 'locks', `${victim}.lock`), JSON.stringify({ pid: 4242, host: 'node-b.example', startedAt: new Date().toISOString(), token: 'f00dfeedf00dfeed' }));
    return ['sweep', tinySpec, '--results', results, '--wait-for-others', '0', '--no-report', ...FAKE];
  }, ['still being trained by other processes', 'not done yet: ', 'pid 4242 on node-b.example'], 75, true),
  cliCase('sweep --wait-for-others soon', ['sweep', goodSpec, '--wait-for-others', 'soon', '--dry-run'], ['--wait-for-others', "'soon'", 'seconds >= 0']),
  // report
  afterSetupCase('report on runs with a missing .npy: status 1, the skipped files named, no stack', async () => {
    const results = await finishedTiny('corrupt');
    for (const r of runDirs(results)) rmSync(join(results, r, 'pred-00000005.npy'));
    return ['report', results];
  }, ['2 run(s) left out', 'pred-00000005.npy is missing', 'running the sweep again on the same spec trains these runs again'], 1, true),
  // paper
  cliCase('paper --specs on a missing folder', ['paper', '--specs', join(dir, 'no-such-specs'), '--fake'], ['paper', '--specs', 'no-such-specs', 'not a directory', 'folder of sweep specs']),
  cliCase('paper --quick whose quick.json names no spec', ['paper', '--quick', '--fake', '--specs', paperSpecs, '--results', join(dir, 'paper-out')], ['quick.json', "'nosuch'", 'not a spec in', 'alpha']),
  cliCase('report on a missing directory', ['report', missingDir], ['report', 'no-such-results', 'does not exist', 'directory written by']),
  // describe / coordcheck / demo options
  cliCase('describe --parameterization mupp', ['describe', '--parameterization', 'mupp'], ['--parameterization', "'mupp'", 'sp | ntk | mup | mf']),
  cliCase('describe --width 0', ['describe', '--width', '0'], ['--width', "'0'", 'positive integer']),
  cliCase('coordcheck --family rnn', ['coordcheck', '--family', 'rnn'], ['--family', "'rnn'", 'mlp | cnn | transformer']),
  cliCase('coordcheck --widths 64,abc', ['coordcheck', '--widths', '64,abc'], ['--widths', '64,abc', 'list of positive integers']),
  cliCase('describe mf with adam', ['describe', '--parameterization', 'mf', '--optimizer', 'adam'], ['--parameterization mf', '--optimizer adam', 'expected --optimizer sgd']),
  cliCase('describe a transformer of width 24', ['describe', '--family', 'transformer', '--width', '24'], ['--width', '24', 'multiples of its head dimension 16']),
  cliCase('coordcheck a transformer at width 40', ['coordcheck', '--family', 'transformer', '--widths', '32,40'], ['--widths', '40', 'multiples of its head dimension 16']),
  cliCase('demo --lr 0', ['demo', '--lr', '0'], ['--lr', "'0'", 'positive number']),
  cliCase('demo --steps=-3', ['demo', '--steps=-3'], ['--steps', "'-3'", 'positive integer']),
  cliCase('an unknown subcommand', ['sweeep'], ['unknown command', 'sweeep', 'expected one of', 'sweep']),
  cliCase('an unknown option', ['demo', '--stepz', '3'], ['unknown option', '--stepz', '--help']),
  // global options and the environment
  cliCase('--wait busy', ['--wait', 'busy', 'devices'], ['--wait', "'busy'", 'auto | sleep | spin']),
  cliCase('WIDTHSCOPE_WAIT=busy', ['devices'], ['WIDTHSCOPE_WAIT', "'busy'", 'auto | sleep | spin'], { WIDTHSCOPE_WAIT: 'busy' }),
  cliCase('WIDTHSCOPE_DISPATCHES_PER_SUBMIT=0', ['devices'], ['WIDTHSCOPE_DISPATCHES_PER_SUBMIT', "'0'", 'integer >= 1'], { WIDTHSCOPE_DISPATCHES_PER_SUBMIT: '0' }),
  cliCase('WIDTHSCOPE_DISPATCHES_PER_SUBMIT=2.5', ['devices'], ['WIDTHSCOPE_DISPATCHES_PER_SUBMIT', "'2.5'", 'integer >= 1'], { WIDTHSCOPE_DISPATCHES_PER_SUBMIT: '2.5' }),
  cliCase('WIDTHSCOPE_POISON=true', ['devices'], ['WIDTHSCOPE_POISON', "'true'", '1 | 0'], { WIDTHSCOPE_POISON: 'true' }),
  cliCase('WIDTHSCOPE_AUTOTUNE=yes', ['describe'], ['WIDTHSCOPE_AUTOTUNE', "'yes'", '1 | 0'], { WIDTHSCOPE_AUTOTUNE: 'yes' }),
  spawnCase('WIDTHSCOPE_DAWN_FLAGS=verbose', ['devices'], ['WIDTHSCOPE_DAWN_FLAGS', "'verbose'", 'key=value'], { WIDTHSCOPE_DAWN_FLAGS: 'verbose' }),
  cliCase('--adapter nope', ['--adapter', 'nope', 'devices'], ['--adapter', "'nope'", /adapters available: '.+ \/ .+ \/ .+'/]),
  cliCase('WIDTHSCOPE_ADAPTER=nope', ['devices'], ['WIDTHSCOPE_ADAPTER', "'nope'", /adapters available: '.+ \/ .+ \/ .+'/], { WIDTHSCOPE_ADAPTER: 'nope' }),
];

catalogue('cli', cases);
