/**
 * @file Embedding gather (table [V, D], i32 indices of any shape -> [..., D]) and its
 * deterministic backward (dtable [V, D]), on embedding.wgsl.
 *
 * Out-of-range indices: the kernels never read through an index outside [0, V): the gather
 * writes a NaN row and the backward drops its gradient, and every kernel that reads the indices
 * flags the first bad one on the device, so the next readback (data(), item(), sync()) throws an
 * error naming the op, the index, its position and the range (no readback of its own).
 * `checkIndices` reads indices back and checks them on the host (data loading).
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { checkF32, checkSameDevice, f32Div, groupsFor, indexFlags } from './launch.js';

/** Invocations per workgroup of the embedding kernels. */
const EMB_WG = 64;
/**
 * Up to this many indices the backward scans them all for each (row, column) (no sort, one
 * dispatch, vocab*d*n index reads); beyond it, the positions are grouped by index and each
 * (row, column) sums its run: on a CPU adapter by a one-lane counting sort (one dispatch,
 * O(n + vocab) steps), on a GPU by a bitonic sort of (index, position) and a binary search per
 * row (log^2 n dispatches, vocab*log n + vocab*d + n*d reads).
 */
const SCAN_MAX_INDICES = 64;

/** scan: every index per (row, column); sorted: bitonic sort (GPUs); counting: one-lane counting sort (CPU adapters). */
export type EmbeddingBackwardVariant = 'auto' | 'scan' | 'sorted' | 'counting';

function checkIndexTensor(op: string, indices: Tensor): void {
  indices.storage(op);
  if (indices.dtype !== 'i32') throw new Error(`${op}: indices ${fmt(indices.shape)} have dtype ${indices.dtype}, expected i32`);
}

function checkTable(op: string, table: Tensor, name = 'table'): { vocab: number; d: number } {
  checkF32(op, table, name);
  if (table.rank !== 2) throw new Error(`${op}: ${name} has shape ${fmt(table.shape)}, expected [vocab, dim]`);
  return { vocab: table.shape[0], d: table.shape[1] };
}

/** table[indices]: out[..., :] = table[indices[...], :]; an index outside [0, V) gives a NaN row. */
export function embedding(table: Tensor, indices: Tensor): Tensor {
  const op = 'embedding';
  const { vocab, d } = checkTable(op, table);
  checkIndexTensor(op, indices);
  checkSameDevice(op, table, indices);
  const dev = table.device;
  const out = Tensor.empty(dev, [...indices.shape, d], 'f32', op);
  if (out.size === 0) return out;
  if (vocab === 0) throw new Error(`${op}: table ${fmt(table.shape)} has no rows to gather`);
  const label = `${op}(table ${fmt(table.shape)}, indices ${fmt(indices.shape)})`;
  const { tag, flags } = indexFlags(op, label, indices, vocab);
  dev.dispatch({
    kernel: 'embedding',
    entry: 'gather',
    label,
    constants: { WG: EMB_WG, ...f32Div(out.size) },
    bindings: { table: table.binding(op), idx: indices.binding(op), out: out.binding(op), flags },
    params: { n: indices.size, d, vocab, padded: 0, k: 0, j: 0, nan: NaN, tag },
    workgroups: groupsFor(out.size, EMB_WG),
  });
  return out;
}

/**
 * dtable [vocabSize, D] of `embedding`: row v sums dout[i, :] over the positions i with
 * indices[i] == v, in index order (deterministic; no atomics).
 */
export function embeddingBackward(
  dout: Tensor, indices: Tensor, vocabSize: number, opts: { variant?: EmbeddingBackwardVariant } = {},
): Tensor {
  const op = 'embeddingBackward';
  checkF32(op, dout, 'dout');
  checkIndexTensor(op, indices);
  checkSameDevice(op, dout, indices);
  if (!Number.isInteger(vocabSize) || vocabSize < 0 || vocabSize > 2 ** 31 - 1) {
    throw new Error(`${op}: vocabSize must be an integer in [0, 2^31), got ${vocabSize}`);
  }
  const n = indices.size;
  if (dout.rank !== indices.rank + 1 || !indices.shape.every((s, i) => s === dout.shape[i])) {
    throw new Error(`${op}: dout ${fmt(dout.shape)} does not match indices ${fmt(indices.shape)}: expected [${[...indices.shape, 'dim'].join(', ')}]`);
  }
  const d = dout.shape[dout.rank - 1];
  const dev = dout.device;
  const dtable = Tensor.empty(dev, [vocabSize, d], 'f32', op);
  if (dtable.size === 0) return dtable;
  const variant = opts.variant === undefined || opts.variant === 'auto'
    ? (n <= SCAN_MAX_INDICES ? 'scan' : dev.isSoftware ? 'counting' : 'sorted')
    : opts.variant;
  const label = `${op}(dout ${fmt(dout.shape)}, vocab ${vocabSize})`;
  const params = { n, d, vocab: vocabSize, padded: 0, k: 0, j: 0, nan: NaN, tag: 0 };
  const { tag, flags } = indexFlags(op, label, indices, vocabSize);
  const common = { kernel: 'embedding', constants: { WG: EMB_WG } };
  if (variant === 'scan' || n === 0) {
    dev.dispatch({
      ...common,
      entry: 'bwd_scan',
      label: `${label} scan`,
      bindings: { idx: indices.binding(op), dout: dout.binding(op), dtable: dtable.binding(op), flags },
      params: { ...params, tag },
      workgroups: groupsFor(dtable.size, EMB_WG),
    });
    return dtable;
  }
  const runs = Tensor.empty(dev, [vocabSize, 2], 'i32', `${op} runs`);
  const pairs = (variant === 'counting' ? countingRuns : bitonicRuns)(label, { ...params, tag }, indices, runs);
  dev.dispatch({
    ...common,
    entry: 'bwd_sorted',
    label: `${label} sorted sums`,
    constants: { ...common.constants, ...f32Div(dtable.size) },
    bindings: { pairs: pairs.binding(op), runs: runs.binding(op), dout: dout.binding(op), dtable: dtable.binding(op) },
    params,
    workgroups: groupsFor(dtable.size, EMB_WG),
  });
  pairs.dispose();
  runs.dispose();
  return dtable;
}

