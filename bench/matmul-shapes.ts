/**
 * @file Times the selector's matmul at the given shapes (MxKxN, with bias and ReLU), interleaved
 * in one process (bench/harness.ts `timeInterleaved`), and prints each median with its ratio to
 * the last shape's, the control: for comparing a selector setting across processes (edit it
 * between runs), where the ratios to the control cancel the machine's drift between processes.
 *   npx tsx bench/matmul-shapes.ts 256x784x64 256x784x128 256x256x256
 */
import { parseArgs } from 'node:util';
import * as ws from '../src/index.js';
import { matmul } from '../src/ops/matmul.js';
import { randn } from '../src/ops/creation.js';
import { timeInterleaved } from './harness.js';

const { positionals } = parseArgs({ allowPositionals: true });
const shapes = positionals.map((s) => {
  const dims = s.split('x').map(Number);
  if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) throw new Error(`matmul-shapes: expected MxKxN, got '${s}'`);
  return dims as [number, number, number];
});
if (shapes.length < 2) throw new Error('matmul-shapes: give at least two shapes (the last is the control)');
const dev = await ws.init();
const launches = shapes.map(([M, K, N], i) => {
  const a = randn([M, K], { seed: 3 * i + 1, device: dev });
  const b = randn([K, N], { seed: 3 * i + 2, device: dev });
  const bias = randn([N], { seed: 3 * i + 3, device: dev });
  return () => matmul(a, b, { bias, activation: 'relu' }).dispose();
});
const { medians } = await timeInterleaved(dev, launches, { minRounds: 15, maxTimeS: 6 });
const control = medians[medians.length - 1];
console.log(positionals.map((s, i) => `${s} ${medians[i].toFixed(3)} ms (${(medians[i] / control).toFixed(2)})`).join('  '));
ws.shutdown();
