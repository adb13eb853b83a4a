/**
 * @file The demo: fits a linear teacher y = X w* by gradient descent on the default adapter,
 * every batch fresh, with the gradient written by hand (2/N X^T (Xw - y)); prints the loss.
 */
import type { Device } from '../tensor/device.js';
import { keep, tidy } from '../tensor/scope.js';
import { randn } from '../ops/creation.js';
import { binary, unary } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';

export async function runDemo(device: Device, opts: { steps: number; width: number; batch: number; lr: number; log: (s: string) => void }) {
  const { steps, width, batch, lr, log } = opts;
  const teacher = keep(randn([width], { seed: 1, device, std: 1 / Math.sqrt(width) }));
  let w = keep(randn([width], { seed: 2, device, std: 0.1 }));
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 0; step <= steps; step++) {
    const loss = tidy(() => {
      const x = randn([batch, width], { seed: 1000, stream: step, device });
      const y = sum(binary('mul', x, teacher), 1);
      const r = binary('sub', sum(binary('mul', x, w), 1), y);
      const g = binary('mul', sum(binary('mul', x, r.reshape([batch, 1])), 0), (2 * lr) / batch);
      const next = keep(binary('sub', w, g));
      w.dispose();
      w = next;
      return mean(unary('square', r));
    });
    if (step % Math.max(1, Math.floor(steps / 10)) === 0 || step === steps) {
      const v = await loss.item();
      losses.push(v);
      log(`step ${String(step).padStart(4)}  loss ${v.toExponential(3)}  (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
    }
    loss.dispose();
  }
  teacher.dispose();
  w.dispose();
  return losses;
}
