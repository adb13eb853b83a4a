/**
 * @file Where the time of lavapipe's default matmul (matmul_packed, 1024^3) and conv2d forward
 * (conv2d_shuffle, batch 8, 32 x 32, 3x3, 64 -> 64) goes: the real kernels beside variants of
 * their inner loops with the loads replaced by register arithmetic (compute-only bound), with the
 * arithmetic removed (loads only), with the loads confined to a cache-resident footprint, read
 * from workgroup memory, or read as texels (each derived at run time from the kernel's own source
 * by checked substitutions: bench/bound-variants.ts), and with 2 or 4 accumulator blocks per lane
 * (fewer loads per FMA; bench/matmul_bound_blocks.wgsl).
 * Every variant runs in the same interleaved rounds as the FMA ceiling (bench/bench_ceiling.wgsl),
 * so each row's "% ceiling" and "x real" are medians of same-round ratios. The real kernels'
 * outputs (and the variants that compute the product) are checked against the f64 reference
 * first, so the kernel measured is the one the library runs.
 *   nice -n 19 npx tsx bench/matmul-bound.ts [--quick] [--only matmul|conv] [--out FILE]
 * Writes bench/results/matmul-bound.json (default) and prints a table.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, shutdown } from '../src/index.js';
import type { Device } from '../src/tensor/device.js';
import { Tensor } from '../src/tensor/tensor.js';
import { fromArray } from '../src/ops/creation.js';
import { matmul } from '../src/ops/matmul.js';
import { matmulTraits, selectMatmul, configKey } from '../src/ops/matmul-select.js';
import { conv2d, conv2dFlops, conv2dGeometry, conv2dKernelName } from '../src/ops/conv2d.js';
import { convParams } from '../src/ops/conv2d_launch.js';
import { unusedBinding } from '../src/ops/launch.js';
import { KernelRegistry, type BufferRange } from '../src/tensor/kernel-registry.js';
import { matmulRef } from '../src/reference/matmul.js';
import { conv2dRef } from '../src/reference/conv.js';
import { nd } from '../src/reference/ndarray.js';
import { relativeError } from '../src/reference/relative-error.js';
import { ceilingKernel, measureCeilings } from './ceilings.js';
import { timeInterleaved, median } from './harness.js';
import { boundVariant, type BoundKernel } from './bound-variants.js';

const here = dirname(fileURLToPath(import.meta.url));
const SG = 8;
const RM = 32;

interface Variant {
  name: string;
  /** What the row measures. */
  what: string;
  launch: () => void;
  /** Flops the launch stands for (the real problem's, for variants of its loop). */
  flops: number;
}

interface Row {
  group: string;
  name: string;
  what: string;
  medianMs: number;
  gflops: number;
  pctCeiling: number;
  xReal: number;
}

/** Deterministic N(0, 1)-ish values (sum of uniforms), so runs compare. */
function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (u() + u() + u() + u() - 2) * 1.7320508;
  return out;
}

/** Throws unless out's rows `rows` match the f64 reference `ref` (rows x N) within 1e-4. */
function checkRows(what: string, out: Float32Array, N: number, rows: number[], ref: Float64Array): void {
  const got = new Float32Array(rows.length * N);
  rows.forEach((r, i) => got.set(out.subarray(r * N, (r + 1) * N), i * N));
  const e = relativeError(got, ref);
  if (!(e < 1e-4)) throw new Error(`${what}: relative error ${e} against the f64 reference (limit 1e-4)`);
  console.log(`  checked ${what}: relative error ${e.toExponential(2)} on ${rows.length} rows`);
}

/** Fills t with NaN, so a kernel that leaves an element unwritten fails its check. */
function poison(device: Device, t: Tensor): void {
  device.dispatch({
    kernel: 'fill', entry: 'fill', label: 'poison', bindings: { out: t.binding('bench') },
    params: { n: t.size, bits: 0x7fc00000, start: 0, step: 0 }, workgroups: [Math.min(65535, Math.ceil(t.size / 256))],
  });
}

