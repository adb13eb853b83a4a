/**
 * @file Reads the probe files a run directory may hold (notes/observables.md), by this layout
 * (step with 8 digits, as in pred-00000100.npy):
 *   targets.npy                  the test set's targets (regression [P, outputs], classification [P]
 *                                labels, text [P, context] token ids; all f32)
 *   probes.jsonl                 { step, sharpness: number | null, sharpnessIterations, seconds } per probe step
 *   gram-<layer>-<step>.npy      n x n Gram matrix Φ Φᵀ / N of a hidden layer on the probe batch
 *   preact-<layer>-<step>.npy    1-D sample of a layer's preactivations (the same units every step)
 *   entk-<step>.npy              n_e x n_e empirical NTK on the first n_e probe points
 *   probe-targets.npy            [n_e] scalar targets matching the eNTK
 * A run without probes has none of them (older runs may lack targets.npy too): every reader
 * returns undefined (or an empty list) for a file that is not there and throws, naming the file,
 * for one that is there but malformed.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy, type NpyArray } from '../npy.js';
import { PROBE_ARTIFACT_RE, PROBE_TARGETS_FILE, PROBES_FILE, TARGETS_FILE, entkFile, gramFile, preactivationFile } from '../layout.js';

export interface ProbeLine {
  step: number;
  sharpness: number | null;
  sharpnessIterations: number;
  seconds: number;
}

/** What probe files a run directory holds: layers with the steps of each file kind. */
export interface ProbeIndex {
  gram: Map<string, number[]>;
  preact: Map<string, number[]>;
  entk: number[];
}

export function probeIndex(dir: string): ProbeIndex {
  const index: ProbeIndex = { gram: new Map(), preact: new Map(), entk: [] };
  for (const f of readdirSync(dir)) {
    const m = PROBE_ARTIFACT_RE.exec(f);
    if (!m) continue;
    if (m[4] !== undefined) { index.entk.push(Number(m[4])); continue; }
    const kind = index[m[1] as 'gram' | 'preact'];
    kind.set(m[2], [...(kind.get(m[2]) ?? []), Number(m[3])].sort((a, b) => a - b));
  }
  index.entk.sort((a, b) => a - b);
  return index;
}

function readNpy(dir: string, file: string, rank?: number): NpyArray | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  let a: NpyArray;
  try {
    a = decodeNpy(readFileSync(path));
  } catch (e) {
    throw new Error(`probe file ${path}: ${(e as Error).message}`);
  }
  if (rank === 2 && !(a.shape.length === 2 && a.shape[0] === a.shape[1])) throw new Error(`probe file ${path}: expected a square n x n matrix, got shape [${a.shape.join(', ')}]`);
  if (rank === 1 && a.shape.length !== 1) throw new Error(`probe file ${path}: expected a 1-D array, got shape [${a.shape.join(', ')}]`);
  return a;
}

export const readTargets = (dir: string) => readNpy(dir, TARGETS_FILE);
export const readProbeTargets = (dir: string) => readNpy(dir, PROBE_TARGETS_FILE, 1);
export const readGram = (dir: string, layer: string, step: number) => readNpy(dir, gramFile(layer, step), 2);
export const readPreact = (dir: string, layer: string, step: number) => readNpy(dir, preactivationFile(layer, step), 1);
export const readEntk = (dir: string, step: number) => readNpy(dir, entkFile(step), 2);

/** The lines of probes.jsonl (empty when the file is absent); a malformed line throws naming it. */
export function readProbeLines(dir: string): ProbeLine[] {
  const path = join(dir, PROBES_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((line, i) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`${path} line ${i + 1}: not JSON: ${line.slice(0, 80)}`);
    }
    const o = v as Partial<ProbeLine>;
    if (typeof o !== 'object' || o === null || !Number.isInteger(o.step) || !(o.sharpness === null || typeof o.sharpness === 'number')) {
      throw new Error(`${path} line ${i + 1}: expected { step: integer, sharpness: number | null, ... }, got ${line.slice(0, 80)}`);
    }
    return { step: o.step!, sharpness: o.sharpness ?? null, sharpnessIterations: o.sharpnessIterations ?? 0, seconds: o.seconds ?? 0 };
  });
}
