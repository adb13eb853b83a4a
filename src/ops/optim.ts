/**
 * @file Fused optimizer updates (SGD with momentum/dampening/weight decay/Nesterov; Adam and
 * AdamW) applied in place to many parameters, on optim.wgsl.
 *
 * Design: one dispatch per parameter, or per group of small parameters (SGD: sgd_multi, 7 a
 * dispatch; Adam: adam_multi_vec4, 4), every one appended to the device's open encoder (no submit,
 * no readback), each with its own uniform slot holding each parameter's lr (times its
 * multiplier) and the step-dependent constants computed in f64 on the host. So any number of
 * steps may be appended before one submit and each sees its own lr and step count. A parameter
 * whose grad is null is skipped (its step count does not advance), as in PyTorch.
 * This file holds the launches only: the state tensors (momentum buffers, Adam's m and v), the
 * options and their defaults are src/nn/optim.ts's; a launch takes every hyper-parameter.
 * With `check`, the update kernels also flag each ensemble member's first non-finite gradient in a
 * training health record (src/nn/health.ts): no extra dispatch, grouped Adam takes 3 parameters
 * per dispatch instead of 4 (the record is a 17th storage binding otherwise).
 */
import type { Device } from '../tensor/device.js';
import type { BufferRange } from '../tensor/kernel-registry.js';
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { MAX_GROUPS, checkF32, checkSameDevice, groupsFor } from './launch.js';
import { unusedBinding } from './launch.js';

/** Invocations per workgroup of the update kernels. */
const OPTIM_WG = 256;

/** Where the update kernels flag non-finite gradients (see src/nn/health.ts). */
export interface GradientCheck {
  /** The health record (read_write). */
  health: BufferRange;
  /** Ensemble members: parameter [S, ...] splits into S equal slices (1: a single model). */
  members: number;
  /** The training step recorded for a non-finite gradient. */
  step: number;
}

/** Uniform members of the gradient check (members 0: off). */
function checkParams(check: GradientCheck | undefined, paramIndex: number): { members: number; train_step: number; param_index: number } {
  return { members: check?.members ?? 0, train_step: check?.step ?? 0, param_index: paramIndex };
}

/**
 * The hyperparameters that change from step to step, as a captured step (src/tensor/capture.ts)
 * sees them: its caller refreshes them before each replay, and the update's uniforms are
 * recomputed from them (nothing per-step is baked into the recording).
 */
export interface LiveHyper {
  lr: number;
  /** The gradient check's training step. */
  checkStep: number;
}

/**
 * Advances parameter i's update count and returns it; in a captured step, each replay advances it
 * again (refused when `live` is missing).
 */
function advanceStep(op: string, state: OptimizerBuffers, i: number, device: Device, live: LiveHyper | undefined): number {
  const step = ++state.steps[i];
  recorderFor(op, device, live)?.onReplay(() => ++state.steps[i]);
  return step;
}

/** The recorder of a step being captured, or null; refuses the capture when `live` is missing. */
function recorderFor(op: string, device: Device, live: LiveHyper | undefined) {
  const rec = device.recorder;
  if (rec && !live) rec.refuse(`${op} was called without live hyperparameters (use an Optimizer, or pass hyper.live)`);
  return live ? rec : null;
}

/** The hyper-parameters every optimizer's launch takes (SgdHyper and AdamHyper add their own). */
export interface UpdateHyper {
  lr: number;
  /** Per-parameter learning-rate multipliers (muP), one per parameter (default 1). */
  lrMult?: readonly number[];
  /** Per-parameter weight-decay multipliers, one per parameter (default 1). */
  wdMult?: readonly number[];
  check?: GradientCheck;
  /** Where a captured step reads lr and the check's step at each replay (needed to be captured). */
  live?: LiveHyper;
}

/**
 * SGD's hyper-parameters for one launch, all given (their defaults are src/nn/optim.ts's
 * SGD_DEFAULTS; `sgdHyper` there fills them in).
 */
