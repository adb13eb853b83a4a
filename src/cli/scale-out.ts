/**
 * @file The `slurm` and `k8s` subcommands (flags only; src/experiments/scale-out/ does the work).
 */
import { Command } from 'commander';

const collect = (value: string, all: string[] = []) => [...all, value];

export function slurmCli(): Command {
  return new Command('slurm')
    .argument('<spec>')
    .description('write a Slurm job array (one task per shard) and an afterok report job for a sweep spec; --submit submits them')
    .option('--results <dir>', 'results directory on a path every node sees (default results/<spec name>)')
    .option('--shards <n>', 'number of shards = array tasks (default: the spec\'s "shards")')
    .option('--out <dir>', 'where sweep.sbatch, report.sbatch, submit.sh and logs/ go (default <results>/slurm)')
    .option('--command <words>', 'shell words that run widthscope on a node (default: this Node and this checkout\'s bin/widthscope.mjs)')
    .option('--partition <name>', 'Slurm partition')
    .option('--account <name>', 'Slurm account')
    .option('--time <limit>', 'time limit per task, e.g. 4:00:00')
    .option('--cpus-per-task <n>', 'CPUs per task', '1')
    .option('--mem <size>', 'memory per task, e.g. 8G')
    .option('--gpus-per-task <n>', 'GPUs per array task')
    .option('--max-parallel <n>', 'at most n tasks at once')
    .option('--sbatch <option>', 'a further #SBATCH option for both jobs (repeatable)', collect)
    .option('--fake', 'shards use the deterministic stand-in trainer')
    .option('--submit', 'submit the array and the report job with sbatch')
    .action(async (spec: string, o: Record<string, never>) => {
      const { slurmCommand } = await import('../experiments/scale-out/commands.js');
      process.exitCode = slurmCommand(spec, o);
    });
}

export function k8sCli(): Command {
  return new Command('k8s')
    .argument('<spec>')
    .description('write a Kubernetes Indexed Job manifest (one completion per shard, results on a shared volume) for a sweep spec')
    .option('--image <image>', 'container image with widthscope installed (required)')
    .option('--shards <n>', 'number of shards = completions (default: the spec\'s "shards")')
    .option('--command <words>', 'words that run widthscope in the image', 'widthscope')
    .option('--claim <name>', 'ReadWriteMany PersistentVolumeClaim for the results', 'widthscope-results')
    .option('--mount <path>', 'where the claim is mounted; results go to <path>/<spec name>', '/results')
    .option('--spec-mount <path>', 'where the spec\'s ConfigMap is mounted', '/etc/widthscope')
    .option('--out <file>', 'manifest file (default widthscope-<spec name>.yaml)')
    .option('--namespace <ns>', 'namespace of the Job and ConfigMap')
    .option('--parallelism <n>', 'pods at once (default: all shards)')
    .option('--cpu <quantity>', 'CPU request and limit per pod, e.g. 2')
    .option('--memory <quantity>', 'memory request and limit per pod, e.g. 8Gi')
    .option('--gpus <n>', 'nvidia.com/gpu per pod')
    .option('--retries <n>', 'retries per shard (backoffLimitPerIndex)', '2')
    .option('--fake', 'shards use the deterministic stand-in trainer')
    .action(async (spec: string, o: Record<string, never>) => {
      const { k8sCommand } = await import('../experiments/scale-out/commands.js');
      process.exitCode = k8sCommand(spec, o);
    });
}
