/**
 * @file The probes of a run with every default filled (part of its RunConfig, so its id), and
 * which evaluation steps they run at. A spec without `probes` resolves to none: its runs' configs
 * have no `probes` key, so their ids are those of the same spec with no probe settings at all.
 */
import type { ModelFamily, ProbesSpec } from '../spec/schema.js';
import type { Model } from '../../nn/models.js';
import { featureLayers, preactivationLayers } from '../observables/features.js';

/** Defaults of the spec's `probes` field (notes/observables.md, "Probes during training"). */
export const PROBE_DEFAULTS = { size: 128, sharpnessIterations: 20, sharpnessWarmIterations: 5, entkSize: 32 } as const;

/** Most values a preactivation sample (preact-<layer>-<step>.npy) holds. */
export const PREACTIVATION_SAMPLE_MAX = 4096;

export interface ProbeSettings {
  /** Probe at the evaluation steps that are multiples of this (1: every evaluation step). */
  every: number;
  /** Probe batch: the first `size` test points (fewer when the test set is smaller). */
  size: number;
  kernels: boolean;
  preactivations: boolean;
  sharpness: false | { iterations: number; warmIterations: number };
  /** eNTK on the first min(size, probe batch) probe points. */
  entk: false | { size: number };
}

export function resolveProbes(spec: ProbesSpec): ProbeSettings {
  const sharp = spec.sharpness;
  const entk = spec.entk;
  return {
    every: spec.every ?? 1,
    size: spec.size,
    kernels: spec.kernels,
    preactivations: spec.preactivations,
    sharpness: sharp === false ? false : {
      iterations: (sharp === true ? undefined : sharp.iterations) ?? PROBE_DEFAULTS.sharpnessIterations,
      warmIterations: (sharp === true ? undefined : sharp.warmIterations) ?? PROBE_DEFAULTS.sharpnessWarmIterations,
    },
    entk: entk === false ? false : { size: (entk === true ? undefined : entk.size) ?? PROBE_DEFAULTS.entkSize },
  };
}

/** The evaluation steps of a run at which its probes run (none without probes). */
export function probeSteps(config: { evalSteps: readonly number[]; probes?: ProbeSettings }): number[] {
  const p = config.probes;
  return p ? config.evalSteps.filter((s) => s % p.every === 0) : [];
}

/** Examples in the probe batch of a run whose test set has `testSize` examples. */
export const probeBatchSize = (p: ProbeSettings, testSize: number) => Math.min(p.size, testSize);

/** Examples of the eNTK (0 when it is off). */
export const entkSize = (p: ProbeSettings, testSize: number) => (p.entk ? Math.min(p.entk.size, probeBatchSize(p, testSize)) : 0);

/** The feature and preactivation layers a model of `model`'s family and depth is probed at. */
export function probeLayers(model: { family: ModelFamily; depth: number }): { features: string[]; preactivations: string[] } {
  // the layer lists read only the family and the depth of the model's spec
  const m = { spec: model } as unknown as Model;
  return { features: featureLayers(m), preactivations: preactivationLayers(m) };
}
