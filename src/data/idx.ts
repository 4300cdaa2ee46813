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
import { parseIdx, isGzip, type Idx } from './idx_codec.js';

/** The largest IDX file read, plain or decompressed: 1 GiB (MNIST's largest is 47 MB, EMNIST's 550 MB). */
export const MAX_IDX_BYTES = 2 ** 30;

export { isGzip, parseIdx, parseIdxHeader, parseIdxPrefix, type Idx } from './idx_codec.js';

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
