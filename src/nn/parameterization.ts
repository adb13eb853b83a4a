/**
 * @file Parameterizations as data: for each parameter, its init std, forward multiplier and
 * learning-rate multiplier follow from (parameterization, optimizer, fan-in, fan-out, base).
 *
 * Notation: m_in = fanIn / baseFanIn and m_out = fanOut / baseFanOut are the width multipliers
 * of a parameter's two dimensions (1 for a dimension that does not grow with width); sigma is the
 * init scale (default 1). The effective weight a layer uses is `multiplier * W`.
 *
 * | role    | what it is                           | SP          | muP (mup library, Tensor Programs V)                         |
 * |---------|--------------------------------------|-------------|--------------------------------------------------------------|
 * | input   | fan-in fixed, fan-out grows          | s/sqrt(fi)  | init s/sqrt(fi); lr SGD x m_out, Adam x 1                     |
 * | hidden  | both grow                            | s/sqrt(fi)  | init s/sqrt(fi); lr SGD x m_out/m_in, Adam x 1/m_in           |
 * | output  | fan-in grows, fan-out fixed          | s/sqrt(fi)  | init s*sqrt(m_in)/sqrt(fi) (or 0); mult 1/m_in; lr SGD x m_in |
 * | vector  | biases and gains over a width axis   | 0 / 1       | lr SGD x m, Adam x 1                                          |
 * | fixed   | no dimension grows (e.g. output bias)| 0 / 1       | as SP                                                         |
 *
 * So at the base width (every m = 1) muP is exactly SP. NTK: W ~ N(0, s^2), multiplier
 * 1/sqrt(fi), learning rate x baseFanIn (SGD) or x sqrt(baseFanIn) (Adam), which makes NTK equal
 * SP at the base width too. Mean field (MF, richness gamma0; Bordelon & Pehlevan): W ~ N(0, 1),
 * multiplier 1/sqrt(fi) except the readout's 1/(gamma0 * fi), SGD learning rate x gamma0^2 * N
 * for every parameter, N the model's width (ParamConfig.width, the hidden width that grows; the
 * same N for the input layer, whose fan-in is the data dimension, and for the readout bias); MF is
 * defined for SGD only.
 */

export type Parameterization = 'sp' | 'ntk' | 'mup' | 'mf';
export type OptimizerKind = 'sgd' | 'adam';
export type ParamRole = 'input' | 'hidden' | 'output' | 'vector' | 'fixed';

export interface ParamInfo {
  /** Dotted name in the module tree. */
  name: string;
  shape: readonly number[];
  /** Weights: fan-in and fan-out; vectors: both equal the length. */
  fanIn: number;
  fanOut: number;
  /** The same at the base width (equal to fanIn/fanOut when that dimension does not grow). */
  baseFanIn: number;
  baseFanOut: number;
  /** 'weight' (matrix-like, incl. conv kernels and embeddings), 'bias' (init 0) or 'gain' (init 1). */
  kind: 'weight' | 'bias' | 'gain';
  /** The readout layer's weight (gets the output rule even when its fan-out is 1). */
  readout?: boolean;
  /** Attention query weight (zero-init option). */
  query?: boolean;
}

export interface ParamConfig {
  parameterization: Parameterization;
  optimizer: OptimizerKind;
  /** Init scale sigma (default 1). */
  initScale?: number;
  /** MF richness gamma0 (required for 'mf'). */
  gamma0?: number;
  /** Initialize the readout weight to zero (muP option). */
  readoutZeroInit?: boolean;
  /** Initialize attention query weights to zero (muP option). */
  zeroInitQuery?: boolean;
  /**
   * The model's width N (the hidden width that grows with the sweep; buildModel fills it from the
   * model spec). Required for 'mf', whose learning rate is gamma0^2 * N for every parameter.
   */
  width?: number;
}

export interface ParamRule {
  role: ParamRole;
  /** Standard deviation of the normal init (0 for zero init); `constant` overrides it. */
  initStd: number;
  /** Constant init value instead of a normal draw (biases 0, gains 1), if any. */
  constant?: number;
  /** Forward multiplier: the layer uses multiplier * W. */
  multiplier: number;
  /** Multiplies the optimizer's global learning rate for this parameter. */
  lrMultiplier: number;
}

/** The role of a parameter from which of its dimensions grow with width. */
export function classify(p: ParamInfo): ParamRole {
  const inGrows = p.fanIn !== p.baseFanIn;
  const outGrows = p.fanOut !== p.baseFanOut;
  if (p.kind !== 'weight') return inGrows || outGrows ? 'vector' : 'fixed';
  if (p.readout) return 'output';
  if (inGrows && outGrows) return 'hidden';
  if (inGrows) return 'output';
  if (outGrows) return 'input';
  // At the base width nothing differs: the caller's shape hints decide (see ParamInfo.readout).
  return 'hidden';
}

