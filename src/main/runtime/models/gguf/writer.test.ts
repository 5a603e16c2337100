import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GgmlType, readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  float16BitsToFloat32,
  float32ToFloat16Bits,
  gguf,
  toFloat16Bits,
  writeGguf,
  type GgufFile,
  type GgufTensor,
} from './writer';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-gguf-writer-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
async function writeAndRead(file: GgufFile) {
  const bytes = writeGguf(file);
  const path = join(dir, `file-${fileCounter++}.gguf`);
  await writeFile(path, bytes);
  return { bytes, info: await readGgufFileInfo(path, { logWarnings: false }) };
}

function tensor(name: string, shape: number[], type: 'F32' | 'F16', start = 0): GgufTensor {
  const length = shape.reduce((a, b) => a * b, 1);
  return { name, shape, type, data: Float32Array.from({ length }, (_, i) => start + i * 0.5) };
}

describe('writeGguf', () => {
  it('writes every metadata type so that node-llama-cpp reads the same values back', async () => {
    const { bytes, info } = await writeAndRead({
      metadata: {
        'general.architecture': gguf.string('llama'),
        't.u8': gguf.uint8(255),
        't.i8': gguf.int8(-128),
        't.u16': gguf.uint16(65535),
        't.i16': gguf.int16(-32768),
        't.u32': gguf.uint32(4294967295),
        't.i32': gguf.int32(-2147483648),
        't.f32': gguf.float32(0.1),
        't.f64': gguf.float64(0.1),
        't.yes': gguf.bool(true),
        't.no': gguf.bool(false),
        't.str': gguf.string('héllo — 😀\n'),
        't.u64': gguf.uint64(2n ** 60n + 1n),
        't.u64_number': gguf.uint64(42),
        't.i64': gguf.int64(-5n),
        't.strings': gguf.stringArray(['x', '', '▁y']),
        't.floats': gguf.float32Array(Float32Array.of(1.5, -2, 0.25)),
        't.ints': gguf.int32Array([-1, 2, 2147483647]),
        't.empty': gguf.stringArray([]),
      },
      tensors: [],
    });
    expect(info.version).toBe(3);
    expect(Number(info.tensorCount)).toBe(0);
    expect(info.metadata).toEqual({
      general: { architecture: 'llama' },
      t: {
        u8: 255,
        i8: -128,
        u16: 65535,
        i16: -32768,
        u32: 4294967295,
        i32: -2147483648,
        f32: Math.fround(0.1),
        f64: 0.1,
        yes: true,
        no: false,
        str: 'héllo — 😀\n',
        u64: 2n ** 60n + 1n,
        u64_number: 42n,
        i64: -5n,
        strings: ['x', '', '▁y'],
        floats: [1.5, -2, 0.25],
        ints: [-1, 2, 2147483647],
        empty: [],
      },
    });
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x47, 0x47, 0x55, 0x46]);
    expect(bytes.length % 32).toBe(0);
  });

  it('lays tensors out contiguously, aligned, in order, with the data where the infos say', async () => {
    const tensors = [
      tensor('a', [3], 'F32'),
      tensor('b.weight', [5, 2], 'F16', 1),
      tensor('c', [2, 3, 2, 1], 'F32', -4),
    ];
    const { bytes, info } = await writeAndRead({ metadata: { 'general.name': gguf.string('t') }, tensors });
    const infos = info.tensorInfo ?? [];
    expect(infos.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType, Number(t.offset)])).toEqual([
      ['a', [3], GgmlType.F32, 0],
      ['b.weight', [5, 2], GgmlType.F16, 32],
      ['c', [2, 3, 2, 1], GgmlType.F32, 64],
    ]);
    expect((info.infoEndOffset ?? 1) % 32).toBe(0);
    expect(bytes.length).toBe((info.infoEndOffset ?? 0) + 64 + 64);

    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const [i, t] of tensors.entries()) {
      const at = Number(infos[i]?.fileOffset);
      const read = Array.from(t.data, (_, j) =>
        t.type === 'F32'
          ? view.getFloat32(at + j * 4, true)
          : float16BitsToFloat32(view.getUint16(at + j * 2, true)),
      );
      expect(read).toEqual(Array.from(t.data));
    }
    // Padding is zeros.
    expect(
      Array.from(bytes.subarray(Number(infos[0]?.fileOffset) + 12, Number(infos[1]?.fileOffset))),
    ).toEqual(new Array<number>(20).fill(0));
  });

  it('honours a custom alignment and records it as general.alignment', async () => {
    const { bytes, info } = await writeAndRead({
      metadata: {},
      tensors: [tensor('a', [3], 'F32'), tensor('b', [7], 'F16')],
      alignment: 64,
    });
    expect(info.metadata.general.alignment).toBe(64);
    expect(info.tensorInfo?.map((t) => Number(t.offset))).toEqual([0, 64]);
    expect((info.infoEndOffset ?? 1) % 64).toBe(0);
    expect(bytes.length % 64).toBe(0);
  });

  it('is deterministic', () => {
    const file: GgufFile = { metadata: { 'a.b': gguf.float32(1) }, tensors: [tensor('x', [4, 4], 'F16')] };
    expect(writeGguf(file)).toEqual(writeGguf(file));
  });

  it('rejects invalid input with a precise message', () => {
    const ok = tensor('x', [2, 2], 'F32');
    const attempt = (file: Partial<GgufFile>) => () => writeGguf({ metadata: {}, tensors: [], ...file });
    expect(attempt({ tensors: [{ ...ok, data: new Float32Array(3) }] })).toThrow(
      "GGUF tensor 'x': shape [2, 2] needs 4 values, data has 3",
    );
    expect(attempt({ tensors: [ok, ok] })).toThrow("GGUF tensor 'x' appears twice");
    expect(attempt({ tensors: [{ ...ok, shape: [4, 0] }] })).toThrow('dimensions must be positive integers');
    expect(attempt({ tensors: [{ ...ok, shape: [1, 1, 1, 1, 4] }] })).toThrow('1 to 4 dimensions');
    expect(attempt({ tensors: [{ ...ok, shape: [] }] })).toThrow('1 to 4 dimensions');
    expect(attempt({ tensors: [{ ...ok, name: 'n'.repeat(64) }] })).toThrow('at most 63');
    expect(attempt({ tensors: [{ ...ok, name: '' }] })).toThrow('non-empty');
    expect(attempt({ metadata: { 'a.b': gguf.uint32(-1) } })).toThrow(
      "GGUF metadata 'a.b': -1 is not a valid uint32",
    );
    expect(attempt({ metadata: { 'a.b': gguf.uint32(2 ** 32) } })).toThrow('not a valid uint32');
    expect(attempt({ metadata: { 'a.b': gguf.int32(1.5) } })).toThrow('not a valid int32');
    expect(attempt({ metadata: { 'a.b': gguf.uint64(-1n) } })).toThrow('out of range for uint64');
    expect(attempt({ metadata: { 'a.b': gguf.uint64(2 ** 60) } })).toThrow('pass a bigint');
    expect(attempt({ metadata: { 'a.b': gguf.int32Array([1, 2 ** 31]) } })).toThrow('not a valid int32');
    expect(attempt({ metadata: { '': gguf.bool(true) } })).toThrow('non-empty');
    expect(attempt({ metadata: { 'general.alignment': gguf.uint32(64) } })).toThrow(
      'set the alignment option',
    );
    expect(attempt({ alignment: 48 })).toThrow('power of two, got 48');
    expect(attempt({ alignment: 0 })).toThrow('power of two');
  });
});

