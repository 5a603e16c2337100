/**
 * A llama.cpp worker process: holds one model, streams completions for the runtime, and nothing else.
 * A native crash here kills this process, never the runtime. It speaks worker-protocol.ts over the
 * parent channel (Node's child_process IPC, or Electron's utilityProcess parentPort).
 *
 * Prompts come as pieces: markers are tokenized as control tokens and message text as plain text, so
 * text cannot smuggle control tokens in. Models that do not use Parley's chat format get their own
 * chat template through node-llama-cpp's chat wrapper resolution instead.
 */
import {
  getLlama,
  LlamaCompletion,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatHistoryItem,
  type Llama,
  type LlamaContext,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { CHAT_TOKENS, CONTROL_TOKENS, type PromptPiece } from '../chat-format';
import { WORKER_TEST_HOOKS_ENV, type FromWorker, type GenerateStop, type ToWorker } from './worker-protocol';

interface Channel {
  send(message: FromWorker): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

/** The parent channel: Electron's `process.parentPort` in a utilityProcess, else Node's IPC. */
function parentChannel(): Channel {
  const port = (
    process as unknown as { parentPort?: NodeJS.EventEmitter & { postMessage(m: unknown): void } }
  ).parentPort;
  if (port !== undefined)
    return {
      send: (m) => {
        port.postMessage(m);
      },
      onMessage: (listener) => {
        port.on('message', (e: { data: ToWorker }) => {
          listener(e.data);
        });
      },
    };
  if (process.send === undefined) {
    process.stderr.write('llama-worker: no parent channel; start it through the runtime\n');
    process.exit(2);
  }
  return {
    send: (m) => {
      process.send?.(m);
    },
    onMessage: (listener) => {
      process.on('message', (m) => {
        listener(m as ToWorker);
      });
    },
  };
}

const channel = parentChannel();
let llama: Llama | undefined;
let model: LlamaModel | undefined;
let context: LlamaContext | undefined;
let completion: LlamaCompletion | undefined;
let parleyFormat = false;
const running = new Map<number, AbortController>();

function fail(id: number, err: unknown): void {
  channel.send({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
}

async function load(msg: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  if (model !== undefined) throw new Error('this worker already holds a model');
  llama = await getLlama({
    build: 'never',
    gpu: false,
    skipDownload: true,
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
  });
  model = await llama.loadModel({
    modelPath: msg.path,
    gpuLayers: 0,
    onLoadProgress: (progress) => {
      channel.send({ type: 'progress', id: msg.id, progress: Math.min(1, Math.max(0, progress)) * 0.9 });
    },
  });
  context = await model.createContext({
    contextSize: Math.min(msg.contextSize, model.trainContextSize),
    threads: msg.threads,
    sequences: 1,
  });
  completion = new LlamaCompletion({ contextSequence: context.getSequence() });
  // Parley's own models have the four chat markers as single control tokens.
  parleyFormat = CONTROL_TOKENS.every((t) => model?.tokenize(t, true).length === 1);
  channel.send({
    type: 'loaded',
    id: msg.id,
    facts: {
      contextSize: context.contextSize,
      threads: msg.threads,
      trainContextSize: model.trainContextSize,
      memoryBytes: model.size + context.stateSize,
    },
  });
}

/**
 * Tokenized prompt pieces, most recent last. Turns repeat most of their prompt (the system message
 * changes only when the world does), so most pieces are found here.
 */
const pieceTokens = new Map<string, Token[]>();
const PIECE_CACHE = 64;

function tokenizePiece(m: LlamaModel, p: PromptPiece): Token[] {
  const key = `${p.control ? 'c' : 't'}${p.text}`;
  let tokens = pieceTokens.get(key);
  if (tokens === undefined) {
    tokens = m.tokenize(p.text, p.control);
    if (pieceTokens.size >= PIECE_CACHE) pieceTokens.delete(pieceTokens.keys().next().value ?? '');
  } else pieceTokens.delete(key);
  pieceTokens.set(key, tokens);
  return tokens;
}

function promptTokens(m: LlamaModel, pieces: readonly PromptPiece[]): Token[] {
  if (parleyFormat) return pieces.flatMap((p) => tokenizePiece(m, p));
  // Any other model: rebuild the chat and let its own template format it.
  const history: ChatHistoryItem[] = [];
  let role: 'system' | 'user' | 'assistant' | undefined;
  for (const p of pieces) {
    if (p.control) {
      if (p.text === CHAT_TOKENS.system) role = 'system';
      else if (p.text === CHAT_TOKENS.user) role = 'user';
      else if (p.text === CHAT_TOKENS.assistant) role = 'assistant';
      continue;
    }
    const text = p.text.replace(/^\n/, '');
    if (text === '' || role === undefined || role === 'assistant') continue;
    history.push(role === 'system' ? { type: 'system', text } : { type: 'user', text });
    role = undefined;
  }
  history.push({ type: 'model', response: [] });
  const wrapper = resolveChatWrapper(m);
  const { contextText } = wrapper.generateContextState({ chatHistory: history });
  return contextText.tokenize(m.tokenizer);
}

async function generate(msg: Extract<ToWorker, { type: 'generate' }>): Promise<void> {
  if (model === undefined || completion === undefined) throw new Error('no model is loaded');
  const abort = new AbortController();
  running.set(msg.id, abort);
  const started = performance.now();
  let firstTokenMs: number | null = null;
  let tokens = 0;
  // Text goes out on the next turn of the event loop, which comes while llama.cpp computes the next
  // token on its own thread: sending overlaps generation instead of delaying it. Text produced
  // meanwhile travels in the same message.
  let pending = '';
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    if (pending === '') return;
    channel.send({ type: 'chunk', id: msg.id, text: pending, tokens });
    pending = '';
  };
  try {
    const result = await completion.generateCompletionWithMeta(promptTokens(model, msg.prompt), {
      maxTokens: msg.maxTokens,
      temperature: msg.temperature,
      topP: msg.topP,
      seed: msg.seed,
      signal: abort.signal,
      stopOnAbortSignal: true,
      onToken: (t) => {
        tokens += t.length;
      },
      onTextChunk: (text) => {
        firstTokenMs ??= performance.now() - started;
        pending += text;
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      },
    });
    flush(); // before `done`, so nothing follows it
    const reason = result.metadata.stopReason;
    const stop: GenerateStop =
      reason === 'abort' || abort.signal.aborted ? 'aborted' : reason === 'maxTokens' ? 'max_tokens' : 'eog';
    channel.send({ type: 'done', id: msg.id, tokens, stop, firstTokenMs });
  } finally {
    running.delete(msg.id);
  }
}

function hang(ms: number): void {
  if (process.env[WORKER_TEST_HOOKS_ENV] !== '1') return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function shutdown(): Promise<void> {
  for (const a of running.values()) a.abort();
  await context?.dispose();
  await model?.dispose();
  await llama?.dispose();
  process.exit(0);
}

channel.onMessage((msg) => {
  switch (msg.type) {
    case 'load':
      load(msg).catch((err: unknown) => {
        fail(msg.id, err);
      });
      return;
    case 'generate':
      generate(msg).catch((err: unknown) => {
        fail(msg.id, err);
      });
      return;
    case 'abort':
      running.get(msg.id)?.abort();
      return;
    case 'ping':
      channel.send({ type: 'pong', id: msg.id });
      return;
    case 'test_hang':
      hang(msg.ms);
      return;
    case 'shutdown':
      void shutdown();
      return;
  }
});
// The runtime gone means nothing is left to serve.
process.on('disconnect', () => {
  process.exit(0);
});
channel.send({ type: 'ready', pid: process.pid });
