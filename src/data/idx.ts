// IDX reader: the format of the MNIST files (LeCun's page). Layout, all integers big-endian:
//   bytes 0-1  zero
//   byte  2    dtype code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)
//   byte  3    ndims
//   then ndims u32 dimension sizes, then the data in row-major order.
// MNIST images are 0x00000803 (u8, 3-D: n x rows x cols), labels 0x00000801 (u8, 1-D: n).
// Only u8 is read; the other codes are refused by name. Files may be gzip-compressed; we tell
// by the gzip magic (1f 8b), never by the file name, since mirrors rename them freely.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

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
 * Throws on a bad magic, an unsupported dtype, ndims outside 1..4, a truncated header or body,
 * and trailing bytes after the data.
 */
export function parseIdx(bytes: Uint8Array, source: string): Idx {
  if (isGzip(bytes)) {
    throw new Error(`${source}: data is gzip-compressed; use readIdx, which decompresses it`);
  }
  if (bytes.length < 4) {
    throw new Error(`${source}: file is ${bytes.length} bytes, too short for the 4-byte IDX magic`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`${source}: not an IDX file: magic is ${hex}, expected 00 00 <dtype> <ndims>`);
  }
  const code = bytes[2];
  if (code !== 0x08) {
    const name = DTYPE_NAMES[code];
    throw new Error(
      name
        ? `${source}: IDX dtype ${name} (0x${code.toString(16).padStart(2, '0')}) is not supported; only u8 (0x08) is`
        : `${source}: unknown IDX dtype code 0x${code.toString(16).padStart(2, '0')}; only u8 (0x08) is supported`,
    );
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) throw new Error(`${source}: IDX ndims must be 1..4, got ${ndims}`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(`${source}: header truncated: ${ndims} dims need ${headerBytes} header bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let expected = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    expected *= d; // exact below 2^53; a larger product cannot match any real file anyway
  }
  const found = bytes.length - headerBytes;
  if (found < expected) {
    throw new Error(`${source}: expected ${expected} data bytes after the header, found ${found} (dims [${dims.join(', ')}]; file truncated?)`);
  }
  if (found > expected) {
    throw new Error(`${source}: ${found - expected} trailing bytes after the ${expected} data bytes of dims [${dims.join(', ')}]`);
  }
  // a plain Uint8Array, not a Buffer subclass, so callers and tests see one type
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected) };
}

/**
 * Reads an IDX file from disk, plain or gzip-compressed (detected by its magic bytes), and
 * parses it with {@link parseIdx}. Errors name the file.
 */
export function readIdx(path: string): Idx {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new Error(`${path}: cannot read IDX file: ${why}`);
  }
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${path}: corrupt gzip data: ${(e as Error).message}`);
    }
  }
  return parseIdx(bytes, path);
}
