/**
 * @file A/B bench of the conv2d kernels: the working tree's conv2d.wgsl, conv2d_shuffle.wgsl and
 * conv2d_grouped.wgsl (A) against the same files at git revision `--rev` (B), through the same
 * host code. B's text (includes expanded from that revision) is compiled with
 * device.kernels.loadSource under other names, and a wrapper of device.dispatch sends the conv
 * dispatches of the B launches there. A control (C) is A's own text under a third name: C / A
 * says how far two identical kernels differ here.
 * Cases: forward, grad-input and grad-weight at CNN shapes (batch 8, 32x32, 3x3, padding 1),
 * with the default selection (the shuffle kernels on lavapipe) and with impl 'igemm' (register
 * tiles), plus 3 -> 17 channels (igemm: channels not a multiple of 4). `--more` adds the forward
 * at every tile of CONV2D_TILES and the direct kernels (64 -> 64), and depthwise 3x3 forward,
 * grad-input and grad-weight (groups = 64, conv2d_grouped.wgsl). Each case is timed A, B, C
 * in turn per round (bench/harness.ts timeInterleaved); its ratio is the median over rounds, and
 * the summary is the geometric mean over cases of B / A and C / A.
 *   npx tsx bench/conv-ab.ts --rev <commit> [--quick] [--more] [--filter <part of a case name>]
 */
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { init, shutdown } from '../src/index.js';
import type { Device } from '../src/tensor/device.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { randn } from '../src/ops/creation.js';
import { CONV2D_TILES, conv2d, conv2dGeometry, conv2dGradInput, conv2dGradWeight, type Conv2dOptions } from '../src/ops/conv2d.js';
import { geomean, median, timeInterleaved } from './harness.js';

const CONV_KERNELS = ['conv2d', 'conv2d_shuffle', 'conv2d_grouped'];

