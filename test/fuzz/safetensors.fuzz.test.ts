// Property-based tests of the safetensors codec and file reader: any tensors and metadata round
// trip bit for bit; headers written as other producers may (any key order, spacing, padding,
// data order) decode to what they describe; mutated bytes and mutated header fields (huge,
// negative, unsafe or reversed numbers, unknown dtypes, duplicate names, deep JSON, bad UTF-8)
// either decode consistently or throw an InputError naming the source.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  MAX_DIMS,
  MAX_HEADER_DEPTH,
  readSafetensors,
  type SafeDType,
  type SafeTensor,
  type TensorData,
  type TensorIn,
} from '../../src/io/safetensors.js';
import { budget, FUZZ_TIMEOUT_MS, loadsOrRefuses } from './budget.js';

const ITEM: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, U8: 1 };
const ARRAY: Record<SafeDType, new (b: ArrayBuffer, o: number, n: number) => TensorData> = {
  F32: Float32Array,
  F64: Float64Array,
  I32: Int32Array,
  I64: BigInt64Array,
  U8: Uint8Array,
};

const bytesOf = (d: TensorData) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
const product = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Own enumerable property, `__proto__` included (plain assignment would set the prototype). */
function record<T>(pairs: [string, T][]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of pairs) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const trickyName = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '10', '2', '4294967295', 'a.b', 'ünï ✓', '\u0000', '"', '\\', 'x\ny', '\ud800', '\udfff', ' ');
const anyName = fc.oneof(trickyName, fc.string({ minLength: 1, maxLength: 10, unit: 'binary' }), fc.string({ minLength: 1, maxLength: 6 }));
const tensorName = anyName.filter((n) => n !== '__metadata__');

const dtype = fc.constantFrom<SafeDType>('F32', 'F64', 'I32', 'I64', 'U8');
const shape = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 });

/** Random tensor bits (NaN payloads, -0, any integers), placed at a random element offset in its buffer. */
const tensor: fc.Arbitrary<{ dtype: SafeDType } & TensorIn> = fc.tuple(dtype, shape, fc.nat({ max: 3 })).chain(([dt, sh, pad]) => {
  const n = product(sh);
  return fc.uint8Array({ minLength: (n + pad) * ITEM[dt], maxLength: (n + pad) * ITEM[dt] }).map((raw) => ({
    dtype: dt,
    shape: sh,
    data: new ARRAY[dt](raw.buffer, pad * ITEM[dt], n),
  }));
});

const tensors = fc.uniqueArray(fc.tuple(tensorName, tensor), { selector: (t) => t[0], maxLength: 6 });
const metadata = fc.option(fc.uniqueArray(fc.tuple(anyName, fc.string({ maxLength: 12, unit: 'binary' })), { selector: (t) => t[0], maxLength: 4 }), { nil: undefined });

/** What must hold of any successful decode of `bytes`, valid or not. */
function expectConsistent(out: { tensors: Map<string, SafeTensor>; metadata: Record<string, string> }, bytes: Uint8Array): void {
  let total = 0;
  for (const t of out.tensors.values()) {
    expect(t.data).toBeInstanceOf(ARRAY[t.dtype]);
    expect(t.data.length).toBe(product(t.shape));
    expect(t.shape.length).toBeLessThanOrEqual(MAX_DIMS);
    total += t.data.byteLength;
  }
  expect(total).toBeLessThanOrEqual(bytes.length);
  for (const v of Object.values(out.metadata)) expect(typeof v).toBe('string');
  // what we read we can write, and it reads back the same
  const again = decodeSafetensors(encodeSafetensors(Object.fromEntries(out.tensors), out.metadata));
  expect([...again.tensors.keys()]).toEqual([...out.tensors.keys()].sort(jsKeyOrder));
  for (const [name, t] of out.tensors) expect(bytesOf(again.tensors.get(name)!.data)).toEqual(bytesOf(t.data));
}

/** The order JavaScript gives an object's keys: array indices ascending, then the rest as inserted. */
function jsKeyOrder(a: string, b: string): number {
  const ia = isIndex(a);
  const ib = isIndex(b);
  if (ia && ib) return Number(a) - Number(b);
  return ia ? -1 : ib ? 1 : 0;
}
const isIndex = (k: string) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1;

// ---- headers as text, so that fields can hold what JSON.stringify would never write ----

/** One header entry: the name and its fields, both as raw JSON text. */
interface RawEntry {
  name: string;
  fields: [string, string][];
}

function headerText(entries: RawEntry[], space: string): string {
  const obj = (fields: [string, string][]) => `{${fields.map(([k, v]) => `${k}${space}:${space}${v}`).join(`,${space}`)}}`;
  return `{${space}${entries.map((e) => `${e.name}:${space}${obj(e.fields)}`).join(`,${space}`)}${space}}`;
}

