// Every test file gets the default device with poisoned outputs (NaN) and tears it down, under a
// watchdog that turns a native hang into a reported, killed file (src/tensor/watchdog.ts;
// WIDTHSCOPE_HANG_S seconds, default 300; records under WIDTHSCOPE_HANG_DIR for .ci/run).
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { init, shutdown } from '../src/index.js';
import { startWatchdog, type Watchdog } from '../src/tensor/watchdog.js';
import { takeSeeds } from './helpers.js';
import { envSeconds } from '../src/util/env.js';

let watchdog: Watchdog | null = null;

beforeAll(async () => {
  watchdog = startWatchdog(expect.getState().testPath ?? 'unknown test file', envSeconds('WIDTHSCOPE_HANG_S') ?? 300);
  watchdog.setTest('beforeAll: init');
  await init({ poison: true });
});

beforeEach((ctx) => {
  watchdog?.setTest(ctx.task.name);
  takeSeeds();
  ctx.onTestFailed(() => {
    const seeds = takeSeeds();
    if (seeds.length > 0) {
      console.error(`'${ctx.task.name}' drew the random seeds ${seeds.join(',')}: rerun it with WIDTHSCOPE_TEST_SEEDS=${seeds.join(',')}`);
    }
  });
});

// The watchdog is not stopped: it also covers the teardown and the file's exit (one CI run hung
// there, in Dawn's ProcessEvents after shutdown); its worker is unref'd and ends with the process.
afterAll(() => {
  watchdog?.setTest('afterAll: shutdown, then the file exits');
  shutdown();
});