export interface SgdHyper extends UpdateHyper {
  /** Momentum factor (0: no momentum buffer is used). */
  momentum: number;
  /** Dampening of the momentum buffer's gradient term. */
  dampening: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  nesterov: boolean;
}

/** Adam's hyper-parameters for one launch, all given (defaults: src/nn/optim.ts's ADAM_DEFAULTS, `adamHyper`). */
export interface AdamHyper extends UpdateHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW's decoupled decay w *= 1 - lr * wd; false: Adam's L2 term in the gradient. */
  decoupled: boolean;
}

/**
 * What an update reads and advances besides the parameters (src/nn/optim.ts's SgdState and
 * AdamState own it): each parameter's shape and update count.
 */
export interface OptimizerBuffers {
  /** Updates applied to each parameter so far (a launch advances the entries it updates). */
  readonly steps: number[];
  readonly shapes: readonly (readonly number[])[];
  readonly disposed: boolean;
}

/** SGD's momentum buffers, one per parameter; a launch allocates a missing one (momentum > 0). */
export interface SgdBuffers extends OptimizerBuffers {
  readonly momentumBuffers: (Tensor | null)[];
}

/** Adam's first and second moments, one each per parameter. */
export interface AdamBuffers extends OptimizerBuffers {
  readonly m: readonly Tensor[];
  readonly v: readonly Tensor[];
}

/** Throws (naming the op) unless params and grads match the state they are updated with. */
function checkState(op: string, state: OptimizerBuffers, params: readonly Tensor[], grads: readonly (Tensor | null)[]): void {
  if (state.disposed) throw new Error(`${op}: the optimizer state was disposed`);
  if (params.length !== state.shapes.length) {
    throw new Error(`${op}: ${params.length} parameters given, the state was made for ${state.shapes.length}`);
  }
  if (grads.length !== params.length) throw new Error(`${op}: ${grads.length} grads for ${params.length} parameters`);
  params.forEach((p, i) => {
    checkF32(op, p, `parameter ${i}`);
    if (!sameShape(p.shape, state.shapes[i])) {
      throw new Error(`${op}: parameter ${i} has shape ${fmt(p.shape)}, the state was made for ${fmt(state.shapes[i])}`);
    }
    const g = grads[i];
    if (!g) return;
    checkF32(op, g, `grad ${i}`);
    checkSameDevice(op, p, g);
    if (!sameShape(g.shape, p.shape)) throw new Error(`${op}: grad ${i} has shape ${fmt(g.shape)}, expected the parameter's ${fmt(p.shape)}`);
  });
}

