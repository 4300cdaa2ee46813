// IDX reader: the format of the MNIST files (LeCun's page). Layout, all integers big-endian:
//   bytes 0-1  zero
//   byte  2    dtype code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)
//   byte  3    ndims
//   then ndims u32 dimension sizes, then the data in row-major order.
// MNIST images are 0x00000803 (u8, 3-D: n x rows x cols), labels 0x00000801 (u8, 1-D: n).
// Only u8 is read; the other codes are refused by name. Files may be gzip-compressed; we tell
// by the gzip magic (1f 8b), never by the file name, since mirrors rename them freely.
//
// Files are untrusted: every failure is an InputError naming the file. Limits: ndims 1..4; the
// dims' product must equal the bytes after the header exactly (the data is a view, never an
// allocation sized by a dim); a file, or what a gzip file decompresses to, is at most
// MAX_IDX_BYTES, checked before reading it and while inflating (a small gzip bomb cannot fill memory).
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

/** The largest IDX file read, plain or decompressed: 1 GiB (MNIST's largest is 47 MB, EMNIST's 550 MB). */
export const MAX_IDX_BYTES = 2 ** 30;

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

/**
 * Parses the bytes of an IDX file as stored: gzip-compressed (detected by its magic bytes) or
 * plain. Decompression stops with an InputError past `maxBytes`.
 */
export function parseIdxFile(bytes: Uint8Array, source: string, maxBytes = MAX_IDX_BYTES): Idx {
  if (!isGzip(bytes)) return parseIdx(bytes, source);
  let plain: Uint8Array;
  try {
    plain = gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InputError(`${source}: gzip data decompresses to more than the ${maxBytes}-byte limit for an IDX file`);
    }
    throw new InputError(`${source}: corrupt gzip data: ${(e as Error).message}`);
  }
  return parseIdx(plain, source);
}

/**
 * Reads an IDX file from disk, plain or gzip-compressed, and parses it with {@link parseIdxFile}.
 * Errors (InputError) name the file; a file above `maxBytes` is refused before it is read.
 */
export function readIdx(path: string, maxBytes = MAX_IDX_BYTES): Idx {
  let bytes: Uint8Array;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError(`${path}: cannot read IDX file: is a directory`);
    if (st.size > maxBytes) throw new InputError(`${path}: IDX file is ${st.size} bytes, above the ${maxBytes}-byte limit`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new InputError(`${path}: cannot read IDX file: ${why}`);
  }
  return parseIdxFile(bytes, path, maxBytes);
}
