import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import { sha256Hex } from '../core/hash';
import type { GenerationRequest, LoadedModel, LoadOptions, ModelBackend, TokenChunk } from './backend';

/**
 * The `openai` backend: any server speaking the OpenAI chat-completions API with SSE streaming —
 * Ollama, LM Studio, the llama.cpp server, vLLM. It holds no model itself; a "loaded" model is just
 * a checked (endpoint, model id) pair, so the only resources are in-flight HTTP requests.
 */
export interface OpenAiCompatibleBackendOptions {
  /**
   * The API root including `/v1`, without a trailing path: Ollama `http://127.0.0.1:11434/v1`,
   * LM Studio `http://127.0.0.1:1234/v1`, llama.cpp server `http://127.0.0.1:8080/v1`,
   * vLLM `http://127.0.0.1:8000/v1`. Trailing slashes are ignored.
   */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. Local servers usually need none. */
  readonly apiKey?: string;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /**
   * Bound on `load`'s whole request, and on `stream`'s wait for response headers (a reply itself is
   * bounded only by the caller's signal and `max_tokens`). Default 120 000: servers like Ollama load
   * the weights on the first request, and the headers wait for that.
   */
  readonly requestTimeoutMs?: number;
  /** Drives the request timeout. Default: the system clock. */
  readonly clock?: Clock;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

/**
 * Context length reported when the server does not say. Only vLLM (`max_model_len`) and a few
 * others (`context_length`, `max_context_length`) put it in `/models`; Ollama, LM Studio's `/v1` and
 * the llama.cpp server do not (llama.cpp's `meta.n_ctx_train` is the training context, not the
 * served one, so it is ignored). 4096 is what Ollama serves by default.
 */
export const DEFAULT_CONTEXT_LENGTH = 4096;

/** Characters of a server's response quoted in an error message. */
const EXCERPT_CHARS = 300;
/** Model ids named in an "unknown model" error. */
const MAX_LISTED_IDS = 20;
/** A single SSE event larger than this is a broken server, not a token. */
const MAX_SSE_BUFFER_CHARS = 1 << 20;

const ModelList = z.object({
  data: z.array(z.looseObject({ id: z.string() })),
});

const ChatChunk = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  error: z.union([z.string(), z.looseObject({ message: z.string().optional() })]).nullish(),
});

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= EXCERPT_CHARS ? flat : `${flat.slice(0, EXCERPT_CHARS)}…`;
}

