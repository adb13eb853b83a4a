import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { getDevice } from '../../src/index.js';
import { chooseMatmulConfig, matmul, vec4Eligible, type MatmulActivation, type MatmulOptions } from '../../src/ops/matmul.js';
import { matmulRef } from '../../src/reference/matmul.js';
import {
  NAIVE, PACKED_16, PACKED_32, PACKED_MIN_MACS, PACKED_ONE_PASS_MIN_MACS, REG_4X4, REG_NARROW, NARROW_COLS, SHORT_K, packedInPlace, REG_8X8, TILED_32, TILED_64, configKey, matmulCandidates, matmulTraits, matmulShapeClass, selectMatmul,
  type MatmulConfig, type MatmulProblem,
} from '../../src/ops/matmul-select.js';
import { TOL, expectMatches, freshSeed, pair, recordDispatches } from '../helpers.js';

/** Every rung of the ladder (the 'reg' ones take the vec4 entry where shapes align). */
const LADDER: [string, MatmulConfig][] = [
  ['v1 naive', NAIVE],
  ['v2 tiled 64x64', TILED_64],
  ['v3 register 8x8', REG_8X8],
  ['v3 register 4x4', REG_4X4],
  ['v3 register narrow (8x4 per invocation, 4x16 invocations)', REG_NARROW],
  ['v4 packed (16 rows)', PACKED_16],
  ['v4 packed (32 rows)', PACKED_32],
];

const DIMS = [1, 3, 17, 64, 257];
/** 15 (M, K, N) triples: every size in every position, 257 against each size. */
const TRIPLES: [number, number, number][] = [];
for (let i = 0; i < 5; i++) for (const j of [0, 2, 4]) TRIPLES.push([DIMS[i], DIMS[j], DIMS[(i + 2 * j + 1) % 5]]);
/** Shapes where the vec4 path applies (K, N % 4 == 0) but no tile divides M or N. */
const ALIGNED: [number, number, number][] = [[20, 36, 260], [68, 128, 44], [4, 4, 4]];

async function check(sa: number[], sb: number[], opts: MatmulOptions & { biasN?: number; biasShape?: number[] }, what: string) {
  const seed = freshSeed();
  const a = pair(sa, seed);
  const b = pair(sb, seed + 1);
  const biasShape = opts.biasShape ?? (opts.biasN !== undefined ? [opts.biasN] : undefined);
  const bias = biasShape ? pair(biasShape, seed + 2) : undefined;
  await ws.tidyAsync(async () => {
    const out = matmul(a.t, b.t, { ...opts, bias: bias?.t });
    const ref = matmulRef(a.r, b.r, { ...opts, bias: bias?.r });
    await expectMatches(out, ref, TOL.matmul, `${what} a ${sa} b ${sb} seed ${seed}`);
  });
  a.t.dispose();
  b.t.dispose();
  bias?.t.dispose();
}

