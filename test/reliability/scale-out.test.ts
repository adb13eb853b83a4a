/**
 * Reliability catalogue, scale-out: bad options of `widthscope slurm` and `widthscope k8s`, the
 * fake trainer's sleep variable and a corrupt shards.json. Each must fail with a message naming
 * the option, the value given and what was expected, before anything is written.
 */
import { describe } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeTrainerOptionsFromEnv } from '../../src/experiments/fake-trainer.js';
import { k8sCommand, slurmCommand, type K8sCommandOptions, type SlurmCommandOptions } from '../../src/experiments/scale-out/commands.js';
import { missingShardLines } from '../../src/experiments/scale-out/shard-plan.js';
import { tinySpec, tmp, writeSpec } from '../experiments/util.js';
import { catalogue, type ErrorCase } from './catalogue.js';

const dir = tmp('ws-scale-out-');
const spec = writeSpec(dir, tinySpec({ shards: 4 }));
const unsharded = writeSpec(dir, tinySpec(), 'unsharded.json');
const results = join(dir, 'results');

/** Runs a command function; its exit status 2 with the stderr lines becomes a thrown Error. */
function throwing(run: (err: (l: string) => void) => number): void {
  const lines: string[] = [];
  const code = run((l) => lines.push(l));
  if (code !== 0) throw new Error(lines.join('\n'));
}
const slurm = (o: SlurmCommandOptions, path = spec) => () => throwing((err) => slurmCommand(path, { results, ...o }, () => {}, err));
const k8s = (o: K8sCommandOptions, path = spec) => () => throwing((err) => k8sCommand(path, { image: 'img', out: join(dir, 'job.yaml'), ...o }, () => {}, err));

/** `--flag` -> its options key (`--cpus-per-task` -> `cpusPerTask`). */
const optionKey = (flag: string): string => flag.slice(2).replace(/-(.)/g, (_, c: string) => c.toUpperCase());

/**
 * A bad option value: `[command, flag, value, expected, note?]`; the message must name the flag,
 * the value in quotes and what was expected.
 */
const badValues: [cmd: 'slurm' | 'k8s', flag: string, value: string, expected: string, note?: string][] = [
  ['slurm', '--shards', '0', 'positive integer'],
  ['slurm', '--shards', '2.5', 'positive integer'],
  ['slurm', '--time', '2 hours', 'HH:MM:SS'],
  ['slurm', '--mem', 'lots', '4G'],
  ['slurm', '--cpus-per-task', '0', 'positive integer'],
  ['slurm', '--gpus-per-task', 'x', 'positive integer'],
  ['slurm', '--max-parallel', '-1', 'positive integer'],
  ['slurm', '--partition', 'a b', 'Slurm name'],
  ['k8s', '--image', 'a b', 'container image'],
  ['k8s', '--shards', '0', 'positive integer'],
  ['k8s', '--claim', 'My Claim', 'PersistentVolumeClaim'],
  ['k8s', '--mount', 'results', 'absolute path', ' (relative)'],
  ['k8s', '--spec-mount', 'etc', 'absolute path', ' (relative)'],
  ['k8s', '--namespace', 'ML', 'DNS name'],
  ['k8s', '--cpu', 'two', 'quantity'],
  ['k8s', '--memory', '4 GB', 'quantity'],
  ['k8s', '--parallelism', '0', 'positive integer'],
  ['k8s', '--retries', '-1', 'integer >= 0'],
];

const cases: ErrorCase[] = [
  ...badValues.map(([cmd, flag, value, expected, note = '']): ErrorCase => ({
    name: `${cmd} ${flag} ${value.includes(' ') ? `"${value}"` : value}${note}`,
    run: (cmd === 'slurm' ? slurm : k8s)({ [optionKey(flag)]: value }),
    mentions: [flag, `"${value}"`, expected],
  })),
  { name: 'slurm without --shards on a spec without "shards"', run: slurm({}, unsharded), mentions: ['slurm', '--shards', '"shards" field'] },
  { name: 'slurm on a spec file that does not exist', run: slurm({}, join(dir, 'nope.json')), mentions: ['slurm', 'nope.json', 'does not exist'] },
  { name: 'slurm --sbatch qos=low (no dashes)', run: slurm({ sbatch: ['qos=low'] }), mentions: ['--sbatch', '"qos=low"', 'one sbatch option'] },
  { name: 'slurm --command ""', run: slurm({ command: ' ' }), mentions: ['--command', '" "', 'run widthscope'] },
  { name: 'slurm --out with a blank (goes into #SBATCH lines)', run: slurm({ out: join(dir, 'my logs') }), mentions: ['--out', 'my logs', 'without blanks'] },
  { name: 'k8s without --image', run: k8s({ image: undefined }), mentions: ['k8s', '--image', 'required'] },
  { name: 'WIDTHSCOPE_FAKE_SLEEP_MS=fast', run: () => fakeTrainerOptionsFromEnv({ WIDTHSCOPE_FAKE_SLEEP_MS: 'fast' }), mentions: ['WIDTHSCOPE_FAKE_SLEEP_MS', '"fast"', 'milliseconds'] },
  { name: 'WIDTHSCOPE_FAKE_SLEEP_MS=-5', run: () => fakeTrainerOptionsFromEnv({ WIDTHSCOPE_FAKE_SLEEP_MS: '-5' }), mentions: ['WIDTHSCOPE_FAKE_SLEEP_MS', '"-5"', '>= 0'] },
  {
    name: 'report on a results directory whose shards.json is not a shard plan',
    run: () => {
      const r = tmp();
      writeFileSync(join(r, 'shards.json'), '{"count": "four"}');
      return missingShardLines(r, ['abc']);
    },
    mentions: ['shards.json', '"four"', 'expected { count, shards'],
  },
];

describe('scale-out', () => catalogue('scale-out', cases));
