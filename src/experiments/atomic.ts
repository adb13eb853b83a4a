/**
 * @file Crash-safe file writes: every file is either complete or absent.
 *
 * A file is written to a temporary name in the same directory, flushed (fsync) and renamed over
 * its final name; rename is atomic on POSIX file systems. The temporary's name holds the host and
 * the process id, so shards on different machines writing the same file (sweep.json) into one
 * shared results directory never write into one temporary. JSONL logs are append-only and become
 * trustworthy only when the run's `done.json` (itself written atomically, last) exists.
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync, appendFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const TMP_PREFIX = '.tmp-';

/** Prefix of this process's temporaries: `.tmp-<host>-<pid>-` (a killed process's are recognisable). */
export const temporaryPrefix = (host = hostname(), pid = process.pid) => `${TMP_PREFIX}${host}-${pid}-`;

/** A complete, flushed temporary next to `path`, named uniquely (host, pid and random). */
function writeTemporary(path: string, data: string | Uint8Array): string {
  const tmp = join(dirname(path), `${temporaryPrefix()}${randomBytes(4).toString('hex')}-${basename(path)}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  renameSync(writeTemporary(path, data), path);
}

/**
 * Creates `path` with `data` only if no file of that name exists; false when one does. The file
 * appears complete or not at all (a hard link of a flushed temporary: link fails on an existing
 * name, atomically, also over NFS).
 */
export function createFileExclusive(path: string, data: string | Uint8Array): boolean {
  const tmp = writeTemporary(path, data);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Appends one JSON line (NaN and ±Infinity become null, as JSON has no such numbers). */
export function appendJsonLine(path: string, value: unknown): void {
  appendFileSync(path, `${JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
}

/** Removes temporaries a killed process left in `dir`. */
export function removeTemporaries(dir: string): void {
  for (const f of readdirSync(dir)) if (f.startsWith(TMP_PREFIX)) rmSync(join(dir, f), { force: true });
}
