/**
 * @file One invocation per row against one workgroup per row (a tree in workgroup memory), timed
 * in turn in one run: layerNorm forward (`variant`), and the `strided` against the `rows` entry of
 * the reduce kernel on row sums. Prints each shape's median times and the median per-round ratio
 * workgroup / invocation; the row-variant thresholds (`LONG_ROW`, `FEW_ROWS` in src/ops/norm.ts,
 * `LONG_ROW` in src/ops/reduce.ts) rest on it.
 *
 *   npx tsx bench/ab-row-kernels.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { init, shutdown } from '../src/index.js';
import { randn } from '../src/ops/creation.js';
import { layerNorm } from '../src/ops/norm.js';
import { groupsFor } from '../src/ops/launch.js';
import { Tensor } from '../src/tensor/tensor.js';
import { timeInterleaved, median } from './harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const maxTimeS = values.quick ? 1 : 3;
const dev = await init();
console.log(`adapter: ${dev.describe()}`);

const report = (what: string, shape: string, got: { medians: number[]; ratios: number[][] }) =>
  console.log(
    `${what.padEnd(22)} ${shape.padEnd(12)} invocation ${got.medians[0].toFixed(2)} ms  workgroup ` +
      `${got.medians[1].toFixed(2)} ms  workgroup/invocation ${median(got.ratios[1]).toFixed(2)}x (${got.ratios[1].length} rounds)`,
  );

const normShapes: [number, number][] = [[1024, 1024], [256, 4096], [4096, 256], [16, 4096]];
for (const [r, d] of normShapes) {
  const x = randn([r, d], { seed: 1, device: dev });
  const w = randn([d], { seed: 2, device: dev });
  const b = randn([d], { seed: 3, device: dev });
  const launch = (variant: 'invocation' | 'workgroup') => () => {
    const o = layerNorm(x, d, w, b, { variant });
    for (const t of [o.y, o.mean, o.rstd]) t.dispose();
  };
  report('layerNorm forward', `[${r}, ${d}]`, await timeInterleaved(dev, [launch('invocation'), launch('workgroup')], { maxTimeS }));
  for (const t of [x, w, b]) t.dispose();
}

// Row sums of [outer, len] in one pass (chunks = 1), as reduceMiddle launches them.
const ROWS_WG = 64;
for (const [outer, len] of [[4096, 1024]] as [number, number][]) {
  const x = randn([outer, len], { seed: 4, device: dev });
  const launch = (entry: 'strided' | 'rows') => () => {
    const out = Tensor.empty(dev, [outer], 'f32', 'sum');
    dev.dispatch({
      kernel: 'reduce',
      entry,
      label: `sum rows (${entry})`,
      constants: { OP: 0, WG: ROWS_WG },
      bindings: { x: x.binding('sum'), out: out.binding('sum') },
      params: { outer, len, inner: 1, chunks: 1, chunk: len, scale: 1, inf: Infinity },
      workgroups: entry === 'rows' ? groupsFor(outer, 1) : groupsFor(outer, ROWS_WG),
    });
    out.dispose();
  };
  report('sum rows (reduce)', `[${outer}, ${len}]`, await timeInterleaved(dev, [launch('strided'), launch('rows')], { maxTimeS }));
  x.dispose();
}
shutdown();
