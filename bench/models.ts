/**
 * Local models (section 5 of bench/run.ts): the runtime's time to first token and tokens/s against
 * calling node-llama-cpp directly on the same model file, prompt, sampling and thread count; cold
 * versus warm time to first token; load time hidden by prewarm.
 *
 * Runtime side: a real session of a real runtime in this process, its NPC speaking through a worker
 * process; time from `startTurn` to the first and last `token_delta` the session publishes (agent
 * planning, model selection, worker IPC and event publishing included). Direct side: node-llama-cpp
 * in this process, the same `LlamaCompletion` call the worker makes, from the call to the first and
 * last text chunk. Both keep their context between rounds, so both reuse the prompt's KV cache alike.
 * Rounds alternate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getLlama, LlamaCompletion, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { initialWorldState } from '../src/shared/scenario';
import { BUILTIN_SCENARIOS } from '../src/main/runtime/authority/builtin-scenarios';
import type { LoadedScenario } from '../src/main/runtime/authority/scenario-loader';
import { buildPrompt, npcConfig } from '../src/main/runtime/interaction/npc';
import { chatPromptPieces } from '../src/main/runtime/models/chat-format';
import { inspectGguf } from '../src/main/runtime/models/llama/gguf-inspect';
import {
  EMBEDDED_MODEL_ID,
  embeddedModelPath,
  LlamaBackend,
  threadsFor,
} from '../src/main/runtime/models/llama/llama-backend';
import { createRuntime, type ParleyRuntime } from '../src/main/runtime/runtime';
import type { EventEnvelope } from '../src/shared/protocol';
import { writeTinyModel } from '../src/main/runtime/testing/tiny-models';

export interface Timing {
  /** ms from the request to the first text chunk. */
  readonly ttft: number;
  /** Model tokens after the first, per second from the first text chunk to the last. */
  readonly tokensPerSecond: number;
  /** Model tokens generated. */
  readonly tokens: number;
  /** Text chunks delivered (the worker sends text produced while a send is pending in one chunk). */
  readonly chunks: number;
}

export interface ModelBenchResult {
  readonly model: string;
  readonly parameters: number;
  readonly threads: number;
  readonly promptChars: number;
  readonly maxTokens: number;
  readonly runtime: Timing[];
  readonly direct: Timing[];
  readonly cold: { readonly ttft: number; readonly loadMs: number };
  readonly warm: Timing;
  readonly prewarm: { readonly hiddenMs: number; readonly ttft: number; readonly trigger: string };
}

function benchScenario(): LoadedScenario {
  const found = BUILTIN_SCENARIOS.find((s) => s.scenario.id === 'wayside-inn');
  if (found === undefined) throw new Error('the built-in scenario wayside-inn is missing');
  return found;
}
const SCENARIO = benchScenario();
const PLAYER_LINE = 'Good evening! What do you have for a tired traveller?';

function timing(start: number, first: number, last: number, tokens: number, chunks: number): Timing {
  return {
    ttft: first - start,
    tokensPerSecond: tokens > 1 && last > first ? ((tokens - 1) * 1000) / (last - first) : 0,
    tokens,
    chunks,
  };
}

/** The model file: the embedded model, else a generated one of the same order of size. */
/**
 * `embedded`: the shipped model (a generated one of its size when the file is missing). `larger`: a
 * generated model of about 25M parameters, where generation, not fixed per-turn costs, dominates.
 */
export type BenchModel = 'embedded' | 'larger';

async function benchModel(
  scratch: string,
  which: BenchModel,
): Promise<{ path: string; modelsDir: string; id: string }> {
  const embedded = embeddedModelPath();
  if (which === 'embedded' && embedded !== undefined)
    return { path: embedded, modelsDir: dirname(embedded), id: EMBEDDED_MODEL_ID };
  const path = await writeTinyModel(scratch, {
    name: `bench-${which}`,
    embeddingLength: which === 'larger' ? 512 : 256,
    blockCount: which === 'larger' ? 8 : 4,
    contextLength: 2048,
    fileType: 'F16',
  });
  return { path, modelsDir: scratch, id: basename(path, '.gguf') };
}

async function runtimeTurn(
  runtime: ParleyRuntime,
  sessionId: string,
  text: string,
): Promise<{ timing: Timing; events: EventEnvelope[] }> {
  const llama = runtime.models.backend('llama');
  if (!(llama instanceof LlamaBackend)) throw new Error('the bench runtime has no llama backend');
  let tokens = 0;
  llama.observer = (r) => {
    tokens = r.tokens;
  };
  const session = runtime.manager.get(sessionId);
  const events: EventEnvelope[] = [];
  let first = 0;
  let last = 0;
  let chunks = 0;
  const sub = session.subscribe(
    {
      deliver: (e) => {
        if (e.type === 'token_delta') {
          const now = performance.now();
          if (chunks === 0) first = now;
          last = now;
          chunks++;
        }
        events.push(e);
        return true;
      },
      ended: () => undefined,
    },
    { fromSeq: session.lastSeq + 1, policy: 'drop_telemetry' },
  );
  const start = performance.now();
  session.startTurn(text);
  await session.whenIdle();
  sub.close();
  const end = events.at(-1)?.type;
  if (end !== 'commit_succeeded' && end !== 'commit_failed')
    throw new Error(`bench turn ended with ${String(end)}: ${JSON.stringify(events.at(-1)?.payload)}`);
  return { timing: timing(start, first, last, tokens, chunks), events };
}

