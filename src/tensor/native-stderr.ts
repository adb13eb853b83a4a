/**
 * @file Captures what native code writes straight to file descriptor 2 during one synchronous call.
 *
 * Dawn's first adapter request on an instance discovers the physical devices and, on Vulkan
 * drivers that report more than 16 dynamic buffers per pipeline layout (lavapipe reports
 * 1000000), prints two "Warning: maxDynamic...BuffersPerPipelineLayout artificially reduced ..."
 * lines with fprintf(stderr) (dawn/native/Limits.cpp). No Dawn flag, toggle or requested limit
 * turns them off. Node cannot dup2, so fd 2 is swapped the POSIX way: reopen the current stderr
 * through /proc/self/fd/2 (kept open), close 2, open a temp file (the lowest free fd: 2), make
 * the call, close 2 and reopen the kept stderr (2 again). The caller gets the captured text and
 * decides what to print.
 *
 * It only runs where the reopen is exact: Linux with /proc, stderr a terminal, pipe, character
 * device, or a regular file written at its end (reopened for appending; stdout too when it writes
 * to the same file, so `> log 2>&1` keeps its order). A socket cannot be reopened (Node's own
 * `spawn` pipes are socket pairs): there, and on other systems, the call runs uncaptured.
 */
import { closeSync, constants, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const O_APPEND = constants.O_APPEND;

/** Whether a regular file's fd writes at the file's end (appends, or sits at the end). */
function writesAtEnd(fd: number, size: number): boolean {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const flags = parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? 'x', 8);
    const pos = Number(/^pos:\s*(\d+)/m.exec(info)?.[1] ?? NaN);
    return (flags & O_APPEND) !== 0 || pos === size;
  } catch {
    return false;
  }
}

/** How fd 2 can be swapped: not at all, alone, or with stdout (the same regular file). */
function swapPlan(): 'none' | 'stderr' | 'both' {
  if (process.platform !== 'linux') return 'none';
  try {
    const err = fstatSync(2);
    if (!err.isFile()) return err.isCharacterDevice() || err.isFIFO() ? 'stderr' : 'none';
    if (!writesAtEnd(2, err.size)) return 'none';
    const out = fstatSync(1);
    if (!(out.isFile() && out.ino === err.ino && out.dev === err.dev)) return 'stderr';
    return writesAtEnd(1, out.size) ? 'both' : 'none';
  } catch {
    return 'none';
  }
}

/** Reopens whatever `/proc/self/fd/<fd>` names for writing (lowest free fd). */
function reopen(fd: number): number {
  return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | O_APPEND | constants.O_NOCTTY);
}

/**
 * Runs `fn` with fd 2 redirected to a temp file; returns its value and what was written to fd 2
 * (`captured: false` when stderr could not be swapped and `fn` ran with the real stderr).
 */
export function captureNativeStderr<T>(fn: () => T): { value: T; text: string; captured: boolean } {
  const plan = swapPlan();
  if (plan === 'none') return { value: fn(), text: '', captured: false };
  let kept: number;
  try {
    kept = reopen(2);
  } catch {
    return { value: fn(), text: '', captured: false };
  }
  const dir = mkdtempSync(join(tmpdir(), 'widthscope-stderr-'));
  const file = join(dir, 'stderr.txt');
  closeSync(2);
  const tmp = openSync(file, 'w+');
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    if (tmp !== 2) throw new Error(`captureNativeStderr: the temp file got fd ${tmp}, not 2 (another thread opened a file)`);
    outcome = { ok: true, value: fn() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  closeSync(tmp);
  const back = reopen(kept);
  if (plan === 'both') {
    closeSync(1);
    reopen(kept); // fd 1: both now append to the shared file
  }
  closeSync(kept);
  const text = readFileSync(file, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  if (back !== 2) throw new Error(`captureNativeStderr: stderr came back as fd ${back}, not 2`);
  if (!outcome.ok) {
    process.stderr.write(text);
    throw outcome.error;
  }
  return { value: outcome.value, text, captured: true };
}
