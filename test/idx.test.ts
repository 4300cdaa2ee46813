// IDX reader on small files made here: plain and gzip, and every kind of malformed file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { parseIdx, parseIdxFile, readIdx } from '../src/data/idx.js';

/** Builds an IDX file: magic 00 00 <dtype> <ndims>, big-endian u32 dims, then `data`. */
function idx(dims: number[], data: ArrayLike<number>, dtype = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  out[2] = dtype;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'iruka-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pixels = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 11) % 256);

describe('parseIdx', () => {
  it('reads a 3-D u8 file (magic 00000803) and a 1-D one (00000801)', () => {
    const bytes = idx([2, 3, 4], pixels);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 0, 8, 3]);
    const r = parseIdx(bytes, 'img');
    expect(r.dims).toEqual([2, 3, 4]);
    expect(Array.from(r.data)).toEqual(pixels);
    const l = parseIdx(idx([5], [5, 0, 4, 1, 9]), 'lab');
    expect(l.dims).toEqual([5]);
    expect(Array.from(l.data)).toEqual([5, 0, 4, 1, 9]);
  });

  it('reads dims as big-endian u32 (60000 = 00 00 ea 60)', () => {
    const r = parseIdx(idx([60000], new Uint8Array(60000)), 'x');
    expect(r.dims).toEqual([60000]);
  });

  it('reads 2-D and 4-D files and empty dims', () => {
    expect(parseIdx(idx([2, 2], [1, 2, 3, 4]), 'x').dims).toEqual([2, 2]);
    expect(parseIdx(idx([1, 2, 1, 2], [1, 2, 3, 4]), 'x').dims).toEqual([1, 2, 1, 2]);
    expect(parseIdx(idx([0, 28, 28], []), 'x').data.length).toBe(0);
  });

  it('bad magic: non-zero leading bytes', () => {
    const b = idx([2], [1, 2]);
    b[0] = 0x12;
    expect(() => parseIdx(b, 'bad.idx')).toThrow(/bad\.idx: not an IDX file: magic is 12 00 08 01/);
  });

  it('unsupported and unknown dtypes are refused by name', () => {
    expect(() => parseIdx(idx([1], [0, 0, 0, 0], 0x0d), 'f.idx')).toThrow(/f\.idx: IDX dtype f32 \(0x0d\) is not supported; only u8/);
    expect(() => parseIdx(idx([1], [0], 0x42), 'q.idx')).toThrow(/unknown IDX dtype code 0x42/);
  });

  it('ndims outside 1..4', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'z')).toThrow(/z: IDX ndims must be 1\.\.4, got 0/);
    expect(() => parseIdx(idx([1, 1, 1, 1, 1], [7]), 'z')).toThrow(/ndims must be 1\.\.4, got 5/);
  });

  it('too short for the magic, truncated header', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 's')).toThrow(/s: file is 2 bytes, too short/);
    expect(() => parseIdx(idx([2, 3, 4], []).subarray(0, 10), 's')).toThrow(/s: header truncated: 3 dims need 16 header bytes, file has 10/);
  });

  it('truncated data names the file, expected and found byte counts', () => {
    const b = idx([60000, 28, 28], new Uint8Array(1234));
    expect(() => parseIdx(b, 'train-images-idx3-ubyte')).toThrow(
      /^train-images-idx3-ubyte: expected 47040000 data bytes after the header, found 1234/,
    );
  });

  it('dims that do not match the data (wrong dims) and trailing bytes', () => {
    expect(() => parseIdx(idx([3, 3, 4], pixels), 'w')).toThrow(/w: expected 36 data bytes after the header, found 24/);
    expect(() => parseIdx(idx([2, 3, 3], pixels), 'w')).toThrow(/w: 6 trailing bytes after the 18 data bytes of dims \[2, 3, 3\]/);
  });

  it('gzip bytes handed to parseIdx point to readIdx', () => {
    expect(() => parseIdx(gzipSync(idx([1], [1])), 'g')).toThrow(/g: data is gzip-compressed; use readIdx/);
  });

  it('data is a plain Uint8Array view, not a copy', () => {
    const b = idx([2], [3, 4]);
    const r = parseIdx(b, 'v');
    expect(r.data.constructor).toBe(Uint8Array);
    expect(r.data.buffer).toBe(b.buffer);
  });
});

describe('readIdx', () => {
  const bytes = idx([2, 3, 4], pixels);

  it('reads a plain file', () => {
    const p = join(dir, 'plain-idx3-ubyte');
    writeFileSync(p, bytes);
    const r = readIdx(p);
    expect(r.dims).toEqual([2, 3, 4]);
    expect(Array.from(r.data)).toEqual(pixels);
  });

  it('reads gzip by its magic bytes, whatever the name', () => {
    for (const name of ['z-idx3-ubyte.gz', 'no-gz-suffix-idx3-ubyte']) {
      const p = join(dir, name);
      writeFileSync(p, gzipSync(bytes));
      const r = readIdx(p);
      expect(r.dims).toEqual([2, 3, 4]);
      expect(r.data.constructor).toBe(Uint8Array);
      expect(Array.from(r.data)).toEqual(pixels);
    }
  });

  it('a plain file named .gz is read as plain', () => {
    const p = join(dir, 'plain-named.gz');
    writeFileSync(p, bytes);
    expect(readIdx(p).dims).toEqual([2, 3, 4]);
  });

  it('corrupt gzip names the file', () => {
    const gz = gzipSync(bytes);
    const bad = gz.slice();
    bad.fill(0xff, 10, 20);
    const p = join(dir, 'corrupt.gz');
    writeFileSync(p, bad);
    expect(() => readIdx(p)).toThrow(/corrupt\.gz: corrupt gzip data/);
    const cut = join(dir, 'cut.gz');
    writeFileSync(cut, gz.subarray(0, gz.length - 12));
    expect(() => readIdx(cut)).toThrow(/cut\.gz: corrupt gzip data/);
  });

  it('malformed content inside a valid gzip names the file', () => {
    const p = join(dir, 'short-idx3-ubyte.gz');
    writeFileSync(p, gzipSync(bytes.subarray(0, bytes.length - 5)));
    expect(() => readIdx(p)).toThrow(/short-idx3-ubyte\.gz: expected 24 data bytes after the header, found 19/);
  });

  it('every failure is an InputError', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 's')).toThrow(InputError);
    expect(() => readIdx(join(dir, 'nope'))).toThrow(InputError);
    expect(() => parseIdxFile(new Uint8Array([0x1f, 0x8b, 0, 0]), 'g')).toThrow(InputError);
  });

  it('files and gzip output above the byte limit are refused before they are allocated', () => {
    const p = join(dir, 'limit-idx3-ubyte');
    writeFileSync(p, bytes);
    expect(() => readIdx(p, bytes.length - 1)).toThrow(`${p}: IDX file is ${bytes.length} bytes, above the ${bytes.length - 1}-byte limit`);
    const zeros = idx([1000], new Uint8Array(1000)); // 1008 bytes, about 30 gzipped
    writeFileSync(p, gzipSync(zeros));
    expect(() => readIdx(p, 1007)).toThrow(`${p}: gzip data decompresses to more than the 1007-byte limit for an IDX file`);
    expect(readIdx(p, 1008).dims).toEqual([1000]);
  });

  it('a missing file and a directory are named', () => {
    expect(() => readIdx(join(dir, 'nope'))).toThrow(/nope: cannot read IDX file: no such file/);
    expect(() => readIdx(dir)).toThrow(/cannot read IDX file: is a directory/);
  });
});