export async function modelBench(options: {
  rounds: number;
  maxTokens: number;
  model: BenchModel;
}): Promise<ModelBenchResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'parley-bench-models-'));
  const runtimes: ParleyRuntime[] = [];
  const make = (prewarm: boolean): ParleyRuntime => {
    const rt = createRuntime({
      dataDir: mkdtempSync(join(scratch, 'data-')),
      models: { modelsDir: model.modelsDir, defaultModel: ref, pool: { prewarm } },
      agents: { measureEventLoop: false },
    });
    runtimes.push(rt);
    return rt;
  };
  const model = await benchModel(scratch, options.model);
  const ref = { backend: 'llama', model_id: model.id };
  try {
    const description = await inspectGguf(model.path, 2048);
    const threads = threadsFor(description.parameters);
    const npcId = SCENARIO.scenario.default_npc;
    const npc = npcConfig(SCENARIO.scenario, npcId);
    const sampling = { ...npc.sampling, maxTokens: options.maxTokens, temperature: 0.8, seed: 42 };
    const request = buildPrompt(
      SCENARIO.scenario,
      { ...npc, sampling },
      initialWorldState(SCENARIO.scenario),
      PLAYER_LINE,
    );

    // Cold: a fresh runtime's first turn pays for the worker and the load.
    const coldRt = make(false);
    const coldSession = coldRt.manager.createSession(SCENARIO.scenario.id, npcId);
    coldRt.npcSettings.set(SCENARIO.scenario.id, npcId, {
      sampling: { max_tokens: options.maxTokens, temperature: 0.8, seed: 42 },
    });
    const cold = await runtimeTurn(coldRt, coldSession.id, PLAYER_LINE);
    const ready = cold.events.find((e) => e.type === 'model_ready');
    const warm = await runtimeTurn(coldRt, coldSession.id, PLAYER_LINE);

    // Direct: node-llama-cpp in this process, as the worker calls it.
    const llama = await getLlama({
      build: 'never',
      gpu: false,
      skipDownload: true,
      logLevel: LlamaLogLevel.error,
      progressLogs: false,
    });
    const direct = await llama.loadModel({ modelPath: model.path, gpuLayers: 0 });
    const context = await direct.createContext({
      contextSize: Math.min(2048, direct.trainContextSize),
      threads,
      sequences: 1,
    });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const pieces = chatPromptPieces(request.messages);
    const directTurn = async (): Promise<Timing> => {
      let first = 0;
      let last = 0;
      let chunks = 0;
      let generated = 0;
      const start = performance.now();
      // Tokenizing is part of the call, as for any caller that has a prompt, not tokens.
      const tokens: Token[] = pieces.flatMap((p) => direct.tokenize(p.text, p.control));
      await completion.generateCompletion(tokens, {
        maxTokens: sampling.maxTokens,
        temperature: sampling.temperature,
        topP: sampling.topP,
        seed: sampling.seed,
        onToken: (t) => {
          generated += t.length;
        },
        onTextChunk: () => {
          const now = performance.now();
          if (chunks === 0) first = now;
          last = now;
          chunks++;
        },
      });
      return timing(start, first, last, generated, chunks);
    };
    await directTurn(); // warm-up, like the runtime's cold turn
    const runtimeTimings: Timing[] = [];
    const directTimings: Timing[] = [];
    for (let i = 0; i < options.rounds; i++) {
      runtimeTimings.push((await runtimeTurn(coldRt, coldSession.id, PLAYER_LINE)).timing);
      directTimings.push(await directTurn());
    }
    await context.dispose();
    await direct.dispose();
    await llama.dispose();

    // Prewarm: a session opens, the designer takes a moment to type, the turn finds the model ready.
    const warmRt = make(true);
    const session = warmRt.manager.createSession(SCENARIO.scenario.id, npcId);
    warmRt.npcSettings.set(SCENARIO.scenario.id, npcId, {
      sampling: { max_tokens: options.maxTokens, temperature: 0.8, seed: 42 },
    });
    const deadline = performance.now() + 60_000;
    while (warmRt.models.status().models[0]?.state !== 'ready') {
      if (performance.now() > deadline) throw new Error('prewarm did not finish in 60 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const pre = await runtimeTurn(warmRt, session.id, PLAYER_LINE);
    const selected = pre.events.find((e) => e.type === 'model_selected');
    const credit = selected?.type === 'model_selected' ? selected.payload.prewarm : null;

    return {
      model: `${model.id} (${description.quantization}, ${(description.fileBytes / 1024 ** 2).toFixed(1)} MB)`,
      parameters: description.parameters,
      threads,
      promptChars: request.messages.reduce((n, m) => n + m.content.length, 0),
      maxTokens: options.maxTokens,
      runtime: runtimeTimings,
      direct: directTimings,
      cold: { ttft: cold.timing.ttft, loadMs: ready?.type === 'model_ready' ? ready.payload.load_ms : 0 },
      warm: warm.timing,
      prewarm: {
        hiddenMs: credit?.hidden_ms ?? 0,
        ttft: pre.timing.ttft,
        trigger: credit?.trigger ?? 'none',
      },
    };
  } finally {
    await Promise.allSettled(runtimes.map((r) => r.dispose()));
    rmSync(scratch, { recursive: true, force: true });
  }
}
