/**
 * @file The primitive families, collected. Each family module (elementwise, layout, reduce,
 * matmul, conv, embedding, loss, norm, attention, softmax) holds its primitives' params, forwards (GPU and
 * f64), fused backwards, rules, gradcheck cases and differentiable ops. The tables below are typed
 * over every primitive: a family left out, or a primitive without a def or a case, does not compile.
 */
import type { Cases, Defs, Rule } from '../primitive.js';
import { ATTENTION, ATTENTION_CASES, type AttentionParams } from './attention.js';
import { BIAS_ACT, BIAS_ACT_CASES, type BiasActParams } from './bias-act.js';
import { CONV, CONV_CASES, type ConvFamilyParams } from './conv.js';
import { ELEMENTWISE, ELEMENTWISE_CASES, type ElementwiseParams } from './elementwise.js';
import { EMBEDDING, EMBEDDING_CASES, type EmbeddingParams } from './embedding.js';
import { LAYOUT, LAYOUT_CASES, type LayoutParams } from './layout.js';
import { LOSS, LOSS_CASES, type LossParams } from './loss.js';
import { MATMUL, MATMUL_CASES, type MatmulParams } from './matmul.js';
import { NORM, NORM_CASES, type NormFamilyParams } from './norm.js';
import { REDUCE, REDUCE_CASES, type ReduceFamilyParams } from './reduce.js';
import { SOFTMAX, SOFTMAX_CASES, type SoftmaxFamilyParams } from './softmax.js';

/** Each primitive and its (normalized) parameters: the families' tables together. */
export type PrimitiveParams = ElementwiseParams & LayoutParams & ReduceFamilyParams & MatmulParams & ConvFamilyParams &
  EmbeddingParams & LossParams & NormFamilyParams & AttentionParams & SoftmaxFamilyParams & BiasActParams;
export type Primitive = keyof PrimitiveParams;

/** Every primitive's def (forwards and rule). */
export const PRIMITIVES: Defs<PrimitiveParams> = {
  ...ELEMENTWISE, ...LAYOUT, ...REDUCE, ...MATMUL, ...CONV, ...EMBEDDING, ...LOSS, ...NORM, ...ATTENTION, ...SOFTMAX, ...BIAS_ACT,
};

/** Every primitive's rule (the `rule` of its def). */
export const RULES = Object.fromEntries(Object.entries(PRIMITIVES).map(([p, d]) => [p, d.rule])) as {
  readonly [P in Primitive]: Rule<PrimitiveParams[P]>;
};

/** Every primitive's gradcheck cases. */
export const PRIMITIVE_CASES: Cases<PrimitiveParams> = {
  ...ELEMENTWISE_CASES, ...LAYOUT_CASES, ...REDUCE_CASES, ...MATMUL_CASES, ...CONV_CASES, ...EMBEDDING_CASES,
  ...LOSS_CASES, ...NORM_CASES, ...ATTENTION_CASES, ...SOFTMAX_CASES, ...BIAS_ACT_CASES,
};

/** The primitives whose rule has a fused first-order path and a composed createGraph path. */
export const FUSED_PRIMITIVES = ['crossEntropy', 'layerNorm', 'rmsNorm', 'attention', 'softmax', 'logSoftmax', 'biasAct', 'linearAct'] as const satisfies readonly Primitive[];

export type { AttentionParams, BiasActParams, ConvFamilyParams, ElementwiseParams, EmbeddingParams, LayoutParams, LossParams, MatmulParams, NormFamilyParams, ReduceFamilyParams, SoftmaxFamilyParams };
export type { ConvParams } from './conv.js';
export type { NormParams } from './norm.js';
export type { ReduceParams } from './reduce.js';
