/**
 * @file The tape: `apply` runs a primitive (a PrimitiveDef, primitive.ts) and records a node
 * holding the def; backward.ts walks the nodes in reverse and calls each def's rule.
 *
 * Memory model. A node keeps its own handles (aliases, see Backend.alias) on the values its rule
 * needs: its inputs (each carrying the input's node, so the gradient graph of a rule links back
 * into the forward graph: that is what makes double backward work) and its output (carrying no
 * node: no cycle). Scopes never own these handles, so `tidy` may free every tensor a user sees.
 * A node counts the tensors whose `.node` it is (`refs`); when the last one is disposed it
 * disposes its handles, which releases the nodes before it in turn. `backward` without
 * `retainGraph` frees the saved handles of every node it walked.
 */
import type { GradNode } from '../tensor/tensor.js';
import { dynamic } from '../util/dynamic.js';
import { backendOf, type Backend } from './backends.js';
import { noGradient, type GradTensor, type Operand, type PrimitiveDef } from './primitive.js';

export class Node implements GradNode {
  /** Tensors (user-visible outputs and saved aliases) whose `.node` is this node. */
  refs = 0;
  /** Set once the saved handles are released: the rule can no longer run. */
  freed = false;

  constructor(
    /** The primitive, or null for a leaf. */
    readonly def: PrimitiveDef<unknown> | null,
    readonly params: unknown,
    /** Aliases of the inputs (numbers stay numbers); alias.node is the input's node. */
    readonly inputs: readonly Operand<GradTensor>[],
    /** Alias of the output's values, without a node. */
    readonly out: GradTensor | null,
    readonly backend: Backend<GradTensor>,
    /** For a leaf (no def): the tensor whose `.grad` receives the gradient (not owned). */
    readonly leaf: GradTensor | null = null,
    /** Extra tensors the forward saved for the rule (aliases without a node, owned). */
    readonly saved: readonly GradTensor[] = [],
  ) {}

  /** The primitive's name, or 'leaf'. */
  get op(): string {
    return this.def?.name ?? 'leaf';
  }

  unref(): void {
    if (--this.refs === 0) this.free();
  }

  free(): void {
    if (this.freed || !this.def) return;
    this.freed = true;
    for (const x of this.inputs) if (typeof x !== 'number') x.dispose();
    this.out?.dispose();
    for (const x of this.saved) x.dispose();
  }
}

// ---------------------------------------------------------------- recording

const recording = dynamic(true);

export function isGradEnabled(): boolean {
  return recording.get();
}

/** Runs `fn` with recording set to `on` (the backward walk records only under createGraph). */
export function withRecording<T>(on: boolean, fn: () => T): T {
  return recording.with(on, fn);
}

/** Runs `fn` without recording anything on the tape (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withRecording(false, fn);
}

/** Runs `fn` with recording on (inside a noGrad block). */
export function enableGrad<T>(fn: () => T): T {
  return withRecording(true, fn);
}

/** Leaves get their node on first use, so every edge of the graph is a node. */
const leafNodes = new WeakMap<GradTensor, Node>();

/** The node gradients of `x` flow into: its op's node, its leaf node, or null (a constant). */
export function nodeOf(x: GradTensor): Node | null {
  if (x.node) return x.node as Node;
  if (!x.requiresGrad) return null;
  let n = leafNodes.get(x);
  if (!n) leafNodes.set(x, (n = new Node(null, null, [], null, backendOf('leaf', [x]), x)));
  return n;
}

/** Whether gradients can flow from `x` back to some leaf. */
export function isTracked(x: GradTensor): boolean {
  return x.node !== null || x.requiresGrad;
}

function attach(out: GradTensor, node: Node): void {
  out.node = node;
  node.refs++;
}

/** Records `out = def(inputs)` when gradients can flow (a node on `out`, holding its own handles). */
export function record<P>(
  def: PrimitiveDef<P>, inputs: readonly Operand<GradTensor>[], params: P, out: GradTensor, be: Backend<GradTensor>,
  extra: readonly GradTensor[] = [],
): void {
  if (!recording.get() || def.rule === noGradient) return;
  const nodes = inputs.map((x) => (typeof x === 'number' ? null : nodeOf(x)));
  if (nodes.every((n) => n === null)) return;
  const saved = inputs.map((x, i) => (typeof x === 'number' ? x : be.alias(x, nodes[i])));
  attach(out, new Node(def as PrimitiveDef<unknown>, params, saved, be.alias(out, null), be, null, extra.map((x) => be.alias(x, null))));
}

/** Runs primitive `def` on the backend of its inputs and records it when gradients can flow. */
export function apply<P, A extends GradTensor>(def: PrimitiveDef<P>, inputs: readonly Operand<A>[], params: P): A {
  const be = backendOf(def.name, inputs);
  const r = withRecording(false, () => be.forward(def, inputs, params));
  const { out, saved } = 'saved' in r ? r : { out: r, saved: [] };
  record(def, inputs, params, out, be, saved);
  // the node holds its own handles on what the forward saved (none when nothing was recorded)
  for (const x of saved) x.dispose();
  return out as A;
}

