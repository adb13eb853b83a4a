/**
 * @file A model's hidden layers on a probe batch, read back to the host in f64.
 *
 * The layers record their outputs (src/nn/layers.ts `record`); a capture runs one forward with a
 * recorder attached (no gradients) and reads back the recorded tensors of the named paths.
 * Which paths are the hidden representations (`featureLayers`) and the preactivations
 * (`preactivationLayers`) of each family:
 *   mlp:         features `input.act`, `hidden{i}.act` (after the activation);
 *                preactivations `input`, `hidden{i}` (the linear outputs, multiplier and bias included)
 *   cnn:         features `stem.act`, `stage{s}.out`, `pool`; preactivations `stem`, `stage{s}.conv1`, `stage{s}.conv2`
 *   transformer: features `embed`, `block{i}.out` (the residual stream); preactivations `block{i}.up`
 * Features are an n x N matrix per member: an MLP's [B, N] as is; a CNN's [B, H, W, C] averaged
 * over H and W by default (`spatial: 'pool'`, N = C) or flattened (`'flatten'`, N = H W C); a
 * transformer's [B, T, N] flattened over positions (N' = T N). An ensemble's [S, ...] gives one
 * matrix per member; a single model gives one.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { keep, tidy } from '../../tensor/scope.js';
import { noGrad } from '../../autograd/index.js';
import { withRecorder } from '../../nn/layers.js';
import type { Model } from '../../nn/models.js';
import { fmt } from '../../tensor/shape.js';
import type { Matrix } from './matrix.js';

/** The recorded outputs of one layer: per member, the values and the per-member shape [B, ...]. */
export interface LayerCapture {
  shape: number[];
  members: Float64Array[];
}

/** The paths of a model's hidden representations, input side first. */
export function featureLayers(model: Model): string[] {
  const s = model.spec;
  const count = (k: number, f: (i: number) => string) => Array.from({ length: k }, (_, i) => f(i));
  switch (s.family) {
    case 'mlp':
      return ['input.act', ...count(s.depth - 1, (i) => `hidden${i + 1}.act`)];
    case 'cnn':
      return ['stem.act', ...count(s.depth, (i) => `stage${i}.out`), 'pool'];
    case 'transformer':
      return ['embed', ...count(s.depth, (i) => `block${i}.out`)];
  }
}

/** The paths of a model's preactivations (the inputs of its nonlinearities), input side first. */
export function preactivationLayers(model: Model): string[] {
  const s = model.spec;
  const count = (k: number, f: (i: number) => string[]) => Array.from({ length: k }, (_, i) => f(i)).flat();
  switch (s.family) {
    case 'mlp':
      return ['input', ...count(s.depth - 1, (i) => [`hidden${i + 1}`])];
    case 'cnn':
      return ['stem', ...count(s.depth, (i) => [`stage${i}.conv1`, `stage${i}.conv2`])];
    case 'transformer':
      return count(s.depth, (i) => [`block${i}.up`]);
  }
}

/**
 * One forward of `model` on `x` (no gradients); the recorded outputs of `paths`, read back.
 * Throws naming the paths the forward did not record.
 */
export async function captureLayers(model: Model, x: Tensor, paths: readonly string[]): Promise<Map<string, LayerCapture>> {
  const wanted = new Set(paths);
  const got = new Map<string, Tensor>();
  try {
    noGrad(() => tidy(() => {
      withRecorder((path, out) => {
        if (wanted.has(path) && !got.has(path)) got.set(path, keep(out));
      }, () => model.forward(x));
    }));
    const missing = paths.filter((p) => !got.has(p));
    if (missing.length) throw new Error(`captureLayers: the ${model.spec.family} forward recorded no layer ${missing.join(', ')} (expected one of its recorded paths, e.g. ${featureLayers(model).join(', ')})`);
    const S = model.ensemble;
    const out = new Map<string, LayerCapture>();
    for (const path of paths) {
      const t = got.get(path)!;
      const all = Float64Array.from(await t.data());
      const members = S ?? 1;
      const per = all.length / members;
      out.set(path, {
        shape: S === null ? [...t.shape] : t.shape.slice(1),
        members: Array.from({ length: members }, (_, s) => all.subarray(s * per, (s + 1) * per)),
      });
    }
    return out;
  } finally {
    for (const t of got.values()) t.dispose();
  }
}

export type SpatialReduction = 'pool' | 'flatten';

/** A captured layer as n x N feature matrices (one per member); see the file comment. */
export function asFeatures(c: LayerCapture, spatial: SpatialReduction = 'pool'): Matrix[] {
  const [n, ...rest] = c.shape;
  const N = rest.reduce((a, b) => a * b, 1);
  if (rest.length === 3 && spatial === 'pool') {
    const [H, W, C] = rest;
    return c.members.map((v) => {
      const out = new Float64Array(n * C);
      for (let i = 0; i < n; i++) for (let p = 0; p < H * W; p++) for (let ch = 0; ch < C; ch++) out[i * C + ch] += v[(i * H * W + p) * C + ch] / (H * W);
      return { rows: n, cols: C, data: out };
    });
  }
  if (rest.length === 0) throw new Error(`asFeatures: a layer output ${fmt(c.shape)} has no feature axis (expected [B, N, ...])`);
  return c.members.map((v) => ({ rows: n, cols: N, data: v }));
}

/** The hidden features of `model` on probe batch `x`: path -> one n x N f64 matrix per member. */
export async function captureFeatures(model: Model, x: Tensor, opts: { paths?: readonly string[]; spatial?: SpatialReduction } = {}): Promise<Map<string, Matrix[]>> {
  const caps = await captureLayers(model, x, opts.paths ?? featureLayers(model));
  return new Map([...caps].map(([path, c]) => [path, asFeatures(c, opts.spatial)]));
}

/** Every preactivation value of each layer on `x` (all examples, units and positions): path -> one sample per member. */
export async function capturePreactivations(model: Model, x: Tensor, paths?: readonly string[]): Promise<Map<string, Float64Array[]>> {
  const caps = await captureLayers(model, x, paths ?? preactivationLayers(model));
  return new Map([...caps].map(([path, c]) => [path, c.members]));
}
