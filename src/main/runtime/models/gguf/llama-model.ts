import { CHAT_TEMPLATE, CHAT_TOKENS, CONTROL_TOKENS } from '../chat-format';
import { gguf, writeGguf, type GgufFile, type GgufMetadataValue, type GgufTensor } from './writer';

/*
 * Llama-architecture GGUF files with a character-level SentencePiece ("llama") vocabulary: the
 * format of Parley's own small NPC models and of the random models generated for tests.
 */

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

/** llama.cpp's `llama_token_type` codes (`tokenizer.ggml.token_type`). */
export const TokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;
export type TokenTypeCode = (typeof TokenType)[keyof typeof TokenType];

/** SentencePiece's whitespace marker: a space is stored (and tokenized) as U+2581. */
export const SPM_SPACE = '\u2581';

/**
 * Characters that never get a token of their own and always use byte fallback:
 * - '\n' becomes `<0x0A>`, which is also what llama.cpp reports as the newline token
 *   (`llama_vocab_nl`, node-llama-cpp's `model.tokens.nl`), so the two agree;
 * - '\0' cannot be a token: llama.cpp reads token texts as C strings, so it would become "[EMPTY_n]".
 */
export const BYTE_FALLBACK_CHARS: ReadonlySet<string> = new Set(['\n', '\0']);

/**
 * Fixed id layout of `createCharVocab`: `<unk>`, `<s>`, `</s>`, the chat control tokens
 * (`CONTROL_TOKENS` order), 256 byte tokens, then one token per character.
 */
export const CHAR_VOCAB_LAYOUT = {
  unknownId: 0,
  bosId: 1,
  eosSentencePieceId: 2,
  firstControlId: 3,
  firstByteId: 3 + CONTROL_TOKENS.length,
  firstCharId: 3 + CONTROL_TOKENS.length + 256,
} as const;

export interface CharVocab {
  /** GGUF token texts; the index is the token id. Spaces appear as `SPM_SPACE`. */
  readonly tokens: readonly string[];
  readonly scores: readonly number[];
  readonly tokenTypes: readonly TokenTypeCode[];
  readonly unknownId: number;
  readonly bosId: number;
  /**
   * `<|end|>`: EOS and end of generation. (`</s>` stays in the vocabulary unused; llama.cpp
   * treats it as end of generation too.)
   */
  readonly eosId: number;
  readonly paddingId: number;
  /** `<0x00>`; byte b is `firstByteId + b`. */
  readonly firstByteId: number;
  /** The first character token; every id from here on is a single-character NORMAL token. */
  readonly firstCharId: number;
}

function byteTokenText(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Number of Unicode code points (not UTF-16 units, not graphemes: llama.cpp splits by code point). */
function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * A character-level SentencePiece vocabulary with byte fallback. Each item of `chars` must be a
 * single code point; duplicates are ignored, characters are ordered by code point, a space (or
 * U+2581) becomes the `SPM_SPACE` token, and `BYTE_FALLBACK_CHARS` are left to byte tokens. Any
 * character without a token is encoded as its UTF-8 bytes.
 *
 * No token is made of exactly two code points, so llama.cpp's SPM merge loop never fires and
 * every character is one token: the scores only need to exist. They follow SentencePiece's
 * convention (0 for special and byte tokens, negative for pieces).
 */
export function createCharVocab(chars: Iterable<string>): CharVocab {
  const distinct = new Set<string>();
  for (const item of chars) {
    if (typeof item !== 'string' || codePointCount(item) !== 1) {
      throw new Error(
        `createCharVocab: each item must be exactly one character (code point), got ${JSON.stringify(item)}`,
      );
    }
    if (LONE_SURROGATE.test(item)) {
      throw new Error(`createCharVocab: lone surrogate ${JSON.stringify(item)} is not a character`);
    }
    const char = item === SPM_SPACE ? ' ' : item;
    if (!BYTE_FALLBACK_CHARS.has(char)) distinct.add(char);
  }
  const sorted = [...distinct].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0));

  const tokens: string[] = ['<unk>', '<s>', '</s>', ...CONTROL_TOKENS];
  const tokenTypes: TokenTypeCode[] = [TokenType.unknown, TokenType.control, TokenType.control];
  for (const _ of CONTROL_TOKENS) tokenTypes.push(TokenType.control);
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(byteTokenText(byte));
    tokenTypes.push(TokenType.byte);
  }
  const scores: number[] = tokens.map(() => 0);
  sorted.forEach((char, index) => {
    tokens.push(char === ' ' ? SPM_SPACE : char);
    tokenTypes.push(TokenType.normal);
    scores.push(-(index + 1));
  });

  return {
    tokens,
    scores,
    tokenTypes,
    unknownId: CHAR_VOCAB_LAYOUT.unknownId,
    bosId: CHAR_VOCAB_LAYOUT.bosId,
    eosId: CHAR_VOCAB_LAYOUT.firstControlId + CONTROL_TOKENS.indexOf(CHAT_TOKENS.end),
    // Padding never reaches llama.cpp; `<unk>` as in Llama 2 conversions.
    paddingId: CHAR_VOCAB_LAYOUT.unknownId,
    firstByteId: CHAR_VOCAB_LAYOUT.firstByteId,
    firstCharId: CHAR_VOCAB_LAYOUT.firstCharId,
  };
}