/** The FMA ceiling's launch with the chain count and workgroup size measureCeilings found best. */
function ceilingLaunch(device: Device, bestName: string): Variant {
  const m = /(\d) vec4 chains, workgroup (\d+)/.exec(bestName);
  const CHAINS = m ? Number(m[1]) : 3;
  const WG = m ? Number(m[2]) : 256;
  const invocations = 1 << 16;
  const iters = Math.round((512 * 2) / CHAINS / 4);
  const out = Tensor.empty(device, [invocations * 4], 'f32', 'bench');
  const kernel = ceilingKernel(device);
  return {
    name: 'FMA ceiling',
    what: `bench_ceiling fma_peak, ${CHAINS} chains, workgroup ${WG}`,
    flops: invocations * CHAINS * 4 * 4 * iters * 2,
    launch: () =>
      device.dispatch({
        kernel, entry: 'fma_peak', label: 'fma_peak', constants: { ITERS: iters, CHAINS, WG },
        bindings: { out4: out.binding('bench') }, params: { n: invocations }, workgroups: [invocations / WG],
      }),
  };
}

/**
 * Compiles variant `variant` of `kernel` (bench/bound-variants.ts) once, as `name`; returns the
 * bindings its entry `entry` reads (reflected), taken from `available`.
 */
function loadVariant(device: Device, kernel: BoundKernel, variant: string, name: string, entry: string, available: Record<string, BufferRange>): Record<string, BufferRange> {
  const module = device.kernels.has(name) ? device.kernels.load(name) : device.kernels.loadSource(name, boundVariant(kernel, variant));
  const used = module.entries.get(entry)!.bindings.filter((b) => b.kind !== 'uniform').map((b) => b.name);
  return Object.fromEntries(used.map((u) => [u, available[u]]));
}

/** pa / pb of matmul_packed (one batch, no padding needed: M, N multiples of 32, K of 4). */
function packA(A: Float32Array, M: number, K: number): Float32Array {
  const K4 = K / 4;
  const pa = new Float32Array(M * K);
  for (let i = 0; i < M; i++) {
    for (let k4 = 0; k4 < K4; k4++) {
      const o = ((Math.floor(i / SG) * K4 + k4) * SG + (i % SG)) * 4;
      for (let q = 0; q < 4; q++) pa[o + q] = A[i * K + 4 * k4 + q];
    }
  }
  return pa;
}

function packB(B: Float32Array, K: number, N: number): Float32Array {
  const pb = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let cl = 0; cl < N / 4; cl++) {
      const o = ((Math.floor(cl / SG) * K + k) * SG + (cl % SG)) * 4;
      for (let q = 0; q < 4; q++) pb[o + q] = B[k * N + 4 * cl + q];
    }
  }
  return pb;
}