function fileOf(header: Uint8Array, data: Uint8Array, pad = 0, lengthField?: bigint): Uint8Array {
  const out = new Uint8Array(8 + header.length + pad + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(header.length + pad), true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + header.length + pad);
  out.set(data, 8 + header.length + pad);
  return out;
}

/** A valid header in any producer's style, with the tensors' data in a random order of its own. */
const producerFile = fc
  .record({
    ts: tensors,
    meta: metadata,
    dataOrder: fc.array(fc.double({ noNaN: true }), { minLength: 6, maxLength: 6 }),
    metaAt: fc.nat({ max: 6 }),
    space: fc.constantFrom('', ' ', '\n', '\t ', '\r\n  '),
    pad: fc.nat({ max: 17 }),
    fieldOrder: fc.constantFrom([0, 1, 2], [2, 1, 0], [1, 0, 2], [2, 0, 1]),
    extra: fc.boolean(),
  })
  .map(({ ts, meta, dataOrder, metaAt, space, pad, fieldOrder, extra }) => {
    const placed = ts.map((t, i) => ({ t, key: dataOrder[i] })).sort((a, b) => a.key - b.key);
    const offsets = new Map<string, [number, number]>();
    let at = 0;
    for (const { t } of placed) {
      offsets.set(t[0], [at, at + t[1].data.byteLength]);
      at += t[1].data.byteLength;
    }
    const data = new Uint8Array(at);
    for (const { t } of placed) data.set(bytesOf(t[1].data), offsets.get(t[0])![0]);
    const entries: RawEntry[] = ts.map(([name, t]) => {
      const f: [string, string][] = [
        ['"dtype"', JSON.stringify(t.dtype)],
        ['"shape"', JSON.stringify(t.shape)],
        ['"data_offsets"', JSON.stringify(offsets.get(name))],
      ];
      const fields = fieldOrder.map((i) => f[i]);
      if (extra) fields.push(['"extra"', '{"nested":[1,{"x":null}]}']);
      return { name: JSON.stringify(name), fields };
    });
    if (meta) {
      entries.splice(Math.min(metaAt, entries.length), 0, { name: '"__metadata__"', fields: meta.map(([k, v]) => [JSON.stringify(k), JSON.stringify(v)]) });
    }
    return { ts, meta, bytes: fileOf(new TextEncoder().encode(headerText(entries, space)), data, pad) };
  });

// ---- mutations ----

