/**
 * @file The `widthscope` command: one command, subcommands, `--help` for each.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { init, shutdown } from '../tensor/runtime.js';
import type { Device } from '../tensor/device.js';
import { enumerateAdapters, formatAdapter } from '../tensor/adapters.js';
import { autotuneDefault } from '../ops/autotune.js';
import { UsageError } from '../util/usage-error.js';
import { checkModelOptions, oneOf, positiveInt, positiveIntList, positiveNumber, shard } from './options.js';
import { runDemo } from './demo.js';
import { describeModel } from './describe.js';
import { k8sCli, slurmCli } from './scale-out.js';
import { SWEEP_WORKER_ENV, superviseSweep } from './supervise.js';
import { startWatchdog } from '../tensor/watchdog.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FAMILIES = ['mlp', 'cnn', 'transformer'];
const OPTIMIZERS = ['sgd', 'adam'];

const program = new Command('widthscope').description('Width sweeps on WebGPU: muP, kernels, autodiff');
// Commander's own errors (unknown option, missing argument) are thrown to the handler at the end,
// after one line that says what was expected.
program.exitOverride();
program.configureOutput({
  outputError: (text, write) => {
    const line = text.trim().replace(/\s*\n\s*/g, ' ');
    const hint = /unknown command/.test(line)
      ? `; expected one of ${program.commands.map((c) => c.name()).join(', ')}`
      : " (see 'widthscope --help' or 'widthscope <command> --help')";
    write(`widthscope: ${line.replace(/^error: /, '')}${hint}\n`);
  },
});
program.option('--adapter <name>', 'part of the adapter to use, any case: vendor, architecture, device or description (env WIDTHSCOPE_ADAPTER; see `devices`)');
program.option('--wait <strategy>', 'how awaits poll the GPU: auto | sleep | spin | predict (env WIDTHSCOPE_WAIT)', oneOf('--wait', ['auto', 'sleep', 'spin', 'predict']));
program.option('--verbose', "print the adapter picked and Dawn's notices");
// Environment variables read later (mid-run) are checked before any work starts.
program.hook('preAction', () => {
  autotuneDefault();
});

/** Runs `fn` on the chosen device and always tears the device down. */
async function withDevice(fn: (d: Device) => Promise<number | void>): Promise<void> {
  const o = program.opts<{ adapter?: string; wait?: 'auto' | 'sleep' | 'spin' | 'predict'; verbose?: boolean }>();
  const d = await init({ adapter: o.adapter, wait: o.wait, verbose: o.verbose });
  try {
    const code = await fn(d);
    if (code) process.exitCode = code;
  } finally {
    shutdown();
  }
}

/** A command that builds a model: it starts with --family and --optimizer, the same on every such command. */
function modelCommand(name: string, description: string): Command {
  return program.command(name).description(description)
    .addOption(new Option('--family <f>', 'mlp | cnn | transformer').default('mlp').argParser(oneOf('--family', FAMILIES)))
    .addOption(new Option('--optimizer <o>', 'sgd | adam').default('adam').argParser(oneOf('--optimizer', OPTIMIZERS)));
}

program
  .command('devices')
  .description('list the adapters Dawn offers (--adapter / WIDTHSCOPE_ADAPTER picks one), then the one picked and its limits')
  .action(async () => {
    for (const { info } of await enumerateAdapters(undefined, program.opts().verbose)) {
      console.log(`available: ${formatAdapter(info)} (device ${info.device})`);
    }
    await withDevice(async (d) => {
      console.log(`adapter: ${d.describe()}`);
      const l = d.limits;
      console.log(
        `maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxBufferSize ${l.maxBufferSize}, ` +
          `maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`,
      );
    });
  });

program
  .command('sweep <spec>')
  .description('run a sweep spec (JSON or YAML): resumable; finished runs are skipped')
  .option('--results <dir>', 'results directory (default results/<spec name>)')
  .option('--shard <i/n>', 'run the i-th of n balanced shares (0-based); default from SLURM/Kubernetes env', shard)
  .option('--no-report', 'do not write the report when the sweep finishes')
  .option('--no-progress', 'no progress bars')
  .option('--dry-run', 'validate the spec and list its runs')
  .option('--fake', 'use the deterministic stand-in trainer (pipeline demos)')
  .option('--force', "use a results directory that holds another spec's results: its sweep.json is replaced by this spec's; run directories are kept (runs of both specs are shared) and the next report covers this spec only")
  .option('--hang-timeout <seconds>', 'a native call that blocks the sweep this long is a hang: print stacks, restart the sweep (0: off)', '600')
  .option('--restarts <n>', 'how many times a hung sweep is started again', '3')
  .option('--wait-for-others <seconds>', 'how long to wait at the end for runs other processes are training; then exit 75 naming them (default: until they finish, or their lock goes stale)')
  .action(async (spec: string, o: SweepOptions) => {
    const hangS = Number(o.hangTimeout);
    const restarts = Number(o.restarts);
    if (!(hangS >= 0) || !Number.isInteger(restarts) || restarts < 0) {
      console.error(`sweep: --hang-timeout must be a number of seconds >= 0 and --restarts an integer >= 0; got '${o.hangTimeout}' and '${o.restarts}'`);
      process.exitCode = 2;
      return;
    }
    if (o.waitForOthers !== undefined && !(Number(o.waitForOthers) >= 0)) {
      throw new UsageError(`sweep: --wait-for-others must be a number of seconds >= 0, got '${o.waitForOthers}'`);
    }
    if (hangS > 0 && !o.dryRun && !process.env[SWEEP_WORKER_ENV]) {
      process.exitCode = await superviseSweep({ restarts });
      return;
    }
    // Not stopped: it also covers the device's teardown and the exit (its worker is unref'd).
    if (hangS > 0 && !o.dryRun) startWatchdog(`sweep ${spec}`, hangS);
    await sweep(spec, o);
  });

