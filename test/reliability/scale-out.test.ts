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

const cases: ErrorCase[] = [
  { name: 'slurm --shards 0', run: slurm({ shards: '0' }), mentions: ['--shards', '"0"', 'positive integer'] },
  { name: 'slurm --shards 2.5', run: slurm({ shards: '2.5' }), mentions: ['--shards', '"2.5"', 'positive integer'] },
  { name: 'slurm without --shards on a spec without "shards"', run: slurm({}, unsharded), mentions: ['slurm', '--shards', '"shards" field'] },
  { name: 'slurm on a spec file that does not exist', run: slurm({}, join(dir, 'nope.json')), mentions: ['slurm', 'nope.json', 'does not exist'] },
  { name: 'slurm --time "2 hours"', run: slurm({ time: '2 hours' }), mentions: ['--time', '"2 hours"', 'HH:MM:SS'] },
  { name: 'slurm --mem lots', run: slurm({ mem: 'lots' }), mentions: ['--mem', '"lots"', '4G'] },
  { name: 'slurm --cpus-per-task 0', run: slurm({ cpusPerTask: '0' }), mentions: ['--cpus-per-task', '"0"', 'positive integer'] },
  { name: 'slurm --gpus-per-task x', run: slurm({ gpusPerTask: 'x' }), mentions: ['--gpus-per-task', '"x"', 'positive integer'] },
  { name: 'slurm --max-parallel -1', run: slurm({ maxParallel: '-1' }), mentions: ['--max-parallel', '"-1"', 'positive integer'] },
  { name: 'slurm --partition "a b"', run: slurm({ partition: 'a b' }), mentions: ['--partition', '"a b"', 'Slurm name'] },
  { name: 'slurm --sbatch qos=low (no dashes)', run: slurm({ sbatch: ['qos=low'] }), mentions: ['--sbatch', '"qos=low"', 'one sbatch option'] },
  { name: 'slurm --command ""', run: slurm({ command: ' ' }), mentions: ['--command', '" "', 'run widthscope'] },
  { name: 'slurm --out with a blank (goes into #SBATCH lines)', run: slurm({ out: join(dir, 'my logs') }), mentions: ['--out', 'my logs', 'without blanks'] },
  { name: 'k8s without --image', run: k8s({ image: undefined }), mentions: ['k8s', '--image', 'required'] },
  { name: 'k8s --image with a blank', run: k8s({ image: 'a b' }), mentions: ['--image', '"a b"', 'container image'] },
  { name: 'k8s --shards 0', run: k8s({ shards: '0' }), mentions: ['--shards', '"0"', 'positive integer'] },
  { name: 'k8s --claim "My Claim"', run: k8s({ claim: 'My Claim' }), mentions: ['--claim', '"My Claim"', 'PersistentVolumeClaim'] },
  { name: 'k8s --mount results (relative)', run: k8s({ mount: 'results' }), mentions: ['--mount', '"results"', 'absolute path'] },
  { name: 'k8s --spec-mount etc (relative)', run: k8s({ specMount: 'etc' }), mentions: ['--spec-mount', '"etc"', 'absolute path'] },
  { name: 'k8s --namespace ML', run: k8s({ namespace: 'ML' }), mentions: ['--namespace', '"ML"', 'DNS name'] },
  { name: 'k8s --cpu two', run: k8s({ cpu: 'two' }), mentions: ['--cpu', '"two"', 'quantity'] },
  { name: 'k8s --memory 4 GB', run: k8s({ memory: '4 GB' }), mentions: ['--memory', '"4 GB"', 'quantity'] },
  { name: 'k8s --parallelism 0', run: k8s({ parallelism: '0' }), mentions: ['--parallelism', '"0"', 'positive integer'] },
  { name: 'k8s --retries -1', run: k8s({ retries: '-1' }), mentions: ['--retries', '"-1"', 'integer >= 0'] },
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
