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

/** What a backend can tell about a model before loading it (discovery, validation, memory budget). */
export interface ModelDescription {
  readonly name: string;
  readonly architecture: string;
  readonly parameters: number;
  /** e.g. F16, Q4_K_M. */
  readonly quantization: string;
  /** The context length the model was trained with. */
  readonly contextLength: number;
  readonly fileBytes: number;
  /** Estimated RAM of the loaded model and its context, bytes. */
  readonly estimatedBytes: number;
}

/** A model a backend offers (model discovery); `error` when it was found but is not usable. */
export interface ListedModel {
  readonly modelId: string;
  readonly path?: string;
  readonly description: ModelDescription | null;
  readonly error: string | null;
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
  /** Validates and describes a model without loading it. Throws `unknown_model`/`invalid_model`. */
  describe?(modelId: string): Promise<ModelDescription>;
  /** The models this backend can load (model discovery). */
  list?(): Promise<ListedModel[]>;
  /** Releases every model and resource the backend holds. */
  dispose(): Promise<void>;
}

export interface LoadedModel {
  readonly info: ModelInfo;
  /** The process that holds the model, when it runs in one. */
  readonly pid?: number | undefined;
  /** RAM the loaded model takes, bytes, when the backend knows. */
  readonly memoryBytes?: number;
  /**
   * Settles once if the model dies on its own (worker crash, watchdog kill), with the reason. A
   * stream in flight when that happens throws. Not settled by `unload`.
   */
  readonly died?: Promise<Error>;
  stream(request: GenerationRequest, signal: AbortSignal): AsyncIterable<TokenChunk>;
  unload(): Promise<void>;
}