/** Matmul 1024^3 (NN): the real kernel and the variants of its main loop. */
async function matmulVariants(device: Device, n: number): Promise<{ variants: Variant[]; real: string; dispose: () => void }> {
  const [M, N, K] = [n, n, n];
  const flops = 2 * M * N * K;
  const A = randomArray(M * K, 1);
  const B = randomArray(K * N, 2);
  const a = fromArray(A, [M, K], { device });
  const b = fromArray(B, [K, N], { device });
  const pa = fromArray(packA(A, M, K), undefined, { device });
  const pb = fromArray(packB(B, K, N), undefined, { device });
  const out = Tensor.empty(device, [M, N], 'f32', 'bench');
  const problem = { M, N, K, batch: 1, transA: false, transB: false };
  const config = selectMatmul(problem, matmulTraits(device));
  if (config.kernel !== 'packed' || config.rm !== RM) {
    throw new Error(`matmul-bound: the default kernel at ${n}^3 is ${configKey(config)}, not packed r${RM}x4 (needs subgroups of 8)`);
  }
  // f64 reference on every 16th row (and the last): the checks below compare those rows.
  const rows = Array.from({ length: M / 16 }, (_, i) => i * 16).concat([M - 1]);
  const aRows = new Float64Array(rows.length * K);
  rows.forEach((r, i) => aRows.set(A.subarray(r * K, (r + 1) * K), i * K));
  const ref = matmulRef(nd(aRows, [rows.length, K]), nd(B, [K, N])).data;

  const full = () => matmul(a, b, { config }).dispose();
  {
    const o = matmul(a, b, { config });
    checkRows(`matmul ${configKey(config)} (pack passes + main)`, (await o.data()) as Float32Array, N, rows, ref);
    o.dispose();
  }
  const params = {
    M, N, K, batch: 1, rank: 0, has_bias: 0, act: 0, pad0: 0, alpha: 1, pad1: 0, pad2: 0, pad3: 0,
    bshape: new Array(8).fill(0), sa: new Array(8).fill(0), sb: new Array(8).fill(0),
  };
  const mainOnly = () =>
    device.dispatch({
      kernel: 'matmul_packed', entry: 'main', label: 'matmul_packed main', params,
      constants: { RM, A_DIRECT: 0, B_DIRECT: 0, TRANS_A: 0, OUT_VEC4: 1 },
      bindings: {
        pa: pa.binding('bench'), pb: pb.binding('bench'), a4: unusedBinding(device, 'a4'), b4: unusedBinding(device, 'b4'),
        bias: unusedBinding(device, 'bias'), out: unusedBinding(device, 'out'), out4: out.binding('bench'),
      },
      workgroups: [N / (4 * SG), M / RM, 1],
    });
  const check = async (what: string, launch: () => void) => {
    poison(device, out);
    launch();
    checkRows(what, (await out.data()) as Float32Array, N, rows, ref);
  };
  await check('matmul_packed main on packed operands', mainOnly);

  // p.pad1: the small variant's index mask (1024 vec4s = 16 KiB)
  const boundParams = { ...params, pad1: 1023 };
  const available: Record<string, BufferRange> = {
    pa: pa.binding('bench'), pb: pb.binding('bench'), a4: unusedBinding(device, 'a4'), b4: unusedBinding(device, 'b4'),
    bias: unusedBinding(device, 'bias'), out: unusedBinding(device, 'out'), out4: out.binding('bench'),
  };
  const bound = (variant: string) => {
    const name = `matmul_bound_${variant}`;
    const bindings = loadVariant(device, 'matmul_packed', variant, name, 'main', available);
    return () =>
      device.dispatch({
        kernel: name, entry: 'main', label: name, params: boundParams,
        constants: { RM, A_DIRECT: 0, B_DIRECT: 0, TRANS_A: 0, OUT_VEC4: 1 }, bindings,
        workgroups: [N / (4 * SG), M / RM, 1],
      });
  };
  await check('matmul_packed main compiled by the bench (variant real_loop)', bound('real_loop'));
  await check('matmul_packed variant unroll_k2', bound('unroll_k2'));

  const blocksName = 'matmul_bound_blocks';
  if (!device.kernels.has(blocksName)) device.kernels.loadSource(blocksName, readFileSync(join(here, 'matmul_bound_blocks.wgsl'), 'utf8'));
  const blocks = (RB: number, CB: number) => () =>
    device.dispatch({
      kernel: blocksName, entry: 'blocks', label: `matmul_bound_blocks ${RB}x${CB}`, params, constants: { RB, CB },
      bindings: { pa: pa.binding('bench'), pb: pb.binding('bench'), out4: out.binding('bench') },
      workgroups: [N / (4 * SG * CB), M / (RM * RB), 1],
    });
  for (const [rb, cb] of [[2, 1], [1, 2], [2, 2]]) await check(`matmul_bound_blocks ${32 * rb} x ${4 * cb} per lane`, blocks(rb, cb));
  const tex = textureVariant(device, packA(A, M, K), packB(B, K, N), M, N, K, out);
  await check('matmul_packed variant texel', tex.launch);

  const variants: Variant[] = [
    { name: 'real: matmul()', what: `${configKey(config)}: pack_a + pack_b + main`, launch: full, flops },
    { name: 'real: main only', what: 'matmul_packed main on pre-packed operands', launch: mainOnly, flops },
    { name: 'loop copy', what: 'matmul_packed main, compiled by the bench', launch: bound('real_loop'), flops },
    { name: 'K unrolled x2', what: 'real loop, two k4 steps per iteration', launch: bound('unroll_k2'), flops },
    { name: 'compute only', what: 'loads replaced by register arithmetic', launch: bound('compute'), flops },
    { name: 'loads only', what: 'loads, no FMAs (flops: the real product)', launch: bound('loads'), flops },
    { name: 'small footprint', what: 'real loop, loads within 16 KiB (index & 1023)', launch: bound('small'), flops },
    { name: 'workgroup memory', what: 'real loop, A and B from 2 x 8 KiB workgroup arrays', launch: bound('wg'), flops },
    { name: 'blocks 64 x 4', what: 'two 32-row blocks per lane (matmul_bound_blocks 2x1)', launch: blocks(2, 1), flops },
    { name: 'blocks 32 x 8', what: 'two 4-column blocks per lane (matmul_bound_blocks 1x2)', launch: blocks(1, 2), flops },
    { name: 'blocks 64 x 8', what: 'four blocks per lane (matmul_bound_blocks 2x2)', launch: blocks(2, 2), flops },
    { name: 'texture loads', what: 'real loop, A and B as rgba32float texels (textureLoad)', launch: tex.launch, flops },
  ];
  return {
    variants,
    real: 'real: main only',
    dispose: () => {
      for (const t of [a, b, pa, pb, out]) t.dispose();
      tex.dispose();
    },
  };
}

