/**
 * @file f64 reference of the fused optimizer updates (PyTorch's SGD and Adam/AdamW), one
 * parameter at a time, updating the arrays in place.
 */

export interface SgdRefState {
  buf: Float64Array | null;
}

/** One SGD step on w (in place). */
export function sgdStepRef(
  w: Float64Array,
  grad: ArrayLike<number>,
  state: SgdRefState,
  h: { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean },
): void {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = h;
  const fresh = momentum > 0 && state.buf === null;
  if (momentum > 0 && !state.buf) state.buf = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) {
    let g = grad[i] + weightDecay * w[i];
    if (momentum > 0) {
      const b = fresh ? g : momentum * state.buf![i] + (1 - dampening) * g;
      state.buf![i] = b;
      g = nesterov ? g + momentum * b : b;
    }
    w[i] -= lr * g;
  }
}

export interface AdamRefState {
  m: Float64Array;
  v: Float64Array;
  step: number;
}

export const adamRefState = (n: number): AdamRefState => ({ m: new Float64Array(n), v: new Float64Array(n), step: 0 });

/** One Adam (decoupled: AdamW) step on w (in place). */
export function adamStepRef(
  w: Float64Array,
  grad: ArrayLike<number>,
  s: AdamRefState,
  h: { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; decoupled?: boolean },
): void {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false } = h;
  s.step++;
  const bc1 = 1 - beta1 ** s.step;
  const bc2 = 1 - beta2 ** s.step;
  for (let i = 0; i < w.length; i++) {
    let g = grad[i];
    if (decoupled) w[i] *= 1 - lr * weightDecay;
    else g += weightDecay * w[i];
    s.m[i] = beta1 * s.m[i] + (1 - beta1) * g;
    s.v[i] = beta2 * s.v[i] + (1 - beta2) * g * g;
    const mhat = s.m[i] / bc1;
    const vhat = s.v[i] / bc2;
    w[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
  }
}
