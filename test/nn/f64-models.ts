/**
 * @file The three model families written out as formulas on f64 tensors (the autograd's
 * reference path: plain Float64Array loops, no kernel), reading a built model's parameter values
 * and multipliers by name. A GPU model's outputs and gradients are compared with these.
 */
import * as o from '../../src/autograd/ops.js';
import { F64Tensor } from '../../src/autograd/index.js';
import type { Model, ModelSpec } from '../../src/nn/models.js';
import { attentionScale, type Parameterization } from '../../src/nn/parameterization.js';

export type F64Params = Map<string, F64Tensor>;

/** Every parameter of `model` as an f64 tensor that requires grad. */
export async function f64Parameters(model: Model): Promise<F64Params> {
  const out: F64Params = new Map();
  for (const [name, p] of model.namedParameters()) {
    const t = F64Tensor.from(await p.value.data(), p.value.shape);
    t.requiresGrad = true;
    out.set(name, t);
  }
  return out;
}

export function f64Forward(model: Model, params: F64Params, x: F64Tensor, parameterization: Parameterization): F64Tensor {
  const P = (name: string) => {
    const t = params.get(name);
    if (!t) throw new Error(`f64Forward: no parameter '${name}' (have ${[...params.keys()].join(', ')})`);
    return t;
  };
  const mult = (name: string) => model.namedParameters().get(name)!.rule.multiplier;
  const spec = model.spec as ModelSpec;
  const act = (t: F64Tensor) => (spec.activation === 'tanh' ? o.tanh(t) : spec.activation === 'gelu' || (spec.activation === undefined && spec.family === 'transformer') ? o.gelu(t) : o.relu(t));
  // y = multiplier * (x @ W) + b
  const linear = (path: string, h: F64Tensor) => {
    const y = o.mul(o.matmul(h, P(`${path}.weight`)), mult(`${path}.weight`));
    return params.has(`${path}.bias`) ? o.add(y, P(`${path}.bias`)) : y;
  };
  const conv = (path: string, h: F64Tensor, stride: number, padding: number) => {
    const y = o.mul(o.conv2d(h, P(`${path}.weight`), null, { stride, padding }), mult(`${path}.weight`));
    return params.has(`${path}.bias`) ? o.add(y, P(`${path}.bias`)) : y;
  };

  if (spec.family === 'mlp') {
    let h = o.reshape(x, [x.shape[0], -1]);
    for (let i = 0; i < spec.depth; i++) h = act(linear(i === 0 ? 'input' : `hidden${i}`, h));
    return linear('readout', h);
  }
  if (spec.family === 'cnn') {
    let h = act(conv('stem', x, 1, 1));
    for (let s = 0; s < spec.depth; s++) {
      const stride = s === 0 ? 1 : 2;
      const a = act(conv(`stage${s}.conv1`, h, stride, 1));
      const skip = params.has(`stage${s}.skip.weight`) ? conv(`stage${s}.skip`, h, stride, 0) : h;
      h = act(o.add(conv(`stage${s}.conv2`, a, 1, 1), skip));
    }
    return linear('readout', o.mean(h, [1, 2]));
  }
  // transformer: x holds token ids as f64 values
  const [B, T] = x.shape;
  const n = spec.width;
  const hd = spec.headDim;
  const heads = n / hd;
  const ids = Array.from(x.data);
  const norm = (path: string, h: F64Tensor) => o.add(o.mul(o.layerNorm(h, n, null, null, { eps: 1e-5 }), P(`${path}.gain`)), P(`${path}.bias`));
  const tok = o.mul(o.embedding(P('tokens.weight'), o.indicesLike(P('tokens.weight'), [B, T], ids)), mult('tokens.weight'));
  const pos = o.mul(o.slice(P('positions.weight'), 0, 0, T), mult('positions.weight'));
  let h = o.add(tok, pos);
  const split = (t: F64Tensor) => o.permute(o.reshape(t, [B, T, heads, hd]), [0, 2, 1, 3]);
  for (let i = 0; i < spec.depth; i++) {
    const a = norm(`block${i}.norm1`, h);
    const att = o.scaledDotProductAttention(split(linear(`block${i}.attn.q`, a)), split(linear(`block${i}.attn.k`, a)), split(linear(`block${i}.attn.v`, a)), {
      causal: true, scale: attentionScale(parameterization, hd, hd),
    });
    h = o.add(h, linear(`block${i}.attn.o`, o.reshape(o.permute(att, [0, 2, 1, 3]), [B, T, n])));
    h = o.add(h, linear(`block${i}.down`, act(linear(`block${i}.up`, norm(`block${i}.norm2`, h)))));
  }
  return linear('readout', norm('norm', h));
}
