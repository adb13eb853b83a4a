/**
 * @file Checkpoints: a model's parameters (and optionally its optimizer's state) in the
 * safetensors format, with the model spec in the header's metadata. Loading checks every name
 * and shape against the model and says which parameter differs and how.
 */
import { fromArray } from '../ops/creation.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Model, ModelSpec } from './models.js';
import { readSafetensors, writeSafetensors, type HostTensor } from './safetensors.js';

/** Named extra tensors to save with the model (e.g. optimizer moments `optim.m.<param>`). */
export type ExtraState = Map<string, Tensor>;

async function host(t: Tensor): Promise<HostTensor> {
  return { shape: [...t.shape], data: (await t.data()) as Float32Array | Int32Array };
}

export async function saveCheckpoint(path: string, model: Model, extra: ExtraState = new Map(), meta: Record<string, unknown> = {}): Promise<void> {
  const tensors: Record<string, HostTensor> = {};
  for (const p of model.parameters()) tensors[p.name] = await host(p.value);
  for (const [name, t] of extra) tensors[name] = await host(t);
  writeSafetensors(path, {
    tensors,
    metadata: { format: 'widthscope', spec: JSON.stringify(model.spec), meta: JSON.stringify(meta) },
  });
}

export interface LoadedCheckpoint {
  spec: ModelSpec;
  meta: Record<string, unknown>;
  /** Tensors that are not model parameters (optimizer state), as host arrays. */
  extra: Map<string, HostTensor>;
}

/** Loads parameters into `model` (same names and shapes required) and returns the rest. */
export function loadCheckpoint(path: string, model: Model): LoadedCheckpoint {
  const file = readSafetensors(path);
  const params = model.namedParameters();
  for (const [name, p] of params) {
    const t = file.tensors[name];
    if (!t) throw new Error(`loadCheckpoint ${path}: parameter '${name}' ${fmt(p.shape)} is missing from the checkpoint`);
    if (t.shape.join() !== p.shape.join()) {
      throw new Error(
        `loadCheckpoint ${path}: parameter '${name}' has shape ${fmt(t.shape)} in the checkpoint but ${fmt(p.shape)} in the model ` +
          `(a checkpoint of another width or architecture?)`,
      );
    }
  }
  for (const [name, p] of params) {
    const t = file.tensors[name];
    p.assign(fromArray(t.data, t.shape, { device: p.value.device }));
  }
  const extra = new Map(Object.entries(file.tensors).filter(([n]) => !params.has(n)));
  return {
    spec: JSON.parse(file.metadata.spec ?? 'null') as ModelSpec,
    meta: JSON.parse(file.metadata.meta ?? '{}') as Record<string, unknown>,
    extra,
  };
}
