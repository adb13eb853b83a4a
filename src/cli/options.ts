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

/** Model settings that every value alone accepts but that do not go together. */
export function checkModelOptions(o: { family: string; widths: number[]; widthOption: string; parameterization?: string; optimizer: string }): void {
  const head = 16;
  const off = o.family === 'transformer' ? o.widths.find((w) => w % head !== 0) : undefined;
  if (off !== undefined) {
    throw new UsageError(`${o.widthOption}: a transformer's widths must be multiples of its head dimension ${head}, got ${off}`);
  }
  if (o.parameterization === 'mf' && o.optimizer !== 'sgd') {
    throw new UsageError(`--parameterization mf: mean-field is defined for SGD only, got --optimizer ${o.optimizer}; expected --optimizer sgd, or mup with ${o.optimizer}`);
  }
}
