/**
 * @file Per-run locks in a results directory, so that several processes writing one directory
 * (two sweeps started by hand, a resume while an old Slurm job still runs) share the work and
 * train each run exactly once.
 *
 * A lock is one file (layout.ts: `locks/<runId>.lock`), created atomically with its content
 * (`createFileExclusive`: link fails on an existing name). It holds the owner's pid, hostname,
 * start time and a random token; its mtime is the heartbeat, refreshed while the owner trains.
 * A lock is stale when its owner is gone:
 *   - same host: its pid is not running;
 *   - any host: its heartbeat is older than `staleAfterSeconds` (the hosts' clocks must agree to
 *     well within that; a live owner whose heartbeat stops that long is taken for dead).
 * Taking over a stale lock is exclusive: the taker first takes the lock
 * `<lock>.break-<hash of the stale lock's bytes>` (by these same rules, so a taker that died
 * holding it does not block), checks the lock still has those bytes, removes it, and then
 * competes for the free lock like any newcomer. Two takers of one stale lock: one gets the
 * marker; the other finds the marker held, or, later, a lock with other bytes, and backs off.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { createFileExclusive, temporaryPrefix } from './atomic.js';

const lockInfoSchema = z.object({ pid: z.number().int().positive(), host: z.string(), startedAt: z.string(), token: z.string() });
export type LockInfo = z.infer<typeof lockInfoSchema>;

/** A lock file as found on disk. */
export interface LockState {
  /** Absent when the file is not a lock this code wrote (garbage, empty). */
  info?: LockInfo;
  /** Hash of the file's bytes: identifies this very lock for a takeover. */
  bytes: string;
  heartbeatAgeSeconds: number;
}

/** How a lock that someone else holds reads in a log line. */
export function describeLock(s: LockState): string {
  const beat = `heartbeat ${Math.round(s.heartbeatAgeSeconds)} s ago`;
  return s.info ? `pid ${s.info.pid} on ${s.info.host} since ${s.info.startedAt}, ${beat}` : `an unreadable lock file (${beat})`;
}

function readLock(path: string): LockState | undefined {
  let raw: Buffer;
  let mtimeMs: number;
  try {
    raw = readFileSync(path);
    mtimeMs = statSync(path).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let info: LockInfo | undefined;
  try {
    info = lockInfoSchema.parse(JSON.parse(raw.toString('utf8')));
  } catch {
    info = undefined;
  }
  return { info, bytes: createHash('sha256').update(raw).digest('hex').slice(0, 16), heartbeatAgeSeconds: Math.max(0, (Date.now() - mtimeMs) / 1000) };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporaries in `dir` that processes of this host left when they were killed. */
export function removeDeadTemporaries(dir: string): void {
  if (!existsSync(dir)) return;
  const mine = temporaryPrefix(hostname(), 0).slice(0, -2); // `.tmp-<host>-`
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(mine)) continue;
    const pid = Number(/^(\d+)-/.exec(f.slice(mine.length))?.[1]);
    if (pid > 0 && !pidAlive(pid)) rmSync(join(dir, f), { force: true });
  }
}

/** Why the lock's owner is taken for gone, or undefined while it is alive. */
export function staleReason(s: LockState, staleAfterSeconds: number): string | undefined {
  if (s.info && s.info.host === hostname() && !pidAlive(s.info.pid)) return `pid ${s.info.pid} is not running on ${s.info.host}`;
  if (s.heartbeatAgeSeconds > staleAfterSeconds) return `its heartbeat is ${Math.round(s.heartbeatAgeSeconds)} s old (stale after ${staleAfterSeconds} s)`;
  return undefined;
}

/** Who holds the lock at `path` and whether it is stale, for messages; undefined when there is none. */
export function inspectLock(path: string, staleAfterSeconds: number): string | undefined {
  const s = readLock(path);
  if (!s) return undefined;
  const reason = staleReason(s, staleAfterSeconds);
  return `locked by ${describeLock(s)}${reason ? ` (stale: ${reason})` : ''}`;
}

/** A lock this process holds. */
export class HeldLock {
  constructor(readonly path: string, readonly info: LockInfo, private readonly bytes: string) {}

  /** Refreshes the heartbeat (the file's mtime). Harmless on a lock taken over meanwhile. */
  heartbeat(): void {
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      // Gone (taken over and released): `held()` reports it where it matters.
    }
  }

  /** False once another process took the lock over (this one's heartbeat stopped too long). */
  held(): boolean {
    return readLock(this.path)?.bytes === this.bytes;
  }

  release(): void {
    if (this.held()) rmSync(this.path, { force: true });
  }
}

export type LockAttempt =
  | { lock: HeldLock; holder?: undefined; tookOver?: { holder: string; reason: string; info?: LockInfo } }
  | { lock?: undefined; holder: string; tookOver?: undefined };

/** Takes the lock at `path` if it is free or stale; otherwise says who holds it. Never waits. */
export function tryLock(path: string, staleAfterSeconds: number, depth = 0): LockAttempt {
  mkdirSync(dirname(path), { recursive: true });
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const content = `${JSON.stringify(info)}\n`;
  const bytes = createHash('sha256').update(content).digest('hex').slice(0, 16);
  let tookOver: { holder: string; reason: string; info?: LockInfo } | undefined;
  let last: LockState | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (createFileExclusive(path, content)) return { lock: new HeldLock(path, info, bytes), tookOver };
    last = readLock(path);
    if (!last) continue; // released meanwhile
    const reason = staleReason(last, staleAfterSeconds);
    if (reason === undefined) return { holder: describeLock(last) };
    if (depth >= 3 || !removeStale(path, last, staleAfterSeconds, depth)) return { holder: `${describeLock(last)}, being taken over by another process` };
    tookOver = { holder: describeLock(last), reason, info: last.info };
  }
  return { holder: last ? describeLock(last) : 'other processes (the lock changed hands while this one tried)' };
}

/** Removes the stale lock `seen` at `path` unless it changed; false when another process is taking it over. */
function removeStale(path: string, seen: LockState, staleAfterSeconds: number, depth: number): boolean {
  const marker = tryLock(`${path}.break-${seen.bytes}`, staleAfterSeconds, depth + 1);
  if (!marker.lock) return false;
  try {
    if (readLock(path)?.bytes === seen.bytes) rmSync(path, { force: true });
    return true;
  } finally {
    marker.lock.release();
  }
}
