/**
 * @file Expands a validated spec into runs (one per seed × grid point) and ensemble groups.
 *
 * A run's id is the short hash of its canonical resolved config, so it does not depend on the
 * key order of the spec, on the spec's name, or on how the runs are grouped or sharded.
 */
import type { ModelSpec, OptimizerSpec, ParameterizationSpec, SweepSpec, TaskSpec } from './schema.js';
import { shortHash } from './canonical.js';
import { resolveProbes, type ProbeSettings } from '../probes/settings.js';

/** Everything that determines one run's results, and nothing else. */
export interface RunConfig {
  task: TaskSpec;
  model: ModelSpec;
  width: number;
  seed: number;
  parameterization: ParameterizationSpec;
  baseWidth: number;
  optimizer: OptimizerSpec;
  lr: number;
  batchSize: number;
  steps: number;
  /** Sorted, distinct steps (0 = before the first update) at which test metrics and predictions are taken. */
  evalSteps: number[];
  /** Probes during training (absent: none, and the config has no `probes` key, so its id does not depend on probes). */
  probes?: ProbeSettings;
}

export interface ResolvedRun {
  /** Short hash of `config`; also the run's directory name. */
  id: string;
  /** Short hash of `config` without the seed: runs that differ only by seed share it. */
  configId: string;
  /** Short hash of `config` without seed and width: one curve family ("series") of the analyses. */
  seriesId: string;
  config: RunConfig;
}

/** Runs trained together as one ensemble (same config, different seeds). */
export interface RunGroup {
  id: string;
  configId: string;
  runs: ResolvedRun[];
}

export interface ResolvedSweep {
  spec: SweepSpec;
  runs: ResolvedRun[];
  groups: RunGroup[];
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

export function resolveEvalSteps(evalSpec: SweepSpec['eval'], steps: number): number[] {
  let list: number[];
  if (typeof evalSpec === 'number' || (typeof evalSpec === 'object' && !Array.isArray(evalSpec) && 'every' in evalSpec)) {
    const every = typeof evalSpec === 'number' ? evalSpec : evalSpec.every;
    const includeInit = typeof evalSpec === 'number' ? true : evalSpec.includeInit;
    list = includeInit ? [0] : [];
    for (let t = every; t <= steps; t += every) list.push(t);
    list.push(steps); // the final state is always evaluated
  } else {
    list = Array.isArray(evalSpec) ? evalSpec : evalSpec.steps;
  }
  return [...new Set(list)].sort((a, b) => a - b);
}

export function resolveSeeds(seeds: SweepSpec['seeds']): number[] {
  return Array.isArray(seeds) ? [...seeds] : Array.from({ length: seeds }, (_, i) => i);
}

export function resolveSweep(spec: SweepSpec): ResolvedSweep {
  const seeds = resolveSeeds(spec.seeds);
  const evalSteps = resolveEvalSteps(spec.eval, spec.steps);
  const baseWidth = spec.baseWidth ?? Math.min(...spec.widths);
  const probes = spec.probes ? { probes: resolveProbes(spec.probes) } : {};
  const runs: ResolvedRun[] = [];
  const groups: RunGroup[] = [];
  for (const model of asList(spec.model) as ModelSpec[])
    for (const parameterization of asList(spec.parameterization) as ParameterizationSpec[])
      for (const lr of asList(spec.lr))
        for (const width of spec.widths) {
          if (model.maxWidth !== undefined && width > model.maxWidth) continue;
          const base = { task: spec.task, model, width, parameterization, baseWidth, optimizer: spec.optimizer, lr, batchSize: spec.batchSize, steps: spec.steps, evalSteps, ...probes };
          const configId = shortHash(base);
          const { width: _w, ...seriesKey } = base;
          const seriesId = shortHash(seriesKey);
          const members = seeds.map((seed): ResolvedRun => {
            const config: RunConfig = { ...base, seed };
            return { id: shortHash(config), configId, seriesId, config };
          });
          runs.push(...members);
          const size = spec.ensemble === 'all' ? members.length : spec.ensemble;
          for (let i = 0; i < members.length; i += size) {
            const chunk = members.slice(i, i + size);
            groups.push({ id: shortHash({ configId, seeds: chunk.map((r) => r.config.seed) }), configId, runs: chunk });
          }
        }
  const ids = new Set(runs.map((r) => r.id));
  if (ids.size !== runs.length) throw new Error('resolveSweep: two runs resolved to the same config (duplicate grid values?)');
  return { spec, runs, groups };
}

/** A short human label: `mlp2 mup lr=0.1 w=128 s=0` (family, depth, ...). */
export function runLabel(c: RunConfig, withSeed = true): string {
  const p = c.parameterization.name === 'mf' ? `mf(γ0=${c.parameterization.gamma0})` : c.parameterization.name;
  return `${c.model.family}${c.model.depth} ${p} lr=${c.lr} w=${c.width}${withSeed ? ` s=${c.seed}` : ''}`;
}

/** The label of a series (all widths and seeds of one setting). */
export function seriesLabel(c: RunConfig): string {
  const p = c.parameterization.name === 'mf' ? `mf(γ0=${c.parameterization.gamma0})` : c.parameterization.name;
  return `${c.model.family}${c.model.depth} ${p} lr=${c.lr}`;
}