/**
 * The texel variant through the raw WebGPU API (the registry binds buffers only): textures
 * filled from the packed arrays, one dispatch per launch appended to its own command buffer.
 */
function textureVariant(device: Device, pa: Float32Array, pb: Float32Array, M: number, N: number, K: number, out: Tensor) {
  const gpu = device.gpu;
  const texture = (data: Float32Array, width: number, height: number) => {
    const t = gpu.createTexture({
      size: [width, height], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    gpu.queue.writeTexture({ texture: t }, data, { bytesPerRow: width * 16, rowsPerImage: height }, [width, height]);
    return t;
  };
  const ta = texture(pa, (K / 4) * SG, M / SG);
  const tb = texture(pb, K * SG, N / (4 * SG));
  // the registry reflects buffers only: the variant's includes expanded by the registry's expander,
  // compiled here
  const file = 'matmul_bound_texel.wgsl';
  const module = gpu.createShaderModule({ label: file, code: KernelRegistry.expandIncludes(file, boundVariant('matmul_packed', 'texel')).source });
  const pipeline = gpu.createComputePipeline({
    layout: 'auto', compute: { module, entryPoint: 'main', constants: { RM, A_DIRECT: 0, B_DIRECT: 0, TRANS_A: 0, OUT_VEC4: 1 } },
  });
  // matmul_common's Params: M, N, K, batch, rank, has_bias, act, pad0, alpha, pad1..3, bshape, sa, sb
  const words = new Uint32Array(36);
  words.set([M, N, K, 1]);
  new Float32Array(words.buffer, 32, 1)[0] = 1;
  const uniform = gpu.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  gpu.queue.writeBuffer(uniform, 0, words);
  const range = (r: BufferRange) => ({ buffer: r.buffer, offset: r.offset, size: r.size });
  // the bindings main reads statically (the A_DIRECT / TRANS_A branch reads a4; out when !OUT_VEC4)
  const group = gpu.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 2, resource: range(unusedBinding(device, 'bias')) },
      { binding: 3, resource: range(unusedBinding(device, 'out')) },
      { binding: 4, resource: { buffer: uniform } },
      { binding: 8, resource: range(unusedBinding(device, 'a4')) },
      { binding: 10, resource: range(out.binding('bench')) },
      { binding: 11, resource: ta.createView() },
      { binding: 12, resource: tb.createView() },
    ],
  });
  return {
    launch: () => {
      device.flush();
      const enc = gpu.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(N / (4 * SG), M / RM, 1);
      pass.end();
      gpu.queue.submit([enc.finish()]);
    },
    dispose: () => {
      ta.destroy();
      tb.destroy();
      uniform.destroy();
    },
  };
}