/** The rule for one parameter under `config`. */
export function ruleFor(p: ParamInfo, config: ParamConfig, role: ParamRole = classify(p)): ParamRule {
  const s = config.initScale ?? 1;
  const mIn = p.fanIn / p.baseFanIn;
  const mOut = p.fanOut / p.baseFanOut;
  const adam = config.optimizer === 'adam';
  if (p.kind !== 'weight') {
    const constant = p.kind === 'gain' ? 1 : 0;
    const widthMult = Math.max(mIn, mOut);
    switch (config.parameterization) {
      case 'sp':
      case 'ntk':
        return { role, initStd: 0, constant, multiplier: 1, lrMultiplier: 1 };
      case 'mup':
        return { role, initStd: 0, constant, multiplier: 1, lrMultiplier: role === 'vector' && !adam ? widthMult : 1 };
      case 'mf':
        return { role, initStd: 0, constant, multiplier: 1, lrMultiplier: mfLr(p, config) };
    }
  }
  const fanInStd = s / Math.sqrt(p.fanIn);
  const zeroQuery = p.query && config.zeroInitQuery;
  switch (config.parameterization) {
    case 'sp':
      return { role, initStd: zeroQuery ? 0 : fanInStd, multiplier: 1, lrMultiplier: 1 };
    case 'ntk':
      return {
        role,
        initStd: zeroQuery ? 0 : s,
        multiplier: 1 / Math.sqrt(p.fanIn),
        lrMultiplier: adam ? Math.sqrt(p.baseFanIn) : p.baseFanIn,
      };
    case 'mup': {
      if (role === 'output') {
        return {
          role,
          initStd: config.readoutZeroInit ? 0 : fanInStd * Math.sqrt(mIn),
          multiplier: 1 / mIn,
          lrMultiplier: adam ? 1 : mIn,
        };
      }
      const initStd = zeroQuery ? 0 : fanInStd;
      if (role === 'input') return { role, initStd, multiplier: 1, lrMultiplier: adam ? 1 : mOut };
      return { role, initStd, multiplier: 1, lrMultiplier: adam ? 1 / mIn : mOut / mIn };
    }
    case 'mf': {
      const g = gamma0(config);
      const multiplier = role === 'output' ? 1 / (g * p.fanIn) : 1 / Math.sqrt(p.fanIn);
      return { role, initStd: zeroQuery ? 0 : 1, multiplier, lrMultiplier: mfLr(p, config) };
    }
  }
}

function gamma0(config: ParamConfig): number {
  const g = config.gamma0;
  if (g === undefined || !(g > 0)) throw new Error(`parameterization mf: gamma0 must be a positive number, got ${g}`);
  return g;
}

/** MF: the SGD learning rate of every parameter is gamma0^2 * N, N the model's width. */
function mfLr(p: ParamInfo, config: ParamConfig): number {
  if (config.optimizer !== 'sgd') {
    throw new Error(`parameterization mf is defined for SGD only (parameter ${p.name}); use mup with adam`);
  }
  const g = gamma0(config);
  return g * g * mfWidth(p, config);
}

/** The width N used by MF: the model's width, the same for every layer (not the parameter's own fans). */
function mfWidth(p: ParamInfo, config: ParamConfig): number {
  const n = config.width;
  if (n === undefined || !Number.isInteger(n) || n < 1) {
    throw new Error(`parameterization mf: the model width (ParamConfig.width) must be a positive integer for parameter ${p.name}, got ${n}`);
  }
  return n;
}

/** Attention logits scale: 1/sqrt(d) under SP/NTK, sqrt(base d)/d (so 1/d as d grows) under muP/MF. */
export function attentionScale(parameterization: Parameterization, headDim: number, baseHeadDim: number): number {
  return parameterization === 'mup' || parameterization === 'mf' ? Math.sqrt(baseHeadDim) / headDim : 1 / Math.sqrt(headDim);
}

/** A printable table of what each parameter gets. */
export function describeRules(params: readonly ParamInfo[], config: ParamConfig): string {
  const head = ['parameter', 'shape', 'role', 'init', 'multiplier', 'lr multiplier'];
  const rows = params.map((p) => {
    const r = ruleFor(p, config);
    const init = r.constant !== undefined ? `const ${r.constant}` : r.initStd === 0 ? 'zeros' : `N(0, ${fmtNum(r.initStd)}^2)`;
    return [p.name, `[${p.shape.join(', ')}]`, r.role, init, fmtNum(r.multiplier), fmtNum(r.lrMultiplier)];
  });
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(w[i])).join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4);
}
