/**
 * @file A sum over the middle axis of [outer, len, inner] in one pass (one invocation per output
 * runs its whole slice) against two (slices split into chunks so that ~4096 invocations work,
 * then the partials summed), timed in turn in one run on the reduce kernel's `strided` entry;
 * the shapes are those of a training step's bias gradients and means, and larger ones. Sets
 * src/ops/reduce.ts's ONE_PASS bounds for software adapters.
 *
 *   npx tsx bench/ab-reduce-passes.ts [--quick]
 */
import { parseArgs } from 'node:util';
import { init, shutdown } from '../src/index.js';
import { randn } from '../src/ops/creation.js';
import { Tensor } from '../src/tensor/tensor.js';
import { groupsFor } from '../src/ops/launch.js';
import { timeInterleaved, median } from './harness.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const dev = await init();
console.log(`adapter: ${dev.describe()}`);
const shapes: [number, number, number][] = [
  [1, 256, 10], [1, 256, 64], [1, 8192, 16], [32, 256, 16], [1, 2048, 64], [1, 256, 2048], [1, 8192, 128], [1, 32768, 32],
  [1, 65536, 16], [1, 65536, 1], [1, 131072, 4], [1, 4096, 1024],
];
console.log('[outer, len, inner]        chunks   one pass ms   two passes ms   two / one');
for (const [outer, len, inner] of values.quick ? shapes.slice(0, 6) : shapes) {
  const x = randn([outer * len * inner], { seed: 1, device: dev });
  const outputs = outer * inner;
  const chunk = Math.ceil(len / Math.max(1, Math.min(Math.ceil(4096 / outputs), Math.ceil(len / 64))));
  const chunks = Math.ceil(len / chunk);
  const partial = Tensor.empty(dev, [outputs * chunks], 'f32', 'bench');
  const out = Tensor.empty(dev, [outputs], 'f32', 'bench');
  const pass = (src: Tensor, dst: Tensor, n: number, c: number, size: number) =>
    dev.dispatch({
      kernel: 'reduce',
      entry: 'strided',
      label: `sum([${outer}, ${n}, ${inner}]) in ${c} chunks`,
      constants: { OP: 0, WG: 64 },
      bindings: { x: src.binding('bench'), out: dst.binding('bench') },
      params: { outer, len: n, inner, chunks: c, chunk: size, scale: 1, inf: Infinity },
      workgroups: groupsFor(outer * c * inner, 64),
    });
  const one = () => pass(x, out, len, 1, len);
  const two = () => {
    pass(x, partial, len, chunks, chunk);
    pass(partial, out, chunks, 1, chunks);
  };
  const got = await timeInterleaved(dev, [one, two], { maxTimeS: values.quick ? 0.5 : 1.5 });
  console.log(
    `${`[${outer}, ${len}, ${inner}]`.padEnd(26)} ${String(chunks).padStart(6)}   ${got.medians[0].toFixed(3).padStart(11)}   ` +
      `${got.medians[1].toFixed(3).padStart(13)}   ${median(got.ratios[1].map((r, i) => r / got.ratios[0][i])).toFixed(2).padStart(9)}`,
  );
  for (const t of [x, partial, out]) t.dispose();
}
shutdown();
