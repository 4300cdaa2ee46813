// Property-based tests of the IDX reader: valid files of any dims load exactly, plain or
// gzip; mutated, truncated, extended and random files either load consistently or throw an
// InputError naming the file; gzip output is capped before it is allocated.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_IDX_BYTES, parseIdx, parseIdxFile, readIdx, type Idx } from '../../src/data/idx.js';
import { InputError } from '../../src/errors.js';
import { budget, FUZZ_TIMEOUT_MS, loadsOrRefuses } from './budget.js';

function encodeIdx(dims: number[], data: Uint8Array, dtype = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const v = new DataView(out.buffer);
  out[2] = dtype;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const validIdx = fc
  .array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 })
  .chain((dims) => {
    const n = dims.reduce((a, b) => a * b, 1);
    return fc.record({ dims: fc.constant(dims), data: fc.uint8Array({ minLength: n, maxLength: n }) });
  });

/** Field values that stress a reader: zero, the u32 extremes, powers of two. */
const nastyU32 = fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 24, 60000), fc.nat({ max: 0xffffffff }));

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'dim'; index: number; value: number }
  | { kind: 'byte'; at: 2 | 3; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('dim' as const), index: fc.integer({ min: 0, max: 3 }), value: nastyU32 }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.constantFrom(2 as const, 3 as const), value: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(bytes: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = bytes.slice();
  for (const m of ms) {
    if (m.kind === 'extend') {
      const out = new Uint8Array(b.length + m.bytes.length);
      out.set(b);
      out.set(m.bytes, b.length);
      b = out;
    } else if (m.kind === 'truncate') {
      b = b.slice(0, m.at % (b.length + 1));
    } else if (b.length === 0) {
      continue;
    } else if (m.kind === 'flip') {
      b[m.at % b.length] ^= 1 << m.bit;
    } else if (m.kind === 'set') {
      b[m.at % b.length] = m.value;
    } else if (m.kind === 'byte') {
      if (b.length > m.at) b[m.at] = m.value;
    } else if (4 + 4 * m.index + 4 <= b.length) {
      new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(4 + 4 * m.index, m.value, false);
    }
  }
  return b;
}

/** What a successful parse must agree with, worked out independently of the reader. */
function expectConsistent(r: Idx, plain: Uint8Array): void {
  expect(plain[0]).toBe(0);
  expect(plain[1]).toBe(0);
  expect(plain[2]).toBe(0x08);
  const ndims = plain[3];
  expect(r.dims.length).toBe(ndims);
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  r.dims.forEach((d, i) => expect(d).toBe(view.getUint32(4 + 4 * i, false)));
  const n = r.dims.reduce((a, b) => a * b, 1);
  expect(r.data.length).toBe(n);
  expect(4 + 4 * ndims + n).toBe(plain.length);
  expect(r.data).toEqual(plain.subarray(4 + 4 * ndims));
}

const dir = mkdtempSync(join(tmpdir(), 'iruka-fuzz-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('IDX reader under fuzzing', { timeout: FUZZ_TIMEOUT_MS }, () => {
  it('valid plain files of any dims load exactly', () => {
    fc.assert(
      fc.property(validIdx, ({ dims, data }) => {
        const r = parseIdx(encodeIdx(dims, data), 'v');
        expect(r.dims).toEqual(dims);
        expect(r.data).toEqual(data);
      }),
      budget(0.2),
    );
  });

  it('valid gzip files at any level load exactly', () => {
    fc.assert(
      fc.property(validIdx, fc.integer({ min: 0, max: 9 }), ({ dims, data }, level) => {
        const r = parseIdxFile(gzipSync(encodeIdx(dims, data), { level }), 'g');
        expect(r.dims).toEqual(dims);
        expect(r.data).toEqual(data);
      }),
      budget(0.1),
    );
  });

  it('mutated plain files load consistently or throw an InputError naming the file', () => {
    fc.assert(
      fc.property(validIdx, fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ dims, data }, ms) => {
        const bytes = mutate(encodeIdx(dims, data), ms);
        const r = loadsOrRefuses(() => parseIdxFile(bytes, 'm.idx'), InputError, 'm.idx: ');
        if (r) expectConsistent(r, bytes);
      }),
      budget(0.4),
    );
  });

  it('gzip files with mutated compressed or plain bytes load consistently or throw an InputError', () => {
    fc.assert(
      fc.property(validIdx, fc.array(mutation, { maxLength: 3 }), fc.array(mutation, { maxLength: 3 }), ({ dims, data }, inner, outer) => {
        const plain = mutate(encodeIdx(dims, data), inner);
        const gz = mutate(gzipSync(plain), outer);
        const r = loadsOrRefuses(() => parseIdxFile(gz, 'z.gz'), InputError, 'z.gz: ');
        // a mutation may turn the gzip magic into something else; then the bytes are read plain
        if (r) expectConsistent(r, gz[0] === 0x1f && gz[1] === 0x8b ? plain : gz);
      }),
      budget(0.15),
    );
  });

  it('random bytes, with or without an IDX or gzip magic, load consistently or throw an InputError', () => {
    const prefix = fc.constantFrom([], [0, 0, 8], [0, 0, 8, 1], [0, 0, 8, 4], [0x1f, 0x8b], [0x1f, 0x8b, 8, 0]);
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 64 }), (head, tail) => {
        const bytes = new Uint8Array([...head, ...tail]);
        const r = loadsOrRefuses(() => parseIdxFile(bytes, 'r'), InputError, 'r: ');
        if (r) expectConsistent(r, bytes);
      }),
      budget(0.05),
    );
  });

  it('decompression stops at the byte limit, before the output is allocated', () => {
    fc.assert(
      fc.property(validIdx, fc.integer({ min: 0, max: 25_000 }), ({ dims, data }, maxBytes) => {
        const plain = encodeIdx(dims, data);
        const r = loadsOrRefuses(() => parseIdxFile(gzipSync(plain), 'b.gz', maxBytes), InputError, 'b.gz: ');
        expect(r !== undefined).toBe(plain.length <= maxBytes);
      }),
      budget(0.05),
    );
    // a gzip bomb: 64 MB of zeros is 64 kB compressed
    const bomb = gzipSync(new Uint8Array(64 * 2 ** 20), { level: 9 });
    expect(() => parseIdxFile(bomb, 'bomb.gz', 2 ** 20)).toThrow(/bomb\.gz: gzip data decompresses to more than the 1048576-byte limit/);
    expect(MAX_IDX_BYTES).toBe(2 ** 30);
  });

  it('readIdx on files on disk, plain, gzip and mutated: loads consistently or throws an InputError naming the path', () => {
    let i = 0;
    fc.assert(
      fc.property(validIdx, fc.boolean(), fc.array(mutation, { maxLength: 2 }), ({ dims, data }, gz, ms) => {
        const plain = mutate(encodeIdx(dims, data), ms);
        const p = join(dir, `f${i++}`);
        writeFileSync(p, gz ? gzipSync(plain) : plain);
        const r = loadsOrRefuses(() => readIdx(p), InputError, `${p}: `);
        if (r) expectConsistent(r, plain);
        rmSync(p);
      }),
      budget(0.05),
    );
    const big = join(dir, 'big');
    writeFileSync(big, encodeIdx([2000], new Uint8Array(2000)));
    expect(() => readIdx(big, 1000)).toThrow(/big: IDX file is 2008 bytes, above the 1000-byte limit/);
    expect(readIdx(big, 2008).dims).toEqual([2000]);
  });
});