function causeOf(err: unknown): string {
  // Node's fetch rejects with `TypeError: fetch failed`; the useful part (ECONNREFUSED, ENOTFOUND) is the cause.
  if (err instanceof Error && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

function contextLengthOf(entry: Record<string, unknown>): number {
  for (const key of ['max_model_len', 'context_length', 'max_context_length']) {
    const value = entry[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  }
  return DEFAULT_CONTEXT_LENGTH;
}

/** Node's fetch types the body as `ReadableStream<any>`; it is bytes. */
function bodyReader(response: Response): ReadableStreamDefaultReader<Uint8Array> | undefined {
  return (response.body as ReadableStream<Uint8Array> | null)?.getReader();
}

/** Reads at most a few KB of an error response; a misbehaving server must not make us buffer its whole body. */
async function readExcerpt(response: Response): Promise<string> {
  const reader = bodyReader(response);
  if (reader === undefined) return '';
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < EXCERPT_CHARS * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // The excerpt is best effort; the status is the error.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return excerpt(text);
}

/** One HTTP request, linked to the caller's signal, the backend's dispose and the request timeout. */
interface Exchange {
  readonly response: Response;
  readonly signal: AbortSignal;
  /** Stops the request timeout (the stream has started; the caller's signal bounds it from here). */
  stopTimeout(): void;
  /** Ends the request, closing the connection if the body was not fully read. Idempotent. */
  close(): void;
}

export class OpenAiCompatibleBackend implements ModelBackend {
  readonly kind = 'openai';
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly inFlight = new Set<AbortController>();
  private disposed = false;

  constructor(private readonly options: OpenAiCompatibleBackendOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`OpenAiCompatibleBackend: baseUrl '${options.baseUrl}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError(`OpenAiCompatibleBackend: baseUrl '${options.baseUrl}' must be http or https`);
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(timeoutMs > 0))
      throw new TypeError(`OpenAiCompatibleBackend: requestTimeoutMs must be positive, got ${timeoutMs}`);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = timeoutMs;
    this.clock = options.clock ?? systemClock;
  }

  async load(modelId: string, options: LoadOptions = {}): Promise<LoadedModel> {
    this.assertOpen();
    options.onProgress?.(0);
    const url = `${this.baseUrl}/models`;
    const exchange = await this.send(url, { method: 'GET' }, options.signal);
    let body: unknown;
    try {
      if (!exchange.response.ok) throw await this.httpError('GET', url, exchange);
      try {
        body = await exchange.response.json();
      } catch (err) {
        if (exchange.signal.aborted) throw err;
        throw new RuntimeError('model_unavailable', `GET ${url} did not return JSON: ${causeOf(err)}`, {
          url,
        });
      }
    } catch (err) {
      throw exchange.signal.aborted ? exchange.signal.reason : err;
    } finally {
      exchange.close();
    }

    const list = ModelList.safeParse(body);
    if (!list.success)
      throw new RuntimeError(
        'model_unavailable',
        `GET ${url} did not return an OpenAI model list ({ data: [{ id }] }): ${excerpt(JSON.stringify(body))}`,
        { url },
      );
    const models = list.data.data;
    // Ollama lists `name:latest` but serves `name` as well.
    const entry = models.find((m) => m.id === modelId) ?? models.find((m) => m.id === `${modelId}:latest`);
    if (entry === undefined) {
      const ids = models.map((m) => m.id);
      const shown =
        ids.length === 0
          ? '(none)'
          : ids.slice(0, MAX_LISTED_IDS).join(', ') +
            (ids.length > MAX_LISTED_IDS ? `, and ${ids.length - MAX_LISTED_IDS} more` : '');
      throw new RuntimeError(
        'unknown_model',
        `model '${modelId}' is not available at ${this.baseUrl}; available: ${shown}`,
        {
          url,
          model_id: modelId,
          available: ids,
        },
      );
    }
    options.onProgress?.(1);

    const serverModel = entry.id;
    return {
      info: {
        ref: { backend: this.kind, model_id: modelId },
        // Identifies the endpoint and model name, NOT the weights: the server can swap what it serves
        // under a name, so provenance cannot prove which weights produced a reply.
        contentHash: sha256Hex(`openai\n${this.baseUrl}\n${modelId}`),
        contextLength: contextLengthOf(entry),
      },
      stream: (request, signal) => this.stream(serverModel, request, signal),
      // Nothing is held per model; in-flight streams end with their callers' signals or `dispose`.
      unload: () => Promise.resolve(),
    };
  }

  /** Aborts every in-flight request; later calls fail. */
  dispose(): Promise<void> {
    this.disposed = true;
    const reason = new RuntimeError(
      'model_unavailable',
      `the OpenAI-compatible backend for ${this.baseUrl} was disposed`,
    );
    for (const controller of [...this.inFlight]) controller.abort(reason);
    this.inFlight.clear();
    return Promise.resolve();
  }

  private async *stream(
    model: string,
    request: GenerationRequest,
    signal: AbortSignal,
  ): AsyncGenerator<TokenChunk> {
    this.assertOpen();
    const url = `${this.baseUrl}/chat/completions`;
    const { sampling } = request;
    const body = {
      model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      stream: true,
      temperature: sampling.temperature,
      top_p: sampling.topP,
      max_tokens: sampling.maxTokens,
      seed: sampling.seed,
    };
    const exchange = await this.send(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify(body),
      },
      signal,
    );
    try {
      exchange.stopTimeout();
      const { response } = exchange;
      if (!response.ok) throw await this.httpError('POST', url, exchange);
      if (response.body === null)
        throw new RuntimeError('model_unavailable', `POST ${url} returned no body`, { url });
      for await (const text of readCompletionStream(response, url)) {
        // Events already buffered when the signal fires are dropped, not yielded.
        if (exchange.signal.aborted) break;
        yield { text };
      }
      if (exchange.signal.aborted) throw exchange.signal.reason;
    } catch (err) {
      throw exchange.signal.aborted ? exchange.signal.reason : err;
    } finally {
      exchange.close();
    }
  }

  private assertOpen(): void {
    if (this.disposed)
      throw new RuntimeError(
        'model_unavailable',
        `the OpenAI-compatible backend for ${this.baseUrl} was disposed`,
      );
  }

  private async send(url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Exchange> {
    if (signal?.aborted) throw signal.reason;
    const controller = new AbortController();
    const onAbort = (): void => {
      controller.abort(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.inFlight.add(controller);

    const method = init.method ?? 'GET';
    const timer = new AbortController();
    void this.clock.sleep(this.timeoutMs, timer.signal).then(
      () => {
        controller.abort(
          new RuntimeError('model_unavailable', `${method} ${url}: no response within ${this.timeoutMs} ms`, {
            url,
          }),
        );
      },
      () => undefined,
    );
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      timer.abort();
      signal?.removeEventListener('abort', onAbort);
      this.inFlight.delete(controller);
      // Closes the connection if the body is still streaming (early return, error); no-op otherwise.
      controller.abort(new DOMException('request closed', 'AbortError'));
    };

    const headers = new Headers(init.headers);
    if (this.options.apiKey !== undefined) headers.set('Authorization', `Bearer ${this.options.apiKey}`);
    try {
      const response = await this.fetchFn(url, { ...init, headers, signal: controller.signal });
      return {
        response,
        signal: controller.signal,
        stopTimeout: () => {
          timer.abort();
        },
        close,
      };
    } catch (err) {
      const aborted = controller.signal.aborted;
      close(); // keeps the reason: aborting an aborted controller is a no-op
      if (aborted) throw controller.signal.reason;
      throw new RuntimeError(
        'model_unavailable',
        `cannot reach the OpenAI-compatible server at ${url}: ${causeOf(err)}`,
        { url },
      );
    }
  }

  private async httpError(method: string, url: string, exchange: Exchange): Promise<unknown> {
    const { status, statusText } = exchange.response;
    const body = await readExcerpt(exchange.response);
    if (exchange.signal.aborted) return exchange.signal.reason;
    const text = body === '' ? '(empty body)' : body;
    return new RuntimeError(
      'model_unavailable',
      `${method} ${url} failed: HTTP ${status} ${statusText}: ${text}`.trim(),
      {
        url,
        status,
      },
    );
  }
}

/**
 * The reply texts of a streamed chat completion, in order. Ends at `[DONE]` or the first
 * `finish_reason`; throws if the stream ends before either (truncated), carries an `error`, or has a
 * data line that is not JSON.
 */
async function* readCompletionStream(response: Response, url: string): AsyncGenerator<string> {
  const reader = bodyReader(response);
  if (reader === undefined) return;
  const pending: EventSourceMessage[] = [];
  let bufferOverflow: ParseError | undefined;
  const parser = createParser({
    onEvent: (event) => pending.push(event),
    onError: (error) => {
      // Unknown fields and bad `retry` values are ignorable per the SSE spec; an unbounded event is not.
      if (error.type === 'max-buffer-size-exceeded') bufferOverflow = error;
    },
    maxBufferSize: MAX_SSE_BUFFER_CHARS,
  });
  const decoder = new TextDecoder();
  let events = 0;
  let texts = 0;
  for (;;) {
    const { done, value } = await reader.read();
    // At EOF, terminate a last event the server did not end with a blank line (some send a bare `data: [DONE]`).
    parser.feed(done ? `${decoder.decode()}\n\n` : decoder.decode(value, { stream: true }));
    if (bufferOverflow !== undefined)
      throw new RuntimeError('model_unavailable', `stream from ${url}: ${bufferOverflow.message}`, { url });
    for (const event of pending.splice(0)) {
      events++;
      if (event.data === '[DONE]') return;
      if (event.event === 'error')
        throw new RuntimeError(
          'model_unavailable',
          `server error in the stream from ${url}: ${excerpt(event.data)}`,
          {
            url,
          },
        );
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch (err) {
        if (done) throw truncated(url, events, texts, response, 'in the middle of an event');
        throw new RuntimeError(
          'model_unavailable',
          `malformed JSON in SSE event ${events} from ${url} (${causeOf(err)}): data: ${excerpt(event.data)}`,
          { url, event: events },
        );
      }
      const chunk = ChatChunk.safeParse(json);
      if (!chunk.success)
        throw new RuntimeError(
          'model_unavailable',
          `unexpected chunk in SSE event ${events} from ${url}: data: ${excerpt(event.data)}`,
          { url, event: events },
        );
      const { error, choices } = chunk.data;
      if (error !== undefined && error !== null) {
        const message = typeof error === 'string' ? error : (error.message ?? JSON.stringify(error));
        throw new RuntimeError(
          'model_unavailable',
          `server error in the stream from ${url}: ${excerpt(message)}`,
          {
            url,
            error,
          },
        );
      }
      const choice = choices?.[0];
      const text = choice?.delta?.content;
      if (typeof text === 'string' && text !== '') {
        texts++;
        yield text;
      }
      if (typeof choice?.finish_reason === 'string' && choice.finish_reason !== '') return;
    }
    if (done) throw truncated(url, events, texts, response, 'without [DONE] or a finish_reason');
  }
}

function truncated(
  url: string,
  events: number,
  texts: number,
  response: Response,
  how: string,
): RuntimeError {
  const type = response.headers.get('content-type') ?? '';
  const hint = type.includes('text/event-stream')
    ? ''
    : ` (content-type was '${type}', not text/event-stream)`;
  return new RuntimeError(
    'model_unavailable',
    `stream from ${url} was truncated: it ended ${how} after ${events} events and ${texts} text chunks${hint}`,
    { url, events },
  );
}