interface VocabIndex {
  readonly idByText: ReadonlyMap<string, number>;
  /** Special tokens matched when `special` is true, longest (in UTF-8 bytes) first. */
  readonly parsedWhenSpecial: readonly number[];
  /** USER_DEFINED tokens, matched always. */
  readonly parsedAlways: readonly number[];
}

const indexCache = new WeakMap<CharVocab, VocabIndex>();
const textEncoder = new TextEncoder();
const utf8Length = (text: string): number => textEncoder.encode(text).length;

function indexOf(vocab: CharVocab): VocabIndex {
  const cached = indexCache.get(vocab);
  if (cached) return cached;
  const idByText = new Map<string, number>();
  vocab.tokens.forEach((text, id) => {
    if (idByText.has(text)) throw new Error(`vocabulary has the token ${JSON.stringify(text)} twice`);
    idByText.set(text, id);
    const type = vocab.tokenTypes[id];
    if (type === TokenType.normal && codePointCount(text) !== 1) {
      throw new Error(
        `not a character vocabulary: NORMAL token ${id} ${JSON.stringify(text)} is not one character`,
      );
    }
    if (type !== TokenType.normal && codePointCount(text) === 2) {
      // A two-code-point token would be an SPM merge target, which encode() does not model.
      throw new Error(
        `not a character vocabulary: token ${id} ${JSON.stringify(text)} is a two-character merge`,
      );
    }
  });
  // llama.cpp sorts its special-token cache by byte length, longest first (std::sort; ties
  // between equal-length specials are unordered there, by id here; createCharVocab has none).
  const byLength = (a: number, b: number): number =>
    utf8Length(vocab.tokens[b] ?? '') - utf8Length(vocab.tokens[a] ?? '') || a - b;
  const ids = vocab.tokens.map((_, id) => id);
  const parsedWhenSpecial = ids
    .filter((id) => {
      const type = vocab.tokenTypes[id];
      return type === TokenType.control || type === TokenType.unknown || type === TokenType.userDefined;
    })
    .sort(byLength);
  const parsedAlways = parsedWhenSpecial.filter((id) => vocab.tokenTypes[id] === TokenType.userDefined);
  const index = { idByText, parsedWhenSpecial, parsedAlways };
  indexCache.set(vocab, index);
  return index;
}

export interface EncodeOptions {
  /**
   * Parse special-token texts (`<|user|>`, `<s>`, `<unk>`, ...) into their ids, like llama.cpp's
   * `parse_special` / node-llama-cpp's `model.tokenize(text, true)`. When false they are plain text.
   */
  readonly special: boolean;
}

/**
 * Tokenizes exactly as llama.cpp does for a `createCharVocab` vocabulary with add_bos=false and
 * add_space_prefix=false (`llama_tokenize(vocab, text, add_special=false, parse_special)`):
 *
 * 1. Lone UTF-16 surrogates become U+FFFD (what Node does when handing the string to llama.cpp).
 * 2. Special-token partition: for each special token, longest first, every non-overlapping
 *    occurrence (leftmost first) in the remaining text fragments becomes that token.
 * 3. Each text fragment: spaces → U+2581, then one token per character; a character without a
 *    token becomes its UTF-8 bytes as `<0xXX>` tokens.
 */
