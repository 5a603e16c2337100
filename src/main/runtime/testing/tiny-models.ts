import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  buildLlamaGguf,
  createCharVocab,
  createRng,
  llamaGgufFile,
  randomLlamaTensors,
  type CharVocab,
  type LlamaFileTypeName,
  type LlamaHyperparameters,
} from '../models/gguf/llama-model';
import { gguf, writeGguf } from '../models/gguf/writer';

/**
 * Tiny generated llama models for tests: real GGUF files that llama.cpp loads in milliseconds and
 * that generate (random) text until `maxTokens`, plus deliberately broken files.
 */

/** Printable ASCII: the characters of every tiny model's vocabulary ('\n' is a byte token). */
export const TINY_MODEL_CHARS: readonly string[] = Array.from({ length: 0x7f - 0x20 }, (_, i) =>
  String.fromCharCode(0x20 + i),
);

/** The vocabulary of every tiny model. */
export const TINY_MODEL_VOCAB: CharVocab = createCharVocab(TINY_MODEL_CHARS);

export interface TinyModelOptions {
  /** Weight seed. Default 1. */
  readonly seed?: number;
  /** `general.name`. Default 'parley-tiny'. */
  readonly name?: string;
  /** Default 2. */
  readonly blockCount?: number;
  /** A positive multiple of 16 (head size 16). Default 64. */
  readonly embeddingLength?: number;
  /** Default 512. */
  readonly contextLength?: number;
  /** Default 'F32'. */
  readonly fileType?: LlamaFileTypeName;
}

/** The hyperparameters `writeTinyModel` uses for `options`. */
export function tinyModelHyperparameters(options: TinyModelOptions = {}): LlamaHyperparameters {
  const embeddingLength = options.embeddingLength ?? 64;
  if (!Number.isInteger(embeddingLength) || embeddingLength < 16 || embeddingLength % 16 !== 0) {
    throw new Error(`tiny model: embeddingLength must be a positive multiple of 16, got ${embeddingLength}`);
  }
  const headCount = embeddingLength / 16;
  return {
    contextLength: options.contextLength ?? 512,
    embeddingLength,
    blockCount: options.blockCount ?? 2,
    feedForwardLength: embeddingLength * 2,
    headCount,
    // Grouped-query attention whenever possible, so the tests exercise it.
    headCountKv: headCount % 2 === 0 ? headCount / 2 : headCount,
    ropeFreqBase: 10000,
    rmsNormEps: 1e-5,
  };
}

interface ResolvedTinyModel {
  readonly seed: number;
  readonly name: string;
  readonly fileType: LlamaFileTypeName;
  readonly hparams: LlamaHyperparameters;
}

function resolve(options: TinyModelOptions): ResolvedTinyModel {
  return {
    seed: options.seed ?? 1,
    name: options.name ?? 'parley-tiny',
    fileType: options.fileType ?? 'F32',
    hparams: tinyModelHyperparameters(options),
  };
}

function tinyModelSpec(model: ResolvedTinyModel): Parameters<typeof buildLlamaGguf>[0] {
  return {
    name: model.name,
    hparams: model.hparams,
    vocab: TINY_MODEL_VOCAB,
    tensors: randomLlamaTensors(model.hparams, TINY_MODEL_VOCAB.tokens.length, model.seed),
    fileType: model.fileType,
    metadata: {
      'general.description': gguf.string(`Parley tiny random test model (seed ${model.seed})`),
      'parley.test_model': gguf.bool(true),
      'parley.seed': gguf.uint32(model.seed >>> 0),
    },
  };
}

/** The bytes `writeTinyModel` writes. Deterministic: same options → same bytes. */
export function tinyModelBytes(options: TinyModelOptions = {}): Uint8Array {
  return buildLlamaGguf(tinyModelSpec(resolve(options)));
}

function fileName(model: ResolvedTinyModel): string {
  const slug = model.name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const { blockCount, embeddingLength, contextLength } = model.hparams;
  return `${slug}-s${model.seed}-L${blockCount}-E${embeddingLength}-C${contextLength}-${model.fileType}.gguf`;
}

/**
 * Writes a tiny random llama model (default: 64-dim, 2 blocks, 512 context, F32, ~0.6 MB) into
 * `dir` (created if needed) and returns its path. The file name encodes the options, so distinct
 * options never overwrite each other. The model never emits control or byte tokens: every
 * generated token is one printable ASCII character and generation always runs to `maxTokens`.
 */
export async function writeTinyModel(dir: string, options: TinyModelOptions = {}): Promise<string> {
  const model = resolve(options);
  const path = join(dir, fileName(model));
  await mkdir(dir, { recursive: true });
  await writeFile(path, buildLlamaGguf(tinyModelSpec(model)));
  return path;
}

