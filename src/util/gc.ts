/**
 * @file A full garbage collection on request. Dawn frees the native side of an object without a
 * destroy() (a bind group) only when V8 collects its JS wrapper, and V8 does not see that native
 * memory, so wrappers can pile up between collections. On lavapipe each bind group holds a
 * descriptor set with its own memory map; past the kernel's map limit (vm.max_map_count, 65530
 * by default) the process dies with SIGSEGV. Callers that drop many such objects collect here.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

/** Runs a full collection; false where the runtime offers no way to (nothing happens then). */
export function fullGc(): boolean {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') collect = exposed;
    else {
      try {
        setFlagsFromString('--expose-gc');
        collect = runInNewContext('gc') as () => void;
      } catch {
        collect = null;
      }
    }
  }
  if (!collect) return false;
  collect();
  return true;
}
