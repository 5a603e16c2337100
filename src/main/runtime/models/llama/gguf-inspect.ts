import { open, stat } from 'node:fs/promises';
import type { GgufFileInfo, Llama } from 'node-llama-cpp';
import { RuntimeError } from '../../core/errors';
import type { ModelDescription } from '../backend';

/**
 * Reads a GGUF file's header and metadata (never its weights) and checks what llama.cpp needs before
 * it is handed the file: some missing keys crash llama.cpp natively, and absurd sizes make it try to
 * allocate terabytes. Everything here runs in the runtime process, so it must never load the model.
 */

/** Upper bounds no real model of this tool's scale exceeds; beyond them a file is corrupt or hostile. */
export const GGUF_LIMITS = {
  contextLength: 1 << 24,
  embeddingLength: 1 << 17,
  blockCount: 4096,
  headCount: 1 << 14,
  vocabSize: 1 << 22,
  tensorCount: 1 << 20,
  metadataCount: 1 << 16,
} as const;

/**
 * The fixed 24-byte header (magic, version, tensor count, metadata count), checked before the full
 * reader runs: a header claiming 2^40 tensors would keep a reader busy for a very long time.
 */
async function checkHeader(path: string, fileBytes: number): Promise<void> {
  if (fileBytes < 24) throw invalid(path, `it has ${fileBytes} bytes, fewer than a GGUF header`);
  const handle = await open(path, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(24), 0, 24, 0);
    const magic = buffer.toString('latin1', 0, 4);
    if (magic !== 'GGUF')
      throw invalid(path, `its header cannot be read (it starts with ${JSON.stringify(magic)}, not "GGUF")`);
    const version = buffer.readUInt32LE(4);
    if (version !== 2 && version !== 3) throw invalid(path, `GGUF version ${version} is not supported`);
    const tensors = buffer.readBigUInt64LE(8);
    if (tensors < 1n || tensors > BigInt(GGUF_LIMITS.tensorCount))
      throw invalid(path, `it declares ${tensors} tensors (at most ${GGUF_LIMITS.tensorCount})`);
    const kvs = buffer.readBigUInt64LE(16);
    if (kvs > BigInt(GGUF_LIMITS.metadataCount))
      throw invalid(path, `it declares ${kvs} metadata entries (at most ${GGUF_LIMITS.metadataCount})`);
  } finally {
    await handle.close();
  }
}

type NodeLlamaCpp = typeof import('node-llama-cpp');
let library: Promise<NodeLlamaCpp> | undefined;
let llamaForEstimates: Promise<Llama> | undefined;

/** node-llama-cpp, loaded on first use: a runtime that never touches a GGUF file never loads it. */
function lib(): Promise<NodeLlamaCpp> {
  library ??= import('node-llama-cpp');
  return library;
}

/**
 * node-llama-cpp's resource estimates need its binding for the ggml type sizes. The binding is loaded
 * once in this process for that; models themselves are only ever loaded in workers.
 */
function estimator(): Promise<Llama> {
  llamaForEstimates ??= lib().then(({ getLlama, LlamaLogLevel }) =>
    getLlama({
      build: 'never',
      gpu: false,
      skipDownload: true,
      logLevel: LlamaLogLevel.error,
      progressLogs: false,
    }),
  );
  return llamaForEstimates;
}

