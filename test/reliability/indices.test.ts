// The reliability catalogue of bad indices: every op that reads integer indices (embedding and
// its backward in each grouping variant, cross-entropy forward and backward in each kernel
// variant, the autograd and nn paths) checks them on the device; the next readback throws an
// error naming the op, the value, its position (a multi-index into the indices) and the range.
import { expect } from 'vitest';
import * as ws from '../../src/index.js';
import { embedding, embeddingBackward, memberRows } from '../../src/ops/embedding.js';
import { buildModel } from '../../src/nn/models.js';
import { crossEntropy, crossEntropyBackward } from '../../src/ops/loss.js';
import { catalogue, type ErrorCase, type FaultCase } from './catalogue.js';

const I32_MAX = 2 ** 31 - 1;

/** i32 indices of `shape`, all `fill` (in range) except `bad` at flat position `at`. */
function indices(shape: number[], at: number, bad: number, fill = 1): ws.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Int32Array(n).fill(fill);
  v[at] = bad;
  return ws.fromArray(v, shape);
}

/** Runs `fn` in a scope and reads its result back (the readback reports what the device flagged). */
const readBack = (fn: () => ws.Tensor) => ws.tidyAsync(async () => { await fn().data(); });

const cases: ErrorCase[] = [
  {
    name: 'embedding: index V (10) in the middle of a [3, 5] batch',
    run: () => readBack(() => embedding(ws.ones([10, 3]), indices([3, 5], 7, 10))),
    mentions: ['embedding', 'index 10', 'position [1, 2]', 'indices [3, 5]', '[0, 10)'],
  },
  {
    name: 'embedding: index -1 at the last of 257',
    run: () => readBack(() => embedding(ws.ones([17, 5]), indices([257], 256, -1))),
    mentions: ['embedding', 'index -1', 'position [256]', '[0, 17)'],
  },
  {
    name: 'embedding: index 2^31-1 in a [2, 3, 17] batch',
    run: () => readBack(() => embedding(ws.ones([4, 1]), indices([2, 3, 17], 40, I32_MAX))),
    mentions: ['embedding', `index ${I32_MAX}`, 'position [0, 2, 6]', '[0, 4)'],
  },
  {
    name: 'embedding: f32 indices (1.5) where i32 are expected',
    run: () => readBack(() => embedding(ws.ones([4, 2]), ws.fromArray([0, 1.5]))),
    mentions: ['embedding', 'dtype f32', 'expected i32'],
  },
  ...(['scan', 'sorted', 'counting'] as const).map((variant, k): ErrorCase => {
    const [bad, at, shape] = ([[7, 40, [3, 17]], [-1, 100, [257]], [I32_MAX, 1, [1, 3]]] as const)[k];
    return {
      name: `embeddingBackward (${variant}): index ${bad} of vocab 7 at flat ${at} of [${shape.join(', ')}]`,
      run: () => readBack(() => embeddingBackward(ws.ones([...shape, 3]), indices([...shape], at, bad), 7, { variant })),
      mentions: ['embeddingBackward', `index ${bad}`, `(flat ${at})`, '[0, 7)'],
    };
  }),
  ...(['invocation', 'workgroup'] as const).map((variant, k): ErrorCase => ({
    name: `crossEntropy (${variant}): label ${k ? -1 : 17} among 17 classes in a [3, 5] batch`,
    run: () => readBack(() => crossEntropy(ws.randn([3, 5, 17], { seed: 3 }), indices([3, 5], 8, k ? -1 : 17), { variant }).loss),
    mentions: ['crossEntropy', `label ${k ? -1 : 17}`, 'position [1, 3]', 'labels [3, 5]', '[0, 17)'],
  })),
  {
    name: 'crossEntropyBackward (vec4 rows): label 2^31-1 at row 1 of 3',
    run: () => readBack(() => {
      const x = ws.randn([3, 8], { seed: 4 });
      const ok = ws.fromArray(Int32Array.of(0, 1, 2));
      const { lse } = crossEntropy(x, ok, { reduction: 'none' });
      return crossEntropyBackward(ws.ones([]), x, indices([3], 1, I32_MAX), lse);
    }),
    mentions: ['crossEntropyBackward', `label ${I32_MAX}`, 'position [1]', '[0, 8)'],
  },
  {
    name: 'crossEntropy: f32 labels where i32 class indices are expected',
    run: () => readBack(() => crossEntropy(ws.randn([2, 4]), ws.fromArray([0, 2.5])).loss),
    mentions: ['crossEntropy', 'dtype f32', 'expected i32'],
  },
  {
    name: 'embedding read only by a later op chain: surfaces at the item() of a sum three ops on',
    run: () => ws.tidyAsync(async () => {
      const table = ws.randn([10, 4], { seed: 5 });
      const h = ws.relu(ws.matmul(ws.embedding(table, indices([2, 3], 4, 10)), ws.randn([4, 4], { seed: 6 })));
      await ws.sum(h).item();
    }),
    mentions: ['embedding', 'index 10', 'position [1, 1]', '[0, 10)'],
  },
  {
    name: 'crossEntropy through autograd: the bad label surfaces at Device.sync()',
    run: async () => {
      const logits = ws.randn([4, 3], { seed: 7 });
      logits.requiresGrad = true;
      ws.tidy(() => ws.backward(ws.crossEntropy(logits, indices([4], 2, 3))));
      try {
        await ws.getDevice().sync();
      } finally {
        logits.dispose();
      }
    },
    mentions: ['crossEntropy', 'label 3', 'position [2]', '[0, 3)'],
  },
  {
    name: 'ensemble Embedding layer: token id V in member 0 (once shifted silently into member 1\'s table)',
    run: () => ws.tidyAsync(async () => {
      const spec = { family: 'transformer' as const, width: 16, baseWidth: 16, depth: 1, headDim: 8, vocab: 16, context: 4 };
      const model = buildModel({ device: ws.getDevice(), seed: 0, seeds: [0, 1], param: { parameterization: 'mup', optimizer: 'adam' } }, spec);
      try {
        await ws.noGrad(() => model.forward(indices([2, 3, 4], 5, 16))).data();
      } finally {
        model.dispose();
      }
    }),
    mentions: ["Embedding '", 'index 16', 'position [0, 1, 1]', 'indices [2, 3, 4]', '[0, 16)'],
  },
  {
    name: 'memberRows: index -1 of member 2 of 3 names its own value and position',
    run: () => readBack(() => memberRows(indices([3, 5], 12, -1), 3, 7)),
    mentions: ['embedding', 'index -1', 'position [2, 2]', '[0, 7)'],
  },
];

