/**
 * @file The differentiable op layer under PyTorch names: the primitives' ops (recorded on the
 * tape; each defined by its family under primitives/) and the composites built from them (which
 * inherit their gradients). Every op takes GPU tensors or f64 reference tensors (F64Tensor), so
 * one function runs on the GPU and in f64 for gradcheck. The raw launchers in src/ops stay
 * autograd-free.
 */

// Non-differentiable ops, re-exported unchanged so this module can stand in for src/ops/index.ts.
export {
  full, zeros, ones, arange, fromArray, rand, randn, cast, DTYPES, checkDType, type CreateOptions, type RandomOptions,
} from '../ops/creation.js';
export { argmax, argmin, parallelChunks, stridedChunks, type ReduceOp } from '../ops/reduce.js';
export { resolveSlice } from '../ops/layout.js';
export { UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp } from '../ops/elementwise.js';

export { constantLike, zerosLike, onesLike, detach, indicesLike, labelsAsFloat } from './backends.js';
// Each family's defs, cases and differentiable ops (a new op in a family needs no line here).
export * from './primitives/elementwise.js';
export { where as select } from './primitives/elementwise.js';
export * from './primitives/layout.js';
export * from './primitives/reduce.js';
export * from './primitives/matmul.js';
export * from './primitives/conv.js';
export * from './primitives/embedding.js';
export * from './primitives/loss.js';
export * from './primitives/norm.js';
export * from './primitives/attention.js';
export * from './primitives/softmax.js';
export * from './primitives/bias-act.js';
export * from './composites.js';
export type { Reduction } from '../ops/loss.js';

export {
  rowVariant, layerNormBackward, rmsNormBackward,
  type NormOptions, type LayerNormResult, type RmsNormResult, type NormBackwardOptions, type NormGrads, type RowVariant,
} from '../ops/norm.js';
export {
  crossEntropyBackward, crossEntropyWithGrad, crossEntropyWithGradFits, CE_WITH_GRAD_MAX, checkLabels, mseLossBackward, type CrossEntropyOptions, type CrossEntropyResult,
} from '../ops/loss.js';
// the fused softmax kernels' raw launchers and their composed oracles (not differentiable)
export {
  softmaxBackward, logSoftmaxBackward, softmaxPlan, MAX_REGISTER_VEC4, type SoftmaxOptions, type SoftmaxVariant, type SoftmaxPlan,
} from '../ops/softmax.js';
export { softmaxComposed, logSoftmaxComposed } from '../ops/reduce.js';
export { checkIndices, memberRows, type EmbeddingBackwardVariant } from '../ops/embedding.js';
export { checkActivation } from '../ops/matmul.js';
// raw attention launchers (not differentiable), for when src/ops/index.ts exports them
export {
  attentionForward, attentionBackward, attentionComposed, attentionComposedBackward, attentionDims, attentionFlops,
  MAX_FUSED_HEAD_DIM,
} from '../ops/attention.js';
export * from '../ops/optim.js';
// kernel selection and geometry helpers of the raw matmul and conv2d launchers (not ops)
export { MATMUL_KERNELS, chooseMatmulConfig, kernelBiasMode, tuneMatmul, vec4Eligible } from '../ops/matmul.js';
export { CONV2D_TILES, conv2dFlops, conv2dGeometry, conv2dGradBias, conv2dKernelName, selectConvTile, specializeKernel } from '../ops/conv2d.js';
