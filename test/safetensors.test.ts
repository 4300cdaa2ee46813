// safetensors: round trips, a file written byte by byte from the format's description (so we
// match the format, not only ourselves), malformed files, crash-safe writes, expectTensor.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  expectTensor,
  MAX_DIMS,
  MAX_HEADER_DEPTH,
  MAX_TENSORS,
  readSafetensors,
  writeSafetensors,
  type SafeTensor,
  type TensorData,
} from '../src/io/safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'iruka-st-'));
afterAll(() => {
  try {
    chmodSync(join(root, 'ro'), 0o755);
  } catch {
    /* not made */
  }
  rmSync(root, { recursive: true, force: true });
});

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u64le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff, 0, 0, 0, 0];

/** A file from raw parts: header length (u64 LE), the header text as given, then data bytes. */
function file(header: string, data: number[] = [], n = header.length): Uint8Array {
  return new Uint8Array([...u64le(n), ...ascii(header), ...data]);
}

describe('encode/decode round trip', () => {
  it('F32, F64, I32, I64, U8, a scalar, an empty tensor and metadata', () => {
    const tensors: Record<string, { shape: number[]; data: TensorData }> = {
      'conv1.weight': { shape: [2, 1, 2, 2], data: Float32Array.from({ length: 8 }, (_, i) => i * 0.5 - 1.25) },
      'conv1.bias': { shape: [2], data: new Float32Array([Math.PI, -0]) },
      'x.f64': { shape: [3], data: new Float64Array([1e-300, -2.5, Number.MAX_VALUE]) },
      'x.i32': { shape: [2, 2], data: new Int32Array([-2147483648, 2147483647, 0, -1]) },
      'x.i64': { shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n + 7n]) },
      'x.u8': { shape: [3], data: new Uint8Array([0, 128, 255]) },
      step: { shape: [], data: new Int32Array([1234]) },
      empty: { shape: [0, 3], data: new Float32Array(0) },
    };
    const meta = { format: 'pt', epoch: '3', note: 'ünïcode ✓' };
    const bytes = encodeSafetensors(tensors, meta);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const { tensors: back, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual(meta);
    expect([...back.keys()]).toEqual(Object.keys(tensors));
    const dtypes = { 'conv1.weight': 'F32', 'conv1.bias': 'F32', 'x.f64': 'F64', 'x.i32': 'I32', 'x.i64': 'I64', 'x.u8': 'U8', step: 'I32', empty: 'F32' };
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.get(name)!;
      expect(b.shape, name).toEqual(t.shape);
      expect(b.dtype, name).toBe(dtypes[name as keyof typeof dtypes]);
      expect(b.data.constructor, name).toBe(t.data.constructor);
      expect(b.data, name).toEqual(t.data);
      expect(b.data.byteOffset, name).toBe(0);
    }
    expect(Object.is(back.get('conv1.bias')!.data[1], -0)).toBe(true);
  });

  it('a view into a larger buffer writes only its own elements', () => {
    const big = Float32Array.from({ length: 10 }, (_, i) => i);
    const { tensors } = decodeSafetensors(encodeSafetensors({ v: { shape: [3], data: big.subarray(4, 7) } }));
    expect(Array.from(tensors.get('v')!.data as Float32Array)).toEqual([4, 5, 6]);
  });

  it('no metadata gives an empty object, and no __metadata__ key in the header', () => {
    const bytes = encodeSafetensors({ a: { shape: [1], data: new Uint8Array([9]) } });
    expect(new TextDecoder().decode(bytes)).not.toContain('__metadata__');
    expect(decodeSafetensors(bytes).metadata).toEqual({});
  });

  it('data that is unaligned in the file is copied into aligned arrays', () => {
    // a 3-byte U8 tensor first puts the F32 tensor at data offset 3
    const bytes = encodeSafetensors({ u: { shape: [3], data: new Uint8Array([1, 2, 3]) }, f: { shape: [2], data: new Float32Array([1.5, -2]) } });
    const f = decodeSafetensors(bytes).tensors.get('f')!;
    expect(f.data).toEqual(new Float32Array([1.5, -2]));
  });
});