interface SweepOptions {
  results?: string;
  shard?: string;
  report: boolean;
  progress: boolean;
  dryRun?: boolean;
  fake?: boolean;
  force?: boolean;
  hangTimeout: string;
  restarts: string;
  waitForOthers?: string;
}

async function sweep(spec: string, o: SweepOptions): Promise<void> {
  const { runSweepCommand, SpecError } = await import('../experiments/index.js');
  const { createModelTrainer } = await import('../experiments/model-trainer.js');
  (await import('../experiments/spec/load.js')).loadSpec(spec); // a bad spec fails before the device is made
  const run = async (device?: Device) =>
    runSweepCommand(spec, {
      results: o.results, shard: o.shard, report: o.report, progress: o.progress, dryRun: o.dryRun, fake: o.fake, force: o.force,
      waitForOthersSeconds: o.waitForOthers === undefined ? undefined : Number(o.waitForOthers),
      trainer: device ? createModelTrainer({ device }) : undefined,
    });
  try {
    if (o.dryRun || o.fake) {
      process.exitCode = (await run()).exitCode;
    } else {
      await withDevice(async (d) => (await run(d)).exitCode);
    }
  } catch (e) {
    if (e instanceof SpecError) {
      console.error((e as Error).message);
      process.exitCode = 2;
    } else throw e;
  }
}

program
  .command('report <dir>')
  .description('write figures (SVG, PNG) and an HTML page for a results directory')
  .action(async (dir: string) => {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new UsageError(`report: results directory '${dir}' does not exist; expected a directory written by \`widthscope sweep\``);
    }
    const { reportCommand, ReportIncompleteError } = await import('../experiments/index.js');
    try {
      await reportCommand(dir);
    } catch (e) {
      if (!(e instanceof ReportIncompleteError)) throw e;
      // The report is written; the message lists the runs it left out and how to redo them.
      console.error(e.message);
      process.exitCode = e.exitCode;
    }
  });

program
  .command('paper')
  .description("run the sweeps of examples/paper/, report each, and write the claims page and claims.json")
  .option('--quick', 'the quick set (examples/paper/quick.json overrides: fewer widths, seeds and steps)')
  .option('--results <dir>', 'results root (default results/paper or results/paper-quick)')
  .option('--specs <dir>', 'where the sweep specs are', 'examples/paper')
  .option('--fake', 'use the deterministic stand-in trainer (pipeline demos)')
  .option('--no-progress', 'no progress bars')
  .action(async (o: { quick?: boolean; results?: string; specs: string; fake?: boolean; progress: boolean }) => {
    if (!existsSync(o.specs) || !statSync(o.specs).isDirectory()) throw new UsageError(`paper: --specs '${o.specs}' is not a directory; expected a folder of sweep specs such as examples/paper`);
    const { paperCommand } = await import('../experiments/paper/command.js');
    const { createModelTrainer } = await import('../experiments/model-trainer.js');
    const run = async (device?: Device) =>
      (await paperCommand({ quick: o.quick, results: o.results, specsDir: o.specs, fake: o.fake, progress: o.progress, trainer: device ? createModelTrainer({ device }) : undefined })).exitCode;
    if (o.fake) process.exitCode = await run();
    else await withDevice(run);
  });

program.addCommand(slurmCli());
program.addCommand(k8sCli());