export function encode(vocab: CharVocab, text: string, options: EncodeOptions): number[] {
  const { idByText, parsedWhenSpecial, parsedAlways } = indexOf(vocab);
  const input = text.replace(/[\uD800-\uDFFF]/gu, '\uFFFD');
  let fragments: (string | number)[] = input.length > 0 ? [input] : [];
  for (const id of options.special ? parsedWhenSpecial : parsedAlways) {
    const marker = vocab.tokens[id] ?? '';
    const next: (string | number)[] = [];
    for (const fragment of fragments) {
      if (typeof fragment === 'number') {
        next.push(fragment);
        continue;
      }
      let start = 0;
      for (let at = fragment.indexOf(marker); at !== -1; at = fragment.indexOf(marker, start)) {
        if (at > start) next.push(fragment.slice(start, at));
        next.push(id);
        start = at + marker.length;
      }
      if (start < fragment.length) next.push(fragment.slice(start));
    }
    fragments = next;
  }

  const out: number[] = [];
  for (const fragment of fragments) {
    if (typeof fragment === 'number') {
      out.push(fragment);
      continue;
    }
    for (const char of fragment.replaceAll(' ', SPM_SPACE)) {
      const id = idByText.get(char);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      for (const byte of textEncoder.encode(char)) {
        const byteId = idByText.get(byteTokenText(byte));
        if (byteId === undefined) throw new Error(`vocabulary has no byte token ${byteTokenText(byte)}`);
        out.push(byteId);
      }
    }
  }
  return out;
}

export interface DecodeOptions {
  /** Render CONTROL and UNKNOWN tokens as their text (node-llama-cpp's `detokenize(tokens, true)`); else omit them. */
  readonly special: boolean;
}

/**
 * Detokenizes like llama.cpp (`llama_detokenize(..., remove_special=false, unparse_special)`):
 * NORMAL tokens with U+2581 → space, byte tokens as raw bytes, CONTROL/UNKNOWN per `special`,
 * UNUSED/UNDEFINED omitted. The bytes are decoded as UTF-8 with U+FFFD for invalid sequences.
 */
export function decode(vocab: CharVocab, ids: Iterable<number>, options: DecodeOptions): string {
  const bytes: number[] = [];
  const pushText = (text: string): void => {
    for (const byte of textEncoder.encode(text)) bytes.push(byte);
  };
  for (const id of ids) {
    const text = vocab.tokens[id];
    if (!Number.isInteger(id) || text === undefined) {
      throw new RangeError(`token id ${id} is outside the vocabulary (0..${vocab.tokens.length - 1})`);
    }
    switch (vocab.tokenTypes[id]) {
      case TokenType.normal:
        pushText(text.replaceAll(SPM_SPACE, ' '));
        break;
      case TokenType.byte:
        bytes.push(Number.parseInt(text.slice(3, 5), 16));
        break;
      case TokenType.control:
      case TokenType.unknown:
        if (options.special) pushText(text);
        break;
      case TokenType.userDefined:
        pushText(text);
        break;
      default:
        break;
    }
  }
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(Uint8Array.from(bytes));
}

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

export interface LlamaHyperparameters {
  /** Training context length (`llama.context_length`). */
  readonly contextLength: number;
  /** d_model (`llama.embedding_length`); a multiple of `headCount`. */
  readonly embeddingLength: number;
  /** Number of transformer blocks, 1..512 (llama.cpp aborts outside that range). */
  readonly blockCount: number;
  /** SwiGLU hidden size (`llama.feed_forward_length`). */
  readonly feedForwardLength: number;
  readonly headCount: number;
  /** Key/value heads (GQA); divides `headCount`. */
  readonly headCountKv: number;
  /** RoPE theta (`llama.rope.freq_base`), e.g. 10000. */
  readonly ropeFreqBase: number;
  /** RMSNorm epsilon (`llama.attention.layer_norm_rms_epsilon`), e.g. 1e-5. */
  readonly rmsNormEps: number;
}

/** `general.file_type` (llama_ftype). */
export const LlamaFileType = { F32: 0, F16: 1 } as const;
export type LlamaFileTypeName = keyof typeof LlamaFileType;

