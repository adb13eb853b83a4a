/**
 * @file Scopes that free every tensor a block created, except what it returns or keeps.
 */

export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

const stack: Set<Disposable>[] = [];

/** Called by every tensor constructor: the innermost open scope owns it. */
export function track(t: Disposable): void {
  stack[stack.length - 1]?.add(t);
}

/** Removes `t` from every open scope, so it outlives them (parameters, optimizer state). */
export function keep<T extends Disposable>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<unknown>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ('dispose' in value && 'disposed' in value) out.add(value);
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, seen);
  }
}

function close(scope: Set<Disposable>, result: unknown): void {
  const kept = new Set<unknown>();
  collect(result, kept);
  for (const t of scope) {
    if (kept.has(t)) {
      stack[stack.length - 1]?.add(t);
    } else if (!t.disposed) {
      t.dispose();
    }
  }
}

/** Runs `fn`; disposes every tensor created inside except those in its result (like tf.tidy). */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new Error('tidy: the function returned a Promise; use tidyAsync for async blocks');
    }
  } catch (e) {
    stack.pop();
    close(scope, undefined);
    throw e;
  }
  stack.pop();
  close(scope, result);
  return result;
}

/**
 * Async form of `tidy`. NOTE: scopes form one stack, so do not interleave two tidyAsync blocks
 * concurrently (await one before starting the next).
 */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const scope = new Set<Disposable>();
  stack.push(scope);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    stack.splice(stack.indexOf(scope), 1);
    close(scope, undefined);
    throw e;
  }
  stack.splice(stack.indexOf(scope), 1);
  close(scope, result);
  return result;
}
