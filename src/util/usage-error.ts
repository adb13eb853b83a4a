/**
 * @file UsageError: a mistake in what the user asked for (a flag, an environment variable, a spec
 * field, a path), as opposed to a bug. The CLI prints its message alone and exits with status 2;
 * any other error is reported as a bug, with its stack.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
