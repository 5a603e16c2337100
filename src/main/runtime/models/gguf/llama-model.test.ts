import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import {
  GgmlType,
  getLlama,
  LlamaCompletion,
  LlamaLogLevel,
  readGgufFileInfo,
  type Llama,
  type LlamaContext,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CHAT_TEMPLATE, CHAT_TOKENS, CONTROL_TOKENS, formatChatPrompt } from '../chat-format';
import {
  TINY_MODEL_VOCAB,
  tinyModelBytes,
  tinyModelHyperparameters,
  writeBrokenModel,
  writeTinyModel,
} from '../../testing/tiny-models';
import {
  buildLlamaGguf,
  CHAR_VOCAB_LAYOUT,
  checkLlamaHyperparameters,
  createCharVocab,
  decode,
  encode,
  llamaTensorShapes,
  randomLlamaTensors,
  SPM_SPACE,
  TokenType,
  type LlamaHyperparameters,
  type LlamaModelSpec,
} from './llama-model';

let dir: string;
let llama: Llama;
let paths: { f32: string; f16: string };
let models: { f32: LlamaModel; f16: LlamaModel };
let contexts: LlamaContext[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-llama-gguf-'));
  paths = {
    f32: await writeTinyModel(dir, { seed: 7 }),
    f16: await writeTinyModel(dir, { seed: 7, fileType: 'F16' }),
  };
  llama = await getLlama({
    build: 'never',
    gpu: false,
    skipDownload: true,
    logLevel: LlamaLogLevel.warn,
    progressLogs: false,
  });
  models = {
    f32: await llama.loadModel({ modelPath: paths.f32 }),
    f16: await llama.loadModel({ modelPath: paths.f16 }),
  };
});