/** conv2d forward, batch 8, 32 x 32, 3x3, padding 1, 64 -> 64: the real kernel and its loop variants. */
async function convVariants(device: Device, quick: boolean): Promise<{ variants: Variant[]; real: string; dispose: () => void }> {
  const [NB, HW, C] = [8, 32, 64];
  const xShape = [NB, HW, HW, C];
  const wShape = [3, 3, C, C];
  const opts = { padding: 1 };
  const g = conv2dGeometry('matmul-bound', xShape, wShape, opts);
  const kernelName = conv2dKernelName(device, g, 'fwd');
  if (kernelName !== 'shuffle') throw new Error(`matmul-bound: conv2d forward takes '${kernelName}' here, not the shuffle kernel`);
  const flops = conv2dFlops(g);
  const X = randomArray(NB * HW * HW * C, 3);
  const W = randomArray(9 * C * C, 4);
  const x = fromArray(X, xShape, { device });
  const w = fromArray(W, wShape, { device });
  const out = Tensor.empty(device, [NB, g.OH, g.OW, C], 'f32', 'bench');
  // f64 reference of image 0 (quick) or images 0 and 7
  const images = quick ? [0] : [0, NB - 1];
  const img = HW * HW * C;
  const refs = images.map((i) => conv2dRef(nd(X.subarray(i * img, (i + 1) * img), [1, HW, HW, C]), nd(W, wShape), null, opts).data);
  const check = async (what: string, got: Float32Array) => {
    images.forEach((i, j) => {
      const e = relativeError(got.subarray(i * img, (i + 1) * img), refs[j]);
      if (!(e < 1e-4)) throw new Error(`${what}: image ${i}: relative error ${e} against the f64 reference (limit 1e-4)`);
      console.log(`  checked ${what}: image ${i} relative error ${e.toExponential(2)}`);
    });
  };
  {
    const o = conv2d(x, w, null, opts);
    await check('conv2d (conv2d_shuffle fwd)', (await o.data()) as Float32Array);
    o.dispose();
  }
  const M = NB * g.OH * g.OW;
  const params = convParams(g);
  const available: Record<string, BufferRange> = {
    x4: x.binding('bench'), w4: w.binding('bench'), bias: unusedBinding(device, 'bias'), out4: out.binding('bench'),
  };
  const bound = (variant: string) => {
    const name = `conv_bound_${variant}`;
    const bindings = loadVariant(device, 'conv2d_shuffle', variant, name, 'fwd', available);
    return () =>
      device.dispatch({
        kernel: name, entry: 'fwd', label: name, params, bindings,
        workgroups: [Math.min(65535, Math.ceil(M / RM)), Math.ceil(C / (4 * SG)), 1],
      });
  };
  poison(device, out);
  bound('fwd')();
  await check('conv2d_shuffle fwd compiled by the bench (variant fwd)', (await out.data()) as Float32Array);
  const real = () => conv2d(x, w, null, opts).dispose();
  return {
    variants: [
      { name: 'real: conv2d()', what: 'conv2d_shuffle fwd', launch: real, flops },
      { name: 'loop copy', what: 'conv2d_shuffle fwd, compiled by the bench', launch: bound('fwd'), flops },
      { name: 'compute only', what: 'loads replaced by register arithmetic', launch: bound('fwd_compute'), flops },
      { name: 'loads only', what: 'loads, no FMAs (flops: the real conv)', launch: bound('fwd_loads'), flops },
    ],
    real: 'real: conv2d()',
    dispose: () => {
      for (const t of [x, w, out]) t.dispose();
    },
  };
}