program
  .command('bench')
  .description('kernel throughput across widths (same as npm run bench; options pass through)')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[args...]')
  .action((args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run.ts'), ...args], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

program
  .command('gradcheck')
  .description('check every primitive and a few composites: f64 central differences, f32 on the GPU, GPU vs reference, double backward')
  .option('--only <names>', "comma-separated primitives (e.g. sin,matmul), 'composite', or full case names")
  .action(async (o: { only?: string }) => {
    const { allCases, gradcheckCommand, selectCases } = await import('./gradcheck.js');
    const only = o.only?.split(',').map((n) => n.trim()).filter((n) => n);
    const cases = only ? selectCases(allCases(), only) : allCases();
    await withDevice((d) => gradcheckCommand({ device: d }, cases));
  });

modelCommand('coordcheck', 'coordinate check: mean |x| of every layer for widths x steps, SP vs muP; JSON and log-log plots')
  .option('--widths <list>', 'comma-separated widths', positiveIntList('--widths'), '64,128,256,512,1024,2048')
  .option('--steps <n>', 'training steps t = 0 .. n', positiveInt('--steps'), '3')
  .option('--lr <x>', 'learning rate', positiveNumber('--lr'), '0.003')
  .option('--seeds <n>', 'seeds averaged per point', positiveInt('--seeds'), '3')
  .option('--out <dir>', 'output directory', 'results/coordcheck')
  .action((o: { family: string; widths: string; steps: string; optimizer: string; lr: string; seeds: string; out: string }) => {
    checkModelOptions({ family: o.family, widths: o.widths.split(',').map(Number), widthOption: '--widths', optimizer: o.optimizer });
    return withDevice(async (d) => {
      const { coordCheck, writeCoordCheck } = await import('../experiments/coordcheck.js');
      const result = await coordCheck(d, {
        family: o.family as 'mlp', widths: o.widths.split(',').map(Number), parameterizations: ['sp', 'mup'],
        optimizer: o.optimizer as 'adam', lr: +o.lr, steps: +o.steps, seeds: +o.seeds, readoutZeroInit: true,
        depth: o.family === 'cnn' ? 1 : 2,
      }, (s) => console.error(s));
      const files = await writeCoordCheck(join(o.out, o.family), result);
      for (const s of result.slopes.filter((x) => x.step > 0)) {
        console.log(`${s.parameterization.padEnd(4)} step ${s.step} ${s.layer.padEnd(24)} slope ${s.slope.toFixed(3)}`);
      }
      console.log(`wrote ${files.join(', ')}`);
    });
  });

modelCommand('describe', 'print what each parameter of a model gets: role, init, forward multiplier, lr multiplier')
  .option('--width <n>', 'width', positiveInt('--width'), '256')
  .option('--base-width <n>', 'base width (muP equals SP here)', positiveInt('--base-width'), '64')
  .option('--depth <n>', 'depth', positiveInt('--depth'), '2')
  .option('--parameterization <p>', 'sp | ntk | mup | mf', oneOf('--parameterization', ['sp', 'ntk', 'mup', 'mf']), 'mup')
  .option('--gamma0 <x>', 'MF richness', positiveNumber('--gamma0'), '1')
  .action((o: Record<string, string>) => {
    checkModelOptions({ family: o.family, widths: [+o.width, +o.baseWidth], widthOption: '--width / --base-width', parameterization: o.parameterization, optimizer: o.optimizer });
    return withDevice(async (d) => {
      console.log(describeModel(d, o));
    });
  });

program
  .command('demo')
  .description('train a small linear model on a fresh-batch teacher stream and print the loss')
  .option('--steps <n>', 'training steps', positiveInt('--steps'), '200')
  .option('--width <n>', 'input width', positiveInt('--width'), '256')
  .option('--batch <n>', 'batch size', positiveInt('--batch'), '512')
  .option('--lr <x>', 'learning rate', positiveNumber('--lr'), '0.1')
  .action((o: { steps: string; width: string; batch: string; lr: string }) =>
    withDevice(async (d) => {
      console.log(`adapter: ${d.describe()}`);
      const losses = await runDemo(d, { steps: +o.steps, width: +o.width, batch: +o.batch, lr: +o.lr, log: console.log });
      const ok = losses[losses.length - 1] < losses[0] / 10;
      console.log(ok ? 'demo: loss fell by more than 10x' : 'demo: loss did not fall as expected');
      return ok ? 0 : 1;
    }),
  );

/**
 * Runs the command line; a user's mistake (UsageError, commander's own) is one line and status 2,
 * anything else is a bug and shows its stack.
 */
async function main(): Promise<void> {
  try {
    await program.parseAsync();
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2; // commander printed its message (or the help)
    } else if (e instanceof UsageError) {
      console.error(`widthscope: ${e.message}`);
      process.exitCode = 2;
    } else if (e instanceof Error && 'syscall' in e) {
      console.error(`widthscope: ${e.message}`); // the system refused (a path, a permission, a full disk)
      process.exitCode = 1;
    } else {
      console.error('widthscope: internal error (a bug in widthscope, not in what was asked); please report it with the command line and this trace:');
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exitCode = 1;
    }
    shutdown();
  }
}

await main();
