/**
 * @file The tape: `apply` runs a primitive and records a node; `backward` and `gradients` walk
 * the nodes in reverse and call each primitive's rule (rules.ts).
 *
 * Memory model. A node keeps its own handles (aliases, see Backend.alias) on the values its rule
 * needs: its inputs (each carrying the input's node, so the gradient graph of a rule links back
 * into the forward graph: that is what makes double backward work) and its output (carrying no
 * node: no cycle). Scopes never own these handles, so `tidy` may free every tensor a user sees.
 * A node counts the tensors whose `.node` it is (`refs`); when the last one is disposed it
 * disposes its handles, which releases the nodes before it in turn. `backward` without
 * `retainGraph` frees the saved handles of every node it walked.
 */
import { tidy, keep } from '../tensor/scope.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { autogradHooks, Tensor, type GradNode } from '../tensor/tensor.js';
import { backendOf, gpu, type Backend } from './backends.js';
import type { GradTensor, Operand, Primitive, PrimitiveParams } from './primitives.js';
import { RULES, noGradient } from './rules.js';
import { add, reshape, sumTo } from './ops.js';
import { flagContext } from '../tensor/error-flags.js';

export class Node implements GradNode {
  /** Tensors (user-visible outputs and saved aliases) whose `.node` is this node. */
  refs = 0;
  /** Set once the saved handles are released: the rule can no longer run. */
  freed = false;

  constructor(
    readonly op: Primitive | 'leaf',
    readonly params: unknown,
    /** Aliases of the inputs (numbers stay numbers); alias.node is the input's node. */
    readonly inputs: readonly Operand<GradTensor>[],
    /** Alias of the output's values, without a node. */
    readonly out: GradTensor | null,
    readonly backend: Backend<GradTensor>,
    /** For op 'leaf': the tensor whose `.grad` receives the gradient (not owned). */
    readonly leaf: GradTensor | null = null,
    /** Extra tensors the forward saved for the rule (aliases without a node, owned). */
    readonly saved: readonly GradTensor[] = [],
  ) {}

  unref(): void {
    if (--this.refs === 0) this.free();
  }

  free(): void {
    if (this.freed || this.op === 'leaf') return;
    this.freed = true;
    for (const x of this.inputs) if (typeof x !== 'number') x.dispose();
    this.out?.dispose();
    for (const x of this.saved) x.dispose();
  }
}

// ---------------------------------------------------------------- recording

let recording = true;

export function isGradEnabled(): boolean {
  return recording;
}