/** llama.cpp's LLAMA_MAX_LAYERS. */
export const LLAMA_MAX_LAYERS = 512;

/**
 * Everything a llama GGUF needs.
 *
 * ## Tensors
 *
 * Keys are llama.cpp tensor names; shapes are in GGUF order (ne0 first = the contiguous
 * dimension), with E = embeddingLength, V = vocabulary size, F = feedForwardLength,
 * D = E / headCount (head size), Hq = headCount, Hkv = headCountKv, N = block number:
 *
 *   token_embd.weight          [E, V]        nn.Embedding(V, E).weight      ([V, E] in PyTorch)
 *   output_norm.weight         [E]           final RMSNorm weight
 *   output.weight              [E, V]        lm_head nn.Linear(E, V).weight ([V, E]); optional: absent = tied to token_embd
 *   blk.N.attn_norm.weight     [E]
 *   blk.N.attn_q.weight        [E, Hq·D]     nn.Linear(E, Hq·D).weight      ([Hq·D, E])
 *   blk.N.attn_k.weight        [E, Hkv·D]    nn.Linear(E, Hkv·D).weight     ([Hkv·D, E])
 *   blk.N.attn_v.weight        [E, Hkv·D]    nn.Linear(E, Hkv·D).weight     ([Hkv·D, E])
 *   blk.N.attn_output.weight   [Hq·D, E]     nn.Linear(Hq·D, E).weight      ([E, Hq·D])
 *   blk.N.ffn_norm.weight      [E]
 *   blk.N.ffn_gate.weight      [E, F]        nn.Linear(E, F).weight         ([F, E])
 *   blk.N.ffn_up.weight        [E, F]        nn.Linear(E, F).weight         ([F, E])
 *   blk.N.ffn_down.weight      [F, E]        nn.Linear(F, E).weight         ([E, F])
 *
 * In general a PyTorch `nn.Linear(in, out).weight` has torch shape [out, in]; its GGUF shape is
 * [in, out] and its data is exactly `weight.contiguous().flatten()` in PyTorch's row-major order,
 * with no transpose. The same holds for `nn.Embedding(V, E).weight` → [E, V].
 *
 * ## Computation (what the weights must have been trained for)
 *
 * - Pre-norm blocks: `h = x + Attn(RMSNorm(x))`, `out = h + FFN(RMSNorm(h))`, then final
 *   RMSNorm and `output`. RMSNorm(x) = x / sqrt(mean(x²) + rmsNormEps) · weight. No biases anywhere.
 * - FFN is SwiGLU: `ffn_down(silu(ffn_gate(x)) * ffn_up(x))`.
 * - Attention: causal, scaled by 1/sqrt(D). Head h uses rows [h·D, (h+1)·D) of the q/k/v
 *   projections' outputs; with GQA, query head h reads kv head floor(h / (Hq / Hkv))
 *   (PyTorch `repeat_interleave` on the kv heads).
 * - RoPE is llama.cpp's NORM mode (the llama arch): it rotates ADJACENT pairs (2i, 2i+1) of each
 *   head by angle pos · ropeFreqBase^(-2i/D), NOT the rotate-half (i, i + D/2) pairing of HF
 *   transformers. A model trained with rotate-half must have the rows of attn_q and attn_k permuted
 *   per head like llama.cpp's convert_hf_to_gguf.py `LlamaModel.permute` does; a model trained with
 *   interleaved pairs exports as-is.
 *
 * ## File type
 *
 * `'F16'` stores every 2-D tensor as F16 (round-to-nearest-even) and keeps the 1-D norm weights
 * in F32, as llama.cpp's converter does; `general.file_type` is 1 (MOSTLY_F16), else 0 (ALL_F32).
 */
export interface LlamaModelSpec {
  /** `general.name`. Must not contain "phi3", "phi-3" or "modern-bert": llama.cpp changes token attributes by name. */
  readonly name: string;
  readonly hparams: LlamaHyperparameters;
  readonly vocab: CharVocab;
  readonly tensors: ReadonlyMap<string, Float32Array>;
  readonly fileType: LlamaFileTypeName;
  /** Extra keys (`general.description`, `parley.*`); must not collide with the ones written here. */
  readonly metadata?: Readonly<Record<string, GgufMetadataValue>>;
}

