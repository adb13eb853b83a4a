/**
 * @file Where widthscope keeps files that survive restarts: $XDG_CACHE_HOME/widthscope, else
 * ~/.cache/widthscope (autotune winners, kernel reflections, the pipelines to warm).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $XDG_CACHE_HOME/widthscope, else ~/.cache/widthscope. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'widthscope');
}