function withRecording<T>(on: boolean, fn: () => T): T {
  const prev = recording;
  recording = on;
  try {
    return fn();
  } finally {
    recording = prev;
  }
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
  if (!n) leafNodes.set(x, (n = new Node('leaf', null, [], null, backendOf('leaf', [x]), x)));
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

function record(
  p: Primitive, inputs: readonly Operand<GradTensor>[], params: unknown, out: GradTensor, be: Backend<GradTensor>,
  extra: readonly GradTensor[] = [],
): void {
  if (!recording || RULES[p] === noGradient) return;
  const nodes = inputs.map((x) => (typeof x === 'number' ? null : nodeOf(x)));
  if (nodes.every((n) => n === null)) return;
  const saved = inputs.map((x, i) => (typeof x === 'number' ? x : be.alias(x, nodes[i])));
  attach(out, new Node(p, params, saved, be.alias(out, null), be, null, extra.map((x) => be.alias(x, null))));
}

/** Runs primitive `p` on the backend of its inputs and records it when gradients can flow. */
export function apply<P extends Primitive, A extends GradTensor>(p: P, inputs: readonly Operand<A>[], params: PrimitiveParams[P]): A {
  const be = backendOf(p, inputs);
  const r = withRecording(false, () => be.forward[p](inputs, params));
  const { out, saved } = 'saved' in r ? r : { out: r, saved: [] };
  record(p, inputs, params, out, be, saved);
  // the node holds its own handles on what the forward saved (none when nothing was recorded)
  for (const x of saved) x.dispose();
  return out as A;
}

// Tensor.reshape/squeeze/unsqueeze are views made in tensor.ts: record them as `reshape`.
autogradHooks.onView = (src: Tensor, view: Tensor) => {
  if (recording && isTracked(src)) record('reshape', [src], { shape: [...view.shape] }, view, gpu as unknown as Backend<GradTensor>);
};

// ---------------------------------------------------------------- backward

export interface BackwardOptions<A extends GradTensor = GradTensor> {
  /** The seed gradient dL/d(output), of the output's shape (default: 1 for a one-element output). */
  grad?: A;
  /** Keep the saved tensors so the graph can be walked again (default: createGraph). */
  retainGraph?: boolean;
  /** Record the backward pass itself, so gradients can be differentiated again. */
  createGraph?: boolean;
}

/** Nodes reachable from `root`, inputs before the ops that use them. */
function topoOrder(root: Node, what: string): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (node.freed) {
      throw new Error(
        `${what}: the graph through '${node.op}' was already freed by an earlier backward; ` +
          'pass { retainGraph: true } to the first call to walk the graph again',
      );
    }
    if (i < node.inputs.length) {
      top[1]++;
      const x = node.inputs[i];
      const next = typeof x === 'number' ? null : (x.node as Node | null);
      if (next && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  return order;
}

function describe(x: GradTensor): string {
  return `${x instanceof Tensor ? `tensor #${x.id}` : 'tensor'} ${fmt(x.shape)}`;
}

/**
 * Propagates gradients from `root` to every node it depends on. `deliver` sees the total
 * gradient of each leaf node and of each node in `stopAt`; it returns true if it took ownership.
 */
function propagate(
  what: string,
  root: GradTensor,
  opts: BackwardOptions,
  deliver: (node: Node, g: GradTensor) => boolean,
): void {
  if (root.disposed) throw new Error(`${what}: the output was disposed`);
  const rootNode = nodeOf(root);
  if (!rootNode) {
    throw new Error(
      `${what}: ${describe(root)} does not require grad (no input of the ops that made it has requiresGrad, ` +
        'or it was computed under noGrad)',
    );
  }
  const be = backendOf(what, [root]);
  let seed = opts.grad;
  if (seed) {
    if (!sameShape(seed.shape, root.shape)) {
      throw new Error(`${what}: seed gradient has shape ${fmt(seed.shape)}, the output ${fmt(root.shape)}`);
    }
  } else if (root.size !== 1) {
    throw new Error(
      `${what}: the output has shape ${fmt(root.shape)}; without a seed gradient it must have one element ` +
        '(pass { grad } with the output\'s shape)',
    );
  }
  const create = opts.createGraph ?? false;
  const retain = opts.retainGraph ?? create;
  const order = topoOrder(rootNode, what);
  const ownSeed = !seed;
  seed ??= be.constant(root, root.shape, 1);
  const pending = new Map<Node, GradTensor>([[rootNode, seed]]);
  // anomaly mode names the op whose backward wrote a non-finite value (src/tensor/error-flags.ts)
  const phase = flagContext.phase;
  try {
    withRecording(create, () => {
      for (let k = order.length - 1; k >= 0; k--) {
        const node = order[k];
        const g = pending.get(node);
        if (!g) continue;
        pending.delete(node);
        const owned = deliver(node, g);
        if (node.op === 'leaf') {
          if (!owned && (ownSeed || g !== seed)) g.dispose();
          continue;
        }
        const op = node.op;
        flagContext.phase = `backward of ${op}`;
        const grads = tidy(() => {
          // the output, seen by the rule, carries this node: rules that use it stay differentiable
          const out = node.backend.alias(node.out!, node, true);
          const shapes = node.inputs.map((x) => (typeof x === 'number' ? [] : x.shape));
          const needs = node.inputs.map((x) => typeof x !== 'number' && x.node !== null);
          const rule = RULES[op] as (g: GradTensor, ctx: unknown) => (GradTensor | null)[];
          const gs = rule(g, { inputs: node.inputs, out, params: node.params, shapes, needs, saved: node.saved });
          // rules give gradients in the broadcast (output) shape: sum them back to each input's;
          // a gradient passed through (g itself, or one tensor for two inputs) gets its own view
          const seen = new Set<GradTensor>([g]);
          return gs.map((gx, i) => {
            if (!gx || !needs[i]) return null;
            let r = sumTo(gx, shapes[i]);
            if (seen.has(r)) r = reshape(r, r.shape);
            seen.add(r);
            if (!sameShape(r.shape, shapes[i])) {
              throw new Error(`autograd: the rule of '${op}' gave a gradient ${fmt(gx.shape)} for input ${i} ${fmt(shapes[i])}`);
            }
            return r;
          });
        });
        if (!owned && (ownSeed || g !== seed)) g.dispose();
        flagContext.phase = `backward: the gradient sum into the inputs of ${op}`;
        grads.forEach((gx, i) => {
          if (!gx) return;
          const target = (node.inputs[i] as GradTensor).node as Node;
          const prev = pending.get(target);
          if (!prev) {
            pending.set(target, gx);
            return;
          }
          pending.set(target, add(prev, gx));
          prev.dispose();
          gx.dispose();
        });
      }
    });
  } finally {
    flagContext.phase = phase;
  }
  if (!retain) for (const n of order) n.free();
}

/**
 * Accumulates d(output)/d(leaf) into `.grad` of every leaf with `requiresGrad` (a previous
 * `.grad` is disposed and replaced by the sum). `.grad` tensors outlive scopes.
 */
export function backward<A extends GradTensor>(output: A, opts: BackwardOptions<A> = {}): void {
  propagate('backward', output, opts, (node, g) => {
    if (node.op !== 'leaf') return false;
    const leaf = node.leaf!;
    if (leaf.disposed) throw new Error(`backward: the leaf ${describe(leaf)} was disposed before its gradient arrived`);
    if (g === opts.grad) g = reshape(g, g.shape); // never adopt the caller's seed as .grad
    const prev = leaf.grad;
    leaf.grad = prev ? add(prev, g) : g;
    if (prev) {
      prev.dispose();
      g.dispose();
    }
    if (leaf.grad instanceof Tensor) keep(leaf.grad);
    return true;
  });
}

/**
 * d(output)/d(inputs) as new tensors (torch.autograd.grad): `.grad` fields are left alone, and
 * an input the output does not depend on gets zeros.
 */
export function gradients<A extends GradTensor>(output: A, inputs: readonly A[], opts: BackwardOptions<A> = {}): A[] {
  const wanted = new Map<Node, number[]>();
  inputs.forEach((x, i) => {
    if (x.disposed) throw new Error(`gradients: input ${i} ${describe(x)} was disposed`);
    const n = nodeOf(x);
    if (!n) throw new Error(`gradients: input ${i} ${describe(x)} does not require grad`);
    wanted.set(n, [...(wanted.get(n) ?? []), i]);
  });
  const found: (A | null)[] = inputs.map(() => null);
  propagate('gradients', output, opts, (node, g) => {
    const idx = wanted.get(node);
    if (!idx) return false;
    // a view for each asker, owned by the caller's scope (recorded when creating a graph)
    for (const i of idx) found[i] = reshape(g as A, g.shape);
    return false;
  });
  return found.map((g, i) => g ?? backendOf('gradients', [inputs[i]]).constant(inputs[i], inputs[i].shape, 0) as A);
}
