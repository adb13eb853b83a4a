/**
 * @file The `widthscope` command: one command, subcommands.
 */
import { Command } from 'commander';
import { init, shutdown } from '../tensor/runtime.js';
import { runDemo } from './demo.js';

const program = new Command('widthscope').description('Width sweeps on WebGPU: muP, kernels, autodiff');
program.option('--adapter <name>', 'substring of the adapter to use (env WIDTHSCOPE_ADAPTER)');
program.option('--wait <strategy>', "how awaits poll the GPU: auto | sleep | spin (env WIDTHSCOPE_WAIT)");

function deviceOptions() {
  const o = program.opts<{ adapter?: string; wait?: 'auto' | 'sleep' | 'spin' }>();
  return { adapter: o.adapter, wait: o.wait };
}

program
  .command('devices')
  .description('print the adapter Dawn picks and its limits')
  .action(async () => {
    const d = await init(deviceOptions());
    console.log(`adapter: ${d.describe()}`);
    const l = d.limits;
    console.log(`maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxBufferSize ${l.maxBufferSize}, ` +
      `maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`);
    shutdown();
  });

program
  .command('demo')
  .description('train a small linear model on a fresh-batch teacher stream and print the loss')
  .option('--steps <n>', 'training steps', '200')
  .option('--width <n>', 'input width', '256')
  .option('--batch <n>', 'batch size', '512')
  .option('--lr <x>', 'learning rate', '0.1')
  .action(async (o: { steps: string; width: string; batch: string; lr: string }) => {
    const d = await init(deviceOptions());
    console.log(`adapter: ${d.describe()}`);
    const losses = await runDemo(d, { steps: +o.steps, width: +o.width, batch: +o.batch, lr: +o.lr, log: console.log });
    const ok = losses[losses.length - 1] < losses[0] / 10;
    console.log(ok ? 'demo: loss fell by more than 10x' : 'demo: loss did not fall as expected');
    shutdown();
    if (!ok) process.exitCode = 1;
  });

await program.parseAsync();
