/**
 * @file Adapter choice and device options, in process: a wish that matches no adapter, bad
 * options and environment values, spec validation (names, maxWidth), and the faults around them:
 * case-insensitive matching, a failed init() that must not poison the next, and Dawn's
 * limit-clamping warnings kept off stderr unless --verbose (checked in child processes).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Device, getDevice, init, shutdown } from '../../src/index.js';
import { adapterMatches, DAWN_LIMIT_WARNING, enumerateAdapters, pickAdapter } from '../../src/tensor/adapters.js';
import { autotuneDefault } from '../../src/ops/autotune.js';
import { loadSpec, validateSpec } from '../../src/experiments/index.js';
import { parseShard } from '../../src/experiments/shard.js';
import { UsageError } from '../../src/util/usage-error.js';
import { catalogue, type ErrorCase, type FaultCase } from './catalogue.js';
import { ROOT, runCli } from './cli-run.js';

const good = JSON.parse(readFileSync(join(ROOT, 'examples/quick.json'), 'utf8')) as Record<string, unknown>;

/** Runs `fn` with the environment variable set, then restores it. */
async function withEnv(name: string, value: string, fn: () => unknown): Promise<unknown> {
  const before = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

const available = /adapters available: '.+ \/ .+ \/ .+'/;

const cases: ErrorCase[] = [
  { name: 'Device.create({ adapter: "no-such-gpu" })', error: UsageError, run: () => Device.create({ adapter: 'no-such-gpu' }), mentions: ['--adapter', 'WIDTHSCOPE_ADAPTER', "'no-such-gpu'", available] },
  { name: 'WIDTHSCOPE_ADAPTER=no-such-gpu', error: UsageError, run: () => withEnv('WIDTHSCOPE_ADAPTER', 'no-such-gpu', () => Device.create()), mentions: ['WIDTHSCOPE_ADAPTER', "'no-such-gpu'", available] },
  { name: 'Device.create({ adapter: "  " })', error: UsageError, run: () => Device.create({ adapter: '  ' }), mentions: ['--adapter', "'  '", "part of an adapter's name"] },
  { name: 'Device.create({ wait: "busy" })', error: UsageError, run: () => Device.create({ wait: 'busy' as never }), mentions: ['wait strategy', "'busy'", "'auto', 'sleep', 'spin' or 'predict'"] },
  { name: 'Device.create({ maxDispatchesPerSubmit: 0 })', error: UsageError, run: () => Device.create({ maxDispatchesPerSubmit: 0 }), mentions: ['maxDispatchesPerSubmit', '0', 'integer >= 1'] },
  { name: 'WIDTHSCOPE_DISPATCHES_PER_SUBMIT=-1', error: UsageError, run: () => withEnv('WIDTHSCOPE_DISPATCHES_PER_SUBMIT', '-1', () => Device.create()), mentions: ['WIDTHSCOPE_DISPATCHES_PER_SUBMIT', "'-1'", 'integer >= 1'] },
  { name: 'WIDTHSCOPE_POISON=on', error: UsageError, run: () => withEnv('WIDTHSCOPE_POISON', 'on', () => Device.create()), mentions: ['WIDTHSCOPE_POISON', "'on'", '1 | 0'] },
  { name: 'WIDTHSCOPE_AUTOTUNE=maybe', error: UsageError, run: () => withEnv('WIDTHSCOPE_AUTOTUNE', 'maybe', () => autotuneDefault()), mentions: ['WIDTHSCOPE_AUTOTUNE', "'maybe'", '1 | 0'] },
  { name: 'spec: maxWidth below every width', error: UsageError, run: () => validateSpec({ ...good, model: [{ family: 'mlp' }, { family: 'cnn', maxWidth: 8 }] }, 'm.json'), mentions: ['model[1].maxWidth', '8', 'every width', 'expected a maxWidth >= 32'] },
  { name: 'spec: unknown task name (shorthand)', error: UsageError, run: () => validateSpec({ ...good, task: 'cifar10' }), mentions: ['task.name', '"cifar10"', 'teacher-image', 'teacher-regression', 'teacher-gaussian', 'markov-text', 'moby-dick'] },
  { name: 'spec: unknown parameterization in a list', error: UsageError, run: () => validateSpec({ ...good, parameterization: ['mup', 'mupp'] }), mentions: ['parameterization[1].name', '"mupp"', 'sp | ntk | mup | mf'] },
  { name: 'spec: unknown model family (object)', error: UsageError, run: () => validateSpec({ ...good, model: { family: 'rnn', depth: 2 } }), mentions: ['model.family', '"rnn"', 'mlp | cnn | transformer'] },
  { name: 'loadSpec on a missing path', error: UsageError, run: () => loadSpec('/no/such/spec.yaml'), mentions: ['/no/such/spec.yaml', 'no such file', 'JSON or YAML'] },
  { name: 'parseShard("2/2")', error: UsageError, run: () => parseShard('2/2'), mentions: ['--shard', '2', '0..1'] },
];

const faults: FaultCase[] = [
  {
    name: 'the adapter is matched in any case on vendor, architecture, device and description',
    run: async () => {
      const { info } = (await enumerateAdapters())[0];
      for (const wish of [info.vendor.toUpperCase(), info.architecture.toLowerCase(), info.device.toUpperCase(), info.description.slice(0, 8).toLowerCase()].filter((w) => w.trim() !== '')) {
        expect(adapterMatches(info, wish), wish).toBe(true);
        const d = await Device.create({ adapter: wish });
        expect(d.adapterInfo.description).toBe(info.description);
        d.destroy();
      }
      if (/llvmpipe/i.test(info.description)) for (const wish of ['mesa', 'software', 'LLVMPIPE']) expect(pickAdapter(await enumerateAdapters(), wish).info.description).toBe(info.description);
    },
  },
  {
    name: 'a failed init() does not poison the next one',
    timeoutMs: 120_000,
    run: async () => {
      shutdown();
      await expect(init({ adapter: 'no-such-gpu' })).rejects.toThrow(/no adapter matches 'no-such-gpu'/);
      await expect(init({ wait: 'busy' as never })).rejects.toThrow(/wait strategy/);
      const d = await init({ poison: true });
      expect(getDevice()).toBe(d);
      expect(d.describe()).toMatch(/\(wait: /);
      // In a fresh process, where the failed init() is the first to touch Dawn.
      const script = [
        "import { init, shutdown } from './src/index.ts';",
        "await init({ adapter: 'no-such-gpu' }).then(() => console.log('matched?'), (e) => console.log('refused:', e.message.slice(0, 60)));",
        "const d = await init();",
        "console.log('then:', d.describe());",
        'shutdown();',
      ].join('\n');
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VITEST: '' } });
      expect(out).toMatch(/^refused: --adapter \/ WIDTHSCOPE_ADAPTER: no adapter/m);
      expect(out).toMatch(/^then: .+ \/ .+ \(wait: /m);
    },
  },
  {
    name: "Dawn's limit warnings stay off stderr (a file, a shell pipe), and --verbose shows them",
    timeoutMs: 120_000,
    run: async () => {
      const [file, verbose] = await Promise.all([runCli(['devices']), runCli(['--verbose', 'devices'])]);
      expect(file.status).toBe(0);
      expect(file.stdout).toMatch(/^adapter: /m);
      expect(file.stderr).not.toMatch(/artificially reduced/);
      expect(verbose.status).toBe(0);
      if (/llvmpipe/i.test(file.stdout)) expect(verbose.stderr.split('\n').filter((l) => DAWN_LIMIT_WARNING.test(l))).toHaveLength(2);
      // A shell pipe (a FIFO), with stdout and stderr into one pipe.
      const piped = execFileSync('bash', ['-c', 'node --import tsx src/cli/main.ts devices 2>&1 | cat'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VITEST: '' } });
      expect(piped).toMatch(/^adapter: /m);
      expect(piped).not.toMatch(/artificially reduced/);
    },
  },
];

catalogue('adapter', cases, faults);