describe('format compatibility', () => {
  // The header text and the data are spelled out as the format describes them: u64 LE length,
  // JSON, space padding to 8, raw little-endian values. 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0,
  // i64 5 = 05 00 .. 00, f64 0.5 = 00 .. 00 e0 3f.
  const header = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"I64","shape":[],"data_offsets":[8,16]},"h":{"dtype":"F64","shape":[1,1],"data_offsets":[16,24]}}';
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const data = [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f];

  it('decodes a file written byte by byte', () => {
    const bytes = file(padded, data);
    expect(bytes.subarray(0, 8)).toEqual(new Uint8Array(u64le(padded.length)));
    const { tensors, metadata } = decodeSafetensors(bytes, 'hand.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('w')).toEqual({ dtype: 'F32', shape: [2], data: new Float32Array([1, -2]) });
    expect(tensors.get('n')).toEqual({ dtype: 'I64', shape: [], data: new BigInt64Array([5n]) });
    expect(tensors.get('h')).toEqual({ dtype: 'F64', shape: [1, 1], data: new Float64Array([0.5]) });
  });

  it('encodes to exactly those bytes', () => {
    const bytes = encodeSafetensors(
      { w: { shape: [2], data: new Float32Array([1, -2]) }, n: { shape: [], data: new BigInt64Array([5n]) }, h: { shape: [1, 1], data: new Float64Array([0.5]) } },
      { format: 'pt' },
    );
    expect(Array.from(bytes)).toEqual(Array.from(file(padded, data)));
  });

  it('accepts an unpadded header, other key orders and unknown extra fields', () => {
    const h = '{"b":{"shape":[1],"data_offsets":[4,5],"dtype":"U8","extra":1},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}';
    const { tensors } = decodeSafetensors(file(h, [7, 0, 0, 0, 9]));
    expect([...tensors.keys()]).toEqual(['b', 'a']);
    expect(tensors.get('a')!.data).toEqual(new Int32Array([7]));
    expect(tensors.get('b')!.data).toEqual(new Uint8Array([9]));
  });
});

describe('malformed files name the source', () => {
  const ok = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const d8 = [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];

  it('shorter than 8 bytes', () => {
    expect(() => decodeSafetensors(new Uint8Array(5), 'x.safetensors')).toThrow(/x\.safetensors: file is 5 bytes, too short for a safetensors header/);
  });

  it('header length beyond the file (truncated file)', () => {
    expect(() => decodeSafetensors(file(ok, d8).subarray(0, 30), 'cut.safetensors')).toThrow(/cut\.safetensors: header length 54 runs past the end of the file \(30 bytes/);
    expect(() => decodeSafetensors(new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 123]), 'big')).toThrow(/big: header length 18446744073709551615 runs past the end/);
  });

  it('data truncated after the header', () => {
    expect(() => decodeSafetensors(file(ok, d8.slice(0, 6)), 'short')).toThrow(/short: tensor w: data_offsets \[0, 8\] lie outside the data area \(6 bytes; file truncated\?\)/);
  });

  it('JSON that does not parse, or is not an object, or not UTF-8', () => {
    expect(() => decodeSafetensors(file('{"w":{"dtype":', d8), 'j')).toThrow(/j: safetensors header is not valid UTF-8 JSON/);
    expect(() => decodeSafetensors(file('[1, 2]  ', []), 'j')).toThrow(/j: safetensors header must be a JSON object/);
    const bad = file('{"\u00ff":1}');
    expect(() => decodeSafetensors(bad, 'u')).toThrow(/u: safetensors header is not valid UTF-8 JSON/);
  });

  it('unknown or unsupported dtype', () => {
    expect(() => decodeSafetensors(file(ok.replace('F32', 'BF16'), d8), 'd')).toThrow(/d: tensor w: dtype BF16 is not supported \(supported: F32, F64, I32, I64, U8\)/);
    expect(() => decodeSafetensors(file(ok.replace('F32', 'toString'), d8), 'd')).toThrow(/dtype toString is not supported/);
  });

  it('shape disagreeing with offsets', () => {
    expect(() => decodeSafetensors(file(ok.replace('[2]', '[3]'), d8), 's')).toThrow(/s: tensor w: F32 shape \[3\] needs 12 bytes, data_offsets \[0, 8\] span 8/);
  });

  it('bad shape and data_offsets fields', () => {
    expect(() => decodeSafetensors(file(ok.replace('[2]', '[-2]'), d8), 's')).toThrow(/tensor w: shape must be an array of integers >= 0, got \[-2\]/);
    expect(() => decodeSafetensors(file(ok.replace('[0,8]', '[8,0]'), d8), 's')).toThrow(/data_offsets must be \[begin, end\] with 0 <= begin <= end, got \[8,0\]/);
    expect(() => decodeSafetensors(file('{"w":3}'), 's')).toThrow(/tensor w: header entry must be an object/);
  });

  it('a header lying about offsets: outside the data area', () => {
    const h = ok.replace('[0,8]', '[8,16]');
    expect(() => decodeSafetensors(file(h, d8), 'lie')).toThrow(/lie: tensor w: data_offsets \[8, 16\] lie outside the data area \(8 bytes/);
  });

  it('overlapping tensors', () => {
    const h = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(() => decodeSafetensors(file(h, [...d8, 1, 2, 3, 4]), 'ov')).toThrow(/ov: tensors a and b overlap \(b starts at 4, a ends at 8\)/);
  });

  it('holes in the data area, at the start, between tensors and at the end', () => {
    const gap = '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}';
    expect(() => decodeSafetensors(file(gap, [1, 2, 3, 4, 5]), 'h')).toThrow(/h: 1 bytes at \[2, 3\) of the data area belong to no tensor/);
    const late = '{"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}';
    expect(() => decodeSafetensors(file(late, [1, 2, 3]), 'h')).toThrow(/1 bytes at \[0, 1\) of the data area belong to no tensor/);
    expect(() => decodeSafetensors(file(ok, [...d8, 0, 0]), 'h')).toThrow(/h: 2 bytes at the end of the data area belong to no tensor/);
  });

  it('metadata values that are not strings', () => {
    expect(() => decodeSafetensors(file('{"__metadata__":{"epoch":3}}'), 'm')).toThrow(/m: metadata epoch must be a string, got 3/);
    expect(() => decodeSafetensors(file('{"__metadata__":"pt"}'), 'm')).toThrow(/m: __metadata__ must be an object of strings/);
  });

  it('readSafetensors names the path', () => {
    const p = join(root, 'garbage.safetensors');
    writeFileSync(p, new Uint8Array([1, 2, 3]));
    expect(() => readSafetensors(p)).toThrow(/garbage\.safetensors: file is 3 bytes/);
    expect(() => readSafetensors(join(root, 'absent.safetensors'))).toThrow(/absent\.safetensors: cannot read checkpoint: no such file/);
  });
});

