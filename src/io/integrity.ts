// What makes a checkpoint trustworthy after a crash or a bad disk: a CRC-32 of its tensor bytes
// written into the metadata and checked on load (a flipped bit or a torn copy is named, not
// trained on), and a refusal of NaN/Inf weights unless the caller asks for them. The file write
// itself (temporary, fsync, rename, fsync of the folder) is in safetensors.ts.
import { InputError } from '../errors.js';
import type { TensorData } from './safetensors_codec.js';

/** The metadata key holding the checksum, as `crc32:<8 hex digits>`. */
export const CHECKSUM_KEY = 'tensors_crc32';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib and PNG) of `bytes`, continuing from `crc` (0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The checksum of a set of tensors: CRC-32 over their raw little-endian bytes, taken in name
 * order (so it does not depend on where the file put each tensor). Shapes and dtypes are in the
 * JSON header, which the decoder checks against the data's size.
 */
export function tensorsChecksum(tensors: Iterable<[string, { data: TensorData }]>): string {
  const sorted = [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let crc = 0;
  for (const [, t] of sorted) crc = crc32(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), crc);
  return `crc32:${crc.toString(16).padStart(8, '0')}`;
}

/** Checks the stored checksum, when the file has one (files from PyTorch or from before checksums do not). */
export function verifyChecksum(tensors: Map<string, { data: TensorData }>, metadata: Record<string, string>, path: string): void {
  const stored = metadata[CHECKSUM_KEY];
  if (stored === undefined) return;
  const actual = tensorsChecksum(tensors);
  if (stored !== actual) {
    throw new InputError(`${path}: the tensor data does not match its checksum (stored ${stored}, computed ${actual}); the file is corrupt (a damaged disk or an incomplete copy); use another checkpoint`);
  }
}

/** Refuses a tensor holding NaN or ±Inf, naming it and counting the bad values, unless allowed. */
export function checkFiniteTensors(tensors: Map<string, { data: TensorData }>, path: string, allow: boolean): void {
  if (allow) return;
  const bad: string[] = [];
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) continue;
    let n = 0;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) n++;
    if (n) bad.push(`${name} (${n} of ${t.data.length})`);
  }
  if (bad.length) {
    throw new InputError(
      `${path}: non-finite (NaN/Inf) values in ${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ` and ${bad.length - 4} more tensors` : ''}; ` +
        'training from it would only produce NaN; pass --allow-nonfinite (fit option allowNonfinite) to load it anyway',
    );
  }
}