function invalid(path: string, problem: string, details: Record<string, unknown> = {}): RuntimeError {
  return new RuntimeError('invalid_model', `${path} is not a usable GGUF model: ${problem}`, {
    path,
    ...details,
  });
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

function quantization(GgufFileType: NodeLlamaCpp['GgufFileType'], fileType: number | undefined): string {
  if (fileType === undefined) return 'unknown';
  const name = (GgufFileType as unknown as Record<number, string | undefined>)[fileType];
  return name === undefined ? `type ${fileType}` : name.replace(/^MOSTLY_/, '');
}

/** Checks the metadata keys llama.cpp reads unconditionally for a decoder model. */
function checkMetadata(path: string, info: GgufFileInfo): void {
  const general = info.metadata.general as { architecture?: unknown } | undefined;
  const arch = general?.architecture;
  if (typeof arch !== 'string' || arch === '')
    throw invalid(path, 'metadata key general.architecture is missing');
  const archMeta = info.architectureMetadata as Record<string, unknown>;
  const attention = (archMeta.attention ?? {}) as Record<string, unknown>;
  const required: [string, unknown, number][] = [
    [`${arch}.context_length`, archMeta.context_length, GGUF_LIMITS.contextLength],
    [`${arch}.embedding_length`, archMeta.embedding_length, GGUF_LIMITS.embeddingLength],
    [`${arch}.block_count`, archMeta.block_count, GGUF_LIMITS.blockCount],
    [`${arch}.attention.head_count`, attention.head_count, GGUF_LIMITS.headCount],
  ];
  for (const [key, raw, max] of required) {
    const value = num(raw);
    if (value === undefined) throw invalid(path, `metadata key ${key} is missing`, { key });
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw invalid(path, `metadata key ${key} is ${String(raw)}, outside 1..${max}`, { key });
  }
  const embd = num(archMeta.embedding_length) ?? 0;
  const heads = num(attention.head_count) ?? 1;
  if (embd % heads !== 0)
    throw invalid(path, `${arch}.embedding_length ${embd} is not a multiple of head_count ${heads}`);
  const tokenizer = info.metadata.tokenizer as { ggml?: Record<string, unknown> } | undefined;
  const ggml = tokenizer?.ggml;
  if (typeof ggml?.model !== 'string') throw invalid(path, 'metadata key tokenizer.ggml.model is missing');
  const tokens = ggml.tokens;
  if (!Array.isArray(tokens) || tokens.length === 0)
    throw invalid(path, 'metadata key tokenizer.ggml.tokens is missing or empty');
  if (tokens.length > GGUF_LIMITS.vocabSize)
    throw invalid(path, `the vocabulary has ${tokens.length} tokens, over ${GGUF_LIMITS.vocabSize}`);
  // Two tokens with one text abort llama.cpp (not an exception: the process dies).
  const seen = new Set<unknown>();
  for (const [i, t] of tokens.entries()) {
    if (seen.has(t))
      throw invalid(path, `token ${i} (${JSON.stringify(t)}) appears twice in tokenizer.ggml.tokens`);
    seen.add(t);
  }
  for (const key of ['token_type', 'scores'] as const) {
    const list = ggml[key];
    if (list !== undefined && (!Array.isArray(list) || list.length !== tokens.length))
      throw invalid(path, `tokenizer.ggml.${key} does not have one entry per token (${tokens.length})`);
  }
  for (const key of ['bos_token_id', 'eos_token_id', 'unknown_token_id', 'padding_token_id'] as const) {
    const id = num(ggml[key]);
    if (id !== undefined && (id < 0 || id >= tokens.length))
      throw invalid(path, `tokenizer.ggml.${key} ${id} is not a token of the vocabulary`);
  }
}

/**
 * Validates a GGUF file and describes it: name, architecture, parameters, quantization, context
 * length and node-llama-cpp's estimate of the RAM a model plus a `contextSize` context will take.
 * Throws `invalid_model` with the specific problem.
 */
export async function inspectGguf(path: string, contextSize: number): Promise<ModelDescription> {
  let fileBytes: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw invalid(path, 'it is not a file');
    fileBytes = s.size;
  } catch (err) {
    if (err instanceof RuntimeError) throw err;
    throw new RuntimeError('unknown_model', `model file ${path} cannot be read: ${(err as Error).message}`, {
      path,
    });
  }
  await checkHeader(path, fileBytes);
  let info: GgufFileInfo;
  try {
    info = await (await lib()).readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false });
  } catch (err) {
    throw invalid(path, `its header cannot be read (${(err as Error).message})`);
  }
  if (info.version !== 2 && info.version !== 3)
    throw invalid(path, `GGUF version ${info.version} is not supported`);
  const tensorCount = num(info.tensorCount) ?? 0;
  if (tensorCount < 1 || tensorCount > GGUF_LIMITS.tensorCount)
    throw invalid(path, `it declares ${tensorCount} tensors`);
  checkMetadata(path, info);
  const { GgufInsights, GgufFileType } = await lib();
  const insights = await GgufInsights.from(info, await estimator());
  const dataStart = info.infoEndOffset ?? 0;
  if (dataStart + insights.modelSize > fileBytes)
    throw invalid(
      path,
      `it is truncated: its tensors need ${dataStart + insights.modelSize} bytes, the file has ${fileBytes}`,
    );
  const trainContext = insights.trainContextSize ?? contextSize;
  const context = Math.min(contextSize, trainContext);
  const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers: 0 });
  const ctx = await insights.estimateContextResourceRequirementsV2({
    contextSize: context,
    modelGpuLayers: 0,
  });
  const general = info.metadata.general as { name?: unknown; file_type?: unknown; architecture: string };
  return {
    name:
      typeof general.name === 'string' && general.name !== ''
        ? general.name
        : (path.split(/[\\/]/).pop() ?? path),
    architecture: general.architecture,
    parameters: insights.totalParameters,
    quantization: quantization(GgufFileType, num(general.file_type)),
    contextLength: trainContext,
    fileBytes,
    estimatedBytes: model.cpuRam + ctx.cpuRam,
  };
}