afterAll(async () => {
  for (const context of contexts) await context.dispose();
  contexts = [];
  await models.f32.dispose();
  await models.f16.dispose();
  await llama.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function completionFor(model: LlamaModel): Promise<LlamaCompletion> {
  const context = await model.createContext({ contextSize: 256, threads: 1 });
  contexts.push(context);
  return new LlamaCompletion({ contextSequence: context.getSequence() });
}

const PROMPT = formatChatPrompt([
  { role: 'system', content: 'You are a blacksmith.' },
  { role: 'user', content: 'Hello there!' },
]);

describe('createCharVocab', () => {
  const vocab = createCharVocab(['b', 'a', ' ', '\n', 'a', 'é', '😀', '\0', SPM_SPACE]);

  it('has the fixed special/byte layout, then one NORMAL token per distinct character', () => {
    expect(vocab.tokens.slice(0, CHAR_VOCAB_LAYOUT.firstByteId)).toEqual([
      '<unk>',
      '<s>',
      '</s>',
      ...CONTROL_TOKENS,
    ]);
    expect(vocab.tokenTypes.slice(0, 3)).toEqual([TokenType.unknown, TokenType.control, TokenType.control]);
    expect(vocab.tokenTypes.slice(3, CHAR_VOCAB_LAYOUT.firstByteId)).toEqual(
      CONTROL_TOKENS.map(() => TokenType.control),
    );
    expect(vocab.tokens[vocab.eosId]).toBe(CHAT_TOKENS.end);
    expect(vocab.tokens[vocab.firstByteId]).toBe('<0x00>');
    expect(vocab.tokens[vocab.firstByteId + 0x0a]).toBe('<0x0A>');
    expect(vocab.tokens[vocab.firstByteId + 255]).toBe('<0xFF>');
    expect(vocab.tokenTypes.slice(vocab.firstByteId, vocab.firstCharId)).toEqual(
      new Array(256).fill(TokenType.byte),
    );
    // Ordered by code point; space as U+2581; '\n' and '\0' left to byte fallback.
    expect(vocab.tokens.slice(vocab.firstCharId)).toEqual([SPM_SPACE, 'a', 'b', 'é', '😀']);
    expect(vocab.tokenTypes.slice(vocab.firstCharId)).toEqual(new Array(5).fill(TokenType.normal));
    expect(vocab.scores.length).toBe(vocab.tokens.length);
  });

  it('rejects items that are not exactly one character', () => {
    expect(() => createCharVocab(['ab'])).toThrow('exactly one character');
    expect(() => createCharVocab([''])).toThrow('exactly one character');
    expect(() => createCharVocab(['\uD800'])).toThrow('lone surrogate');
  });

  it('encodes and decodes without llama.cpp for the simple cases', () => {
    expect(encode(vocab, 'ab a', { special: false })).toEqual([
      vocab.firstCharId + 1,
      vocab.firstCharId + 2,
      vocab.firstCharId,
      vocab.firstCharId + 1,
    ]);
    expect(encode(vocab, '\n', { special: true })).toEqual([vocab.firstByteId + 0x0a]);
    expect(encode(vocab, 'ü', { special: true })).toEqual([
      vocab.firstByteId + 0xc3,
      vocab.firstByteId + 0xbc,
    ]);
    expect(encode(vocab, '<|end|>a', { special: true })).toEqual([vocab.eosId, vocab.firstCharId + 1]);
    expect(decode(vocab, [vocab.eosId, vocab.firstCharId], { special: true })).toBe('<|end|> ');
    expect(decode(vocab, [vocab.eosId, vocab.firstCharId], { special: false })).toBe(' ');
    expect(() => decode(vocab, [vocab.tokens.length], { special: false })).toThrow('outside the vocabulary');
  });
});

describe('tokenizer parity with llama.cpp', () => {
  const samples = [
    'hello world',
    'Hello, World! 123',
    'line one\nline two\n\n',
    '\n',
    'a  b   c    d',
    ' leading space',
    '  two leading spaces',
    'trailing space ',
    '   ',
    '{"name": "Bram", "mood": {"level": 3, "tags": ["calm", "gruff"]}}',
    'tab\there\r\nwindows',
    'café, naïve, Ærøskøbing',
    'em—dash – en “quotes” ‘single’ …',
    'emoji 😀👍🏽 and 🧙‍♂️',
    '日本語のテキスト',
    SPM_SPACE + 'literal marker' + SPM_SPACE,
    'nul\0byte',
    'lone \uD800 surrogate',
    PROMPT,
    `${CHAT_TOKENS.user}\nhi${CHAT_TOKENS.end}\n${CHAT_TOKENS.assistant}\n`,
    '<|user|><|user|>x<|end|>',
    '<s>bos</s> and <unk> as text',
    '<|end|',
    '<|user|<|end|>|>',
    '<<|system|>>',
    'a <|assistant|> b',
    '<0x41> is not a byte token in text',
  ];

  const compare = (model: LlamaModel, text: string) => {
    for (const special of [true, false]) {
      const ids = model.tokenize(text, special);
      expect([text, special, encode(TINY_MODEL_VOCAB, text, { special })]).toEqual([text, special, ids]);
      for (const decodeSpecial of [true, false]) {
        expect([text, decode(TINY_MODEL_VOCAB, ids, { special: decodeSpecial })]).toEqual([
          text,
          model.detokenize(ids, decodeSpecial),
        ]);
      }
    }
  };

  it('encode/decode match model.tokenize/detokenize on varied strings, and text round-trips', () => {
    for (const text of samples) compare(models.f32, text);
    // Exceptions to the round trip, as in llama.cpp: lone surrogates become U+FFFD, and a literal
    // U+2581 is the space marker, so it decodes to a space.
    for (const text of samples.filter((t) => !t.includes('\uD800') && !t.includes(SPM_SPACE))) {
      expect(
        decode(TINY_MODEL_VOCAB, encode(TINY_MODEL_VOCAB, text, { special: true }), { special: true }),
      ).toBe(text);
      expect(models.f32.detokenize(models.f32.tokenize(text, false), false)).toBe(text);
    }
    expect(
      decode(TINY_MODEL_VOCAB, encode(TINY_MODEL_VOCAB, `a${SPM_SPACE}b`, { special: false }), {
        special: false,
      }),
    ).toBe('a b');
  });

  it('encodes one token per known character and UTF-8 bytes for the rest', () => {
    const ids = encode(TINY_MODEL_VOCAB, 'a é\n', { special: true });
    expect(ids.map((id) => TINY_MODEL_VOCAB.tokens[id])).toEqual([
      'a',
      SPM_SPACE,
      '<0xC3>',
      '<0xA9>',
      '<0x0A>',
    ]);
    expect(models.f32.tokens.nl).toBe(TINY_MODEL_VOCAB.firstByteId + 0x0a);
    expect(models.f32.tokens.eos).toBe(TINY_MODEL_VOCAB.eosId);
    expect(models.f32.tokens.bos).toBe(TINY_MODEL_VOCAB.bosId);
  });

  it('decodes partial UTF-8 byte sequences like llama.cpp', () => {
    const bytes = (...values: number[]) => values.map((b) => (TINY_MODEL_VOCAB.firstByteId + b) as Token);
    for (const ids of [bytes(0xe2, 0x80), bytes(0xff, 0x41), bytes(0xf0, 0x9f, 0x98), bytes(0xc3)]) {
      expect(decode(TINY_MODEL_VOCAB, ids, { special: false })).toBe(models.f32.detokenize(ids, false));
    }
  });

  it('matches on random mixtures of characters, spaces, bytes and markers', () => {
    const pieces = [
      ...Array.from('abcXYZ019 {}[]":,.!?\'\\<>|/'),
      ' ',
      '  ',
      '\n',
      '\t',
      'é',
      '—',
      '😀',
      SPM_SPACE,
      '\0',
      ...CONTROL_TOKENS,
      '<s>',
      '</s>',
      '<unk>',
      '<|',
      '|>',
      'end',
      'user',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (parts) => {
        compare(models.f32, parts.join(''));
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe('generated llama models', () => {
  it('carry the expected metadata and tensor types', async () => {
    const [f32, f16] = await Promise.all([readGgufFileInfo(paths.f32), readGgufFileInfo(paths.f16)]);
    const hparams = tinyModelHyperparameters();
    expect(f32.metadata.general.architecture).toBe('llama');
    expect(f32.metadata.general.file_type).toBe(0);
    expect(f16.metadata.general.file_type).toBe(1);
    expect(f32.architectureMetadata).toMatchObject({
      context_length: hparams.contextLength,
      embedding_length: hparams.embeddingLength,
      block_count: hparams.blockCount,
      feed_forward_length: hparams.feedForwardLength,
      attention: { head_count: hparams.headCount, head_count_kv: hparams.headCountKv },
      rope: { freq_base: 10000, dimension_count: 16 },
    });
    const tokenizer = f32.metadata.tokenizer;
    expect(tokenizer.ggml.model).toBe('llama');
    expect(tokenizer.ggml.tokens).toEqual(TINY_MODEL_VOCAB.tokens);
    expect(tokenizer.ggml.token_type).toEqual(TINY_MODEL_VOCAB.tokenTypes);
    expect(tokenizer.ggml.eos_token_id).toBe(TINY_MODEL_VOCAB.eosId);
    expect(tokenizer.ggml.add_bos_token).toBe(false);
    expect(tokenizer.ggml.add_space_prefix).toBe(false);
    expect(tokenizer.chat_template).toBe(CHAT_TEMPLATE);

    const shapes = llamaTensorShapes(hparams, TINY_MODEL_VOCAB.tokens.length);
    const describeTensors = (info: typeof f32) =>
      (info.tensorInfo ?? []).map((t) => [t.name, t.dimensions.map(Number), t.ggmlType]);
    expect(describeTensors(f32)).toEqual([...shapes].map(([name, shape]) => [name, shape, GgmlType.F32]));
    expect(describeTensors(f16)).toEqual(
      [...shapes].map(([name, shape]) => [name, shape, shape.length === 1 ? GgmlType.F32 : GgmlType.F16]),
    );
    expect((await stat(paths.f16)).size).toBeLessThan((await stat(paths.f32)).size);
  });

  it.each(['f32', 'f16'] as const)(
    '%s: loads and streams text until maxTokens, never ending early',
    async (kind) => {
      const completion = await completionFor(models[kind]);
      for (const seed of [1, 2, 3]) {
        const chunks: string[] = [];
        let tokens = 0;
        const result = await completion.generateCompletionWithMeta(PROMPT, {
          maxTokens: 64,
          seed,
          temperature: 1.2,
          onTextChunk: (chunk) => chunks.push(chunk),
          onToken: (t) => (tokens += t.length),
        });
        expect(result.metadata.stopReason).toBe('maxTokens');
        expect(tokens).toBe(64);
        expect(chunks.join('')).toBe(result.response);
        // One printable ASCII character per token: no control tokens, no byte tokens.
        expect(result.response).toMatch(/^[\x20-\x7e]{64}$/);
      }
    },
  );

  it('is reproducible: same sampling seed → same text, different seed → different text', async () => {
    const completion = await completionFor(models.f32);
    const run = (seed: number) =>
      completion.generateCompletion(PROMPT, { maxTokens: 32, seed, temperature: 0.9 });
    const a = await run(11);
    expect(await run(11)).toBe(a);
    expect(await run(12)).not.toBe(a);
    const greedy = await completion.generateCompletion(PROMPT, { maxTokens: 32, temperature: 0 });
    expect(greedy).toHaveLength(32);
  });

  it('stops promptly on abort with stopOnAbortSignal', async () => {
    const completion = await completionFor(models.f32);
    const controller = new AbortController();
    let chunks = 0;
    const result = await completion.generateCompletionWithMeta(PROMPT, {
      maxTokens: 200,
      seed: 5,
      temperature: 1,
      signal: controller.signal,
      stopOnAbortSignal: true,
      onTextChunk: () => {
        chunks += 1;
        if (chunks === 5) controller.abort();
      },
    });
    expect(result.metadata.stopReason).toBe('abort');
    expect(result.response.length).toBeGreaterThanOrEqual(5);
    expect(result.response.length).toBeLessThan(10);
  });

  it('writes byte-identical files for the same seed', () => {
    const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    const a = sha256(tinyModelBytes({ seed: 3 }));
    expect(sha256(tinyModelBytes({ seed: 3 }))).toBe(a);
    expect(sha256(tinyModelBytes({ seed: 4 }))).not.toBe(a);
    expect(sha256(tinyModelBytes({ seed: 3, fileType: 'F16' }))).not.toBe(a);
  });

  it('generates a tiny model in milliseconds', () => {
    const start = performance.now();
    tinyModelBytes({ seed: 99 });
    expect(performance.now() - start).toBeLessThan(500);
  });
});

describe('buildLlamaGguf validation', () => {
  const hparams = tinyModelHyperparameters({ embeddingLength: 16, blockCount: 1 });
  const vocab = createCharVocab('abc ');
  const base: LlamaModelSpec = {
    name: 'valid',
    hparams,
    vocab,
    tensors: randomLlamaTensors(hparams, vocab.tokens.length, 1),
    fileType: 'F16',
  };
  const withTensor = (name: string, data: Float32Array | undefined) => {
    const tensors = new Map(base.tensors);
    if (data) tensors.set(name, data);
    else tensors.delete(name);
    return { ...base, tensors };
  };

  it('accepts a valid spec, with output.weight optional (tied embeddings)', () => {
    expect(buildLlamaGguf(base).length).toBeGreaterThan(0);
    expect(buildLlamaGguf(withTensor('output.weight', undefined)).length).toBeLessThan(
      buildLlamaGguf(base).length,
    );
  });

  it('rejects bad tensors, names, metadata and hyperparameters precisely', () => {
    const checkWith = (changes: Partial<LlamaHyperparameters>) => () => {
      checkLlamaHyperparameters({ ...hparams, ...changes });
    };
    expect(() => buildLlamaGguf(withTensor('blk.0.ffn_up.weight', undefined))).toThrow(
      "missing tensor 'blk.0.ffn_up.weight' (GGUF shape [16, 32])",
    );
    expect(() => buildLlamaGguf(withTensor('blk.0.attn_q.weight', new Float32Array(5)))).toThrow(
      "tensor 'blk.0.attn_q.weight' has 5 values; GGUF shape [16, 16] needs 256",
    );
    expect(() => buildLlamaGguf(withTensor('blk.1.attn_q.weight', new Float32Array(256)))).toThrow(
      "unexpected tensor 'blk.1.attn_q.weight'",
    );
    expect(() => buildLlamaGguf(withTensor('output_norm.weight', new Float32Array(16).fill(NaN)))).toThrow(
      "tensor 'output_norm.weight' has a non-finite value NaN at index 0",
    );
    expect(() =>
      buildLlamaGguf(withTensor('output.weight', new Float32Array(16 * vocab.tokens.length).fill(7e4))),
    ).toThrow('does not fit in F16');
    expect(() => buildLlamaGguf({ ...base, name: 'My-Phi3-clone' })).toThrow("contains 'phi3'");
    expect(() =>
      buildLlamaGguf({ ...base, metadata: { 'general.name': { type: 'string', value: 'x' } } }),
    ).toThrow("metadata 'general.name' is written by buildLlamaGguf");
    expect(checkWith({ headCount: 3 })).toThrow('not a multiple of headCount 3');
    expect(checkWith({ headCountKv: 3 })).toThrow('not a multiple of headCountKv 3');
    expect(checkWith({ blockCount: 0 })).toThrow('blockCount must be an integer');
    expect(checkWith({ blockCount: 513 })).toThrow('[1, 512]');
    expect(checkWith({ rmsNormEps: 0 })).toThrow('rmsNormEps must be a positive finite number');
    expect(checkWith({ embeddingLength: 12, headCount: 4 })).toThrow('head size 3 must be even');
  });
});

describe('broken model files (read with the JS GGUF parser only; never loaded into llama.cpp)', () => {
  it('not-gguf is rejected by the parser', async () => {
    const path = await writeBrokenModel(dir, 'not-gguf');
    await expect(readGgufFileInfo(path, { logWarnings: false })).rejects.toThrow();
  });

  it('truncated keeps a valid header but ends inside the tensor data', async () => {
    const path = await writeBrokenModel(dir, 'truncated');
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const last = info.tensorInfo?.at(-1);
    const size = (await stat(path)).size;
    expect(Number(last?.fileOffset)).toBeGreaterThan(size);
    expect(Number(info.infoEndOffset)).toBeLessThan(size);
  });

  it('missing-key lacks llama.embedding_length and the token list', async () => {
    const info = await readGgufFileInfo(await writeBrokenModel(dir, 'missing-key'), { logWarnings: false });
    expect(info.metadata.llama?.context_length).toBe(512);
    expect(info.metadata.llama).not.toHaveProperty('embedding_length');
    expect(info.metadata.tokenizer.ggml).not.toHaveProperty('tokens');
  });

  it('absurd-size claims a 2^32-1 context and a 4 TiB embedding tensor', async () => {
    const path = await writeBrokenModel(dir, 'absurd-size');
    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(info.metadata.llama?.context_length).toBe(0xffffffff);
    const embd = info.tensorInfo?.find((t) => t.name === 'token_embd.weight');
    expect(embd?.dimensions.map(Number)).toEqual([64, 2 ** 34]);
    expect((await stat(path)).size).toBeLessThan(2 ** 20);
  });

  it('absurd-tensor-count claims 2^40 tensors', async () => {
    const path = await writeBrokenModel(dir, 'absurd-tensor-count');
    const info = await readGgufFileInfo(path, { logWarnings: false, readTensorInfo: false });
    expect(BigInt(info.tensorCount)).toBe(2n ** 40n);
  });

  it('zero-block-count and duplicate-token carry the values that abort llama.cpp', async () => {
    const zero = await readGgufFileInfo(await writeBrokenModel(dir, 'zero-block-count'), {
      logWarnings: false,
    });
    expect(zero.metadata.llama?.block_count).toBe(0);
    const dup = await readGgufFileInfo(await writeBrokenModel(dir, 'duplicate-token'), {
      logWarnings: false,
    });
    const tokens = dup.metadata.tokenizer.ggml.tokens;
    expect(new Set(tokens).size).toBe(tokens.length - 1);
  });
});
