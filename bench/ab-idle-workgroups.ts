/**
 * @file What an idle workgroup costs: the naive copy of 256 floats launched with 1 workgroup
 * (all the work) against the same launch with 4096 and 65535 workgroups (the rest find nothing to
 * do), timed in turn in one run. Prints the extra time per idle workgroup; the packed kernel's
 * pack passes (at most 64 workgroups) and the grouped Adam dispatch (each slot given only the
 * workgroups its own dispatch would take) are sized by it.
 *
 *   npx tsx bench/ab-idle-workgroups.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { init, shutdown } from '../src/index.js';
import { randn } from '../src/ops/creation.js';
import { Tensor } from '../src/tensor/tensor.js';
import { ceilingKernel } from './ceilings.js';
import { timeInterleaved, median } from './harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const dev = await init();
console.log(`adapter: ${dev.describe()}`);
const n = 256;
const x = randn([n], { seed: 1, device: dev });
const out = Tensor.empty(dev, [n], 'f32', 'bench');
const counts = [1, 4096, 65535];
const launch = (groups: number) => () =>
  dev.dispatch({
    kernel: ceilingKernel(dev),
    entry: 'copy_naive',
    label: `copy_naive (${groups} workgroups)`,
    bindings: { xs: x.binding('bench'), outs: out.binding('bench') },
    params: { n },
    workgroups: [groups],
  });
const got = await timeInterleaved(dev, counts.map(launch), { maxTimeS: values.quick ? 1 : 3 });
counts.forEach((g, i) => {
  const perIdle = i === 0 ? '' : `, ${((1000 * (got.medians[i] - got.medians[0])) / (g - 1)).toFixed(2)} us per idle workgroup`;
  console.log(`${String(g).padStart(6)} workgroups: ${got.medians[i].toFixed(3)} ms (x${median(got.ratios[i]).toFixed(1)} of 1)${perIdle}`);
});
x.dispose();
out.dispose();
shutdown();