function checkPositiveInteger(name: string, value: number, max = 0xffffffff): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`llama hparams: ${name} must be an integer in [1, ${max}], got ${value}`);
  }
}

/** Throws a precise error for any hyperparameter combination llama.cpp cannot run. */
export function checkLlamaHyperparameters(hparams: LlamaHyperparameters): void {
  checkPositiveInteger('contextLength', hparams.contextLength);
  checkPositiveInteger('embeddingLength', hparams.embeddingLength);
  checkPositiveInteger('blockCount', hparams.blockCount, LLAMA_MAX_LAYERS);
  checkPositiveInteger('feedForwardLength', hparams.feedForwardLength);
  checkPositiveInteger('headCount', hparams.headCount);
  checkPositiveInteger('headCountKv', hparams.headCountKv);
  if (hparams.embeddingLength % hparams.headCount !== 0) {
    throw new Error(
      `llama hparams: embeddingLength ${hparams.embeddingLength} is not a multiple of headCount ${hparams.headCount}`,
    );
  }
  if ((hparams.embeddingLength / hparams.headCount) % 2 !== 0) {
    throw new Error(
      `llama hparams: head size ${hparams.embeddingLength / hparams.headCount} must be even for RoPE`,
    );
  }
  if (hparams.headCount % hparams.headCountKv !== 0) {
    throw new Error(
      `llama hparams: headCount ${hparams.headCount} is not a multiple of headCountKv ${hparams.headCountKv}`,
    );
  }
  for (const key of ['ropeFreqBase', 'rmsNormEps'] as const) {
    if (!Number.isFinite(hparams[key]) || hparams[key] <= 0) {
      throw new Error(`llama hparams: ${key} must be a positive finite number, got ${hparams[key]}`);
    }
  }
}

/**
 * The tensors a llama model with these hyperparameters needs, in file order, with GGUF shapes.
 * `output.weight` is included; a spec may omit it to tie it to `token_embd.weight`.
 */
export function llamaTensorShapes(
  hparams: LlamaHyperparameters,
  vocabSize: number,
): Map<string, readonly number[]> {
  checkLlamaHyperparameters(hparams);
  checkPositiveInteger('vocabSize', vocabSize, 0x7fffffff);
  const { embeddingLength: e, feedForwardLength: f, headCount, headCountKv } = hparams;
  const headSize = e / headCount;
  const shapes = new Map<string, readonly number[]>([
    ['token_embd.weight', [e, vocabSize]],
    ['output_norm.weight', [e]],
    ['output.weight', [e, vocabSize]],
  ]);
  for (let n = 0; n < hparams.blockCount; n++) {
    shapes.set(`blk.${n}.attn_norm.weight`, [e]);
    shapes.set(`blk.${n}.attn_q.weight`, [e, headCount * headSize]);
    shapes.set(`blk.${n}.attn_k.weight`, [e, headCountKv * headSize]);
    shapes.set(`blk.${n}.attn_v.weight`, [e, headCountKv * headSize]);
    shapes.set(`blk.${n}.attn_output.weight`, [headCount * headSize, e]);
    shapes.set(`blk.${n}.ffn_norm.weight`, [e]);
    shapes.set(`blk.${n}.ffn_gate.weight`, [e, f]);
    shapes.set(`blk.${n}.ffn_up.weight`, [e, f]);
    shapes.set(`blk.${n}.ffn_down.weight`, [f, e]);
  }
  return shapes;
}

const F16_MAX = 65504;
const NAMES_LLAMA_CPP_SPECIAL_CASES = ['phi3', 'phi-3', 'modern-bert'];