describe('every ladder version matches the f64 reference', () => {
  for (const [name, config] of LADDER) {
    it(`${name}: M, K, N in {1, 3, 17, 64, 257} and vec4-aligned edges`, async () => {
      for (const [M, K, N] of [...TRIPLES, ...ALIGNED]) await check([M, K], [K, N], { config }, `${name} ${M}x${K}x${N}`);
    });

    // REG_8X8 shares its kernel (and transposed paths) with REG_4X4 and is no default any more;
    // its transposed pipelines took ~55 s to compile cold, so only the other rungs run this.
    if (config !== REG_8X8) it(`${name}: transA, transB and both, read in place`, async () => {
      for (const [M, K, N] of [[17, 3, 257], [36, 64, 68], [1, 17, 3], [64, 20, 8]] as const) {
        await check([K, M], [K, N], { config, transA: true }, `${name} A^T B`);
        await check([M, K], [N, K], { config, transB: true }, `${name} A B^T`);
        await check([K, M], [N, K], { config, transA: true, transB: true }, `${name} A^T B^T`);
      }
    });

    it(`${name}: fused bias and activations`, async () => {
      for (const activation of ['relu', 'gelu', 'tanh'] as MatmulActivation[]) {
        await check([17, 24], [24, 36], { config, biasN: 36, activation }, `${name} bias ${activation}`);
      }
      await check([8, 3], [5, 3], { config, transB: true, activation: 'gelu' }, `${name} gelu no bias`);
      await check([3, 17], [17, 64], { config, biasN: 64 }, `${name} bias only`);
    });

    it(`${name}: a scale (alpha) and one bias row per batch`, async () => {
      await check([3, 17, 8], [3, 8, 20], { config, alpha: -0.37, biasShape: [3, 1, 20], activation: 'tanh' }, `${name} alpha, per-batch bias`);
      await check([2, 1, 5, 4], [3, 4, 36], { config, alpha: 2.5, biasShape: [2, 3, 1, 36] }, `${name} broadcast batch, per-batch bias`);
      await check([5, 12], [4, 12, 8], { config, alpha: 0.125, biasShape: [4, 1, 8], activation: 'relu' }, `${name} shared A, per-batch bias`);
      await check([8, 17], [3, 8], { config, transA: true, transB: true, alpha: 3, biasN: 3 }, `${name} A^T B^T alpha, bias [N]`);
    });

    it(`${name}: batch broadcasting`, async () => {
      await check([2, 1, 17, 8], [3, 8, 20], { config }, `${name} [2,1,...] x [3,...]`);
      await check([3, 8, 12], [12, 8], { config }, `${name} shared B`);
      await check([5, 12], [4, 1, 12, 5], { config, transA: false }, `${name} shared A`);
      await check([2, 3, 8, 4], [2, 1, 6, 8], { config, transA: true, transB: true, biasN: 6, activation: 'relu' }, `${name} batched A^T B^T`);
    });
  }
});

describe('matmul shapes', () => {
  it('1-D operands follow NumPy (vector-matrix, matrix-vector, dot, batched)', async () => {
    await check([8], [8, 5], {}, 'vec x mat');
    await check([3, 8], [8], {}, 'mat x vec');
    await check([8], [8], {}, 'dot');
    await check([2, 3, 8], [8], {}, 'batched mat x vec');
    await check([8], [4, 8, 3], {}, 'vec x batched mat');
  });

  it('more than 65535 batches loop over the z dimension', async () => {
    // The tiled kernel with 4-invocation workgroups: 70000 workgroups of 256 would take a minute here.
    const tinyTiled: MatmulConfig = { kernel: 'tiled', wgX: 2, wgY: 2, tm: 1, tn: 2, tk: 4 };
    for (const config of [NAIVE, REG_4X4, tinyTiled, PACKED_16]) {
      await check([70000, 2, 3], [3, 2], { config }, `big batch ${configKey(config)}`);
    }
  });

  it('a matrix times its own transpose (one buffer bound twice for reading)', async () => {
    const { t, r } = pair([17, 9], freshSeed());
    await expectMatches(matmul(t, t, { transB: true }), matmulRef(r, r, { transB: true }), TOL.matmul, 'x x^T');
  });

  it('K = 0 gives act(bias), empty M gives an empty result', async () => {
    const out = matmul(ws.zeros([3, 0]), ws.zeros([0, 2]), { bias: ws.fromArray([1, -2]), activation: 'relu' });
    expect(await out.toArray()).toEqual([1, 0, 1, 0, 1, 0]);
    expect(matmul(ws.zeros([0, 4]), ws.zeros([4, 2])).shape).toEqual([0, 2]);
  });
});

