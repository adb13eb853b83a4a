/**
 * The generated Slurm files, run without Slurm: each array task executes exactly the shard's
 * `sweep` command (whatever the paths hold), the #SBATCH header carries the resources, and
 * submit.sh makes the report job depend on the array with afterok.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCommand } from '../../src/experiments/scale-out/common.js';
import { slurmScripts, writeSlurmScripts, type SlurmScriptOptions } from '../../src/experiments/scale-out/slurm.js';
import { tmp } from './util.js';

function options(dir: string, over: Partial<SlurmScriptOptions> = {}): SlurmScriptOptions {
  return {
    specPath: join(dir, "my spec's $HOME.json"), specName: 'paper', shards: 4,
    results: join(dir, 'shared results'), outDir: join(dir, 'slurm'),
    command: `printf '%s\\n'`, fake: true, ...over,
  };
}

/** The `#SBATCH` options, and a check that they all precede the first command (sbatch stops reading there). */
function sbatchOptions(script: string): string[] {
  const lines = script.split('\n');
  const firstCommand = lines.findIndex((l, i) => i > 0 && l.trim() !== '' && !l.startsWith('#'));
  const opts = lines.flatMap((l, i) => (l.startsWith('#SBATCH ') ? [[i, l.slice(8)] as const] : []));
  for (const [i, o] of opts) expect(i, `#SBATCH ${o} comes after the first command`).toBeLessThan(firstCommand);
  return opts.map(([, o]) => o);
}

describe('widthscope slurm: the generated files', () => {
  it('array task i runs `sweep <spec> --results <dir> --shard i/n` with every path intact', () => {
    const dir = tmp("ws-slurm-'q ");
    const o = options(dir, { outDir: join(tmp(), 'slurm') });
    const files = writeSlurmScripts(o);
    for (const f of Object.values(files)) expect(spawnSync('bash', ['-n', f]).status, `bash -n ${f}`).toBe(0);
    for (const task of [0, 3]) {
      const r = spawnSync('bash', [files.sweep], { encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: String(task) } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split('\n').slice(0, -1)).toEqual(['sweep', o.specPath, '--results', o.results, '--no-report', '--no-progress', '--fake', '--hang-timeout', '0', '--shard', `${task}/4`]);
    }
    const rep = spawnSync('bash', [files.report], { encoding: 'utf8' });
    expect(rep.stdout.split('\n').slice(0, -1)).toEqual(['report', o.results]);
  });

  it('the #SBATCH header: one task per shard, the resources per task, logs under <out>/logs', () => {
    const dir = tmp();
    const o = options(dir, { partition: 'gpu', account: 'lab-1', time: '2:00:00', cpusPerTask: 4, mem: '16G', gpusPerTask: 1, maxParallel: 2, sbatch: ['--qos=low'] });
    const s = slurmScripts(o);
    const common = ['--ntasks=1', '--cpus-per-task=4', '--partition=gpu', '--account=lab-1', '--time=2:00:00', '--mem=16G'];
    expect(sbatchOptions(s.sweep)).toEqual(['--job-name=widthscope-paper', '--array=0-3%2', ...common, '--gpus-per-task=1', '--qos=low',
      `--output=${o.outDir}/logs/sweep-%A_%a.out`, '--open-mode=append']);
    // The report job needs no GPU, and goes away when afterok can no longer be met.
    expect(sbatchOptions(s.report)).toEqual(['--job-name=widthscope-paper-report', ...common, '--qos=low', `--output=${o.outDir}/logs/report-%j.out`, '--kill-on-invalid-dep=yes']);
    expect(sbatchOptions(slurmScripts(options(dir, { shards: 1 })).sweep)).toContain('--array=0-0');
  });

  it('submit.sh submits the array, then the report job with --dependency=afterok on it', () => {
    const dir = tmp();
    const o = options(dir);
    const files = writeSlurmScripts(o);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const calls = join(dir, 'calls.txt');
    // A stand-in sbatch: records its arguments, answers like --parsable on a federated cluster, then a plain id.
    writeFileSync(join(bin, 'sbatch'), `#!/bin/bash\necho "$*" >> '${calls}'\nn=$(wc -l < '${calls}')\n[ "$n" = 1 ] && echo "4711;cluster" || echo 4712\n`);
    chmodSync(join(bin, 'sbatch'), 0o755);
    const r = spawnSync('bash', [files.submit], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual([`--parsable ${files.sweep}`, `--parsable --dependency=afterok:4711 ${files.report}`]);
    expect(r.stdout.trim()).toBe('submitted array job 4711 (4 tasks) and report job 4712 (afterok:4711)');
  });

  it('the default --command runs this checkout from any directory (a job starts in the submitter\'s directory)', () => {
    const r = spawnSync('bash', ['-c', `${defaultCommand()} slurm --help`], { encoding: 'utf8', cwd: tmp() });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: widthscope slurm');
  });
});
