import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDevice } from '../../src/index.js';
import { Autotuner, autotuneDefault, configureAutotune, tunePending } from '../../src/ops/autotune.js';
import { MATMUL_KERNELS, chooseMatmulConfig, matmul, tuneMatmul } from '../../src/ops/matmul.js';
import { configKey, matmulCandidates, matmulShapeClass, matmulTraits, type MatmulConfig } from '../../src/ops/matmul-select.js';
import { zeros } from '../../src/ops/creation.js';

const dir = mkdtempSync(join(tmpdir(), 'widthscope-autotune-'));
const fast = { enabled: true, dir, reps: 1, rounds: 1 };
const problem = { M: 40, N: 36, K: 24, batch: 1, transA: false, transB: false };

afterAll(() => {
  configureAutotune(getDevice(), { enabled: false });
  rmSync(dir, { recursive: true, force: true });
});

describe('the autotuner caches a winner per adapter and shape class', () => {
  it('is off under vitest unless WIDTHSCOPE_AUTOTUNE says otherwise', () => {
    const saved = process.env.WIDTHSCOPE_AUTOTUNE;
    delete process.env.WIDTHSCOPE_AUTOTUNE;
    expect(autotuneDefault()).toBe(false);
    process.env.WIDTHSCOPE_AUTOTUNE = '1';
    expect(autotuneDefault()).toBe(true);
    process.env.WIDTHSCOPE_AUTOTUNE = '0';
    expect(autotuneDefault()).toBe(false);
    if (saved === undefined) delete process.env.WIDTHSCOPE_AUTOTUNE;
    else process.env.WIDTHSCOPE_AUTOTUNE = saved;
  });

  it('times every candidate, writes the file, and a fresh tuner (a restart) reads the winner back', async () => {
    const device = getDevice();
    const tuner = configureAutotune(device, fast);
    const result = await tuneMatmul(device, problem);
    const candidates = matmulCandidates(problem, matmulTraits(device));
    expect(result.timings.map((t) => t.name)).toEqual(candidates.map(configKey));
    const file = JSON.parse(readFileSync(tuner.file, 'utf8'));
    expect(file.adapter).toContain(device.adapterInfo.vendor);
    expect(file.ops.matmul.entries[matmulShapeClass(problem)].config).toEqual(result.winner);

    const restarted = new Autotuner(device, fast);
    expect(restarted.lookup('matmul', MATMUL_KERNELS, matmulShapeClass(problem))).toEqual(result.winner);
    // matmul itself now takes the cached winner.
    expect(chooseMatmulConfig(device, problem)).toEqual(result.winner);
  });

  it('drops an op\'s entries when the kernel source hash changes, and ignores another adapter\'s file', () => {
    const device = getDevice();
    const tuner = new Autotuner(device, fast);
    const cls = matmulShapeClass(problem);
    const original = readFileSync(tuner.file, 'utf8');
    const file = JSON.parse(original);
    file.ops.matmul.hash = 'stale-source';
    writeFileSync(tuner.file, JSON.stringify(file));
    expect(new Autotuner(device, fast).lookup('matmul', MATMUL_KERNELS, cls)).toBeUndefined();

    writeFileSync(tuner.file, original);
    expect(new Autotuner(device, fast).lookup('matmul', MATMUL_KERNELS, cls)).toBeDefined();
    writeFileSync(tuner.file, JSON.stringify({ ...JSON.parse(original), adapter: 'some other GPU' }));
    expect(new Autotuner(device, fast).lookup('matmul', MATMUL_KERNELS, cls)).toBeUndefined();
    // The key is the hash of the WGSL sources: a different kernel list hashes differently.
    expect(tuner.sourceHash(['matmul_naive'])).not.toBe(tuner.sourceHash(MATMUL_KERNELS));
  });

  it('a cache miss in matmul is queued and tuned by tunePending (first use)', async () => {
    const device = getDevice();
    const tuner = configureAutotune(device, { ...fast, dir: mkdtempSync(join(tmpdir(), 'widthscope-autotune-')) });
    // Aligned like `problem` (the same pipelines, already compiled) but another shape class.
    const p2 = { ...problem, M: 4, N: 8, K: 8 };
    matmul(zeros([4, 8]), zeros([8, 8])).dispose();
    expect(tuner.pendingCount).toBe(1);
    await tunePending(device);
    expect(tuner.pendingCount).toBe(0);
    expect(tuner.lookup<MatmulConfig>('matmul', MATMUL_KERNELS, matmulShapeClass(p2))).toBeDefined();
    rmSync(tuner.dir, { recursive: true, force: true });
  });

  it('is generic: any op with a candidate list and a shape-class key', async () => {
    const device = getDevice();
    const tuner = new Autotuner(device, fast);
    const x = zeros([64, 64]);
    const r = await tuner.tune({
      op: 'demo',
      kernels: ['matmul_naive'],
      shapeClass: 'one',
      candidates: [3, 1],
      name: (c) => `${c} matmuls`,
      launch: (c) => {
        for (let i = 0; i < c; i++) matmul(x, x, { config: { kernel: 'naive', wgX: 8, wgY: 8 } }).dispose();
      },
    });
    expect(r.timings).toHaveLength(2);
    expect(new Autotuner(device, fast).lookup<number>('demo', ['matmul_naive'], 'one')).toBe(r.winner);
  });
});