describe('bad input gets a clear error', () => {
  it('inner dimensions that do not match name the op, both shapes and what was expected', () => {
    expect(() => matmul(ws.zeros([3, 4]), ws.zeros([5, 6]))).toThrow(
      "matmul: inner dimensions do not match for a [3, 4] and b [5, 6]: expected a's last axis (4) to equal b's second-to-last axis (5)",
    );
    expect(() => matmul(ws.zeros([3, 4]), ws.zeros([5, 6]), { transA: true, transB: true })).toThrow(
      "matmul: inner dimensions do not match for a [3, 4] (transA) and b [5, 6] (transB): expected a's second-to-last axis (3) to equal b's last axis (6)",
    );
  });
  it('batch dimensions that do not broadcast', () => {
    expect(() => matmul(ws.zeros([2, 3, 4]), ws.zeros([3, 4, 5]))).toThrow(
      /matmul: batch dimensions \[2\] of a and \[3\] of b do not broadcast \(a \[2, 3, 4\] and b \[3, 4, 5\]/,
    );
  });
  it('rank-0 operands', () => {
    expect(() => matmul(ws.fromArray([2], []), ws.zeros([1, 3]))).toThrow('matmul: operands need rank >= 1, got a [] and b [1, 3]');
  });
  it('a bias that does not match the columns', () => {
    expect(() => matmul(ws.zeros([2, 3]), ws.zeros([3, 4]), { bias: ws.zeros([3]) })).toThrow(
      'matmul: bias [3] must have shape [4] (the result\'s columns) for a [2, 3] and b [3, 4]',
    );
  });
  it('a per-batch bias must be [...batch, 1, N]', () => {
    expect(() => matmul(ws.zeros([2, 5, 3]), ws.zeros([2, 3, 4]), { bias: ws.zeros([2, 4]) })).toThrow(
      "matmul: bias [2, 4] must have shape [4] (the result's columns) or [2, 1, 4] (one row per batch) for a [2, 5, 3] and b [2, 3, 4]",
    );
    expect(() => matmul(ws.zeros([2, 5, 3]), ws.zeros([3, 4]), { bias: ws.zeros([3, 1, 4]) })).toThrow(
      "matmul: bias [3, 1, 4] must have shape [4] (the result's columns) or [2, 1, 4] (one row per batch)",
    );
  });
  it('a scale that is not a finite number', () => {
    expect(() => matmul(ws.zeros([2, 3]), ws.zeros([3, 4]), { alpha: Number.NaN })).toThrow(
      'matmul: alpha must be a finite number, got NaN for a [2, 3] and b [3, 4]',
    );
  });
});

describe('the kernel selector', () => {
  const problem = (M: number, N: number, K: number, batch = 1): MatmulProblem => ({ M, N, K, batch, transA: false, transB: false });
  const cpu = { isSoftware: true };
  const cpuWithSubgroups = { isSoftware: true, subgroups: true };
  const gpu = { isSoftware: false, subgroups: true };

  it('lavapipe gets register blocking, a GPU gets workgroup-memory tiles', () => {
    expect(selectMatmul(problem(1024, 1024, 1024), cpu)).toEqual(REG_4X4);
    expect(selectMatmul(problem(256, 4096, 4096), cpu)).toEqual(REG_4X4);
    expect(selectMatmul(problem(4096, 4096, 4096), gpu)).toEqual(TILED_64);
  });
  it('lavapipe with subgroups gets the packed kernel from PACKED_MIN_MACS (all batches) or when it reads both operands in place', () => {
    expect(selectMatmul(problem(1024, 1024, 1024), cpuWithSubgroups)).toEqual(PACKED_32);
    expect(selectMatmul(problem(256, 512, 512), cpuWithSubgroups)).toEqual(PACKED_32);
    expect(selectMatmul(problem(64, 64, 512), cpuWithSubgroups)).toEqual(PACKED_32);
    expect(64 * 64 * 512).toBeGreaterThanOrEqual(PACKED_MIN_MACS);
    // An ensemble's batched layer: small per member, large in all.
    expect(selectMatmul(problem(192, 32, 64, 8), cpuWithSubgroups).kernel).toBe('packed');
    // Small, but both operands read in place (one dispatch): packed; with a pack pass: register.
    expect(selectMatmul(problem(192, 32, 64, 1), cpuWithSubgroups)).toEqual(PACKED_32);
    expect(selectMatmul(problem(16, 16, 16), cpuWithSubgroups)).toEqual(PACKED_32);
    expect(selectMatmul(problem(64, 18, 64), cpuWithSubgroups)).toEqual(REG_4X4);
    expect(selectMatmul({ ...problem(64, 64, 64), transB: true }, cpuWithSubgroups)).toEqual(REG_4X4);
    // One operand in place (one pack pass): packed from PACKED_ONE_PASS_MIN_MACS.
    expect(PACKED_ONE_PASS_MIN_MACS).toBeLessThan(PACKED_MIN_MACS);
    expect(selectMatmul({ ...problem(128, 64, 64), transB: true }, cpuWithSubgroups)).toEqual(PACKED_32);
    expect(selectMatmul({ ...problem(64, 32, 32, 8), transB: true }, cpuWithSubgroups)).toEqual(PACKED_32);
    expect(selectMatmul(problem(64, 32, 784), cpuWithSubgroups)).toEqual(PACKED_32);
    // A's rows of 784 floats are read in place when only few column tiles read them (one pass).
    expect(selectMatmul(problem(16, 32, 784), cpuWithSubgroups)).toEqual(PACKED_32);
    expect(packedInPlace(problem(256, 128, 784))).toEqual({ a: true, b: true });
    expect(packedInPlace(problem(256, 160, 784))).toEqual({ a: false, b: true });
    expect(packedInPlace(problem(256, 64, 784, 8))).toEqual({ a: false, b: true });
    expect(packedInPlace(problem(256, 64, 786))).toEqual({ a: false, b: false });
    // both operands packed (K % 4 != 0): register below PACKED_MIN_MACS
    expect(selectMatmul(problem(64, 64, 66), cpuWithSubgroups)).toEqual(REG_4X4);
    expect(selectMatmul(problem(128, 64, 66), cpuWithSubgroups)).toEqual(REG_4X4);
    // A^T is read in place when M and K are multiples of 4 (a layer's dW at any width).
    expect(selectMatmul({ ...problem(64, 64, 256), transA: true }, cpuWithSubgroups)).toEqual(PACKED_32);
    expect(packedInPlace({ ...problem(66, 64, 256), transA: true })).toEqual({ a: false, b: true });
    expect(packedInPlace({ ...problem(64, 64, 258), transA: true })).toEqual({ a: false, b: false });
    expect(packedInPlace({ ...problem(64, 64, 256), transA: true, transB: true })).toEqual({ a: true, b: false });
    // Matrix-vector and vector-matrix products would be mostly padding: register blocking, the
    // narrow tile for fewer than NARROW_COLS columns (a classifier head of 10 classes too).
    expect(selectMatmul(problem(4096, 1, 4096), cpuWithSubgroups)).toEqual(REG_NARROW);
    expect(selectMatmul(problem(1, 4096, 4096), cpuWithSubgroups)).toEqual(REG_4X4);
    expect(selectMatmul({ ...problem(64, 10, 256), batch: 8, transA: true }, cpuWithSubgroups)).toEqual(REG_NARROW);
    expect(selectMatmul(problem(256, NARROW_COLS - 1, 64), cpu)).toEqual(REG_NARROW);
    expect(selectMatmul(problem(256, NARROW_COLS, 64), cpu)).toEqual(REG_4X4);
    // A K axis shorter than SHORT_K (an MLP readout's input gradient over 10 classes): 8 x 8
    // from its 64-column tile.
    expect(selectMatmul({ ...problem(256, 64, 10), transB: true }, cpuWithSubgroups)).toEqual(REG_8X8);
    expect(selectMatmul({ ...problem(256, 64, 10, 8), transB: true }, cpuWithSubgroups)).toEqual(REG_8X8);
    expect(selectMatmul(problem(256, 64, SHORT_K - 1), cpu)).toEqual(REG_8X8);
    expect(selectMatmul({ ...problem(256, 63, 10), transB: true }, cpuWithSubgroups)).toEqual(REG_4X4);
    expect(selectMatmul({ ...problem(256, 64, SHORT_K), transB: true }, cpu)).toEqual(REG_4X4);
  });
  it('32x32 tiles (2x2 outputs per invocation) match the reference too', async () => {
    await check([17, 257], [257, 3], { config: TILED_32 }, 'tiled 32');
    await check([64, 20], [36, 20], { config: TILED_32, transB: true, biasN: 36, activation: 'tanh' }, 'tiled 32 A B^T');
  });
  it('the packed kernel shares an operand that every batch broadcasts (packed once)', async () => {
    await check([6, 40, 33], [33, 70], { config: PACKED_16, biasN: 70, activation: 'gelu' }, 'packed shared B');
    await check([33, 40], [6, 40, 70], { config: PACKED_16 }, 'packed shared A');
    await check([1, 3, 40, 33], [2, 1, 70, 33], { config: PACKED_16, transB: true }, 'packed both broadcast');
    // K % 4 == 0: A read in place up to K = 512, packed with vec4 reads beyond (both batched);
    // B likewise by N (N and K % 4 == 0).
    await check([2, 37, 516], [2, 516, 36], { config: PACKED_16 }, 'packed vec4 pack of A (K 516)');
    await check([2, 37, 68], [68, 36], { config: PACKED_16, biasN: 36 }, 'packed A in place (K 68)');
    await check([37, 68], [3, 68, 36], { config: PACKED_16 }, 'packed A in place, shared');
    await check([2, 37, 68], [2, 68, 516], { config: PACKED_16 }, 'packed vec4 pack of B (N 516)');
  });
  it('the packed kernel reads A^T in place (vec4s along M) where M and K are multiples of 4', async () => {
    // one dispatch when B is read in place too; ragged row tiles, batches, a shared A^T, epilogues
    const matmulDispatches = async (run: () => Promise<void>) => {
      const rec = recordDispatches(ws.getDevice());
      try { await run(); } finally { rec.stop(); }
      return rec.specs.filter((d) => d.kernel === 'matmul_packed');
    };
    const direct = await matmulDispatches(() =>
      check([64, 36], [64, 44], { config: PACKED_32, transA: true, biasN: 44, activation: 'relu' }, 'packed A^T in place'));
    expect(direct.map((d) => d.entry)).toEqual(['main']);
    expect(direct[0].constants).toMatchObject({ A_DIRECT: 1, TRANS_A: 1, B_DIRECT: 1 });
    await check([12, 260], [12, 70], { config: PACKED_16, transA: true }, 'packed 16 A^T in place, M 260, B packed');
    await check([3, 20, 44], [3, 20, 36], { config: PACKED_32, transA: true }, 'packed A^T in place, batched');
    await check([20, 44], [3, 20, 36], { config: PACKED_16, transA: true, biasN: 36, activation: 'gelu' }, 'packed A^T in place, shared');
    await check([2, 1, 8, 4], [2, 3, 6, 8], { config: PACKED_32, transA: true, transB: true }, 'packed A^T in place, B^T packed');
    // K % 4 != 0 or M % 4 != 0: packed as before
    const packedA = await matmulDispatches(() => check([18, 36], [18, 44], { config: PACKED_32, transA: true }, 'packed A^T (K 18)'));
    expect(packedA.map((d) => d.entry)).toEqual(['pack_a', 'pack_b', 'main']);
    await check([16, 37], [16, 44], { config: PACKED_32, transA: true }, 'packed A^T (M 37)');
  });

  it('the packed kernel reads rows of A longer than PACKED_DIRECT_MAX_ROW in place when few column tiles read them', async () => {
    const rec = recordDispatches(ws.getDevice());
    try {
      // K 784 (an MLP's first layer), 4 column tiles (N 100), ragged rows, bias and relu: one
      // dispatch (B in place too)
      await check([37, 784], [784, 100], { config: PACKED_32, biasN: 100, activation: 'relu' }, 'packed A in place, K 784');
      // 5 column tiles: A packed
      await check([37, 784], [784, 132], { config: PACKED_32 }, 'packed A, K 784, N 132');
    } finally {
      rec.stop();
    }
    expect(rec.specs.filter((d) => d.kernel === 'matmul_packed').map((d) => d.entry)).toEqual(['main', 'pack_a', 'main']);
  });

  it('the packed kernel rejects a row block it has no accumulators for', () => {
    const a = ws.raw.randn([8, 8], { seed: 1 }), b = ws.raw.randn([8, 8], { seed: 2 });
    for (const rm of [12, 64]) {
      expect(() => ws.raw.matmul(a, b, { config: { kernel: 'packed', rm } })).toThrow(
        new RegExp(`matmul: the packed kernel's rm .* must be 8, 16, 24 or 32; got ${rm}`),
      );
    }
    a.dispose();
    b.dispose();
  });
  it('both packed row blocks on operands packed with transposes, ragged edges and an epilogue', async () => {
    await check([2, 257, 70], [2, 100, 257], { config: PACKED_32, transA: true, transB: true, biasN: 100, activation: 'tanh' }, 'packed 32 A^T B^T');
    await check([17, 3], [3, 70], { config: PACKED_32, transA: false }, 'packed 32 small');
    await check([3, 37, 68], [68, 44], { config: PACKED_16, biasN: 44, activation: 'relu' }, 'packed B in place, shared');
    await check([2, 37, 68], [2, 68, 516], { config: PACKED_32, biasN: 516, activation: 'relu' }, 'packed 32 B packed with vec4 reads');
  });
  it('small problems get smaller tiles on a GPU', () => {
    expect(selectMatmul(problem(16, 16, 16), gpu)).toEqual(TILED_32);
    expect(selectMatmul(problem(256, 256, 256), gpu)).toEqual(TILED_32);
  });
  it('candidates start with the default and hold no duplicates', () => {
    const c = matmulCandidates(problem(1024, 1024, 1024), cpu);
    expect(c[0]).toEqual(REG_4X4);
    expect(c.map(configKey)).toContain(configKey(REG_8X8));
    expect(new Set(c.map(configKey)).size).toBe(c.length);
    const withSg = matmulCandidates(problem(1024, 1024, 1024), cpuWithSubgroups);
    expect(withSg[0]).toEqual(PACKED_32);
    expect(withSg.map(configKey)).toContain(configKey(PACKED_16));
    expect(withSg.map(configKey)).toContain(configKey(REG_8X8));
    expect(new Set(withSg.map(configKey)).size).toBe(withSg.length);
  });
  it('shape classes bucket sizes by powers of 4 and keep transposes and alignment', () => {
    expect(matmulShapeClass(problem(1024, 1024, 1024))).toBe('m1024.n1024.k1024.b1.NN.a4');
    expect(matmulShapeClass(problem(1001, 1024, 1024))).toBe("m1024.n1024.k1024.b1.NN.u");
    expect(matmulShapeClass({ ...problem(256, 64, 101, 3), transB: true })).toBe('m256.n64.k256.b4.NT.u');
  });
  it('the vec4 entry is taken only where every vec4 is aligned', () => {
    expect(vec4Eligible(problem(3, 8, 4), REG_8X8)).toBe(true);
    expect(vec4Eligible(problem(3, 6, 4), REG_8X8)).toBe(false);
    expect(vec4Eligible({ ...problem(3, 6, 4), transB: true }, REG_8X8)).toBe(true);
    expect(vec4Eligible({ ...problem(6, 8, 4), transA: true }, REG_8X8)).toBe(false);
    expect(vec4Eligible(problem(4, 8, 4), TILED_64)).toBe(false);
  });
  it('with autotuning off (tests) matmul uses the selector', () => {
    const d = getDevice();
    expect(chooseMatmulConfig(d, problem(1024, 1024, 1024))).toEqual(selectMatmul(problem(1024, 1024, 1024), matmulTraits(d)));
  });
});
