import { describe, expect, it } from 'vitest';
import * as ws from '../../src/index.js';
import { DEFAULT_TEACHER, TeacherStream } from '../../src/data/teacher.js';

describe('teacher streams', () => {
  it('classification batches are fresh per index, reproducible, image-shaped, with labels over every class', async () => {
    const s = new TeacherStream(DEFAULT_TEACHER, ws.getDevice());
    const a = s.batch(512, 7, 0);
    const b = s.batch(512, 7, 0);
    const c = s.batch(512, 7, 1);
    expect(a.x.shape).toEqual([512, 8, 8, 3]);
    expect(a.y.dtype).toBe('i32');
    expect(Array.from(await a.x.data())).toEqual(Array.from(await b.x.data()));
    expect(Array.from(await a.y.data())).toEqual(Array.from(await b.y.data()));
    expect(Array.from(await a.x.data())).not.toEqual(Array.from(await c.x.data()));
    const labels = Array.from(await a.y.data());
    const counts = Array.from({ length: 10 }, (_, k) => labels.filter((l) => l === k).length);
    expect(counts.every((n) => n > 5)).toBe(true);
    // neighbouring pixels correlate (image-like inputs)
    const x = await a.x.data();
    let same = 0;
    let norm = 0;
    for (let i = 0; i + 3 < x.length; i += 3) {
      same += x[i] * x[i + 3];
      norm += x[i] * x[i];
    }
    expect(same / norm).toBeGreaterThan(0.5);
    s.dispose();
  });

  it('difficulty adds label noise: labels at temperature 0 are the teacher argmax, at high temperature mostly not', async () => {
    const clean = new TeacherStream({ ...DEFAULT_TEACHER, difficulty: 0 }, ws.getDevice());
    const noisy = new TeacherStream({ ...DEFAULT_TEACHER, difficulty: 10 }, ws.getDevice());
    const n = 1000;
    const batch = clean.batch(n, 3, 0);
    const a = Array.from(await batch.y.data());
    // the teacher argmax on the host, in f64: argmax_k (tanh(x W1) W2)_k
    const { w1, w2 } = clean as unknown as { w1: ws.Tensor; w2: ws.Tensor };
    const [x, W1, W2] = await Promise.all([batch.x.data(), w1.data(), w2.data()]);
    const [D, H, K] = [w1.shape[0], w1.shape[1], w2.shape[1]];
    const argmax = Array.from({ length: n }, (_, i) => {
      const h = Array.from({ length: H }, (_, j) => {
        let s = 0;
        for (let d = 0; d < D; d++) s += x[i * D + d] * W1[d * H + j];
        return Math.tanh(s);
      });
      const logits = Array.from({ length: K }, (_, k) => h.reduce((s, v, j) => s + v * W2[j * K + k], 0));
      return logits.indexOf(Math.max(...logits));
    });
    // f32 against f64 may flip a near-tie or two
    expect(a.filter((v, i) => v === argmax[i]).length / n).toBeGreaterThan(0.995);
    const b = Array.from(await noisy.batch(n, 3, 0).y.data());
    expect(b.filter((v, i) => v === argmax[i]).length / n).toBeLessThan(0.5);
    expect(Array.from(await clean.batch(n, 3, 0).y.data())).toEqual(a);
    clean.dispose();
    noisy.dispose();
  });

  it('regression targets are [B, 1] floats', async () => {
    const s = new TeacherStream({ ...DEFAULT_TEACHER, kind: 'regression' }, ws.getDevice());
    const { y } = s.testSet(64, 1);
    expect(y.shape).toEqual([64, 1]);
    expect(y.dtype).toBe('f32');
    const v = await y.data();
    expect(Math.max(...v) - Math.min(...v)).toBeGreaterThan(0.1);
    s.dispose();
  });
});