describe('limits and hostile headers', () => {
  const u8 = (name: string, at: number) => `"${name}":{"dtype":"U8","shape":[1],"data_offsets":[${at},${at + 1}]}`;

  it('every decode failure is an InputError', () => {
    expect(() => decodeSafetensors(new Uint8Array(3), 'x')).toThrow(InputError);
    expect(() => decodeSafetensors(file('{"w":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}', [0, 0]), 'x')).toThrow(InputError);
  });

  it('a key twice in one object is refused, at the top level and inside an entry', () => {
    expect(() => decodeSafetensors(file(`{${u8('a', 0)},${u8('a', 1)}}`, [1, 2]), 'dup')).toThrow(/dup: safetensors header has the key "a" twice in one object/);
    expect(() => decodeSafetensors(file(`{${u8('\u0061', 0)},${u8('a', 1)}}`, [1, 2]), 'dup')).toThrow(/has the key "a" twice/);
    expect(() => decodeSafetensors(file('{"a":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}', [1]), 'dup')).toThrow(/has the key "dtype" twice/);
  });

  it('nesting deeper than MAX_HEADER_DEPTH is refused before JSON.parse (100,000 levels would overflow JSON.stringify)', () => {
    const deep = (d: number) => '['.repeat(d) + ']'.repeat(d);
    expect(() => decodeSafetensors(file(`{"w":{"dtype":"U8","shape":${deep(100_000)},"data_offsets":[0,0]}}`), 'deep')).toThrow(
      new RegExp(`deep: safetensors header nests deeper than ${MAX_HEADER_DEPTH} levels`),
    );
    // at the limit: the top object and the entry take two levels
    expect(() => decodeSafetensors(file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":${deep(MAX_HEADER_DEPTH - 2)}}}`, [7]))).not.toThrow();
  });

  it('more than MAX_DIMS dims, and shapes whose size passes 2^53, are refused', () => {
    const dims = Array(MAX_DIMS + 1).fill(1);
    expect(() => decodeSafetensors(file(`{"w":{"dtype":"U8","shape":[${dims}],"data_offsets":[0,1]}}`, [7]), 's')).toThrow(`s: tensor w: shape has ${MAX_DIMS + 1} dims, more than ${MAX_DIMS}`);
    // a zero dim makes any other dims hold nothing
    expect(decodeSafetensors(file('{"w":{"dtype":"F32","shape":[9007199254740991,9007199254740991,0],"data_offsets":[0,0]}}'), 's').tensors.get('w')!.data.length).toBe(0);
    expect(() => decodeSafetensors(file('{"w":{"dtype":"F32","shape":[3,3002399751580331],"data_offsets":[0,8]}}', [0, 0, 0, 0, 0, 0, 0, 0]), 's')).toThrow(
      /s: tensor w: F32 shape \[3, 3002399751580331\] needs more than 2\^53 bytes/,
    );
    expect(() => encodeSafetensors({ w: { shape: dims, data: new Uint8Array(1) } })).toThrow(/65 dims, more than 64/);
  });

  it('more than MAX_TENSORS tensors are refused', () => {
    const entries = Array.from({ length: MAX_TENSORS + 1 }, (_, i) => `"t${i}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`);
    expect(() => decodeSafetensors(file(`{${entries.join(',')}}`), 'many')).toThrow(`many: header lists ${MAX_TENSORS + 1} tensors, more than the ${MAX_TENSORS} allowed`);
  });

  it('the Map keeps the header order even for integer-like names, which JSON.parse would move first', () => {
    const { tensors } = decodeSafetensors(file(`{${u8('b', 0)},${u8('10', 1)},${u8('2', 2)}}`, [1, 2, 3]));
    expect([...tensors.keys()]).toEqual(['b', '10', '2']);
  });

  it('__proto__ as a tensor name or a metadata key round trips instead of vanishing', () => {
    const tensors: Record<string, { shape: number[]; data: Uint8Array }> = {};
    Object.defineProperty(tensors, '__proto__', { value: { shape: [1], data: new Uint8Array([5]) }, enumerable: true });
    const meta: Record<string, string> = {};
    Object.defineProperty(meta, '__proto__', { value: 'p', enumerable: true });
    const back = decodeSafetensors(encodeSafetensors(tensors, meta));
    expect([...back.tensors.keys()]).toEqual(['__proto__']);
    expect(Object.entries(back.metadata)).toEqual([['__proto__', 'p']]);
    expect(Object.getPrototypeOf(back.metadata)).toBe(Object.prototype);
  });

  it('quotes from the file are clipped, so a message stays short', () => {
    const long = 'n'.repeat(100_000);
    let msg = '';
    try {
      decodeSafetensors(file(`{"${long}":{"dtype":"${long}","shape":[],"data_offsets":[0,0]}}`), 'c');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^c: tensor n+\.\.\. \(100000 characters\): dtype n+\.\.\. \(100000 characters\) is not supported/);
    expect(msg.length).toBeLessThan(400);
  });
});

describe('encode rejects bad input', () => {
  it('shape vs length, array type, reserved name, metadata type', () => {
    expect(() => encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/tensor w: shape \[2, 2\] holds 4 elements, data has 3/);
    expect(() => encodeSafetensors({ w: { shape: [2], data: new Int16Array(2) as unknown as Int32Array } })).toThrow(/tensor w: data must be a Float32Array.*got Int16Array/);
    expect(() => encodeSafetensors({ w: { shape: [1.5], data: new Float32Array(1) } })).toThrow(/tensor w: shape must be an array of integers >= 0/);
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(/'__metadata__' cannot be a tensor name/);
    expect(() => encodeSafetensors({}, { epoch: 3 as unknown as string })).toThrow(/metadata epoch must be a string, got number/);
  });
});

describe('writeSafetensors is crash-safe', () => {
  const t1 = { w: { shape: [2], data: new Float32Array([1, 2]) } };
  const t2 = { w: { shape: [3], data: new Float32Array([3, 4, 5]) } };

  it('writes, overwrites, and leaves no temporary file', () => {
    const dir = join(root, 'ok');
    mkdirSync(dir);
    const p = join(dir, 'model.safetensors');
    writeSafetensors(p, t1, { epoch: '1' });
    expect(readSafetensors(p).metadata).toEqual({ epoch: '1' });
    writeSafetensors(p, t2, { epoch: '2' });
    const back = readSafetensors(p);
    expect(back.tensors.get('w')!.data).toEqual(new Float32Array([3, 4, 5]));
    expect(back.metadata).toEqual({ epoch: '2' });
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('a directory that does not exist: clear error, nothing created', () => {
    const p = join(root, 'no-such-dir', 'model.safetensors');
    expect(() => writeSafetensors(p, t1)).toThrow(/cannot write checkpoint .*no-such-dir[\\/]model\.safetensors: directory .*no-such-dir does not exist/);
    expect(existsSync(join(root, 'no-such-dir'))).toBe(false);
  });

  it('failure before the rename keeps the old file byte for byte', () => {
    const dir = join(root, 'blocked');
    mkdirSync(dir);
    const p = join(dir, 'model.safetensors');
    writeSafetensors(p, t1);
    const old = readFileSync(p);
    // a directory squatting on the temporary name makes opening it fail
    mkdirSync(`${p}.tmp-${process.pid}`);
    expect(() => writeSafetensors(p, t2)).toThrow(/cannot write checkpoint .*model\.safetensors: /);
    expect(readFileSync(p)).toEqual(old);
    expect(readdirSync(dir).sort()).toEqual(['model.safetensors', `model.safetensors.tmp-${process.pid}`]);
  });

  it('failure at the rename removes the temporary it wrote', () => {
    const dir = join(root, 'rename');
    mkdirSync(dir);
    const p = join(dir, 'model.safetensors');
    // a non-empty directory under the target name cannot be replaced by a file
    mkdirSync(p);
    writeFileSync(join(p, 'keep'), 'x');
    expect(() => writeSafetensors(p, t1)).toThrow(/cannot write checkpoint .*model\.safetensors: /);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    expect(readFileSync(join(p, 'keep'), 'utf8')).toBe('x');
  });

  it('bad tensors fail before the disk is touched', () => {
    const dir = join(root, 'bad');
    mkdirSync(dir);
    const p = join(dir, 'model.safetensors');
    writeSafetensors(p, t1);
    const old = readFileSync(p);
    expect(() => writeSafetensors(p, { w: { shape: [5], data: new Float32Array(2) } })).toThrow(/shape \[5\] holds 5 elements, data has 2/);
    expect(readFileSync(p)).toEqual(old);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

});

describe('expectTensor', () => {
  const st = new Map<string, SafeTensor>([
    ['conv1.weight', { dtype: 'F32', shape: [6, 1, 5, 5], data: new Float32Array(150) }],
    ['conv1.bias', { dtype: 'F32', shape: [6], data: new Float32Array(6) }],
    ['step', { dtype: 'I64', shape: [], data: new BigInt64Array(1) }],
  ]);

  it('returns the tensor when name, shape and dtype match', () => {
    expect(expectTensor(st, 'conv1.bias', [6], 'x.safetensors')).toBe(st.get('conv1.bias'));
    expect(expectTensor(st, 'step', [], 'x.safetensors', 'I64').dtype).toBe('I64');
  });

  it('a missing tensor lists the ones there are', () => {
    expect(() => expectTensor(st, 'conv3.weight', [16, 6, 5, 5], 'x.safetensors')).toThrow(
      'checkpoint x.safetensors has no tensor conv3.weight; it has conv1.weight, conv1.bias, step',
    );
    expect(() => expectTensor(new Map(), 'a', [1], 'e.safetensors')).toThrow('checkpoint e.safetensors has no tensor a; it has no tensors');
    const many = new Map<string, SafeTensor>(Array.from({ length: 25 }, (_, i) => [`t${i}`, st.get('conv1.bias')!]));
    expect(() => expectTensor(many, 'a', [1], 'm')).toThrow(/t19, \.\.\. \(5 more\)$/);
  });

  it('wrong shape or dtype', () => {
    expect(() => expectTensor(st, 'conv1.weight', [6, 1, 3, 3], 'x.safetensors')).toThrow(
      'checkpoint x.safetensors: tensor conv1.weight has shape [6, 1, 5, 5], expected [6, 1, 3, 3]',
    );
    expect(() => expectTensor(st, 'conv1.bias', [6, 1], 'x')).toThrow(/has shape \[6\], expected \[6, 1\]/);
    expect(() => expectTensor(st, 'step', [], 'x')).toThrow('checkpoint x: tensor step has dtype I64, expected F32');
  });
});
