import type { PromptPiece } from '../chat-format';

/**
 * Messages between the runtime and a llama.cpp worker process (one process per loaded model). The
 * worker holds exactly one model; `load` is its first request and `shutdown` its last.
 */
export type ToWorker =
  | {
      readonly type: 'load';
      readonly id: number;
      readonly path: string;
      readonly contextSize: number;
      readonly threads: number;
    }
  | {
      readonly type: 'generate';
      readonly id: number;
      readonly prompt: readonly PromptPiece[];
      readonly maxTokens: number;
      readonly temperature: number;
      readonly topP: number;
      readonly seed: number;
    }
  | { readonly type: 'abort'; readonly id: number }
  | { readonly type: 'ping'; readonly id: number }
  | { readonly type: 'shutdown' }
  /** Test hook, honoured only when the worker runs with PARLEY_WORKER_TEST_HOOKS=1: block the JS thread. */
  | { readonly type: 'test_hang'; readonly ms: number };

export interface LoadedFacts {
  readonly contextSize: number;
  readonly threads: number;
  readonly trainContextSize: number;
  /** Bytes the model and its context take, as llama.cpp reports them. */
  readonly memoryBytes: number;
}

export type GenerateStop = 'eog' | 'max_tokens' | 'aborted';

export type FromWorker =
  | { readonly type: 'ready'; readonly pid: number }
  | { readonly type: 'progress'; readonly id: number; readonly progress: number }
  | { readonly type: 'loaded'; readonly id: number; readonly facts: LoadedFacts }
  | { readonly type: 'chunk'; readonly id: number; readonly text: string; readonly tokens: number }
  | {
      readonly type: 'done';
      readonly id: number;
      readonly tokens: number;
      readonly stop: GenerateStop;
      /** Milliseconds from the request to its first token, measured inside the worker. */
      readonly firstTokenMs: number | null;
    }
  | { readonly type: 'pong'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/** Environment variable that enables `test_hang` in a worker. */
export const WORKER_TEST_HOOKS_ENV = 'PARLEY_WORKER_TEST_HOOKS';
