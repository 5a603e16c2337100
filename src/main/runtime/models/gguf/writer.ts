/**
 * A GGUF v3 writer: metadata key/values and F32/F16 tensors, little-endian, returned as bytes.
 *
 * File layout (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
 *
 *   "GGUF" | u32 version=3 | u64 tensor_count | u64 kv_count
 *   kv_count × (string key | u32 value_type | value)
 *   tensor_count × (string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset)
 *   zero padding up to a multiple of the alignment
 *   tensor data, each tensor padded with zeros to a multiple of the alignment
 *
 * A string is a u64 byte length followed by UTF-8 bytes (no terminator). `ne[0]` is the innermost,
 * contiguous dimension: a row-major [rows, cols] matrix is written with shape [cols, rows].
 *
 * llama.cpp is stricter than the format: tensor offsets must be exactly the running sum of the
 * padded tensor sizes in tensor-info order, names must be shorter than 64 bytes, at most 4
 * dimensions, no duplicate keys or names, and `general.alignment` (if present) must be a u32 power
 * of two. The writer enforces all of that so that every file it returns loads.
 */

export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** llama.cpp's GGML_MAX_NAME is 64 including the NUL terminator. */
export const GGUF_MAX_TENSOR_NAME_BYTES = 63;
/** GGML_MAX_DIMS. */
export const GGUF_MAX_DIMS = 4;
export const GGUF_ALIGNMENT_KEY = 'general.alignment';

const MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"

/** GGUF metadata value type codes. */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufNumberType =
  'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type GgufBigIntType = 'uint64' | 'int64';
export type GgufScalarType = GgufNumberType | GgufBigIntType | 'bool' | 'string';

export type GgufScalarValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint | number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string };

export type GgufArrayValue =
  | { readonly type: 'array'; readonly itemType: GgufNumberType; readonly value: ArrayLike<number> }
  | {
      readonly type: 'array';
      readonly itemType: GgufBigIntType;
      readonly value: readonly (bigint | number)[];
    }
  | { readonly type: 'array'; readonly itemType: 'bool'; readonly value: readonly boolean[] }
  | { readonly type: 'array'; readonly itemType: 'string'; readonly value: readonly string[] };

export type GgufMetadataValue = GgufScalarValue | GgufArrayValue;

/** Constructors for metadata values: `gguf.uint32(512)`, `gguf.stringArray(tokens)`. */
export const gguf = {
  uint8: (value: number) => ({ type: 'uint8', value }) as const,
  int8: (value: number) => ({ type: 'int8', value }) as const,
  uint16: (value: number) => ({ type: 'uint16', value }) as const,
  int16: (value: number) => ({ type: 'int16', value }) as const,
  uint32: (value: number) => ({ type: 'uint32', value }) as const,
  int32: (value: number) => ({ type: 'int32', value }) as const,
  uint64: (value: bigint | number) => ({ type: 'uint64', value }) as const,
  int64: (value: bigint | number) => ({ type: 'int64', value }) as const,
  float32: (value: number) => ({ type: 'float32', value }) as const,
  float64: (value: number) => ({ type: 'float64', value }) as const,
  bool: (value: boolean) => ({ type: 'bool', value }) as const,
  string: (value: string) => ({ type: 'string', value }) as const,
  stringArray: (value: readonly string[]) => ({ type: 'array', itemType: 'string', value }) as const,
  float32Array: (value: ArrayLike<number>) => ({ type: 'array', itemType: 'float32', value }) as const,
  int32Array: (value: ArrayLike<number>) => ({ type: 'array', itemType: 'int32', value }) as const,
  uint32Array: (value: ArrayLike<number>) => ({ type: 'array', itemType: 'uint32', value }) as const,
} satisfies Record<string, (value: never) => GgufMetadataValue>;

/** ggml tensor type codes this writer can produce. */
export const GgmlTensorType = { F32: 0, F16: 1 } as const;
export type GgufTensorType = keyof typeof GgmlTensorType;

export interface GgufTensor {
  /** At most 63 UTF-8 bytes, unique within the file. */
  readonly name: string;
  /** GGUF order: `shape[0]` (ne0) is the contiguous dimension. 1 to 4 positive integers. */
  readonly shape: readonly number[];
  /** Storage type in the file; F16 is converted from `data` with round-to-nearest-even. */
  readonly type: GgufTensorType;
  /** Row-major values, `data[i0 + ne0 * (i1 + ne1 * (i2 + ...))]`; length = product of `shape`. */
  readonly data: Float32Array;
}

export interface GgufFile {
  /** Written in insertion order. `general.alignment` is set through `alignment`, not here. */
  readonly metadata: Readonly<Record<string, GgufMetadataValue>>;
  /** Written in this order; the data section follows the same order. */
  readonly tensors: readonly GgufTensor[];
  /** Data alignment in bytes, a power of two. Default 32; any other value is recorded as `general.alignment`. */
  readonly alignment?: number;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * IEEE 754 binary32 → binary16 bits, round-to-nearest-even. Overflow (|x| ≥ 65520) gives ±Inf,
 * values below half the smallest subnormal (2^-25) give ±0, NaN stays a quiet NaN with its sign.
 */
export function float32ToFloat16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;

