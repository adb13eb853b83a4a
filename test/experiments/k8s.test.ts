/**
 * `widthscope k8s <spec>`: the Indexed Job manifest sets the Job fields a sharded sweep needs,
 * and its pods, run here as plain processes with the environment Kubernetes gives them
 * (JOB_COMPLETION_INDEX), write results equal to a single-process run of the same spec.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { expectSameResults, tinySpec, tmp, writeSpec } from './util.js';

const CLI = join(__dirname, '..', '..', 'bin', 'widthscope.mjs');

function widthscope(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Container {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: { name: string; value: string }[];
  resources?: { requests: Record<string, unknown>; limits: Record<string, unknown> };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

function readManifest(path: string) {
  const docs = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS());
  expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'Job']);
  const [configMap, job] = docs;
  return { configMap, job, container: job.spec.template.spec.containers[0] as Container };
}

describe('widthscope k8s', () => {
  it('writes an Indexed Job: one completion per shard, the shard count in the pod env, results and spec on volumes', () => {
    const dir = tmp('ws-k8s-');
    const specPath = writeSpec(dir, tinySpec({ name: 'Paper_Sweep', shards: 5 }));
    const out = join(dir, 'job.yaml');
    const r = widthscope(['k8s', specPath, '--image', 'registry.example/widthscope:0.1', '--out', out, '--claim', 'sweeps', '--cpu', '2', '--memory', '4Gi', '--gpus', '1', '--parallelism', '2', '--namespace', 'ml']);
    expect(r.status, r.out).toBe(0);
    const { configMap, job, container } = readManifest(out);

    expect(job.apiVersion).toBe('batch/v1');
    expect(job.metadata).toMatchObject({ name: 'widthscope-paper-sweep', namespace: 'ml' });
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 5, parallelism: 2, backoffLimitPerIndex: 2 });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(container.image).toBe('registry.example/widthscope:0.1');
    expect(container.command).toEqual(['widthscope']);
    // The shard comes from JOB_COMPLETION_INDEX with this count: no --shard in the arguments.
    expect(container.env).toContainEqual({ name: 'WIDTHSCOPE_SHARD_COUNT', value: '5' });
    expect(container.args).toEqual(['sweep', '/etc/widthscope/spec.json', '--results', '/results/Paper_Sweep', '--no-report', '--no-progress']);
    expect(container.resources).toEqual({ requests: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': 1 }, limits: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': 1 } });

    const volumes = job.spec.template.spec.volumes as { name: string; persistentVolumeClaim?: { claimName: string }; configMap?: { name: string } }[];
    const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.name, m]));
    expect(volumes.find((v) => v.name === 'results')?.persistentVolumeClaim).toEqual({ claimName: 'sweeps' });
    expect(mounts.results.mountPath).toBe('/results');
    expect(volumes.find((v) => v.name === 'spec')?.configMap).toEqual({ name: configMap.metadata.name });
    expect(mounts.spec).toEqual({ name: 'spec', mountPath: '/etc/widthscope', readOnly: true });
    expect(configMap.metadata.namespace).toBe('ml');
    expect(configMap.data['spec.json']).toBe(readFileSync(specPath, 'utf8'));
  });

  it('its pods, given JOB_COMPLETION_INDEX 0..2, write the same results as one process', async () => {
    const dir = tmp('ws-k8s-');
    const specPath = writeSpec(dir, tinySpec({ name: 'three', widths: [16, 32, 64], seeds: 2, ensemble: 1 }));
    const volume = join(dir, 'volume');
    const specMount = join(dir, 'etc');
    const out = join(dir, 'job.yaml');
    const r = widthscope(['k8s', specPath, '--shards', '3', '--image', 'any', '--fake', '--out', out, '--mount', volume, '--spec-mount', specMount,
      '--command', `${process.execPath} ${CLI}`]);
    expect(r.status, r.out).toBe(0);
    const { configMap, container } = readManifest(out);

    // What the kubelet does: the ConfigMap's files at the spec mount, the container env plus the index.
    mkdirSync(specMount, { recursive: true });
    for (const [file, text] of Object.entries(configMap.data as Record<string, string>)) writeFileSync(join(specMount, file), text);
    const pod = (index: number) => new Promise<string>((resolve, reject) => {
      const env = { ...process.env, JOB_COMPLETION_INDEX: String(index), ...Object.fromEntries(container.env.map((e) => [e.name, e.value])) };
      const child = spawn(container.command[0], [...container.command.slice(1), ...container.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout.on('data', (d) => (log += d));
      child.stderr.on('data', (d) => (log += d));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(log) : reject(new Error(`pod ${index} exited ${code}: ${log}`))));
    });
    const logs = await Promise.all([0, 1, 2].map(pod));
    logs.forEach((log, i) => expect(log).toMatch(new RegExp(`shard ${i}/3 \\(from JOB_COMPLETION_INDEX/WIDTHSCOPE_SHARD_COUNT\\): [1-6] of 6 jobs`)));

    const reference = join(dir, 'reference');
    const single = widthscope(['sweep', specPath, '--results', reference, '--fake', '--no-report', '--no-progress']);
    expect(single.status, single.out).toBe(0);
    expectSameResults(join(volume, 'three'), reference);
  });
});
