/**
 * @file The backward walk: `backward` and `gradients` visit the tape's nodes (tape.ts) in
 * reverse and call each primitive's rule; they sum the gradients of a tensor used twice and
 * reduce broadcast gradients to each input's shape with the differentiable add, sum and reshape
 * (so the walk itself is recorded under createGraph).
 */
import { tidy, keep } from '../tensor/scope.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { flagContext } from '../tensor/error-flags.js';
import { backendOf, markUnitSeed } from './backends.js';
import type { GradTensor } from './primitive.js';
import { nodeOf, withRecording, type Node } from './tape.js';
import { add } from './primitives/elementwise.js';
import { reshape } from './primitives/layout.js';
import { sumTo } from './primitives/reduce.js';

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
 * `deliversRoot`: whether `deliver` may take the root's gradient (the seed).
 */
function propagate(
  what: string,
  root: GradTensor,
  opts: BackwardOptions,
  deliver: (node: Node, g: GradTensor) => boolean,
  deliversRoot: boolean,
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
  // a seed the root's rule will not read is left unwritten (no fill dispatch), unless `deliver`
  // may hand it out as the root's own gradient
  const unread = !create && !deliversRoot && rootNode.def?.ignoresUnitSeed?.(rootNode.params) === true;
  seed ??= markUnitSeed(unread ? be.unwritten(root, root.shape) : be.constant(root, root.shape, 1));
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
        const def = node.def;
        if (!def) {
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
          const rule = def.rule as (g: GradTensor, ctx: unknown) => (GradTensor | null)[];
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
    if (node.def) return false;
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
  }, false);
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
  }, wanted.has(nodeOf(output) as Node));
  return found.map((g, i) => g ?? backendOf('gradients', [inputs[i]]).constant(inputs[i], inputs[i].shape, 0) as A);
}
