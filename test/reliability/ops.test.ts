/**
 * The ops area of the reliability catalogue: bad op inputs a user would try, each of which must
 * get an error naming the op, the value given and what was expected (see catalogue.ts).
 * Out-of-range embedding / crossEntropy indices are checked on the device and catalogued elsewhere.
 */
import * as ws from '../../src/index.js';
import { Device } from '../../src/index.js';
import { catalogue, type ErrorCase } from './catalogue.js';

const t = (shape: number[]) => ws.zeros(shape);
const idx = (values: number[], shape = [values.length]) => ws.fromArray(Int32Array.from(values), shape);

/** A tensor that was disposed before use. */
function disposed(shape: number[]): ws.Tensor {
  const x = t(shape);
  x.dispose();
  return x;
}

let other: Device | null = null;
/** A tensor on a second device. */
async function onOtherDevice(shape: number[]): Promise<ws.Tensor> {
  other ??= await Device.create();
  return ws.zeros(shape, { device: other });
}

const cases: ErrorCase[] = [
  // ---- matmul
  { name: 'matmul [2,3]x[4,5]', run: () => ws.matmul(t([2, 3]), t([4, 5])), mentions: ['matmul', '[2, 3]', '[4, 5]'] },
  { name: 'matmul of a rank-0 tensor', run: () => ws.matmul(t([]), t([3])), mentions: ['matmul', '[]', 'rank'] },
  { name: 'matmul batch dims that do not broadcast', run: () => ws.matmul(t([2, 3, 4]), t([3, 4, 5])), mentions: ['matmul', '[2, 3, 4]', '[3, 4, 5]', 'broadcast'] },
  { name: 'matmul bias of the wrong width', run: () => ws.matmul(t([2, 3]), t([3, 4]), { bias: t([5]) }), mentions: ['matmul', 'bias', '[5]', '[2, 4]'] },
  { name: "matmul activation 'sigmoid'", run: () => ws.matmul(t([2, 3]), t([3, 4]), { activation: 'sigmoid' as never }), mentions: ['matmul', 'activation', 'sigmoid', 'relu', 'gelu', 'tanh'] },
  { name: 'matmul alpha NaN', run: () => ws.matmul(t([2, 3]), t([3, 4]), { alpha: NaN }), mentions: ['matmul', 'alpha', 'NaN', 'finite'] },
  { name: 'matmul with an i32 operand', run: () => ws.matmul(idx([1, 2, 3, 4, 5, 6], [2, 3]), t([3, 4])), mentions: ['matmul', 'i32', 'f32'] },
  // ---- conv2d
  { name: 'conv2d channels mismatch', run: () => ws.conv2d(t([1, 5, 5, 3]), t([3, 3, 2, 4])), mentions: ['conv2d', '3', '2', 'channels'] },
  { name: 'conv2d input of rank 3', run: () => ws.conv2d(t([5, 5, 3]), t([3, 3, 3, 4])), mentions: ['conv2d', '[5, 5, 3]', 'NHWC'] },
  { name: 'conv2d stride 0', run: () => ws.conv2d(t([1, 5, 5, 3]), t([3, 3, 3, 4]), null, { stride: 0 }), mentions: ['conv2d', 'stride', '0', '>= 1'] },
  { name: 'conv2d negative padding', run: () => ws.conv2d(t([1, 5, 5, 3]), t([3, 3, 3, 4]), null, { padding: -1 }), mentions: ['conv2d', 'padding', '-1'] },
  { name: 'conv2d fractional stride', run: () => ws.conv2d(t([1, 5, 5, 3]), t([3, 3, 3, 4]), null, { stride: 1.5 }), mentions: ['conv2d', 'stride', '1.5', 'integer'] },
  { name: 'conv2d groups that do not divide the channels', run: () => ws.conv2d(t([1, 5, 5, 4]), t([3, 3, 2, 3]), null, { groups: 2 }), mentions: ['conv2d', 'groups', '2', '3'] },
  { name: 'conv2d kernel larger than the padded input', run: () => ws.conv2d(t([1, 2, 2, 3]), t([5, 5, 3, 4])), mentions: ['conv2d', '5', '2'] },
  { name: 'conv2d bias of the wrong size', run: () => ws.conv2d(t([1, 5, 5, 3]), t([3, 3, 3, 4]), t([3])), mentions: ['conv2d', 'bias', '[3]', '4'] },
  // ---- attention
  { name: 'attention head dims differ', run: () => ws.scaledDotProductAttention(t([1, 3, 8]), t([1, 3, 4]), t([1, 3, 4])), mentions: ['attention', '[1, 3, 8]', '[1, 3, 4]'] },
  { name: 'attention k and v lengths differ', run: () => ws.scaledDotProductAttention(t([1, 3, 4]), t([1, 5, 4]), t([1, 6, 4])), mentions: ['attention', '[1, 5, 4]', '[1, 6, 4]'] },
  { name: 'attention with head dim 0', run: () => ws.scaledDotProductAttention(t([1, 3, 0]), t([1, 3, 0]), t([1, 3, 0])), mentions: ['attention', '[1, 3, 0]', 'D >= 1'] },
  { name: 'attention of rank-1 inputs', run: () => ws.scaledDotProductAttention(t([4]), t([4]), t([4])), mentions: ['attention', '[4]', '[..., Tq, D]'] },
  // ---- norms
  { name: 'layerNorm normalized shape not trailing', run: () => ws.layerNorm(t([3, 5]), 3), mentions: ['layerNorm', '[3]', '[3, 5]'] },
  { name: 'layerNorm weight of the wrong shape', run: () => ws.layerNorm(t([3, 5]), 5, t([4])), mentions: ['layerNorm', 'weight', '[4]', '[5]'] },
  { name: 'rmsNorm eps negative', run: () => ws.rmsNorm(t([3, 5]), 5, null, { eps: -1 }), mentions: ['rmsNorm', 'eps', '-1'] },
  // ---- losses and embedding
  { name: 'crossEntropy labels of the wrong shape', run: () => ws.crossEntropy(t([4, 5]), idx([0, 1, 2])), mentions: ['crossEntropy', '[4, 5]', '[3]'] },
  { name: 'crossEntropy f32 labels', run: () => ws.crossEntropy(t([2, 5]), ws.fromArray([0, 1])), mentions: ['crossEntropy', 'f32', 'i32'] },
  { name: "crossEntropy reduction 'avg'", run: () => ws.crossEntropy(t([2, 5]), idx([0, 1]), { reduction: 'avg' as never }), mentions: ['crossEntropy', 'avg', 'mean'] },
  { name: 'mseLoss shapes differ', run: () => ws.mseLoss(t([3, 4]), t([4, 3])), mentions: ['mseLoss', '[3, 4]', '[4, 3]'] },
  { name: 'embedding f32 indices', run: () => ws.embedding(t([5, 3]), ws.fromArray([0, 1])), mentions: ['embedding', 'f32', 'i32'] },
  { name: 'embedding table of rank 1', run: () => ws.embedding(t([5]), idx([0, 1])), mentions: ['embedding', '[5]', '[vocab, dim]'] },
  // ---- reductions, softmax
  { name: 'sum over axis 2 of a matrix', run: () => ws.sum(t([3, 4]), 2), mentions: ['sum', '2', '[3, 4]'] },
  { name: 'mean over a fractional axis', run: () => ws.mean(t([3, 4]), 0.5), mentions: ['mean', '0.5', '-2 .. 1'] },
  { name: 'max over a repeated axis', run: () => ws.max(t([3, 4]), [1, -1]), mentions: ['max', '1', 'repeat'] },
  { name: 'softmax axis 3 of a matrix', run: () => ws.softmax(t([3, 4]), 3), mentions: ['softmax', '3', '[3, 4]'] },
  { name: 'logSoftmax axis -3 of a matrix', run: () => ws.logSoftmax(t([3, 4]), -3), mentions: ['logSoftmax', '-3', '[3, 4]'] },
  { name: 'logsumexp axis 5', run: () => ws.logsumexp(t([3, 4]), 5), mentions: ['logsumexp', '5', '[3, 4]'] },
  { name: 'argmax axis 2 of a matrix', run: () => ws.argmax(t([3, 4]), 2), mentions: ['argmax', '2', '[3, 4]'] },
  { name: 'max over an empty axis', run: () => ws.max(t([3, 0]), 1), mentions: ['max', '[3, 0]', 'empty'] },
  // ---- layout
  { name: 'reshape [3, 4] to [5, 2]', run: () => t([3, 4]).reshape([5, 2]), mentions: ['reshape', '[3, 4]', '[5, 2]'] },
  { name: 'reshape with two -1', run: () => ws.reshape(t([3, 4]), [-1, -1]), mentions: ['reshape', '-1'] },
  { name: 'reshape to a fractional size', run: () => ws.reshape(t([3, 4]), [6, 2.0001]), mentions: ['reshape', '2.0001'] },
  { name: 'permute with a repeated axis', run: () => ws.permute(t([2, 3, 4]), [0, 0, 1]), mentions: ['permute', '[0, 0, 1]', 'permutation'] },
  { name: 'permute with too few axes', run: () => ws.permute(t([2, 3, 4]), [1, 0]), mentions: ['permute', '[1, 0]', '3'] },
  { name: 'slice start past the end', run: () => ws.slice(t([5, 3]), 0, 7, 9), mentions: ['slice', '7', '5'] },
  { name: 'slice on axis 2 of a matrix', run: () => ws.slice(t([5, 3]), 2, 0, 1), mentions: ['slice', '2', '[5, 3]'] },
  { name: 'slice with a fractional start', run: () => ws.slice(t([5, 3]), 0, 1.5, 3), mentions: ['slice', '1.5', 'integer'] },
  { name: 'concat of mismatched shapes', run: () => ws.concat([t([2, 3]), t([2, 4])], 0), mentions: ['concat', '[2, 3]', '[2, 4]'] },
  { name: 'concat of nothing', run: () => ws.concat([], 0), mentions: ['concat', 'at least one tensor'] },
  { name: 'expand [3, 2] to [3, 4]', run: () => ws.expand(t([3, 2]), [3, 4]), mentions: ['expand', '[3, 2]', '[3, 4]'] },
  // ---- creation
  { name: "zeros dtype 'f16'", run: () => ws.zeros([2], { dtype: 'f16' as never }), mentions: ['zeros', 'f16', 'f32', 'i32'] },
  { name: "fromArray dtype 'f64'", run: () => ws.fromArray([1, 2], [2], { dtype: 'f64' as never }), mentions: ['fromArray', 'f64', 'f32', 'i32'] },
  { name: "full dtype 'bool'", run: () => ws.full([2], 1, { dtype: 'bool' as never }), mentions: ['full', 'bool', 'f32', 'i32'] },
  { name: 'zeros with a negative size', run: () => ws.zeros([2, -3]), mentions: ['zeros', '-3', 'non-negative integer'] },
  { name: 'zeros with a fractional size', run: () => ws.zeros([2.5]), mentions: ['zeros', '2.5', 'non-negative integer'] },
  { name: 'fromArray with too few values', run: () => ws.fromArray([1, 2, 3], [2, 2]), mentions: ['fromArray', '3', '[2, 2]'] },
  { name: 'arange step 0', run: () => ws.arange(0, 5, 0), mentions: ['arange', 'step', '0'] },
  { name: "cast to 'f16'", run: () => ws.cast(t([2]), 'f16' as never), mentions: ['cast', 'f16', 'f32', 'i32'] },
  // ---- tensors: disposed, other device
  { name: 'reading a disposed tensor', run: () => disposed([2, 2]).data(), mentions: ['disposed', '[2, 2]'] },
  { name: 'add of a disposed tensor', run: () => ws.add(disposed([3]), t([3])), mentions: ['add', 'disposed', '[3]'] },
  { name: 'matmul of a disposed tensor', run: () => ws.matmul(t([2, 3]), disposed([3, 4])), mentions: ['matmul', 'disposed', '[3, 4]'] },
  { name: 'add of tensors on two devices', run: async () => ws.add(t([3]), await onOtherDevice([3])), mentions: ['add', 'device'] },
  { name: 'matmul of tensors on two devices', run: async () => ws.matmul(t([2, 3]), await onOtherDevice([3, 4])), mentions: ['matmul', 'device'] },
  // ---- elementwise
  { name: 'add of shapes that do not broadcast', run: () => ws.add(t([3, 4]), t([5])), mentions: ['add', '[3, 4]', '[5]', 'broadcast'] },
  { name: 'where with a condition that does not broadcast', run: () => ws.where(t([2, 5]), t([2, 3]), t([3])), mentions: ['where', '[2, 5]', '[2, 3]'] },
  { name: 'add of an i32 and an f32 tensor', run: () => ws.add(idx([1, 2, 3]), t([3])), mentions: ['add', 'i32', 'f32'] },
];

catalogue('ops', cases);
