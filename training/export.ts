/**
 * Exports the trained weights to `resources/models/parley-npc.gguf` (run: `npx tsx training/export.ts`).
 *
 * Reads training/out/weights.json + weights.bin (written by train.py: little-endian float32, each
 * tensor in PyTorch's row-major order, which is exactly the GGUF data order, see `LlamaModelSpec`),
 * rebuilds the vocabulary from vocab.json with `createCharVocab` and checks it is the one the corpus
 * was tokenized with, then writes an F16 GGUF through `buildLlamaGguf`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  buildLlamaGguf,
  createCharVocab,
  llamaTensorShapes,
} from '../src/main/runtime/models/gguf/llama-model';
import { gguf } from '../src/main/runtime/models/gguf/writer';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MODEL_PATH = join(HERE, '..', 'resources', 'models', 'parley-npc.gguf');

const WeightsJson = z.object({
  format: z.literal(1),
  dtype: z.literal('float32-le'),
  seed: z.number().int(),
  corpus_sha256: z.string(),
  parameters: z.number().int(),
  hparams: z.object({
    vocab_size: z.number().int(),
    context_length: z.number().int(),
    embedding_length: z.number().int(),
    block_count: z.number().int(),
    head_count: z.number().int(),
    feed_forward_length: z.number().int(),
    rope_freq_base: z.number(),
    rms_norm_eps: z.number(),
  }),
  tensors: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int()),
      offset: z.number().int(),
      bytes: z.number().int(),
    }),
  ),
});

const VocabJson = z.object({
  size: z.number().int(),
  chars: z.array(z.string()),
  tokens: z.array(z.string()),
});

const TrainReport = z.object({
  steps_done: z.number().int(),
  minutes: z.number(),
  tokens_computed: z.number().int(),
  tokens_supervised: z.number().int(),
  evals: z.array(z.object({ val_loss: z.number() })),
});

function readJson<T>(schema: z.ZodType<T>, path: string): T {
  return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

function main(): void {
  const { values } = parseArgs({
    options: {
      in: { type: 'string', default: join(HERE, 'out') },
      out: { type: 'string', default: DEFAULT_MODEL_PATH },
    },
  });
  const weights = readJson(WeightsJson, join(values.in, 'weights.json'));
  const stored = readJson(VocabJson, join(values.in, 'vocab.json'));
  const report = readJson(TrainReport, join(values.in, 'train-report.json'));
  const bin = readFileSync(join(values.in, 'weights.bin'));

  const vocab = createCharVocab(stored.chars);
  if (vocab.tokens.length !== stored.size || vocab.tokens.some((t, i) => t !== stored.tokens[i]))
    throw new Error('createCharVocab(chars) is not the vocabulary the corpus was tokenized with');
  const h = weights.hparams;
  if (h.vocab_size !== vocab.tokens.length)
    throw new Error(`model vocab ${h.vocab_size} != ${vocab.tokens.length}`);
  const hparams = {
    contextLength: h.context_length,
    embeddingLength: h.embedding_length,
    blockCount: h.block_count,
    feedForwardLength: h.feed_forward_length,
    headCount: h.head_count,
    headCountKv: h.head_count,
    ropeFreqBase: h.rope_freq_base,
    rmsNormEps: h.rms_norm_eps,
  };

  const shapes = llamaTensorShapes(hparams, vocab.tokens.length);
  const tensors = new Map<string, Float32Array>();
  for (const t of weights.tensors) {
    const expected = shapes.get(t.name);
    // PyTorch shapes are outermost first; GGUF shapes innermost first.
    const gguShape = [...t.shape].reverse();
    if (expected?.join(',') !== gguShape.join(','))
      throw new Error(
        `${t.name}: torch shape [${t.shape.join(', ')}] does not fit GGUF shape [${expected?.join(', ')}]`,
      );
    const copy = bin.buffer.slice(bin.byteOffset + t.offset, bin.byteOffset + t.offset + t.bytes);
    tensors.set(t.name, new Float32Array(copy));
  }

  const finalEval = report.evals.at(-1);
  const bytes = buildLlamaGguf({
    name: 'parley-npc',
    hparams,
    vocab,
    tensors,
    fileType: 'F16',
    metadata: {
      'general.description': gguf.string(
        "Parley's embedded default NPC model: a small llama-architecture model with a character " +
          'vocabulary, trained from scratch on a synthetic wayside-inn dialogue corpus (training/).',
      ),
      'parley.model_format': gguf.uint32(1),
      'parley.chat_format': gguf.string('parley-chat-v1'),
      'parley.training.seed': gguf.uint32(weights.seed),
      'parley.training.corpus_sha256': gguf.string(weights.corpus_sha256),
      'parley.training.parameters': gguf.uint32(weights.parameters),
      'parley.training.steps': gguf.uint32(report.steps_done),
      'parley.training.minutes': gguf.float32(report.minutes),
      'parley.training.tokens_computed': gguf.uint64(report.tokens_computed),
      'parley.training.tokens_supervised': gguf.uint64(report.tokens_supervised),
      'parley.training.final_val_loss': gguf.float32(finalEval?.val_loss ?? Number.NaN),
      'parley.training.scenario': gguf.string('wayside-inn'),
    },
  });
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, bytes);
  const sha = createHash('sha256').update(bytes).digest('hex');
  console.log(`wrote ${values.out}: ${(bytes.length / 1024 / 1024).toFixed(2)} MiB, sha256 ${sha}`);
}

main();
