/**
 * @file Bench variants of the library's kernels, derived at run time from the kernel's own source
 * text by named, checked substitutions, so a variant is always the real kernel with only the
 * named lines changed. Every edit asserts that its target text occurs exactly as often as
 * expected (once, unless it says otherwise): when the real kernel changes, deriving the variant
 * throws, naming the kernel, variant and edit, instead of benchmarking something else.
 * Includes are left as `//!include` lines (device.kernels.loadSource expands them).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KERNEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'kernels');

export interface Edit {
  /** What the edit does (named in the error when its target is not found as expected). */
  name: string;
  /** The text replaced (exact, white space included). */
  find: string;
  /** With `through`: the text replaced runs from `find` to the end of the first `through` after it. */
  through?: string;
  replace: string;
  /** How often `find` must occur (in `within`, when given); 1 by default. Every occurrence is replaced. */
  count?: number;
  /** Restricts the edit to one function: the text from this anchor to the next line `}`. */
  within?: string;
}

/** The source of src/kernels/<kernel>.wgsl. */
export function kernelSource(kernel: string): string {
  return readFileSync(join(KERNEL_DIR, `${kernel}.wgsl`), 'utf8');
}

function occurrences(text: string, find: string): number {
  return text.split(find).length - 1;
}

/**
 * src/kernels/<kernel>.wgsl (or `source`, its text) with `edits` applied in order; throws on any
 * edit whose target is off.
 */
export function deriveKernel(kernel: string, variant: string, edits: Edit[], source = kernelSource(kernel)): string {
  let text = source;
  for (const e of edits) {
    const where = `${kernel}.wgsl variant '${variant}', edit '${e.name}'`;
    let start = 0;
    let end = text.length;
    if (e.within !== undefined) {
      const n = occurrences(text, e.within);
      if (n !== 1) throw new Error(`${where}: the anchor ${JSON.stringify(e.within)} occurs ${n} times, expected once`);
      start = text.indexOf(e.within);
      const close = text.indexOf('\n}\n', start);
      end = close < 0 ? text.length : close + 3;
    }
    const scope = text.slice(start, end);
    const want = e.count ?? 1;
    const n = occurrences(scope, e.find);
    if (n !== want) {
      throw new Error(`${where}: ${JSON.stringify(e.find)} occurs ${n} times${e.within ? ` in ${e.within}` : ''}, expected ${want} (the kernel changed: update the edit)`);
    }
    if (e.through !== undefined) {
      const from = scope.indexOf(e.find);
      const to = scope.indexOf(e.through, from + e.find.length);
      if (want !== 1 || to < 0) throw new Error(`${where}: ${JSON.stringify(e.through)} does not follow ${JSON.stringify(e.find)} (the kernel changed: update the edit)`);
      text = text.slice(0, start) + scope.slice(0, from) + e.replace + scope.slice(to + e.through.length) + text.slice(end);
      continue;
    }
    text = text.slice(0, start) + scope.split(e.find).join(e.replace) + text.slice(end);
  }
  return text;
}
