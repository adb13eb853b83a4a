/**
 * @file The safetensors format (8-byte little-endian header length, JSON header, raw data), so
 * other tools read widthscope's weights. Only F32 and I32 tensors; metadata values are strings.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface HostTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface SafetensorsFile {
  tensors: Record<string, HostTensor>;
  metadata: Record<string, string>;
}

const DTYPE = { F32: Float32Array, I32: Int32Array } as const;

/** Serializes tensors (sorted by name) and metadata into one buffer. */
export function encodeSafetensors(file: SafetensorsFile): Buffer {
  const names = Object.keys(file.tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(file.metadata).length) header.__metadata__ = file.metadata;
  let offset = 0;
  for (const name of names) {
    const t = file.tensors[name];
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.data instanceof Int32Array ? 'I32' : 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const d = file.tensors[name].data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, at);
    at += d.byteLength;
  }
  return out;
}

export function decodeSafetensors(buf: Buffer, where = 'safetensors'): SafetensorsFile {
  if (buf.length < 8) throw new Error(`${where}: file too short for a safetensors header`);
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error(`${where}: header length ${n} exceeds the file size ${buf.length}`);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const base = 8 + n;
  const tensors: Record<string, HostTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const Ctor = DTYPE[e.dtype as keyof typeof DTYPE];
    if (!Ctor) throw new Error(`${where}: tensor '${name}' has dtype ${e.dtype}; only F32 and I32 are supported`);
    const [b, end] = e.data_offsets;
    const count = e.shape.reduce((a, c) => a * c, 1);
    if ((end - b) !== count * 4 || base + end > buf.length) {
      throw new Error(`${where}: tensor '${name}' data [${b}, ${end}) does not hold shape [${e.shape}]`);
    }
    const bytes = buf.subarray(base + b, base + end);
    const data = new Ctor(count);
    new Uint8Array(data.buffer).set(bytes);
    tensors[name] = { shape: e.shape, data };
  }
  return { tensors, metadata };
}

/** Writes atomically: a temporary file, then a rename. */
export function writeSafetensors(path: string, file: SafetensorsFile): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeSafetensors(file));
  renameSync(tmp, path);
}

export function readSafetensors(path: string): SafetensorsFile {
  return decodeSafetensors(readFileSync(path), path);
}
