/**
 * @file A value bound for the extent of a call: `with(v, fn)` runs `fn` seeing `get() === v` and
 * restores the outer value afterwards, also when `fn` throws.
 */

export interface Dynamic<T> {
  get(): T;
  with<R>(value: T, fn: () => R): R;
}

export function dynamic<T>(initial: T): Dynamic<T> {
  let current = initial;
  return {
    get: () => current,
    with<R>(value: T, fn: () => R): R {
      const prev = current;
      current = value;
      try {
        return fn();
      } finally {
        current = prev;
      }
    },
  };
}
