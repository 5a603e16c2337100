import { ACTION_PREFIX } from '../../../shared/proposals';
import type { ScriptedModel } from '../../../shared/scenario';
import type { Clock } from '../core/clock';
import { hashCanonical, sha256Hex } from '../core/hash';
import type { GenerationRequest, LoadedModel, LoadOptions, ModelBackend, TokenChunk } from './backend';

/**
 * The `scripted` backend: NOT a language model. It streams a reply chosen deterministically from a
 * script at a fixed pace, so tests, benchmarks and demos get real streaming behaviour (timing,
 * cancellation, backpressure) with reproducible text.
 */
export interface ScriptedBackendOptions {
  readonly clock: Clock;
  /** Delay before each token, ms. At 0, yields to the event loop every 16 tokens. Default 30. */
  readonly tokenIntervalMs?: number;
  /** Simulated load time, ms, reported as progress in 4 steps. Default 0. */
  readonly loadMs?: number;
  /** Scripted models by model id (from scenarios' `scripted_models`). */
  readonly models?: Readonly<Record<string, ScriptedModel>>;
  /**
   * Picks the reply for a request, for models not in `models`. Default: one of SCRIPTED_LINES by a
   * hash of the last user line.
   */
  readonly script?: (request: GenerationRequest) => string;
  /** For tests of failure paths: throw after this many tokens. */
  readonly failAfterTokens?: number;
}

export const SCRIPTED_LINES: readonly string[] = [
  'Welcome, traveller. The hearth is warm and the stew is hot, if you have coin for it.',
  'Roads north are thick with bandits since the bridge fell. I would wait for the caravan.',
  'That name I have not heard in many winters. Ask the old miller; he remembers everything.',
  'A room is four silver a night. Breakfast is included, though the cook is in a mood.',
  'Keep your voice down. The men by the door are not what they seem.',
];

const YIELD_EVERY = 16;

/** Splits text into word tokens that keep their leading space, like a BPE tokenizer would. */
export function scriptedTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function lastUserLine(request: GenerationRequest): string {
  return [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}

function pick<T>(list: readonly T[], key: string): T {
  return list[Number.parseInt(sha256Hex(key).slice(0, 8), 16) % list.length] as T;
}

function defaultScript(request: GenerationRequest): string {
  return pick(SCRIPTED_LINES, lastUserLine(request));
}

/**
 * A scenario's scripted model: the first reply with a keyword in the player's lowercased line, its
 * actions written as `ACTION` lines exactly as a model would (docs/actions.md); else a fallback line.
 */
export function scriptedModelReply(model: ScriptedModel, request: GenerationRequest): string {
  const line = lastUserLine(request).toLowerCase();
  const reply = model.replies.find((r) => r.when.some((w) => line.includes(w.toLowerCase())));
  if (reply === undefined) return pick(model.fallback, line);
  return [reply.say, ...reply.actions.map((a) => `${ACTION_PREFIX} ${JSON.stringify(a)}`)].join('\n');
}

export class ScriptedBackend implements ModelBackend {
  readonly kind = 'scripted';
  private readonly loaded = new Set<string>();

  constructor(private readonly options: ScriptedBackendOptions) {}

  async load(modelId: string, options: LoadOptions = {}): Promise<LoadedModel> {
    const { clock, loadMs = 0 } = this.options;
    const steps = 4;
    for (let i = 1; i <= steps; i++) {
      if (loadMs > 0) await clock.sleep(loadMs / steps, options.signal);
      options.onProgress?.(i / steps);
    }
    this.loaded.add(modelId);
    const scripted = this.options.models?.[modelId];
    const script =
      scripted === undefined
        ? (this.options.script ?? defaultScript)
        : (request: GenerationRequest) => scriptedModelReply(scripted, request);
    const interval = this.options.tokenIntervalMs ?? 30;
    const failAfter = this.options.failAfterTokens;
    return {
      info: {
        ref: { backend: this.kind, model_id: modelId },
        contentHash:
          scripted === undefined
            ? sha256Hex(`scripted:${modelId}:${this.options.script === undefined ? 'default' : 'custom'}`)
            : hashCanonical({ scripted: modelId, model: scripted }),
        contextLength: 4096,
      },
      async *stream(request: GenerationRequest, signal: AbortSignal): AsyncGenerator<TokenChunk> {
        const tokens = scriptedTokens(script(request)).slice(0, request.sampling.maxTokens);
        for (let i = 0; i < tokens.length; i++) {
          if (failAfter !== undefined && i >= failAfter)
            throw new Error(`scripted backend failed on purpose after ${failAfter} tokens`);
          // At pace 0 the script runs as fast as the runtime takes it, yielding to the event loop
          // every YIELD_EVERY tokens so cancels and socket I/O still interleave.
          if (interval > 0 || i % YIELD_EVERY === YIELD_EVERY - 1) await clock.sleep(interval, signal);
          else if (signal.aborted) throw signal.reason;
          yield { text: tokens[i] as string };
        }
      },
      unload: () => {
        this.loaded.delete(modelId);
        return Promise.resolve();
      },
    };
  }

  dispose(): Promise<void> {
    this.loaded.clear();
    return Promise.resolve();
  }
}
