import type { ModelRef } from '../../../shared/protocol';

/** A chat message given to a model. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface SamplingParams {
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number;
  /** Recorded in provenance; backends that cannot seed say so in ModelInfo. */
  readonly seed: number;
}

export const DEFAULT_SAMPLING: SamplingParams = { temperature: 0.7, topP: 0.95, maxTokens: 256, seed: 1 };

export interface GenerationRequest {
  readonly messages: readonly ChatMessage[];
  readonly sampling: SamplingParams;
}

/** One streamed piece of the reply: one or more model tokens decoded to text. */
export interface TokenChunk {
  readonly text: string;
}

export interface ModelInfo {
  readonly ref: ModelRef;
  /** Content hash of the weights or script, recorded in provenance. */
  readonly contentHash: string;
  readonly contextLength: number;
}

export interface LoadOptions {
  readonly signal?: AbortSignal;
  /** Load progress in 0..1, monotonically non-decreasing. */
  readonly onProgress?: (progress: number) => void;
}

/**
 * The seam between the runtime and whatever produces tokens. Implementations: the deterministic
 * `scripted` backend (tests, demos) and, later, llama.cpp workers and OpenAI-compatible servers.
 *
 * Abort is by AbortSignal: `load` and `stream` stop promptly when their signal aborts. A stream that
 * is aborted ends by throwing the signal's reason (or simply ending); the caller ignores either once
 * it has aborted.
 */
export interface ModelBackend {
  /** Backend kind, as in `ModelRef.backend`. */
  readonly kind: string;
  load(modelId: string, options?: LoadOptions): Promise<LoadedModel>;
  /** Releases every model and resource the backend holds. */
  dispose(): Promise<void>;
}

export interface LoadedModel {
  readonly info: ModelInfo;
  stream(request: GenerationRequest, signal: AbortSignal): AsyncIterable<TokenChunk>;
  unload(): Promise<void>;
}
