// The IDX format without Node (see src/data/idx.ts for the layout and the limits): the parser of
// plain IDX bytes, and the first examples of a file from a prefix of its bytes (an HTTP range
// request in a page), with the same checks and the same words.
import { InputError } from '../errors.js';

/** A parsed IDX file: its dimensions and its u8 payload in row-major order. */
export interface Idx {
  dims: number[];
  data: Uint8Array;
}

const DTYPE_NAMES: Record<number, string> = {
  0x08: 'u8',
  0x09: 'i8',
  0x0b: 'i16',
  0x0c: 'i32',
  0x0d: 'f32',
  0x0e: 'f64',
};

/** True when `bytes` start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses an uncompressed IDX file. `source` names the file in error messages. The returned
 * `data` is a view into `bytes` (no copy): MNIST's training images are 47 MB.
 * Throws an InputError on a bad magic, an unsupported dtype, ndims outside 1..4, a truncated header or body,
 * and trailing bytes after the data.
 */
export function parseIdx(bytes: Uint8Array, source: string): Idx {
  const { dims, headerBytes, expected } = parseIdxHeader(bytes, source);
  const found = bytes.length - headerBytes;
  if (found < expected) {
    throw new InputError(`${source}: expected ${expected} data bytes after the header, found ${found} (dims [${dims.join(', ')}]; file truncated?)`);
  }
  if (found > expected) {
    throw new InputError(`${source}: ${found - expected} trailing bytes after the ${expected} data bytes of dims [${dims.join(', ')}]`);
  }
  // a plain Uint8Array, not a Buffer subclass, so callers and tests see one type
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected) };
}

/** The dims and header size of IDX bytes (the whole file or a prefix holding at least the header); `expected` is the data bytes the dims need. */
export function parseIdxHeader(bytes: Uint8Array, source: string): { dims: number[]; headerBytes: number; expected: number } {
  if (isGzip(bytes)) {
    throw new InputError(`${source}: data is gzip-compressed; use readIdx or parseIdxFile, which decompress it`);
  }
  if (bytes.length < 4) {
    throw new InputError(`${source}: file is ${bytes.length} bytes, too short for the 4-byte IDX magic`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new InputError(`${source}: not an IDX file: magic is ${hex}, expected 00 00 <dtype> <ndims>`);
  }
  const code = bytes[2];
  if (code !== 0x08) {
    const name = DTYPE_NAMES[code];
    throw new InputError(
      name
        ? `${source}: IDX dtype ${name} (0x${code.toString(16).padStart(2, '0')}) is not supported; only u8 (0x08) is`
        : `${source}: unknown IDX dtype code 0x${code.toString(16).padStart(2, '0')}; only u8 (0x08) is supported`,
    );
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) throw new InputError(`${source}: IDX ndims must be 1..4, got ${ndims}`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new InputError(`${source}: header truncated: ${ndims} dims need ${headerBytes} header bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let expected = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    expected *= d; // exact below 2^53; a larger product cannot match any real file anyway
  }
  return { dims, headerBytes, expected };
}

/**
 * The first `items` entries along the first dimension of an IDX file from `bytes`, a prefix of
 * the file at least that long (e.g. an HTTP range request for the first 10,000 MNIST images).
 * The result's dims say `items`; the data is a view into `bytes`.
 */
export function parseIdxPrefix(bytes: Uint8Array, source: string, items: number): Idx {
  const { dims, headerBytes } = parseIdxHeader(bytes, source);
  if (!Number.isInteger(items) || items < 0 || items > dims[0]) throw new InputError(`${source}: asked for ${items} entries, the file holds ${dims[0]}`);
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  const need = items * per;
  if (bytes.length - headerBytes < need) throw new InputError(`${source}: ${items} entries need ${need} data bytes after the header, got ${bytes.length - headerBytes}`);
  return { dims: [items, ...dims.slice(1)], data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, need) };
}
