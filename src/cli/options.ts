/**
 * @file Checkers for the CLI's option values (commander argument parsers): each returns the value
 * unchanged when it is good and throws a UsageError naming the option, the value and what was
 * expected otherwise.
 */
import { parseShard } from '../experiments/shard.js';
import { UsageError } from '../util/usage-error.js';

type Check = (value: string) => string;

function bad(option: string, value: string, expected: string): never {
  throw new UsageError(`${option}: expected ${expected}, got '${value}'`);
}

const isInt = (v: string, min: number) => /^\s*\d+\s*$/.test(v) && Number.isSafeInteger(Number(v)) && Number(v) >= min;

export const positiveInt = (option: string): Check => (v) => (isInt(v, 1) ? v : bad(option, v, 'a positive integer'));

export const positiveNumber = (option: string): Check => (v) => {
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) && n > 0 ? v : bad(option, v, 'a positive number');
};

export const oneOf = (option: string, choices: readonly string[]): Check => (v) =>
  choices.includes(v) ? v : bad(option, v, choices.join(' | '));

/** A comma-separated list of positive integers. */
export const positiveIntList = (option: string): Check => (v) =>
  v.split(',').every((x) => isInt(x, 1)) ? v : bad(option, v, 'a comma-separated list of positive integers, e.g. 64,128,256');

/** `i/n`, 0-based. */
export const shard: Check = (v) => {
  parseShard(v, '--shard');
  return v;
};