/** The GGUF description (metadata + tensors) of a llama model; `buildLlamaGguf` serializes it. */
export function llamaGgufFile(spec: LlamaModelSpec): GgufFile {
  const { name, hparams, vocab, tensors, fileType } = spec;
  const lowerName = name.toLowerCase();
  const special = NAMES_LLAMA_CPP_SPECIAL_CASES.find((s) => lowerName.includes(s));
  if (special !== undefined) {
    throw new Error(
      `model name '${name}' contains '${special}': llama.cpp would change its token attributes`,
    );
  }
  if (!(fileType in LlamaFileType)) throw new Error(`unsupported fileType '${fileType as string}'`);
  const vocabSize = vocab.tokens.length;
  if (vocab.scores.length !== vocabSize || vocab.tokenTypes.length !== vocabSize) {
    throw new Error(
      `vocab: ${vocabSize} tokens but ${vocab.scores.length} scores and ${vocab.tokenTypes.length} token types`,
    );
  }
  for (const [key, id] of [
    ['bosId', vocab.bosId],
    ['eosId', vocab.eosId],
    ['unknownId', vocab.unknownId],
    ['paddingId', vocab.paddingId],
  ] as const) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw new Error(`vocab: ${key} ${id} is out of range`);
  }
  if (new Set(vocab.tokens).size !== vocabSize) {
    // llama.cpp GGML_ASSERTs (aborts the process) on duplicate token texts.
    throw new Error('vocab: token texts must be unique');
  }
  if (vocab.tokens.some((t) => t.length === 0 || t.includes('\0'))) {
    throw new Error('vocab: token texts must be non-empty and free of NUL characters');
  }

  const shapes = llamaTensorShapes(hparams, vocabSize);
  for (const key of tensors.keys()) {
    if (!shapes.has(key)) {
      throw new Error(`unexpected tensor '${key}' (llama.cpp rejects files with tensors it does not use)`);
    }
  }
  const ggufTensors: GgufTensor[] = [];
  for (const [tensorName, shape] of shapes) {
    const data = tensors.get(tensorName);
    if (data === undefined) {
      if (tensorName === 'output.weight') continue;
      throw new Error(`missing tensor '${tensorName}' (GGUF shape [${shape.join(', ')}])`);
    }
    const expected = shape.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(
        `tensor '${tensorName}' has ${data.length} values; GGUF shape [${shape.join(', ')}] needs ${expected}`,
      );
    }
    const type = fileType === 'F16' && shape.length > 1 ? 'F16' : 'F32';
    for (let i = 0; i < data.length; i++) {
      const v = data[i] ?? NaN;
      if (!Number.isFinite(v))
        throw new Error(`tensor '${tensorName}' has a non-finite value ${v} at index ${i}`);
      if (type === 'F16' && Math.abs(v) > F16_MAX) {
        throw new Error(
          `tensor '${tensorName}' value ${v} at index ${i} does not fit in F16 (max ${F16_MAX})`,
        );
      }
    }
    ggufTensors.push({ name: tensorName, shape, type, data });
  }

  const metadata: Record<string, GgufMetadataValue> = {
    'general.architecture': gguf.string('llama'),
    'general.name': gguf.string(name),
    'general.file_type': gguf.uint32(LlamaFileType[fileType]),
    'llama.vocab_size': gguf.uint32(vocabSize),
    'llama.context_length': gguf.uint32(hparams.contextLength),
    'llama.embedding_length': gguf.uint32(hparams.embeddingLength),
    'llama.block_count': gguf.uint32(hparams.blockCount),
    'llama.feed_forward_length': gguf.uint32(hparams.feedForwardLength),
    'llama.attention.head_count': gguf.uint32(hparams.headCount),
    'llama.attention.head_count_kv': gguf.uint32(hparams.headCountKv),
    'llama.attention.layer_norm_rms_epsilon': gguf.float32(hparams.rmsNormEps),
    'llama.rope.freq_base': gguf.float32(hparams.ropeFreqBase),
    'llama.rope.dimension_count': gguf.uint32(hparams.embeddingLength / hparams.headCount),
    'tokenizer.ggml.model': gguf.string('llama'),
    'tokenizer.ggml.tokens': gguf.stringArray(vocab.tokens),
    'tokenizer.ggml.scores': gguf.float32Array(vocab.scores),
    'tokenizer.ggml.token_type': gguf.int32Array(vocab.tokenTypes),
    'tokenizer.ggml.bos_token_id': gguf.uint32(vocab.bosId),
    'tokenizer.ggml.eos_token_id': gguf.uint32(vocab.eosId),
    'tokenizer.ggml.unknown_token_id': gguf.uint32(vocab.unknownId),
    'tokenizer.ggml.padding_token_id': gguf.uint32(vocab.paddingId),
    // SPM defaults in llama.cpp are add_bos=true and add_space_prefix=true; Parley wants neither.
    'tokenizer.ggml.add_bos_token': gguf.bool(false),
    'tokenizer.ggml.add_eos_token': gguf.bool(false),
    'tokenizer.ggml.add_space_prefix': gguf.bool(false),
    'tokenizer.chat_template': gguf.string(CHAT_TEMPLATE),
  };
  for (const [key, value] of Object.entries(spec.metadata ?? {})) {
    if (key in metadata)
      throw new Error(`metadata '${key}' is written by buildLlamaGguf and cannot be overridden`);
    metadata[key] = value;
  }
  return { metadata, tensors: ggufTensors };
}

