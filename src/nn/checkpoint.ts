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

/**
 * Member i of an ensemble model as host tensors: each parameter's slice [i] (the shapes a
 * single-seed model of the same spec has), named like the model's parameters.
 */
export async function memberState(model: Model, member: number): Promise<Map<string, HostTensor>> {
  const S = model.seeds?.length;
  if (S === undefined) throw new Error('memberState: the model is not an ensemble (built without ctx.seeds)');
  if (!(Number.isInteger(member) && member >= 0 && member < S)) throw new Error(`memberState: member ${member} is out of range for an ensemble of ${S}`);
  const out = new Map<string, HostTensor>();
  for (const p of model.parameters()) {
    const all = (await p.value.data()) as Float32Array;
    const per = all.length / S;
    out.set(p.name, { shape: [...p.info.shape], data: all.slice(member * per, (member + 1) * per) });
  }
  return out;
}

/** Saves member i of an ensemble as a single-seed checkpoint (loadable into a model built with its seed). */
export async function saveMemberCheckpoint(path: string, model: Model, member: number, meta: Record<string, unknown> = {}): Promise<void> {
  const state = await memberState(model, member);
  writeSafetensors(path, {
    tensors: Object.fromEntries(state),
    metadata: { format: 'widthscope', spec: JSON.stringify(model.spec), meta: JSON.stringify({ ...meta, seed: model.seeds![member], member }) },
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
