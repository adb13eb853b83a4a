/**
 * @file Reading WIDTHSCOPE_* environment variables: an unset or empty variable is `undefined`; a
 * set one that is not a value the variable accepts is a UsageError naming it, the value and what
 * was expected (never silently ignored).
 */
import { UsageError } from './usage-error.js';

type Env = NodeJS.ProcessEnv;

function raw(name: string, env: Env): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** One of `choices`. */
export function envChoice<T extends string>(name: string, choices: readonly T[], env: Env = process.env): T | undefined {
  const v = raw(name, env);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError(`${name}: expected ${choices.join(' | ')}, got '${v}'`);
  }
  return v as T;
}

/** `1` (on) or `0` (off). */
export function envFlag(name: string, env: Env = process.env): boolean | undefined {
  const v = envChoice(name, ['1', '0'], env);
  return v === undefined ? undefined : v === '1';
}

/** An integer >= `min`. */
export function envInt(name: string, min: number, env: Env = process.env): number | undefined {
  const v = raw(name, env);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\s*[+-]?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${name}: expected an integer >= ${min}, got '${v}'`);
  }
  return n;
}

/** A finite number > 0 (or >= 0 with `allowZero`). */
export function envSeconds(name: string, env: Env = process.env, allowZero = false): number | undefined {
  const v = raw(name, env);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (allowZero ? n < 0 : n <= 0)) {
    throw new UsageError(`${name}: expected a number of seconds ${allowZero ? '>= 0' : '> 0'}, got '${v}'`);
  }
  return n;
}