function checkNumber(op: string, name: string, v: number, lo: number, hi = Infinity, hiOpen = false): void {
  if (!Number.isFinite(v) || v < lo || v > hi || (hiOpen && v === hi)) {
    throw new Error(`${op}: ${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
  }
}

function multipliers(op: string, name: string, m: readonly number[] | undefined, n: number): number[] {
  if (!m) return Array(n).fill(1);
  if (m.length !== n) throw new Error(`${op}: ${name} has ${m.length} entries for ${n} parameters`);
  m.forEach((v, i) => checkNumber(op, `${name}[${i}]`, v, 0));
  return [...m];
}

/**
 * Appends fused SGD updates (in place on `params` and the momentum buffers): parameters of at most
 * SGD_GROUP_MAX floats SGD_SLOTS (with momentum SGD_MOMENTUM_SLOTS) to a dispatch (sgd_multi,
 * where the device binds 16 storage buffers), one dispatch per parameter otherwise.
 */
export function sgdUpdate(params: readonly Tensor[], grads: readonly (Tensor | null)[], state: SgdBuffers, hyper: SgdHyper): void {
  const op = 'sgdUpdate';
  checkState(op, state, params, grads);
  const { lr, momentum, dampening, weightDecay, nesterov } = hyper;
  checkNumber(op, 'lr', lr, 0);
  checkNumber(op, 'momentum', momentum, 0);
  checkNumber(op, 'dampening', dampening, 0, 1);
  checkNumber(op, 'weightDecay', weightDecay, 0);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new Error(`${op}: nesterov needs momentum > 0 and dampening 0 (got momentum ${momentum}, dampening ${dampening})`);
  }
  const lrMult = multipliers(op, 'lrMult', hyper.lrMult, params.length);
  const wdMult = multipliers(op, 'wdMult', hyper.wdMult, params.length);
  const { live, check } = hyper;
  const constants = { WG: OPTIM_WG, MOMENTUM: momentum > 0 ? 1 : 0, NESTEROV: nesterov ? 1 : 0 };
  const grouped: SgdItem[] = [];
  params.forEach((p, i) => {
    const g = grads[i];
    if (!g) return;
    const step = advanceStep(op, state, i, p.device, live);
    if (p.size === 0) return;
    // A fresh momentum buffer is set to the gradient (PyTorch's clone), never read.
    const fresh = momentum > 0 && !state.momentumBuffers[i];
    let buf: Tensor | null = null;
    if (momentum > 0) {
      buf = state.momentumBuffers[i] ??= keep(Tensor.empty(p.device, p.shape, 'f32', 'sgd momentum'));
    }
    const item: SgdItem = { i, p, g, buf, fresh, step };
    if (p.size <= SGD_GROUP_MAX && canGroupSgd(p.device)) grouped.push(item);
    else single(item);
  });
  const slots = momentum > 0 ? SGD_MOMENTUM_SLOTS : SGD_SLOTS;
  // A group of one takes its own entry.
  for (let k = 0; k < grouped.length; k += slots) {
    const chunk = grouped.slice(k, k + slots);
    if (chunk.length === 1) single(chunk[0]);
    else group(chunk);
  }

  function single({ i, p, g, buf, fresh, step }: SgdItem): void {
    const vec4 = p.size % 4 === 0;
    const bufBinding = buf ? buf.binding(op) : unusedBinding(p.device, 'buf');
    const health = check?.health ?? unusedBinding(p.device, 'health');
    p.device.dispatch({
      kernel: 'optim',
      entry: vec4 ? 'sgd_vec4' : 'sgd',
      label: `${op}(parameter ${i} ${fmt(p.shape)}, step ${step})`,
      constants,
      bindings: vec4
        ? { param4: p.binding(op), grad4: g.binding(op), buf4: bufBinding, health }
        : { param: p.binding(op), grad: g.binding(op), buf: bufBinding, health },
      params: {
        n: vec4 ? p.size / 4 : p.size, first: fresh ? 1 : 0, lr: lr * lrMult[i], weight_decay: weightDecay * wdMult[i],
        momentum, one_minus_dampening: 1 - dampening,
        beta1: 0, one_minus_beta1: 0, beta2: 0, one_minus_beta2: 0, eps: 0, step_size: 0, bc2_sqrt: 1, decay_factor: 1,
        ...checkParams(check, i),
      },
      dynamic: live && (() => ({ lr: live.lr * lrMult[i], train_step: check ? live.checkStep : 0 })),
      workgroups: groupsFor(vec4 ? p.size / 4 : p.size, OPTIM_WG),
    });
  }

  function group(items: SgdItem[]): void {
    const device = items[0].p.device;
    const withMomentum = momentum > 0;
    const bindings: Record<string, BufferRange> = { health: check?.health ?? unusedBinding(device, 'health') };
    for (let k = 0; k < slots; k++) {
      const it = items[k];
      bindings[`sw${k}`] = it ? it.p.binding(op) : unusedBinding(device, `sw${k}`);
      bindings[`sg${k}`] = it ? it.g.binding(op) : unusedBinding(device, `sg${k}`);
      if (withMomentum) bindings[`sb${k}`] = it ? it.buf!.binding(op) : unusedBinding(device, `sb${k}`);
    }
    const per = (f: (it: SgdItem) => number) => Array.from({ length: 8 }, (_, k) => (items[k] ? f(items[k]) : 0));
    // Each slot gets the workgroups its own dispatch would take (capped so the sum fits a dimension).
    const counts = per((it) => Math.min(Math.floor(MAX_GROUPS / slots), groupsFor(it.p.size, OPTIM_WG)[0]));
    const starts = counts.map((_, k) => counts.slice(0, k).reduce((a, b) => a + b, 0));
    const total = counts.reduce((a, b) => a + b, 0);
    const lrs = () => per((it) => (live ? live.lr : lr) * lrMult[it.i]);
    device.dispatch({
      kernel: 'optim',
      entry: withMomentum ? 'sgd_multi_momentum' : 'sgd_multi',
      label: `${op}(parameters ${items.map((it) => `${it.i} ${fmt(it.p.shape)}`).join(', ')}, step ${items[0].step})`,
      constants,
      bindings,
      params: {
        n: per((it) => it.p.size),
        wg_start: starts.map((st, k) => (items[k] ? st : total)),
        wg_count: counts.map((c) => Math.max(1, c)),
        lr: per((it) => lr * lrMult[it.i]),
        weight_decay: per((it) => weightDecay * wdMult[it.i]),
        first: per((it) => (it.fresh ? 1 : 0)),
        param_index: per((it) => it.i),
        momentum,
        one_minus_dampening: 1 - dampening,
        members: check?.members ?? 0,
        train_step: check?.step ?? 0,
      },
      dynamic: live && (() => ({ lr: lrs(), train_step: check ? live.checkStep : 0 })),
      workgroups: [total],
    });
  }
}

/** One parameter's part of an SGD step. */
interface SgdItem {
  i: number;
  p: Tensor;
  g: Tensor;
  buf: Tensor | null;
  /** Its momentum buffer is new (set to the gradient, never read). */
  fresh: boolean;
  step: number;
}

/** Parameters per sgd_multi dispatch (2 storage bindings each, and the health record). */
const SGD_SLOTS = 7;
/** Parameters per sgd_multi_momentum dispatch (3 storage bindings each, and the health record). */
const SGD_MOMENTUM_SLOTS = 5;
/**
 * Largest parameter (floats) that joins an SGD group; bigger ones keep their own vec4 dispatch:
 * the group loads scalars, four times the loads of a vec4 view, which on lavapipe cost more than
 * a dispatch for a parameter of this size and up (a 784 x 64 weight made a width-64 MLP step
 * slower grouped than in its own dispatch).
 */
const SGD_GROUP_MAX = 16384;

/** Whether the device binds the 16 storage buffers of sgd_multi_momentum (WebGPU's default limit is 8). */
function canGroupSgd(device: Device): boolean {
  return device.limits.maxStorageBuffersPerShaderStage >= 3 * SGD_MOMENTUM_SLOTS + 1;
}

/**
 * Appends fused Adam (or AdamW, `decoupled`) updates, in place: one dispatch per 4 small
 * parameters whose sizes are multiples of 4 (adam_multi_vec4, where the device binds 16 storage
 * buffers; see ADAM_GROUP_MAX; per 3 with a gradient check, adam_multi_checked_vec4: a muP
 * transformer step, width 64, depth 2, 38 parameters, takes 169 dispatches instead of 166), one
 * per parameter otherwise.
 */
export function adamUpdate(params: readonly Tensor[], grads: readonly (Tensor | null)[], state: AdamBuffers, hyper: AdamHyper): void {
  const op = hyper.decoupled ? 'adamwUpdate' : 'adamUpdate';
  checkState(op, state, params, grads);
  const { lr, beta1, beta2, eps, weightDecay, decoupled } = hyper;
  checkNumber(op, 'lr', lr, 0);
  checkNumber(op, 'beta1', beta1, 0, 1, true);
  checkNumber(op, 'beta2', beta2, 0, 1, true);
  checkNumber(op, 'eps', eps, 0);
  checkNumber(op, 'weightDecay', weightDecay, 0);
  const lrMult = multipliers(op, 'lrMult', hyper.lrMult, params.length);
  const wdMult = multipliers(op, 'wdMult', hyper.wdMult, params.length);
  const shared = { beta1, one_minus_beta1: 1 - beta1, beta2, one_minus_beta2: 1 - beta2, eps };
  const constants = { WG: OPTIM_WG, DECOUPLED: decoupled ? 1 : 0 };
  const grouped: AdamItem[] = [];
  const check = hyper.check;
  const slots = check ? ADAM_SLOTS - 1 : ADAM_SLOTS;
  const { live } = hyper;
  // Step-dependent constants in f64: bias corrections 1 - beta^step.
  const constsOf = (i: number, lri: number, step: number) => {
    const wd = weightDecay * wdMult[i];
    return { weight_decay: wd, step_size: lri / (1 - beta1 ** step), bc2_sqrt: Math.sqrt(1 - beta2 ** step), decay_factor: 1 - lri * wd };
  };
  // what a captured step recomputes at each replay (the items' lr, step and constants)
  const refresh = (it: AdamItem) => {
    it.lr = live!.lr * lrMult[it.i];
    it.step = state.steps[it.i];
    it.consts = constsOf(it.i, it.lr, it.step);
  };
  const checkStep = () => (check ? live!.checkStep : 0);
  params.forEach((p, i) => {
    const g = grads[i];
    if (!g) return;
    const step = advanceStep(op, state, i, p.device, live);
    if (p.size === 0) return;
    const lri = lr * lrMult[i];
    const item: AdamItem = { i, p, g, m: state.m[i], v: state.v[i], step, lr: lri, consts: constsOf(i, lri, step) };
    if (p.size % 4 === 0 && p.size <= ADAM_GROUP_MAX && canGroupAdam(p.device)) grouped.push(item);
    else single(item);
  });
  // A group of one takes the plain vec4 entry.
  for (let k = 0; k < grouped.length; k += slots) {
    const chunk = grouped.slice(k, k + slots);
    if (chunk.length === 1) single(chunk[0]);
    else dispatchAdamGroup(op, chunk, shared, constants, check, live && (() => {
      chunk.forEach(refresh);
      return { ...groupValues(chunk), train_step: checkStep() };
    }));
  }

  function single(item: AdamItem): void {
    const { p, g, i, step } = item;
    const vec4 = p.size % 4 === 0;
    const health = check?.health ?? unusedBinding(p.device, 'health');
    p.device.dispatch({
      kernel: 'optim',
      entry: vec4 ? 'adam_vec4' : 'adam',
      label: `${op}(parameter ${i} ${fmt(p.shape)}, step ${step})`,
      constants,
      bindings: vec4
        ? { param4: p.binding(op), grad4: g.binding(op), m4: item.m.binding(op), v4: item.v.binding(op), health }
        : { param: p.binding(op), grad: g.binding(op), m: item.m.binding(op), v: item.v.binding(op), health },
      params: {
        n: vec4 ? p.size / 4 : p.size, first: step === 1 ? 1 : 0, lr: item.lr, momentum: 0, one_minus_dampening: 1, ...shared, ...item.consts,
        ...checkParams(check, i),
      },
      dynamic: live && (() => {
        refresh(item);
        return { first: item.step === 1 ? 1 : 0, lr: item.lr, ...item.consts, train_step: checkStep() };
      }),
      workgroups: groupsFor(vec4 ? p.size / 4 : p.size, OPTIM_WG),
    });
  }
}

/** One parameter's part of an Adam step. */
interface AdamItem {
  i: number;
  p: Tensor;
  g: Tensor;
  m: Tensor;
  v: Tensor;
  step: number;
  lr: number;
  consts: { weight_decay: number; step_size: number; bc2_sqrt: number; decay_factor: number };
}

/** Parameters per adam_multi_vec4 dispatch (4 storage bindings each). */
const ADAM_SLOTS = 4;
/**
 * Largest parameter (floats) that joins a group. Bigger ones keep their own adam_vec4 dispatch,
 * whose cost is their work: on lavapipe an MLP width-256 update (8 parameters) took 3.2-3.3 ms in
 * 8 dispatches, 3.6-3.9 ms with every vec4 parameter grouped (3 dispatches), 3.2-3.3 ms with this
 * bound (5 dispatches). Grouping small parameters saves what a GPU pays per dispatch; on lavapipe
 * a width-32 MLP step did not move measurably either way.
 */
const ADAM_GROUP_MAX = 16384;

/** Whether the device binds the 16 storage buffers of adam_multi_vec4 (WebGPU's default limit is 8). */
function canGroupAdam(device: Device): boolean {
  return device.limits.maxStorageBuffersPerShaderStage >= 4 * ADAM_SLOTS;
}

/**
 * adam_multi_vec4 on up to ADAM_SLOTS vec4 parameters (adam_multi_checked_vec4 on up to
 * ADAM_SLOTS - 1 with a gradient check); empty slots get placeholders and n = 0.
 */
function dispatchAdamGroup(
  op: string, items: AdamItem[], shared: Record<string, number>, constants: Record<string, number>, check: GradientCheck | undefined,
  dynamic: (() => Record<string, number | readonly number[]>) | undefined,
): void {
  const device = items[0].p.device;
  const bindings: Record<string, BufferRange> = {};
  const bound = check ? ADAM_SLOTS - 1 : ADAM_SLOTS;
  if (check) bindings.health = check.health;
  for (let k = 0; k < bound; k++) {
    const it = items[k];
    for (const [name, t] of [['mw', it?.p], ['mg', it?.g], ['mm', it?.m], ['mv', it?.v]] as const) {
      bindings[`${name}${k}`] = t ? t.binding(op) : unusedBinding(device, `${name}${k}`);
    }
  }
  const per = perSlot(items);
  // Each slot gets the workgroups its own dispatch would take (capped so the sum fits a dimension).
  const counts = per((it) => Math.min(Math.floor(MAX_GROUPS / ADAM_SLOTS), groupsFor(it.p.size / 4, OPTIM_WG)[0]));
  const starts = counts.map((_, k) => counts.slice(0, k).reduce((a, b) => a + b, 0));
  const total = counts.reduce((a, b) => a + b, 0);
  device.dispatch({
    kernel: 'optim',
    entry: check ? 'adam_multi_checked_vec4' : 'adam_multi_vec4',
    label: `${op}(parameters ${items.map((it) => `${it.i} ${fmt(it.p.shape)}`).join(', ')}, step ${items[0].step})`,
    constants,
    bindings,
    params: {
      n: per((it) => it.p.size / 4),
      wg_start: starts.map((st, k) => (items[k] ? st : total)),
      wg_count: counts.map((c) => Math.max(1, c)),
      ...groupValues(items),
      ...shared,
      param_index: per((it) => it.i),
      members: check?.members ?? 0,
      train_step: check?.step ?? 0,
    },
    dynamic,
    workgroups: [total],
  });
}

/** One value per slot of a group (0 for an empty slot). */
function perSlot(items: AdamItem[]): (f: (it: AdamItem) => number) => number[] {
  return (f) => Array.from({ length: ADAM_SLOTS }, (_, k) => (items[k] ? f(items[k]) : 0));
}

/** The step-dependent uniform members of a group. */
function groupValues(items: AdamItem[]): Record<string, number[]> {
  const per = perSlot(items);
  return {
    weight_decay: per((it) => it.consts.weight_decay),
    decay_factor: per((it) => it.consts.decay_factor),
    step_size: per((it) => it.consts.step_size),
    bc2_sqrt: per((it) => it.consts.bc2_sqrt),
  };
}

/** AdamW: Adam with decoupled weight decay. */
export function adamwUpdate(params: readonly Tensor[], grads: readonly (Tensor | null)[], state: AdamBuffers, hyper: Omit<AdamHyper, 'decoupled'>): void {
  adamUpdate(params, grads, state, { ...hyper, decoupled: true });
}