/**
 * Broken files for the validation that must run before llama.cpp sees a file. Never load them into
 * llama.cpp in-process: malformed files can abort the process (GGML_ASSERT) instead of throwing.
 *
 * - `not-gguf`: 4096 seeded random bytes; the first four are not "GGUF".
 * - `truncated`: a tiny model cut in the middle of its tensor data. Header, metadata and tensor
 *   infos are intact (a header-only reader accepts it); the tensor data ends early.
 * - `missing-key`: a complete tiny model without `llama.embedding_length` and without
 *   `tokenizer.ggml.tokens`.
 * - `absurd-size`: a structurally valid GGUF (every header byte it claims is present) whose
 *   `llama.context_length` is 4294967295 (the largest uint32; llama.cpp requires uint32, so 10^12
 *   cannot even be expressed) and whose `token_embd.weight` claims shape [64, 2^34], i.e. 4 TiB of
 *   F32 data in a file of under a megabyte. (The offsets of the tensors after it are unchanged, so
 *   they no longer follow it contiguously either.)
 * - `absurd-tensor-count`: a tiny model whose header claims 2^40 tensors.
 *
 * Observed with node-llama-cpp 3.22.1: `not-gguf` and `absurd-tensor-count` fail in its JS header
 * reader; `truncated`, `missing-key` and `absurd-size` make llama.cpp throw. `NativeAbortModelKind`
 * files are the ones that abort the process.
 */
export type BrokenModelKind =
  'not-gguf' | 'truncated' | 'missing-key' | 'absurd-size' | 'absurd-tensor-count';

/**
 * Broken files that llama.cpp does not reject but aborts on (GGML_ASSERT → SIGABRT, exit 134),
 * taking the whole process with it (verified with node-llama-cpp 3.22.1):
 *
 * - `zero-block-count`: a complete tiny model with `llama.block_count` = 0 (as for > 512).
 * - `duplicate-token`: a complete tiny model whose last two tokens have the same text
 *   (GGML_ASSERT id_to_token.size() == token_to_id.size()).
 */
export type NativeAbortModelKind = 'zero-block-count' | 'duplicate-token';

const textEncoder = new TextEncoder();

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Position right after the GGUF string `text` (its u64 length prefix and bytes) in `bytes`. */
function endOfGgufString(bytes: Uint8Array, text: string): number {
  const encoded = textEncoder.encode(text);
  const needle = new Uint8Array(8 + encoded.length);
  new DataView(needle.buffer).setBigUint64(0, BigInt(encoded.length), true);
  needle.set(encoded, 8);
  const at = indexOfBytes(bytes, needle);
  if (at < 0) throw new Error(`'${text}' not found in the GGUF header`);
  return at + needle.length;
}

function brokenBytes(kind: BrokenModelKind | NativeAbortModelKind): Uint8Array {
  const model = resolve({ name: `parley-broken-${kind}` });
  switch (kind) {
    case 'not-gguf': {
      const random = createRng(0xbad);
      const bytes = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
      bytes[0] = 0; // never "GGUF" by accident
      return bytes;
    }
    case 'truncated': {
      const file = llamaGgufFile(tinyModelSpec(model));
      const bytes = writeGguf(file);
      const dataBytes = file.tensors.reduce((sum, t) => sum + t.data.length * (t.type === 'F32' ? 4 : 2), 0);
      return bytes.slice(0, bytes.length - Math.floor(dataBytes / 2));
    }
    case 'missing-key': {
      const file = llamaGgufFile(tinyModelSpec(model));
      const metadata = Object.fromEntries(
        Object.entries(file.metadata).filter(
          ([key]) => key !== 'llama.embedding_length' && key !== 'tokenizer.ggml.tokens',
        ),
      );
      return writeGguf({ ...file, metadata });
    }
    case 'absurd-size': {
      const bytes = tinyModelBytes({ name: model.name });
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // kv value: u32 type, then the u32 value.
      view.setUint32(endOfGgufString(bytes, 'llama.context_length') + 4, 0xffffffff, true);
      // tensor info: u32 n_dims, u64 ne0, u64 ne1.
      view.setBigUint64(endOfGgufString(bytes, 'token_embd.weight') + 4 + 8, 2n ** 34n, true);
      return bytes;
    }
    case 'zero-block-count': {
      const file = llamaGgufFile(tinyModelSpec(model));
      return writeGguf({ ...file, metadata: { ...file.metadata, 'llama.block_count': gguf.uint32(0) } });
    }
    case 'duplicate-token': {
      const file = llamaGgufFile(tinyModelSpec(model));
      const tokens = [...TINY_MODEL_VOCAB.tokens];
      tokens[tokens.length - 1] = tokens[tokens.length - 2] ?? '';
      return writeGguf({
        ...file,
        metadata: { ...file.metadata, 'tokenizer.ggml.tokens': gguf.stringArray(tokens) },
      });
    }
    case 'absurd-tensor-count': {
      const bytes = tinyModelBytes({ name: model.name });
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setBigUint64(8, 2n ** 40n, true);
      return bytes;
    }
  }
}

/** Writes a broken model file of the given kind into `dir` and returns its path. Deterministic. */
export async function writeBrokenModel(
  dir: string,
  kind: BrokenModelKind | NativeAbortModelKind,
): Promise<string> {
  const path = join(dir, `broken-${kind}.gguf`);
  await mkdir(dir, { recursive: true });
  await writeFile(path, brokenBytes(kind));
  return path;
}
