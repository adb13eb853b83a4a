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
    const a = Array.from(await clean.batch(1000, 3, 0).y.data());
    const b = Array.from(await noisy.batch(1000, 3, 0).y.data());
    const agree = a.filter((v, i) => v === b[i]).length / a.length;
    expect(agree).toBeLessThan(0.5);
    expect(Array.from(await clean.batch(1000, 3, 0).y.data())).toEqual(a);
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