  if (exponent === 0xff) {
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: value = m · 2^-24. The f32 value is (1.mantissa) · 2^(exponent-127), so
    // m = (0x800000 | mantissa) >> (126 - exponent), rounded to nearest even.
    const shift = 126 - exponent;
    if (shift > 24) return sign;
    const full = 0x800000 | mantissa;
    let half = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half += 1;
    return sign | half; // a carry into bit 10 correctly yields the smallest normal
  }
  let half = sign | (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half += 1; // carries into the exponent, up to Inf
  return half;
}

/** binary16 bits → number (exact). */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Converts a whole array to binary16 bit patterns. */
export function toFloat16Bits(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = float32ToFloat16Bits(data[i] ?? 0);
  return out;
}

const textEncoder = new TextEncoder();

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** A growable little-endian byte buffer. */
class ByteWriter {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
  }
  i8(value: number): void {
    this.reserve(1);
    this.view.setInt8(this.length, value);
    this.length += 1;
  }
  u16(value: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }
  i16(value: number): void {
    this.reserve(2);
    this.view.setInt16(this.length, value, true);
    this.length += 2;
  }
  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }
  i32(value: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }
  u64(value: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, value, true);
    this.length += 8;
  }
  i64(value: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, value, true);
    this.length += 8;
  }
  f32(value: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }
  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }
  string(value: string): void {
    const bytes = textEncoder.encode(value);
    this.u64(BigInt(bytes.length));
    this.raw(bytes);
  }
  padTo(alignment: number): void {
    const target = alignUp(this.length, alignment);
    this.reserve(target - this.length);
    this.bytes.fill(0, this.length, target);
    this.length = target;
  }
  /** Writes `data` as F32 or F16 at the current position. */
  tensorData(data: Float32Array, type: GgufTensorType): void {
    const size = data.length * (type === 'F32' ? 4 : 2);
    this.reserve(size);
    let offset = this.length;
    if (type === 'F32') {
      for (let i = 0; i < data.length; i++, offset += 4) this.view.setFloat32(offset, data[i] ?? 0, true);
    } else {
      for (let i = 0; i < data.length; i++, offset += 2) {
        this.view.setUint16(offset, float32ToFloat16Bits(data[i] ?? 0), true);
      }
    }
    this.length += size;
  }
  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

const INTEGER_RANGES: Readonly<
  Record<'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32', [number, number]>
> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

const BIGINT_RANGES: Readonly<Record<GgufBigIntType, [bigint, bigint]>> = {
  uint64: [0n, 0xffffffffffffffffn],
  int64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

function checkNumber(key: string, type: GgufNumberType, value: number): void {
  if (typeof value !== 'number') {
    throw new TypeError(`GGUF metadata '${key}': expected a number for ${type}, got ${typeof value}`);
  }
  if (type === 'float32' || type === 'float64') return;
  const [min, max] = INTEGER_RANGES[type];
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `GGUF metadata '${key}': ${value} is not a valid ${type} (integer in [${min}, ${max}])`,
    );
  }
}

function toBigInt(key: string, type: GgufBigIntType, value: bigint | number): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`GGUF metadata '${key}': ${value} is not a safe integer; pass a bigint for ${type}`);
  }
  if (typeof value !== 'number' && typeof value !== 'bigint') {
    throw new TypeError(
      `GGUF metadata '${key}': expected a bigint or number for ${type}, got ${typeof value}`,
    );
  }
  const big = BigInt(value);
  const [min, max] = BIGINT_RANGES[type];
  if (big < min || big > max)
    throw new RangeError(`GGUF metadata '${key}': ${big} is out of range for ${type}`);
  return big;
}

function writeNumber(out: ByteWriter, type: GgufNumberType, value: number): void {
  switch (type) {
    case 'uint8':
      out.u8(value);
      break;
    case 'int8':
      out.i8(value);
      break;
    case 'uint16':
      out.u16(value);
      break;
    case 'int16':
      out.i16(value);
      break;
    case 'uint32':
      out.u32(value);
      break;
    case 'int32':
      out.i32(value);
      break;
    case 'float32':
      out.f32(value);
      break;
    case 'float64':
      out.f64(value);
      break;
  }
}

function checkString(key: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`GGUF metadata '${key}': expected a string, got ${typeof value}`);
  return value;
}

function checkBool(key: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(`GGUF metadata '${key}': expected a boolean, got ${typeof value}`);
  return value;
}

function writeValue(out: ByteWriter, key: string, entry: GgufMetadataValue): void {
  switch (entry.type) {
    case 'uint8':
    case 'int8':
    case 'uint16':
    case 'int16':
    case 'uint32':
    case 'int32':
    case 'float32':
    case 'float64':
      checkNumber(key, entry.type, entry.value);
      out.u32(GgufValueType[entry.type]);
      writeNumber(out, entry.type, entry.value);
      break;
    case 'uint64':
    case 'int64': {
      const big = toBigInt(key, entry.type, entry.value);
      out.u32(GgufValueType[entry.type]);
      if (entry.type === 'uint64') out.u64(big);
      else out.i64(big);
      break;
    }
    case 'bool':
      out.u32(GgufValueType.bool);
      out.u8(checkBool(key, entry.value) ? 1 : 0);
      break;
    case 'string':
      out.u32(GgufValueType.string);
      out.string(checkString(key, entry.value));
      break;
    case 'array':
      writeArray(out, key, entry);
      break;
  }
}