const nastyNumber = fc.constantFrom(
  '0', '-1', '1.5', '-0', '1e400', '-1e400', '9007199254740991', '9007199254740992', '9007199254740993',
  '18446744073709551615', '4294967296', '"NaN"', '"8"', 'null', 'true', '[]', '{}', '0.1e1',
);
const nastyDtype = fc.oneof(
  fc.constantFrom('"BF16"', '"F16"', '"BOOL"', '"f32"', '"toString"', '"__proto__"', '"constructor"', '3', 'null', '["F32"]', '""'),
  fc.string({ maxLength: 8, unit: 'binary' }).map((s) => JSON.stringify(s)),
);
// depths around the limit, and far past it: 100,000 levels overflow JSON.stringify's stack
const depth = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 4 * MAX_HEADER_DEPTH }), weight: 20 }, { arbitrary: fc.constant(100_000), weight: 1 });
const deepValue = fc.tuple(depth, fc.boolean()).map(([d, obj]) => (obj ? '{"a":'.repeat(d) + '1' + '}'.repeat(d) : '['.repeat(d) + ']'.repeat(d)));
const nastyShape = fc.oneof(
  fc.array(nastyNumber, { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
  fc.constantFrom('[9007199254740991,9007199254740991]', '[3,3002399751580331]', `[${Array(MAX_DIMS + 1).fill(1).join(',')}]`, `[${Array(MAX_DIMS).fill(1).join(',')}]`, '[1,[2]]', '"[2]"', 'null', '{}'),
  depth.map((d) => '['.repeat(d) + ']'.repeat(d)),
);
const nastyOffsets = fc.oneof(
  fc.tuple(nastyNumber, nastyNumber).map(([a, b]) => `[${a},${b}]`),
  fc.tuple(fc.nat({ max: 64 }), fc.nat({ max: 64 })).map(([a, b]) => `[${a},${b}]`),
  fc.constantFrom('[0]', '[0,8,16]', '"0,8"', 'null', '[9007199254740992,9007199254741000]', '[8,0]'),
);

type HeaderMutation =
  | { kind: 'dtype' | 'shape' | 'offsets' | 'extra'; at: number; value: string }
  | { kind: 'drop'; at: number; field: number }
  | { kind: 'duplicate' | 'swapOffsets'; at: number; other: number }
  | { kind: 'metadata'; value: string }
  | { kind: 'entry'; at: number; value: string };

const headerMutation: fc.Arbitrary<HeaderMutation> = fc.oneof(
  fc.record({ kind: fc.constant('dtype' as const), at: fc.nat(), value: nastyDtype }),
  fc.record({ kind: fc.constant('shape' as const), at: fc.nat(), value: nastyShape }),
  fc.record({ kind: fc.constant('offsets' as const), at: fc.nat(), value: nastyOffsets }),
  fc.record({ kind: fc.constant('extra' as const), at: fc.nat(), value: deepValue }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), field: fc.nat({ max: 2 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('swapOffsets' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('metadata' as const), value: fc.oneof(fc.constantFrom('{"a":1}', '{"a":null}', '[]', '"pt"', 'null', '{"a":"x","a":"y"}', '{"__proto__":"p"}'), deepValue) }),
  fc.record({ kind: fc.constant('entry' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom('3', 'null', '[]', '"x"', '{}', 'true'), deepValue) }),
);

/** Valid entries for the tensors, ready to be mutated: field 0 dtype, 1 shape, 2 data_offsets. */
function rawEntries(ts: [string, TensorIn & { dtype: SafeDType }][]): { entries: RawEntry[]; data: Uint8Array } {
  let at = 0;
  const entries = ts.map(([name, t]) => {
    const e: RawEntry = {
      name: JSON.stringify(name),
      fields: [
        ['"dtype"', JSON.stringify(t.dtype)],
        ['"shape"', JSON.stringify(t.shape)],
        ['"data_offsets"', JSON.stringify([at, at + t.data.byteLength])],
      ],
    };
    at += t.data.byteLength;
    return e;
  });
  const data = new Uint8Array(at);
  let p = 0;
  for (const [, t] of ts) {
    data.set(bytesOf(t.data), p);
    p += t.data.byteLength;
  }
  return { entries, data };
}

function applyHeaderMutation(entries: RawEntry[], m: HeaderMutation): RawEntry[] {
  const out = entries.map((e) => ({ name: e.name, fields: e.fields.map((f) => [...f] as [string, string]) }));
  if (m.kind === 'metadata') {
    out.push({ name: '"__metadata__"', fields: [['"__raw__"', m.value]] });
    return out;
  }
  if (out.length === 0) return out;
  const e = out[m.at % out.length];
  const setField = (key: string, value: string) => {
    const f = e.fields.find(([k]) => k === key);
    if (f) f[1] = value;
    else e.fields.push([key, value]);
  };
  if (m.kind === 'dtype') setField('"dtype"', m.value);
  else if (m.kind === 'shape') setField('"shape"', m.value);
  else if (m.kind === 'offsets') setField('"data_offsets"', m.value);
  else if (m.kind === 'extra') setField('"extra"', m.value);
  else if (m.kind === 'drop') e.fields.splice(m.field % Math.max(1, e.fields.length), 1);
  else if (m.kind === 'duplicate') out.push({ name: e.name, fields: out[m.other % out.length].fields });
  else if (m.kind === 'swapOffsets') {
    const o = out[m.other % out.length];
    const a = e.fields.find(([k]) => k === '"data_offsets"');
    const b = o.fields.find(([k]) => k === '"data_offsets"');
    if (a && b) [a[1], b[1]] = [b[1], a[1]];
  } else if (m.kind === 'entry') out[m.at % out.length] = { name: e.name, fields: [['"__raw__"', m.value]] };
  return out;
}

/** Header text where a field named "__raw__" stands for its value alone (a non-object entry). */
function mutatedHeaderText(entries: RawEntry[], space: string): string {
  const body = entries.map((e) => {
    const raw = e.fields.length === 1 && e.fields[0][0] === '"__raw__"' ? e.fields[0][1] : undefined;
    return `${e.name}:${space}${raw ?? `{${e.fields.map(([k, v]) => `${k}:${v}`).join(',')}}`}`;
  });
  return `{${body.join(`,${space}`)}}`;
}

type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'length'; value: bigint };

const u64 = (v: bigint) => BigInt.asUintN(64, v);
const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
  fc.record({
    kind: fc.constant('length' as const),
    value: fc.oneof(
      fc.constantFrom(0n, 1n, 7n, 8n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, u64(-1n), u64(-8n), 100_000_000n, 100_000_001n, 2n ** 32n),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.bigInt({ min: 0n, max: 600n }),
    ),
  }),
);

function mutateBytes(bytes: Uint8Array, ms: ByteMutation[]): Uint8Array {
  let b = bytes.slice();
  for (const m of ms) {
    if (m.kind === 'extend') {
      const out = new Uint8Array(b.length + m.bytes.length);
      out.set(b);
      out.set(m.bytes, b.length);
      b = out;
    } else if (m.kind === 'truncate') b = b.slice(0, m.at % (b.length + 1));
    else if (m.kind === 'length') {
      if (b.length >= 8) new DataView(b.buffer).setBigUint64(0, m.value, true);
    } else if (b.length === 0) continue;
    else if (m.kind === 'flip') b[m.at % b.length] ^= 1 << m.bit;
    else b[m.at % b.length] = m.value;
  }
  return b;
}

const dir = mkdtempSync(join(tmpdir(), 'iruka-fuzz-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('safetensors codec under fuzzing', { timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any tensors and metadata round trip bit for bit: decode(encode(x)) == x', () => {
    fc.assert(
      fc.property(tensors, metadata, (ts, meta) => {
        const input = record(ts.map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
        const m = meta && record(meta);
        const back = decodeSafetensors(encodeSafetensors(input, m), 'rt');
        expect([...back.tensors.keys()]).toEqual(Object.keys(input));
        for (const [name, t] of ts) {
          const b = back.tensors.get(name)!;
          expect(b.dtype).toBe(t.dtype);
          expect(b.shape).toEqual(t.shape);
          expect(b.data.constructor).toBe(t.data.constructor);
          expect(bytesOf(b.data)).toEqual(bytesOf(t.data));
        }
        const sorted = (o: Record<string, string>) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(sorted(back.metadata)).toEqual(sorted(m ?? {}));
      }),
      budget(0.25),
    );
  });

  it("headers in other producers' styles decode to the tensors they describe, in the header's order", () => {
    fc.assert(
      fc.property(producerFile, ({ ts, meta, bytes }) => {
        const back = decodeSafetensors(bytes, 'p');
        expect([...back.tensors.keys()]).toEqual(ts.map(([n]) => n));
        for (const [name, t] of ts) {
          expect(back.tensors.get(name)!.shape).toEqual(t.shape);
          expect(bytesOf(back.tensors.get(name)!.data)).toEqual(bytesOf(t.data));
        }
        expect(Object.entries(back.metadata)).toEqual(Object.entries(record(meta ?? [])));
      }),
      budget(0.15),
    );
  });

  it('mutated header fields decode consistently or throw an InputError naming the source', () => {
    fc.assert(
      fc.property(
        tensors,
        fc.array(headerMutation, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('', ' '),
        fc.option(fc.integer({ min: 0x80, max: 0xff }), { nil: undefined }),
        fc.nat(),
        (ts, ms, space, badByte, badAt) => {
          const { entries, data } = rawEntries(ts);
          const text = mutatedHeaderText(ms.reduce(applyHeaderMutation, entries), space);
          const header = new TextEncoder().encode(text);
          if (badByte !== undefined && header.length > 0) header[badAt % header.length] = badByte;
          const bytes = fileOf(header, data);
          const r = loadsOrRefuses(() => decodeSafetensors(bytes, 'h.safetensors'), InputError, 'h.safetensors: ');
          if (r) expectConsistent(r, bytes);
        },
      ),
      budget(0.25),
    );
  });

  it('mutated bytes (flips, truncation, extension, header length 2^53, 2^64 - 1, ...) decode consistently or throw an InputError', () => {
    fc.assert(
      fc.property(tensors, metadata, fc.array(byteMutation, { minLength: 1, maxLength: 4 }), (ts, meta, ms) => {
        const bytes = mutateBytes(encodeSafetensors(record(ts.map(([n, t]) => [n, t])), meta && record(meta)), ms);
        const r = loadsOrRefuses(() => decodeSafetensors(bytes, 'b.safetensors'), InputError, 'b.safetensors: ');
        if (r) expectConsistent(r, bytes);
      }),
      budget(0.3),
    );
  });

  it('readSafetensors on files on disk: loads or throws an InputError naming the path', () => {
    let i = 0;
    fc.assert(
      fc.property(tensors, fc.array(byteMutation, { maxLength: 2 }), (ts, ms) => {
        const bytes = mutateBytes(encodeSafetensors(record(ts.map(([n, t]) => [n, t]))), ms);
        const p = join(dir, `f${i++}.safetensors`);
        writeFileSync(p, bytes);
        const r = loadsOrRefuses(() => readSafetensors(p), InputError, `${p}: `);
        if (r) expectConsistent(r, bytes);
        if (ms.length === 0) expect(r).toBeDefined();
        rmSync(p);
      }),
      budget(0.05),
    );
    expect(() => readSafetensors(join(dir, 'absent'))).toThrow(InputError);
    expect(() => readSafetensors(dir)).toThrow(InputError);
  });
});
