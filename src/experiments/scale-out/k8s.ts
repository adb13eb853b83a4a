/**
 * @file `widthscope k8s <spec>`: a Kubernetes Indexed Job with one completion per shard.
 *
 * The manifest holds two objects: a ConfigMap with the spec file, and a Job with
 * `completionMode: Indexed`, `completions` = `parallelism` = the shard count and
 * WIDTHSCOPE_SHARD_COUNT set, so pod i (JOB_COMPLETION_INDEX=i) runs shard i of n
 * (src/experiments/shard.ts). Every pod mounts one PersistentVolumeClaim (ReadWriteMany) and
 * writes into one results directory on it. Kubernetes has no afterok: run `widthscope report`
 * on the results directory when the Job is complete.
 */
import { basename, posix } from 'node:path';
import { stringify } from 'yaml';
import { shardSweepArgs } from './common.js';

export interface K8sManifestOptions {
  specName: string;
  /** The spec file's text and name (it goes into the ConfigMap as is). */
  specText: string;
  specFile: string;
  shards: number;
  image: string;
  /** Words that run widthscope in the image (split on blanks; no shell). */
  command: string;
  /** An existing ReadWriteMany PersistentVolumeClaim for the results. */
  claim: string;
  /** Where the claim is mounted in each pod; results go to <mount>/<spec name>. */
  mount: string;
  /** Where the spec's ConfigMap is mounted. */
  specMount: string;
  fake?: boolean;
  namespace?: string;
  /** Pods at once (default: all shards). */
  parallelism?: number;
  cpu?: string;
  memory?: string;
  gpus?: number;
  /** Retries per index before the Job gives up on it. */
  backoffLimitPerIndex?: number;
}

export const SHARD_COUNT_ENV = 'WIDTHSCOPE_SHARD_COUNT';
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** A DNS-1123 name from the spec's name (Kubernetes object names). */
export const k8sName = (specName: string) =>
  `widthscope-${specName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '')}`.slice(0, 52).replace(/-+$/, '');

export function checkK8sOptions(o: K8sManifestOptions): void {
  const bad = (option: string, value: unknown, expected: string) => {
    throw new Error(`k8s: ${option}: expected ${expected}, got ${JSON.stringify(value)}`);
  };
  if (!Number.isInteger(o.shards) || o.shards < 1) bad('--shards', o.shards, 'a positive integer');
  if (!o.image || /\s/.test(o.image)) bad('--image', o.image, 'a container image with widthscope installed, e.g. registry/widthscope:0.1');
  if (o.command.trim() === '') bad('--command', o.command, 'the words that run widthscope in the image');
  if (!DNS_NAME.test(o.claim)) bad('--claim', o.claim, 'the name of a ReadWriteMany PersistentVolumeClaim (lower-case DNS name)');
  for (const [opt, v] of [['--mount', o.mount], ['--spec-mount', o.specMount]] as const)
    if (!posix.isAbsolute(v)) bad(opt, v, 'an absolute path in the pod');
  if (o.namespace !== undefined && !DNS_NAME.test(o.namespace)) bad('--namespace', o.namespace, 'a lower-case DNS name');
  for (const [opt, v] of [['--parallelism', o.parallelism], ['--gpus', o.gpus]] as const)
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) bad(opt, v, 'a positive integer');
  if (o.backoffLimitPerIndex !== undefined && (!Number.isInteger(o.backoffLimitPerIndex) || o.backoffLimitPerIndex < 0))
    bad('--retries', o.backoffLimitPerIndex, 'an integer >= 0');
  for (const [opt, v] of [['--cpu', o.cpu], ['--memory', o.memory]] as const)
    if (v !== undefined && !QUANTITY.test(v)) bad(opt, v, 'a Kubernetes quantity such as 2, 500m or 4Gi');
}

/** The results directory inside each pod. */
export const podResults = (o: Pick<K8sManifestOptions, 'mount' | 'specName'>) => posix.join(o.mount, o.specName);

/** The ConfigMap and the Indexed Job, as objects (in this order). */
export function k8sObjects(o: K8sManifestOptions): [Record<string, unknown>, Record<string, unknown>] {
  checkK8sOptions(o);
  const name = k8sName(o.specName);
  const meta = (n: string) => ({ name: n, ...(o.namespace ? { namespace: o.namespace } : {}), labels: { app: 'widthscope', 'widthscope/sweep': name } });
  const specKey = basename(o.specFile);
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${name}-spec`), data: { [specKey]: o.specText } };
  const resources: Record<string, string | number> = {};
  if (o.cpu) resources.cpu = o.cpu;
  if (o.memory) resources.memory = o.memory;
  if (o.gpus) resources['nvidia.com/gpu'] = o.gpus;
  const container = {
    name: 'shard',
    image: o.image,
    command: o.command.trim().split(/\s+/),
    args: shardSweepArgs(posix.join(o.specMount, specKey), podResults(o), o.fake ?? false),
    env: [{ name: SHARD_COUNT_ENV, value: String(o.shards) }],
    ...(Object.keys(resources).length > 0 ? { resources: { requests: resources, limits: resources } } : {}),
    volumeMounts: [
      { name: 'results', mountPath: o.mount },
      { name: 'spec', mountPath: o.specMount, readOnly: true },
    ],
  };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(name),
    spec: {
      completionMode: 'Indexed',
      completions: o.shards,
      parallelism: Math.min(o.parallelism ?? o.shards, o.shards),
      backoffLimitPerIndex: o.backoffLimitPerIndex ?? 2,
      template: {
        metadata: { labels: { app: 'widthscope', 'widthscope/sweep': name } },
        spec: {
          restartPolicy: 'Never',
          containers: [container],
          volumes: [
            { name: 'results', persistentVolumeClaim: { claimName: o.claim } },
            { name: 'spec', configMap: { name: `${name}-spec` } },
          ],
        },
      },
    },
  };
  return [configMap, job];
}

/** Plain YAML: the spec as a literal block, no anchors or aliases. */
const YAML_OPTIONS = { blockQuote: 'literal', aliasDuplicateObjects: false, lineWidth: 0 } as const;

/** The manifest: both objects as one YAML stream for `kubectl apply -f`. */
export function k8sManifest(o: K8sManifestOptions): string {
  const [configMap, job] = k8sObjects(o);
  return [
    `# widthscope sweep "${o.specName}" as a Kubernetes Indexed Job: pod i trains shard i of ${o.shards}`,
    `# into ${podResults(o)} on the claim ${o.claim}. Apply with kubectl apply -f; when the Job is`,
    `# complete, run: widthscope report ${podResults(o)} (in a pod that mounts the claim).`,
    stringify(configMap, YAML_OPTIONS).trimEnd(),
    '---',
    stringify(job, YAML_OPTIONS).trimEnd(),
    '',
  ].join('\n');
}