/** The kernel's params; `tag` is the error-flag tag of the entries that read the indices. */
type BackwardParams = { n: number; d: number; vocab: number; padded: number; k: number; j: number; nan: number; tag: number };

/**
 * The positions grouped by index, pairs[r] = (index, position), and each row's run of them,
 * runs[v] = [start, end): returns the pairs (two u32 words each, held in an i32 tensor).
 */
type GroupPositions = (label: string, params: BackwardParams, indices: Tensor, runs: Tensor) => Tensor;

/** CPU adapters: one invocation's stable counting sort, one dispatch. */
const countingRuns: GroupPositions = (label, params, indices, runs) => {
  const op = 'embeddingBackward';
  const pairs = Tensor.empty(indices.device, [params.n, 2], 'i32', `${op} sort`);
  indices.device.dispatch({
    kernel: 'embedding',
    entry: 'counting_sort',
    label: `${label} counting sort`,
    bindings: { idx: indices.binding(op), pairs: pairs.binding(op), runs: runs.binding(op), flags: indices.device.flags.range },
    params,
    workgroups: [1, 1, 1],
  });
  return pairs;
};

/** GPUs: sort (index, position) pairs with a bitonic network (log^2 dispatches), then a binary search per row for its run. */
const bitonicRuns: GroupPositions = (label, params, indices, runs) => {
  const op = 'embeddingBackward';
  const dev = indices.device;
  const padded = 2 ** Math.ceil(Math.log2(Math.max(2, params.n)));
  const pairs = Tensor.empty(dev, [padded, 2], 'i32', `${op} sort`);
  const common = { kernel: 'embedding', constants: { WG: EMB_WG } };
  dev.dispatch({
    ...common,
    entry: 'sort_init',
    label: `${label} sort init`,
    bindings: { idx: indices.binding(op), pairs: pairs.binding(op), flags: dev.flags.range },
    params: { ...params, padded },
    workgroups: groupsFor(padded, EMB_WG),
  });
  for (let k = 2; k <= padded; k *= 2) {
    for (let j = k / 2; j >= 1; j /= 2) {
      dev.dispatch({
        ...common,
        entry: 'bitonic',
        label: `${label} bitonic k=${k} j=${j}`,
        bindings: { pairs: pairs.binding(op) },
        params: { ...params, padded, k, j },
        workgroups: groupsFor(padded, EMB_WG),
      });
    }
  }
  dev.dispatch({
    ...common,
    entry: 'row_runs',
    label: `${label} runs`,
    bindings: { pairs: pairs.binding(op), runs: runs.binding(op) },
    params: { ...params, padded },
    workgroups: groupsFor(params.vocab, EMB_WG),
  });
  return pairs;
};

/**
 * Ensembles: the rows of a [S * vocab, dim] table (S member tables [vocab, dim] stacked) that
 * member s's indices (`indices` [S, ...]) pick: indices[s, ...] + s * vocab, one dispatch. An
 * index outside [0, vocab) is flagged under `op` with its own value and position (never shifted
 * into a sibling's table) and maps to S * vocab, outside every table (a NaN row).
 */
export function memberRows(indices: Tensor, members: number, vocab: number, op = 'embedding'): Tensor {
  checkIndexTensor(op, indices);
  if (indices.rank < 1 || indices.shape[0] !== members) {
    throw new Error(`${op}: indices ${fmt(indices.shape)} do not start with the ensemble axis ${members}`);
  }
  if (!Number.isInteger(vocab) || vocab < 1 || members * vocab > 2 ** 31 - 1) {
    throw new Error(`${op}: ${members} members x vocabulary ${vocab} must be a positive number of rows below 2^31`);
  }
  const dev = indices.device;
  const rows = Tensor.empty(dev, indices.shape, 'i32', op);
  if (rows.size === 0) return rows;
  const label = `memberRows(indices ${fmt(indices.shape)}, ${members} members of vocabulary ${vocab})`;
  const { tag, flags } = indexFlags(op, label, indices, vocab);
  dev.dispatch({
    kernel: 'embedding',
    entry: 'member_rows',
    label,
    constants: { WG: EMB_WG },
    bindings: { idx: indices.binding(op), rows: rows.binding(op), flags },
    params: { n: indices.size, d: members, vocab, padded: 0, k: 0, j: 0, nan: NaN, tag },
    workgroups: groupsFor(indices.size, EMB_WG),
  });
  return rows;
}

/** Reads `indices` back and throws unless every one lies in [0, vocabSize) (a readback: not per step). */
export async function checkIndices(indices: Tensor, vocabSize: number, op = 'embedding'): Promise<void> {
  checkIndexTensor(op, indices);
  const v = await indices.data();
  for (let i = 0; i < v.length; i++) {
    if (!(v[i] >= 0 && v[i] < vocabSize)) {
      throw new Error(`${op}: index ${v[i]} at flat index ${i} of indices ${fmt(indices.shape)} is outside [0, ${vocabSize})`);
    }
  }
}