/** Serializes a llama model to GGUF bytes (see `LlamaModelSpec` for the tensor layout). */
export function buildLlamaGguf(spec: LlamaModelSpec): Uint8Array {
  return writeGguf(llamaGgufFile(spec));
}

// ---------------------------------------------------------------------------------------------
// Random weights
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny deterministic PRNG, uniform in [0, 1). */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomLlamaOptions {
  /**
   * Token ids the model must never produce. Default: every id below `CHAR_VOCAB_LAYOUT.firstCharId`
   * (unk, bos, `</s>`, the chat control tokens including `<|end|>`, and the byte tokens), so a
   * random model over a `createCharVocab` vocabulary emits one character per token and never stops
   * before `maxTokens`.
   */
  readonly suppressTokenIds?: Iterable<number>;
}

/** Residual-stream dimension reserved as a constant "bias" channel, see `randomLlamaTensors`. */
const ANCHOR_DIM = 0;
const ANCHOR_VALUE = 4;
const SUPPRESSED_LOGIT_WEIGHT = -100;

/**
 * Seeded random weights (same arguments → same values) for a model that runs and produces varied
 * text. Suppression without biases: every token embedding holds `ANCHOR_VALUE` in dimension 0 and
 * no attention or FFN output writes to it, so after the final RMSNorm that dimension is strictly
 * positive (≈ 1 or more); suppressed tokens' output rows are -100 there and zero elsewhere, which
 * puts their logits ~100 below the others at every position.
 */
export function randomLlamaTensors(
  hparams: LlamaHyperparameters,
  vocabSize: number,
  seed: number,
  options: RandomLlamaOptions = {},
): Map<string, Float32Array> {
  const shapes = llamaTensorShapes(hparams, vocabSize);
  const suppressed = new Set(
    options.suppressTokenIds ??
      Array.from({ length: Math.min(vocabSize, CHAR_VOCAB_LAYOUT.firstCharId) }, (_, i) => i),
  );
  const e = hparams.embeddingLength;
  const random = createRng(seed);
  // Uniform in [-√3σ, √3σ] has standard deviation σ.
  const fill = (length: number, std: number): Float32Array => {
    const data = new Float32Array(length);
    const half = Math.sqrt(3) * std;
    for (let i = 0; i < length; i++) data[i] = (random() * 2 - 1) * half;
    return data;
  };
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const length = shape.reduce((a, b) => a * b, 1);
    const inputs = shape[0] ?? 1;
    let data: Float32Array;
    if (shape.length === 1) {
      data = new Float32Array(length).fill(1);
    } else if (name === 'token_embd.weight') {
      data = fill(length, 1);
      for (let row = 0; row < vocabSize; row++) data[row * e + ANCHOR_DIM] = ANCHOR_VALUE;
    } else if (name === 'output.weight') {
      data = fill(length, 3 / Math.sqrt(e));
      for (let row = 0; row < vocabSize; row++) {
        if (suppressed.has(row)) {
          data.fill(0, row * e, (row + 1) * e);
          data[row * e + ANCHOR_DIM] = SUPPRESSED_LOGIT_WEIGHT;
        } else {
          data[row * e + ANCHOR_DIM] = 0;
        }
      }
    } else {
      data = fill(length, 1 / Math.sqrt(inputs));
      if (name.endsWith('.attn_output.weight') || name.endsWith('.ffn_down.weight')) {
        // Output row ANCHOR_DIM (GGUF layout [in, out]: row r = data[r·in, (r+1)·in)) stays zero.
        data.fill(0, ANCHOR_DIM * inputs, (ANCHOR_DIM + 1) * inputs);
      }
    }
    out.set(name, data);
  }
  return out;
}