/** Times the ceiling and the variants in interleaved rounds; rows with same-round ratios. */
async function measure(device: Device, group: string, ceiling: Variant, set: { variants: Variant[]; real: string }, quick: boolean): Promise<Row[]> {
  const launches = [ceiling, ...set.variants];
  const r = await timeInterleaved(device, launches.map((v) => v.launch), { minRounds: quick ? 3 : 7, maxTimeS: quick ? 4 : 20 });
  const realIdx = launches.findIndex((v) => v.name === set.real);
  const rounds = r.ratios[0].length;
  return set.variants.map((v, i0) => {
    const i = i0 + 1;
    // ratios[i][round] = t_i / t_ceiling in that round
    const pct = median(r.ratios[i].map((t) => (100 * (v.flops / t)) / ceiling.flops));
    const xReal = median(Array.from({ length: rounds }, (_, k) => r.ratios[realIdx][k] / r.ratios[i][k]));
    return { group, name: v.name, what: v.what, medianMs: r.medians[i], gflops: v.flops / (r.medians[i] * 1e6), pctCeiling: pct, xReal };
  });
}

function table(rows: Row[]): string {
  const head = ['group', 'variant', 'median ms', 'GFLOP/s', '% ceiling', 'x real', 'what'];
  const body = rows.map((r) => [r.group, r.name, r.medianMs.toFixed(2), r.gflops.toFixed(1), r.pctCeiling.toFixed(1), r.xReal.toFixed(2), r.what]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main() {
  const quick = process.argv.includes('--quick');
  const outIdx = process.argv.indexOf('--out');
  const outFile = outIdx > 0 ? process.argv[outIdx + 1] : join(here, 'results', 'matmul-bound.json');
  const device = await init();
  console.log(`adapter: ${device.describe()}`);
  if (device.subgroupLanes < SG || !device.isSoftware) {
    throw new Error('matmul-bound: decomposes the CPU-adapter kernels (subgroups of 8); this adapter does not run them');
  }
  const { ceilings, rows: ceilingRows } = await measureCeilings(device, true);
  console.log(`FMA ceiling (measureCeilings): ${ceilings.gflops.toFixed(1)} GFLOP/s`);
  const ceiling = ceilingLaunch(device, ceilingRows[0].name);
  const onlyIdx = process.argv.indexOf('--only');
  const only = onlyIdx > 0 ? process.argv[onlyIdx + 1] : undefined;
  const rows: Row[] = [];
  if (only !== 'conv') {
    console.log('matmul 1024^3 ...');
    const mm = await matmulVariants(device, 1024);
    rows.push(...(await measure(device, 'matmul 1024^3', ceiling, mm, quick)));
    mm.dispose();
  }
  if (only !== 'matmul') {
    console.log('conv2d 8x32x32, 3x3, 64 -> 64 ...');
    const cv = await convVariants(device, quick);
    rows.push(...(await measure(device, 'conv2d 64->64', ceiling, cv, quick)));
    cv.dispose();
  }
  console.log(`\n${table(rows)}\n\n% ceiling and x real: medians of same-round ratios (interleaved rounds)`);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ adapter: device.adapterInfo, date: new Date().toISOString(), quick, ceilingGflops: ceilings.gflops, rows }, null, 1));
  console.log(`wrote ${outFile}`);
  shutdown();
}

await main();