describe('float16 conversion', () => {
  /** Reference binary16 decoding straight from the IEEE 754 definition. */
  function reference(bits: number): number {
    const sign = bits >> 15 ? -1 : 1;
    const e = (bits >> 10) & 31;
    const m = bits & 1023;
    if (e === 31) return m ? NaN : sign * Infinity;
    return e === 0 ? sign * m * Math.pow(2, -24) : sign * (1 + m / 1024) * Math.pow(2, e - 15);
  }

  it('decodes every bit pattern like the IEEE 754 definition', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const expected = reference(bits);
      const actual = float16BitsToFloat32(bits);
      if (!Object.is(actual, expected))
        expect.unreachable(`bits 0x${bits.toString(16)}: ${actual} vs ${expected}`);
    }
    expect(float16BitsToFloat32(0x3c00)).toBe(1);
  });

  it('round-trips every finite half and rounds every midpoint to even', () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    /** The adjacent f32 with a larger (or smaller) magnitude. */
    const nextF32 = (x: number, awayFromZero: boolean): number => {
      f32[0] = x;
      u32[0] = (u32[0] ?? 0) + (awayFromZero ? 1 : -1);
      return f32[0];
    };
    let checked = 0;
    for (const sign of [0, 0x8000]) {
      for (let magnitude = 0; magnitude < 0x7c00; magnitude++) {
        const bits = sign | magnitude;
        const value = reference(bits);
        if (float32ToFloat16Bits(value) !== bits)
          expect.unreachable(`0x${bits.toString(16)} does not round-trip`);
        // Midpoint towards the next larger magnitude (exact in f32: 12 significant bits). Above the
        // largest half, 65504, the next step would be 65536: 65520 and up round to infinity.
        const next = magnitude === 0x7bff ? Math.sign(value) * 65536 : reference(bits + 1);
        const mid = (value + next) / 2;
        const even = (bits & 1) === 0 ? bits : bits + 1;
        if (float32ToFloat16Bits(mid) !== even) expect.unreachable(`midpoint above 0x${bits.toString(16)}`);
        if (float32ToFloat16Bits(nextF32(mid, true)) !== bits + 1) expect.unreachable(`above mid 0x${bits}`);
        if (float32ToFloat16Bits(nextF32(mid, false)) !== bits) expect.unreachable(`below mid 0x${bits}`);
        checked++;
      }
    }
    expect(checked).toBe(2 * 0x7c00);
  });

  it('handles the edge values', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // max half
      [65519.99, 0x7bff], // just below the rounding boundary
      [65520, 0x7c00], // rounds to +Inf
      [-1e10, 0xfc00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // halfway to the smallest subnormal: ties to even (zero)
      [1.5 * 2 ** -25, 0x0001],
      [-(2 ** -26), 0x8000],
      [1e-30, 0x0000],
      [(1023 / 1024) * 2 ** -14 + 2 ** -25, 0x0400], // largest subnormal + half ulp rounds up into the normals
      [1 + 2 ** -11, 0x3c00], // tie → even
      [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
      [0.1, 0x2e66],
    ];
    for (const [value, bits] of cases) expect([value, float32ToFloat16Bits(value)]).toEqual([value, bits]);
    const nan = float32ToFloat16Bits(NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
    expect(Array.from(toFloat16Bits(Float32Array.of(1, -2, 65504)))).toEqual([0x3c00, 0xc000, 0x7bff]);
  });
});
