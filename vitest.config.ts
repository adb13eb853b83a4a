import { defineConfig } from 'vitest/config';

// One adapter (lavapipe uses every core): test files run one after another, each in its own
// process (Dawn's native binding is not shared across worker threads).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/setup.ts'],
    // .ci/run asks for a JSON report to print its 'N passed, N failed' line.
    reporters: process.env.WIDTHSCOPE_VITEST_JSON ? ['default', 'json'] : ['default'],
    outputFile: process.env.WIDTHSCOPE_VITEST_JSON ? { json: process.env.WIDTHSCOPE_VITEST_JSON } : undefined,
  },
});
