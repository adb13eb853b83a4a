// Every test file gets the default device with poisoned outputs (NaN) and tears it down.
import { afterAll, beforeAll } from 'vitest';
import { init, shutdown } from '../src/index.js';

beforeAll(async () => {
  await init({ poison: true });
});

afterAll(() => {
  shutdown();
});