const faults: FaultCase[] = [
  {
    name: 'memberRows shifts member s by s * vocab, one dispatch',
    run: () => ws.tidyAsync(async () => {
      const dev = ws.getDevice();
      const ids = ws.fromArray(Int32Array.of(0, 6, 1, 2, 6, 0), [3, 2]);
      const before = dev.dispatchCount;
      const rows = memberRows(ids, 3, 7);
      expect(dev.dispatchCount - before).toBe(1 + 1); // + the poison fill of the test device
      expect(Array.from(await rows.data())).toEqual([0, 6, 8, 9, 20, 14]);
    }),
  },
  {
    name: 'the flag is cleared: the readback after the error is clean, and its data is the gather with a NaN row',
    run: () => ws.tidyAsync(async () => {
      const out = embedding(ws.ones([3, 2]), indices([4], 2, 3));
      await expect(out.data()).rejects.toThrow('embedding: index 3 at position [2]');
      const v = await out.data();
      expect(Array.from(v)).toEqual([1, 1, 1, 1, NaN, NaN, 1, 1]);
      expect(await embedding(ws.ones([3, 2]), indices([4], 2, 0)).data()).toBeInstanceOf(Float32Array);
    }),
  },
  {
    name: 'the first bad index wins: two bad ops before one readback report the first',
    run: () => ws.tidyAsync(async () => {
      embedding(ws.ones([5, 2]), indices([3], 1, 9));
      const second = crossEntropy(ws.randn([2, 4]), indices([2], 0, -4)).loss;
      await expect(second.item()).rejects.toThrow('embedding: index 9 at position [1]');
      expect(Number.isFinite(await crossEntropy(ws.randn([2, 4]), indices([2], 0, 3)).loss.item())).toBe(true);
    }),
  },
  {
    name: 'checking indices costs no dispatch: embedding and crossEntropy forward take as many as before (1 and 2)',
    run: () => ws.tidyAsync(async () => {
      const dev = ws.getDevice();
      const table = ws.ones([10, 4]);
      const idx = indices([6], 0, 1);
      const x = ws.randn([6, 10]);
      const before = dev.dispatchCount;
      // poisoned test device: each new output is filled first (1 fill per output)
      embedding(table, idx);
      const afterEmbedding = dev.dispatchCount;
      crossEntropy(x, idx, { reduction: 'none' });
      expect([afterEmbedding - before, dev.dispatchCount - afterEmbedding]).toEqual([1 + 1, 1 + 2]);
      await dev.sync();
    }),
  },
];

catalogue('indices', cases, faults);