function writeArray(out: ByteWriter, key: string, entry: GgufArrayValue): void {
  out.u32(GgufValueType.array);
  out.u32(GgufValueType[entry.itemType]);
  out.u64(BigInt(entry.value.length));
  switch (entry.itemType) {
    case 'string':
      for (const item of entry.value) out.string(checkString(key, item));
      return;
    case 'bool':
      for (const item of entry.value) out.u8(checkBool(key, item) ? 1 : 0);
      return;
    case 'uint64':
    case 'int64':
      for (const item of entry.value) {
        const big = toBigInt(key, entry.itemType, item);
        if (entry.itemType === 'uint64') out.u64(big);
        else out.i64(big);
      }
      return;
    default: {
      const values = entry.value;
      for (let i = 0; i < values.length; i++) {
        const item = values[i] ?? NaN;
        checkNumber(key, entry.itemType, item);
        writeNumber(out, entry.itemType, item);
      }
    }
  }
}

function checkTensor(tensor: GgufTensor, seen: Set<string>): void {
  const { name, shape, type, data } = tensor;
  if (typeof name !== 'string' || name.length === 0)
    throw new Error('GGUF tensor name must be a non-empty string');
  const nameBytes = textEncoder.encode(name).length;
  if (nameBytes > GGUF_MAX_TENSOR_NAME_BYTES) {
    throw new Error(
      `GGUF tensor '${name}': name is ${nameBytes} bytes, llama.cpp allows at most ${GGUF_MAX_TENSOR_NAME_BYTES}`,
    );
  }
  if (seen.has(name)) throw new Error(`GGUF tensor '${name}' appears twice`);
  seen.add(name);
  if (!(type in GgmlTensorType))
    throw new Error(`GGUF tensor '${name}': unsupported type '${type as string}'`);
  if (shape.length < 1 || shape.length > GGUF_MAX_DIMS) {
    throw new Error(
      `GGUF tensor '${name}': shape must have 1 to ${GGUF_MAX_DIMS} dimensions, got [${shape.join(', ')}]`,
    );
  }
  let elements = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 1) {
      throw new Error(
        `GGUF tensor '${name}': dimensions must be positive integers, got [${shape.join(', ')}]`,
      );
    }
    elements *= dim;
  }
  if (!(data instanceof Float32Array))
    throw new TypeError(`GGUF tensor '${name}': data must be a Float32Array`);
  if (data.length !== elements) {
    throw new Error(
      `GGUF tensor '${name}': shape [${shape.join(', ')}] needs ${elements} values, data has ${data.length}`,
    );
  }
}

function tensorByteSize(tensor: GgufTensor): number {
  return tensor.data.length * (tensor.type === 'F32' ? 4 : 2);
}

/** Serializes `file` to GGUF v3 bytes. Throws on anything llama.cpp would reject. */
export function writeGguf(file: GgufFile): Uint8Array {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (
    !Number.isInteger(alignment) ||
    alignment < 1 ||
    alignment > 0x80000000 ||
    (alignment & (alignment - 1)) !== 0
  ) {
    throw new Error(`GGUF alignment must be a power of two, got ${alignment}`);
  }
  const entries = Object.entries(file.metadata);
  for (const [key] of entries) {
    if (key.length === 0) throw new Error('GGUF metadata keys must be non-empty');
    if (key === GGUF_ALIGNMENT_KEY) {
      throw new Error(
        `GGUF metadata '${GGUF_ALIGNMENT_KEY}' is written by the writer; set the alignment option`,
      );
    }
  }
  if (alignment !== GGUF_DEFAULT_ALIGNMENT) entries.push([GGUF_ALIGNMENT_KEY, gguf.uint32(alignment)]);

  const seen = new Set<string>();
  for (const tensor of file.tensors) checkTensor(tensor, seen);

  const out = new ByteWriter();
  out.raw(Uint8Array.from(MAGIC));
  out.u32(GGUF_VERSION);
  out.u64(BigInt(file.tensors.length));
  out.u64(BigInt(entries.length));
  for (const [key, value] of entries) {
    out.string(key);
    writeValue(out, key, value);
  }

  // llama.cpp requires each offset to equal the padded end of the previous tensor.
  let offset = 0;
  for (const tensor of file.tensors) {
    out.string(tensor.name);
    out.u32(tensor.shape.length);
    for (const dim of tensor.shape) out.u64(BigInt(dim));
    out.u32(GgmlTensorType[tensor.type]);
    out.u64(BigInt(offset));
    offset += alignUp(tensorByteSize(tensor), alignment);
  }

  out.padTo(alignment);
  for (const tensor of file.tensors) {
    out.tensorData(tensor.data, tensor.type);
    out.padTo(alignment);
  }
  return out.result();
}
