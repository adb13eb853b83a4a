// Every test file gets the default device with poisoned outputs (NaN) and tears it down, under a
// watchdog that turns a native hang into a reported, killed file (test/watchdog.ts).
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { init, shutdown } from '../src/index.js';
import { startWatchdog, type Watchdog } from './watchdog.js';

let watchdog: Watchdog | null = null;

beforeAll(async () => {
  watchdog = startWatchdog(expect.getState().testPath ?? 'unknown test file');
  watchdog.setTest('beforeAll: init');
  await init({ poison: true });
});

beforeEach((ctx) => {
  watchdog?.setTest(ctx.task.name);
});

afterAll(() => {
  watchdog?.setTest('afterAll: shutdown');
  shutdown();
  watchdog?.stop();
});
