/**
 * @file A small .npy writer and reader: NumPy format v1.0, dtype '<f4', C order.
 *
 * The header is written exactly as `numpy.save` writes it (same dict text, the same spare spaces
 * for growing the first axis, padded with spaces and '\n' so the data starts at a multiple of 64),
 * so our files are byte-identical to NumPy's.
 */

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ALIGN = 64;
/** numpy.lib.format.GROWTH_AXIS_MAX_DIGITS: room left so the first axis can grow in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

export function npyHeader(shape: readonly number[]): Buffer {
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`npy: bad shape [${shape.join(', ')}]`);
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = dict.length + 1; // + '\n'
  const padlen = ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ALIGN); // NOTE: numpy pads a full 64 when already aligned
  const total = hlen + padlen;
  if (total > 0xffff) throw new Error('npy: header too long for format v1.0');
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1; // major
  prefix[7] = 0; // minor
  prefix.writeUInt16LE(total, 8);
  return Buffer.concat([prefix, Buffer.from(dict + ' '.repeat(padlen) + '\n', 'latin1')]);
}

/** The bytes of a .npy file holding `data` (float32, C order) with `shape`. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`npy: shape [${shape.join(', ')}] holds ${n} values, data has ${data.length}`);
  const body = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], i * 4); // explicit little-endian
  return Buffer.concat([npyHeader(shape), body]);
}

export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

/**
 * Checks a .npy header (v1.x/2.x, dtype '<f4', C order) against the file's size without reading
 * the data: `head` holds the file's first bytes (the header is at most 64 KiB in v1.0), `size` is
 * the file's length. Anything else is refused clearly.
 */
export function npyLayout(head: Uint8Array, size: number): { shape: number[]; dataOffset: number } {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) throw new Error('npy: not a .npy file (bad magic)');
  const major = b[6];
  let headerLen: number;
  let start: number;
  if (major === 1) { headerLen = b.readUInt16LE(8); start = 10; }
  else if (major === 2 || major === 3) { headerLen = b.readUInt32LE(8); start = 12; }
  else throw new Error(`npy: unsupported format version ${major}.${b[7]}`);
  if (b.length < start + headerLen) throw new Error(`npy: truncated header (${headerLen} bytes announced, file has ${size})`);
  const header = b.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`npy: cannot parse header ${JSON.stringify(header)}`);
  if (descr !== '<f4') throw new Error(`npy: dtype ${descr} not supported (only '<f4')`);
  if (fortran !== 'False') throw new Error('npy: Fortran order not supported');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const n = shape.reduce((a, c) => a * c, 1);
  const dataOffset = start + headerLen;
  if (size !== dataOffset + 4 * n) throw new Error(`npy: expected ${4 * n} data bytes for shape (${shape.join(', ')}), found ${size - dataOffset}`);
  return { shape, dataOffset };
}

/** Parses a v1.x/2.x .npy file with dtype '<f4' and C order; anything else is refused clearly. */
export function decodeNpy(buf: Uint8Array): NpyArray {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const { shape, dataOffset } = npyLayout(b, b.length);
  const data = new Float32Array((b.length - dataOffset) / 4);
  for (let i = 0; i < data.length; i++) data[i] = b.readFloatLE(dataOffset + 4 * i);
  return { data, shape };
}
