/**
 * @file The sweep spec's schema (zod): what a researcher may write in a spec file.
 *
 * Every object is strict (unknown fields are errors). A field that takes a list where a single
 * value is also allowed (model, parameterization, lr, widths, seeds) is a grid axis: the sweep is
 * the Cartesian product of its axes (see resolve.ts).
 */
import { z } from 'zod';
import { ADAM_DEFAULTS, SGD_DEFAULTS } from '../../nn/optim.js';

const posInt = (what = 'a positive integer') => z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` });
const nonNegInt = z.number({ error: 'expected an integer >= 0' }).int({ error: 'expected an integer >= 0' }).nonnegative({ error: 'expected an integer >= 0' });
const posNum = z.number({ error: 'expected a positive number' }).positive({ error: 'expected a positive number' }).refine(Number.isFinite, { error: 'expected a finite number' });
const nonNegNum = z.number({ error: 'expected a number >= 0' }).nonnegative({ error: 'expected a number >= 0' });
const prob = z.number({ error: 'expected a number in [0, 1)' }).min(0, { error: 'expected a number in [0, 1)' }).lt(1, { error: 'expected a number in [0, 1)' });
const testSize = posInt().optional();

/** Allow `"name"` as shorthand for `{ <key>: "name" }` so that the object schema reports errors. */
function shorthand<T extends z.ZodType>(key: string, schema: T) {
  return z.preprocess((v) => (typeof v === 'string' ? { [key]: v } : v), schema);
}

// ---- tasks: the data stream and its held-out test set ------------------------------------------
const activationName = z.enum(['relu', 'gelu', 'tanh'], { error: 'expected relu | gelu | tanh' });
export const TASK_NAMES = ['teacher-image', 'teacher-regression', 'teacher-gaussian', 'markov-text', 'mnist', 'fashion-mnist', 'moby-dick'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

// Option names follow src/data (TeacherSpec, MarkovSpec); every option defaults there.
const teacherOptions = {
  /** Image side (height = width), pixels. */
  size: posInt().optional(),
  channels: posInt().optional(),
  /** Smooth basis patterns the inputs are made of. */
  basis: posInt().optional(),
  /** Hidden width of the teacher network. */
  hidden: posInt().optional(),
  /** Label temperature (classification) or output noise std (regression); 0 is noiseless. */
  difficulty: nonNegNum.optional(),
  /** Seed of the teacher itself (the task). */
  seed: nonNegInt.optional(),
  /** Seed of the batch sequence (the same for every width and seed of the sweep). */
  dataSeed: nonNegInt.optional(),
  testSize,
};
/** Regression loss convention: 'mse' = mean (f - y)² (default), 'half-mse' = 0.5 mean (f - y)². */
const regressionLoss = z.enum(['mse', 'half-mse'], { error: 'expected mse | half-mse' }).optional();
const taskSchema = shorthand('name', z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('teacher-image'), classes: posInt().optional(), ...teacherOptions }),
  z.strictObject({ name: z.literal('teacher-regression'), ...teacherOptions, loss: regressionLoss }),
  // the standard teacher task (src/data/gaussian-teacher.ts): x ~ N(0, I_d), a random teacher MLP, targets normalised
  z.strictObject({
    name: z.literal('teacher-gaussian'),
    /** Input dimension d. */
    inputDim: posInt().optional(),
    /** Hidden layers, hidden width and activation of the teacher MLP. */
    teacherDepth: posInt().optional(),
    teacherWidth: posInt().optional(),
    teacherActivation: activationName.optional(),
    /** Size of the fixed sample the targets are normalised on (mean 0, variance 1). */
    normSamples: z.number({ error: 'expected an integer >= 2' }).int({ error: 'expected an integer >= 2' }).min(2, { error: 'expected an integer >= 2' }).optional(),
    seed: nonNegInt.optional(),
    dataSeed: nonNegInt.optional(),
    testSize,
    loss: regressionLoss,
  }),
  z.strictObject({
    name: z.literal('markov-text'),
    vocab: posInt().optional(),
    /** Successors each token can have. */
    branching: posInt().optional(),
    /** Seed of the chain itself (the language). */
    seed: nonNegInt.optional(),
    dataSeed: nonNegInt.optional(),
    contextLength: posInt().optional(),
    testSize,
  }),
  z.strictObject({ name: z.literal('mnist'), testSize }),
  z.strictObject({ name: z.literal('fashion-mnist'), testSize }),
  z.strictObject({ name: z.literal('moby-dick'), contextLength: posInt().optional(), dataSeed: nonNegInt.optional(), testSize }),
], { error: `expected one of ${TASK_NAMES.join(' | ')}` }));

// ---- model families; `width` comes from the sweep's widths axis --------------------------------
export const MODEL_FAMILIES = ['mlp', 'cnn', 'transformer'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];
const activation = z.enum(['relu', 'gelu', 'tanh'], { error: 'expected relu | gelu | tanh' });

/** Largest width this model runs at: widths above it are skipped (a cost cap for slow families). */
const maxWidth = posInt('a positive integer width').optional();

const modelSchema = shorthand('family', z.discriminatedUnion('family', [
  z.strictObject({
    family: z.literal('mlp'),
    maxWidth,
    /** Number of hidden layers of size `width`. */
    depth: posInt().default(2),
    activation: activation.default('relu'),
    bias: z.boolean().default(true),
  }),
  z.strictObject({
    family: z.literal('cnn'),
    maxWidth,
    /** Number of ResNet stages (one residual block each; channels width, 2 width, 4 width, ...). */
    depth: posInt().default(2),
    activation: activation.default('relu'),
  }),
  z.strictObject({
    family: z.literal('transformer'),
    maxWidth,
    /** Number of blocks; `width` is d_model. */
    depth: posInt().default(2),
    /** Held fixed as width grows: heads = width / headDim. */
    headDim: posInt().default(16),
    mlpRatio: posInt().default(4),
  }),
], { error: `expected one of ${MODEL_FAMILIES.join(' | ')}` }));

// ---- parameterizations -------------------------------------------------------------------------
export const PARAMETERIZATIONS = ['sp', 'ntk', 'mup', 'mf'] as const;
const parameterizationSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  z.discriminatedUnion('name', [
    z.strictObject({ name: z.literal('sp') }),
    z.strictObject({ name: z.literal('ntk') }),
    z.strictObject({ name: z.literal('mup') }),
    /** Mean-field with richness gamma0 (gamma = gamma0 * sqrt(width / baseWidth) in the paper's sense). */
    z.strictObject({ name: z.literal('mf'), gamma0: posNum }),
  ], { error: `expected one of ${PARAMETERIZATIONS.join(' | ')} (mf as { "name": "mf", "gamma0": 1 })` }),
);

const optimizerSchema = shorthand('name', z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('sgd'), momentum: prob.default(SGD_DEFAULTS.momentum), weightDecay: nonNegNum.default(SGD_DEFAULTS.weightDecay) }),
  z.strictObject({
    name: z.literal('adam'),
    beta1: prob.default(ADAM_DEFAULTS.beta1),
    beta2: prob.default(ADAM_DEFAULTS.beta2),
    eps: posNum.default(ADAM_DEFAULTS.eps),
    weightDecay: nonNegNum.default(ADAM_DEFAULTS.weightDecay),
  }),
], { error: 'expected sgd | adam' }));

/** One value or a non-empty list of values (a grid axis). */
function axis<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).min(1, { error: 'expected a non-empty list' })]);
}

const evalSchema = z.union([
  posInt('a positive step interval'),
  z.array(nonNegInt).min(1, { error: 'expected a non-empty list of steps' }),
  z.strictObject({ every: posInt(), includeInit: z.boolean().default(true) }),
  z.strictObject({ steps: z.array(nonNegInt).min(1, { error: 'expected a non-empty list of steps' }) }),
], { error: 'expected k (every k steps), a list of steps, { "every": k } or { "steps": [...] }' });

/** `true` = on with the defaults; `false` = off; an object overrides the defaults. */
function toggle<T extends z.ZodType>(options: T, what: string) {
  return z.union([z.boolean(), options], { error: `expected true, false or ${what}` });
}

/**
 * Probes during training (src/experiments/probes/): Gram matrices, preactivation samples,
 * sharpness and the eNTK, written into each run directory at probe steps (the evaluation steps
 * that are multiples of `every`). Absent: no probes.
 */
export const probesSchema = z.strictObject({
  /** Probe at the evaluation steps that are multiples of this (default: every evaluation step). */
  every: posInt().optional(),
  /** Probe batch: the first `size` test points (default 128). */
  size: posInt().default(128),
  /** Gram matrices of the hidden features (default true). */
  kernels: z.boolean({ error: 'expected true or false' }).default(true),
  /** Samples of the preactivations (default true). */
  preactivations: z.boolean({ error: 'expected true or false' }).default(true),
  /** Top Hessian eigenvalue: power iterations from a random start, then warm-started (default 20, 5). */
  sharpness: toggle(z.strictObject({ iterations: posInt().optional(), warmIterations: posInt().optional() }), '{ "iterations": k, "warmIterations": k }').default(true),
  /** Empirical NTK on the first `size` probe points (default 32: 64 cost more than 25% of a sweep, bench/probe-cost.ts). */
  entk: toggle(z.strictObject({ size: posInt().optional() }), '{ "size": n }').default(true),
}, { error: (issue) => (issue.code === 'invalid_type' ? 'expected an object { every?, size?, kernels?, preactivations?, sharpness?, entk? }' : undefined) });
export type ProbesSpec = z.output<typeof probesSchema>;

export const sweepSpecSchema = z.strictObject({
  /** Free-form; not part of any run's id. */
  name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, { error: 'expected letters, digits, . _ -' }),
  description: z.string().optional(),
  task: taskSchema,
  model: axis(modelSchema),
  widths: z.array(posInt('a positive integer width'), { error: 'expected a list of widths' }).min(1, { error: 'expected a non-empty list of widths' }),
  seeds: z.union([posInt('a positive seed count'), z.array(nonNegInt).min(1, { error: 'expected a non-empty list of seeds' })], { error: 'expected a seed count or a list of seeds' }),
  parameterization: axis(parameterizationSchema),
  /** Width at which every parameterization coincides with SP (muP's base shapes); default: the smallest width. */
  baseWidth: posInt().optional(),
  optimizer: optimizerSchema.default({ name: 'sgd', momentum: SGD_DEFAULTS.momentum, weightDecay: SGD_DEFAULTS.weightDecay }),
  lr: axis(posNum),
  batchSize: posInt(),
  steps: posInt(),
  eval: evalSchema,
  /** Seeds of one config trained as one ensemble (issue 7): a group size, or "all" (default); 1 turns grouping off. */
  ensemble: z.union([posInt('a positive group size'), z.literal('all')], { error: 'expected a positive group size or "all"' }).default('all'),
  /** Shard count for schedulers that give an index but no count (Kubernetes' JOB_COMPLETION_INDEX). */
  shards: posInt().optional(),
  /**
   * Anomaly mode (as env WIDTHSCOPE_ANOMALY=1): every op output is checked on the device for
   * non-finite values; a run fails with an error naming the first op that wrote one, its output's
   * shape, the pass and the step (slow; not part of any run's id).
   */
  anomaly: z.boolean({ error: 'expected true or false' }).optional(),
  /** Probes during training (probesSchema); part of every run's config when present. */
  probes: probesSchema.optional(),
}).superRefine((s, ctx) => {
  const models = Array.isArray(s.model) ? s.model : [s.model];
  const textTask = s.task.name === 'markov-text' || s.task.name === 'moby-dick';
  models.forEach((m, i) => {
    const path = Array.isArray(s.model) ? ['model', i, 'family'] : ['model', 'family'];
    if (m.family === 'transformer' && !textTask)
      ctx.addIssue({ code: 'custom', path, message: `transformer needs a text task (markov-text | moby-dick), not ${s.task.name}` });
    if (m.family !== 'transformer' && textTask)
      ctx.addIssue({ code: 'custom', path, message: `${m.family} cannot train on the text task ${s.task.name}; use transformer` });
    if (m.family === 'cnn' && (s.task.name === 'teacher-regression' || s.task.name === 'teacher-gaussian'))
      ctx.addIssue({ code: 'custom', path, message: 'cnn needs an image task (teacher-image | mnist | fashion-mnist)' });
    if (m.maxWidth !== undefined && s.widths.every((w) => w > m.maxWidth!)) {
      const at = Array.isArray(s.model) ? ['model', i, 'maxWidth'] : ['model', 'maxWidth'];
      ctx.addIssue({ code: 'custom', path: at, message: `maxWidth ${m.maxWidth} excludes every width of the sweep (${s.widths.join(', ')}), so this model would run nothing: expected a maxWidth >= ${Math.min(...s.widths)}` });
    }
  });
  const evalSteps = typeof s.eval === 'number' ? [] : Array.isArray(s.eval) ? s.eval : 'steps' in s.eval ? s.eval.steps : [];
  const evalPath = Array.isArray(s.eval) ? ['eval'] : ['eval', 'steps'];
  evalSteps.forEach((t, i) => {
    if (t > s.steps) ctx.addIssue({ code: 'custom', path: [...evalPath, i], message: `evaluation step ${t} is past the last step (${s.steps})` });
  });
  const params = Array.isArray(s.parameterization) ? s.parameterization : [s.parameterization];
  params.forEach((p, i) => {
    if (p.name === 'mf' && s.optimizer.name !== 'sgd') {
      const path = Array.isArray(s.parameterization) ? ['parameterization', i] : ['parameterization'];
      ctx.addIssue({ code: 'custom', path, message: `mf (mean-field) is defined for SGD only, and the optimizer is ${s.optimizer.name}: use mup with ${s.optimizer.name}, or sgd` });
    }
  });
  if (Array.isArray(s.seeds) && new Set(s.seeds).size !== s.seeds.length)
    ctx.addIssue({ code: 'custom', path: ['seeds'], message: 'expected distinct seeds' });
  if (new Set(s.widths).size !== s.widths.length)
    ctx.addIssue({ code: 'custom', path: ['widths'], message: 'expected distinct widths' });
});

/** A spec as written (input) and as parsed (defaults filled). */
export type SweepSpecInput = z.input<typeof sweepSpecSchema>;
export type SweepSpec = z.output<typeof sweepSpecSchema>;
export type TaskSpec = SweepSpec['task'];
export type ModelSpec = Extract<SweepSpec['model'], { family: string }>;
export type ParameterizationSpec = { name: 'sp' } | { name: 'ntk' } | { name: 'mup' } | { name: 'mf'; gamma0: number };
export type OptimizerSpec = SweepSpec['optimizer'];