/** `src/kernels/<file>` at `rev`, its `//!include` lines expanded from the same revision. */
function sourceAt(rev: string, file: string): string {
  const text = execFileSync('git', ['show', `${rev}:src/kernels/${file}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return text.replace(/^\/\/!include\s+(\S+\.wgsl)\s*$/gm, (_, inc: string) => sourceAt(rev, `include/${inc}`));
}

/** The working tree's kernel source (includes expanded by the loader). */
function sourceNow(device: Device, name: string): string {
  return device.kernels.load(name).source;
}

/**
 * Routes the conv dispatches of a variant to its own copies of the kernels: `conv2d_shuffle` to
 * `conv2d_shuffle#tag`, the specialized `conv2d@TM4_TN8` to `conv2d#tag@TM4_TN8` (the same
 * const replacement as specializeKernel). `select()` returns the variant's tag or null (A).
 */
function routeDispatches(device: Device, sources: Record<string, Record<string, string>>, select: () => string | null): void {
  const dispatch = device.dispatch.bind(device);
  const loaded = new Set<string>();
  const load = (name: string, text: string) => {
    if (!loaded.has(name)) device.kernels.loadSource(name, text);
    loaded.add(name);
  };
  device.dispatch = (spec) => {
    const tag = select();
    if (tag === null) return dispatch(spec);
    const [file, consts] = spec.kernel.split('@');
    if (!CONV_KERNELS.includes(file)) return dispatch(spec);
    let text = sources[tag][file];
    for (const part of consts ? consts.split('_') : []) {
      const m = /^([A-Z]+)(\d+)$/.exec(part);
      if (!m) throw new Error(`conv-ab: cannot read the constants of ${spec.kernel}`);
      text = text.replace(new RegExp(`const ${m[1]}: u32 = \\d+u;`), `const ${m[1]}: u32 = ${m[2]}u;`);
    }
    const name = `${file}#${tag}${consts ? `@${consts}` : ''}`;
    load(name, text);
    return dispatch({ ...spec, kernel: name });
  };
}

interface Case {
  name: string;
  launch: () => Tensor;
}

function cases(device: Device, quick: boolean, more: boolean): { cases: Case[]; inputs: Tensor[] } {
  const out: Case[] = [];
  const inputs: Tensor[] = [];
  const shapes: [number, number][] = quick ? [[16, 16], [64, 64], [3, 17]] : [[16, 16], [64, 64], [128, 128], [3, 17]];
  for (const [c, co] of shapes) {
    const xShape = [8, 32, 32, c];
    const wShape = [3, 3, c, co];
    const base: Conv2dOptions = { padding: 1 };
    const g = conv2dGeometry('conv-ab', xShape, wShape, base);
    const x = randn(xShape, { seed: 1, device });
    const w = randn(wShape, { seed: 2, device });
    const dy = randn([8, g.OH, g.OW, co], { seed: 3, device });
    inputs.push(x, w, dy);
    const impls: Conv2dOptions['impl'][] = c % 4 === 0 && co % 4 === 0 ? ['auto', 'igemm'] : ['igemm'];
    for (const impl of impls) {
      const opts = { ...base, impl };
      const tag = `${c}->${co} ${impl}`;
      out.push({ name: `forward ${tag}`, launch: () => conv2d(x, w, null, opts) });
      out.push({ name: `grad-input ${tag}`, launch: () => conv2dGradInput(dy, w, xShape, opts) });
      out.push({ name: `grad-weight ${tag}`, launch: () => conv2dGradWeight(x, dy, wShape, opts) });
    }
  }
  if (more) out.push(...moreCases(device, inputs));
  return { cases: out, inputs };
}

/** --more: forward at every tile and the direct kernels (64 -> 64), depthwise 3x3 (groups = 64). */
function moreCases(device: Device, inputs: Tensor[]): Case[] {
  const out: Case[] = [];
  const c = 64;
  const base: Conv2dOptions = { padding: 1 };
  const xShape = [8, 32, 32, c];
  const wShape = [3, 3, c, c];
  const dwShape = [3, 3, 1, c];
  const g = conv2dGeometry('conv-ab', xShape, wShape, base);
  const x = randn(xShape, { seed: 1, device });
  const w = randn(wShape, { seed: 2, device });
  const dy = randn([8, g.OH, g.OW, c], { seed: 3, device });
  const wd = randn(dwShape, { seed: 4, device });
  inputs.push(x, w, dy, wd);
  for (const tile of CONV2D_TILES) {
    out.push({ name: `forward tile ${tile.tm}x${tile.tn}`, launch: () => conv2d(x, w, null, { ...base, impl: 'igemm', tile }) });
  }
  const direct: Conv2dOptions = { ...base, impl: 'direct' };
  out.push({ name: 'forward 64->64 direct', launch: () => conv2d(x, w, null, direct) });
  out.push({ name: 'grad-input 64->64 direct', launch: () => conv2dGradInput(dy, w, xShape, direct) });
  out.push({ name: 'grad-weight 64->64 direct', launch: () => conv2dGradWeight(x, dy, wShape, direct) });
  const dws: Conv2dOptions = { ...base, groups: c };
  out.push({ name: 'forward depthwise 64', launch: () => conv2d(x, wd, null, dws) });
  out.push({ name: 'grad-input depthwise 64', launch: () => conv2dGradInput(dy, wd, xShape, dws) });
  out.push({ name: 'grad-weight depthwise 64', launch: () => conv2dGradWeight(x, dy, dwShape, dws) });
  return out;
}

async function main(): Promise<void> {
  const opts = new Command()
    .requiredOption('--rev <commit>', 'the revision B (any git revision name)')
    .option('--quick', 'fewer shapes and rounds')
    .option('--more', 'also every forward tile, the direct kernels and depthwise (grouped) cases')
    .option('--rounds <n>', 'rounds per case (at least)', '7')
    .option('--filter <text>', 'only the cases whose name contains this')
    .parse()
    .opts<{ rev: string; quick?: boolean; more?: boolean; rounds: string; filter?: string }>();
  const device = await init();
  console.log(`adapter: ${device.describe()}`);
  const rev = execFileSync('git', ['rev-parse', '--short', opts.rev], { encoding: 'utf8' }).trim();
  const sources: Record<string, Record<string, string>> = { B: {}, C: {} };
  for (const k of CONV_KERNELS) {
    sources.B[k] = sourceAt(opts.rev, `${k}.wgsl`);
    sources.C[k] = sourceNow(device, k);
  }
  let variant: string | null = null;
  routeDispatches(device, sources, () => variant);
  const { cases: made, inputs } = cases(device, !!opts.quick, !!opts.more);
  const all = made.filter((c) => !opts.filter || c.name.includes(opts.filter));
  const as = (tag: string | null, c: Case) => () => {
    variant = tag;
    c.launch().dispose();
    variant = null;
  };
  console.log(`A = working tree, B = ${rev} (${opts.rev}), C = A's text under another name (control)`);
  console.log('case                          A ms     B/A     C/A');
  const ba: number[] = [];
  const ca: number[] = [];
  for (const c of all) {
    const r = await timeInterleaved(device, [as(null, c), as('B', c), as('C', c)], {
      minRounds: Number(opts.rounds), maxTimeS: opts.quick ? 1 : 3,
    });
    const b = median(r.ratios[1]);
    const k = median(r.ratios[2]);
    ba.push(b);
    ca.push(k);
    console.log(`${c.name.padEnd(28)} ${r.medians[0].toFixed(2).padStart(7)} ${b.toFixed(3).padStart(7)} ${k.toFixed(3).padStart(7)}`);
  }
  for (const t of inputs) t.dispose();
  console.log(`geomean over ${all.length} cases: B/A ${geomean(ba).toFixed(3)}, control C/A ${geomean(ca).toFixed(3)} ` +
    `(B/A < 1: ${rev} faster; > 1: the working tree faster)`);
  await shutdown();
}

await main();
