import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import type { GenerationRequest, LoadedModel } from './backend';
import { DEFAULT_CONTEXT_LENGTH, OpenAiCompatibleBackend } from './openai-backend';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A fake OpenAI-compatible server on a real port: tests swap `models` and `chat`. */
interface FakeServer {
  readonly baseUrl: string;
  readonly requests: Recorded[];
  models: Handler;
  chat: Handler;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const modelList =
  (...ids: string[]): Handler =>
  (_req, res) => {
    json(res, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', owned_by: 'test' })) });
  };

const delta = (content: string, finish: string | null = null): string =>
  JSON.stringify({
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  });

interface SseRun {
  /** Resolves when the response closes: `true` if every event was written first. */
  readonly closed: Promise<boolean>;
  /** Events written so far. */
  written(): number;
}

/**
 * Streams `events` as SSE `data:` lines with a small delay between writes, stopping if the client
 * goes away. `end: false` leaves the response open after the last event.
 */
function sse(
  res: ServerResponse,
  events: readonly string[],
  {
    delayMs = 2,
    end = true,
    onEvent,
  }: { delayMs?: number; end?: boolean; onEvent?: (i: number) => void } = {},
): SseRun {
  let written = 0;
  let finished = false;
  const closed = new Promise<boolean>((resolve) => {
    res.on('close', () => {
      resolve(finished);
    });
  });
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  void (async () => {
    for (const data of events) {
      if (res.destroyed) return;
      res.write(`data: ${data}\n\n`);
      written++;
      onEvent?.(written);
      await sleep(delayMs);
    }
    if (end && !res.destroyed) {
      finished = true;
      res.end();
    }
  })();
  return { closed, written: () => written };
}

async function startServer(): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const fake: Omit<FakeServer, 'baseUrl' | 'close'> = {
    requests,
    models: modelList('npc-small'),
    chat: (_req, res) => {
      sse(res, [delta('ok', 'stop'), '[DONE]']);
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      requests.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      });
      if (req.method === 'GET' && path === '/v1/models') fake.models(req, res);
      else if (req.method === 'POST' && path === '/v1/chat/completions') fake.chat(req, res);
      else json(res, 404, { error: { message: `no route ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  });
}

const request: GenerationRequest = {
  messages: [
    { role: 'system', content: 'You are Mira, the innkeeper.' },
    { role: 'user', content: 'Any rooms free?' },
  ],
  sampling: { temperature: 0.3, topP: 0.9, maxTokens: 64, seed: 42 },
};

async function collect(model: LoadedModel, signal = new AbortController().signal): Promise<string[]> {
  const texts: string[] = [];
  for await (const chunk of model.stream(request, signal)) texts.push(chunk.text);
  return texts;
}

async function failure(promise: Promise<unknown>): Promise<RuntimeError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RuntimeError);
  return err as RuntimeError;
}

let server: FakeServer;
let backend: OpenAiCompatibleBackend;

beforeEach(async () => {
  server = await startServer();
  backend = new OpenAiCompatibleBackend({ baseUrl: server.baseUrl });
});

afterEach(async () => {
  await backend.dispose();
  await server.close();
});

describe('load', () => {
  it('checks the model is served, reports progress 0 → 1 and describes the endpoint', async () => {
    server.models = (_req, res) => {
      json(res, 200, { data: [{ id: 'npc-small', max_model_len: 8192 }, { id: 'other' }] });
    };
    const progress: number[] = [];
    const model = await backend.load('npc-small', { onProgress: (p) => progress.push(p) });
    expect(progress).toEqual([0, 1]);
    expect(model.info.ref).toEqual({ backend: 'openai', model_id: 'npc-small' });
    expect(model.info.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(model.info.contextLength).toBe(8192);
    const other = await backend.load('other');
    expect(other.info.contentHash).not.toBe(model.info.contentHash);
    expect(other.info.contextLength).toBe(DEFAULT_CONTEXT_LENGTH);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models', 'GET /v1/models']);
  });

  it("accepts Ollama's name for `name:latest` and streams with the listed id", async () => {
    server.models = modelList('llama3.2:latest');
    const model = await backend.load('llama3.2');
    expect(model.info.ref.model_id).toBe('llama3.2');
    await collect(model);
    expect(server.requests[1]?.body).toMatchObject({ model: 'llama3.2:latest' });
  });

  it('names the available models when the requested one is missing', async () => {
    server.models = modelList('qwen2.5:0.5b', 'llama3.2:latest');
    const err = await failure(backend.load('mistral'));
    expect(err.code).toBe('unknown_model');
    expect(err.message).toContain(`model 'mistral' is not available at ${server.baseUrl}`);
    expect(err.message).toContain('available: qwen2.5:0.5b, llama3.2:latest');
    expect(err.details).toMatchObject({ available: ['qwen2.5:0.5b', 'llama3.2:latest'] });
  });

  it('names the URL when nothing listens there', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => {
          resolve(port);
        });
      });
    });
    const unreachable = new OpenAiCompatibleBackend({ baseUrl: `http://127.0.0.1:${closedPort}/v1/` });
    const err = await failure(unreachable.load('npc-small'));
    expect(err.message).toContain(
      `cannot reach the OpenAI-compatible server at http://127.0.0.1:${closedPort}/v1/models`,
    );
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('reports the HTTP status and a body excerpt', async () => {
    server.models = (_req, res) => {
      json(res, 401, { error: { message: 'invalid api key' } });
    };
    const err = await failure(backend.load('npc-small'));
    expect(err.message).toContain(`GET ${server.baseUrl}/models failed: HTTP 401`);
    expect(err.message).toContain('invalid api key');
    expect(err.details).toMatchObject({ status: 401 });
  });

  it('rejects a response that is not an OpenAI model list', async () => {
    server.models = (_req, res) => {
      json(res, 200, { models: ['npc-small'] });
    };
    const err = await failure(backend.load('npc-small'));
    expect(err.message).toContain('did not return an OpenAI model list');
  });

  it('times out on the injected clock when the server never answers', async () => {
    const clock = new ManualClock();
    const slow = new OpenAiCompatibleBackend({ baseUrl: server.baseUrl, clock, requestTimeoutMs: 1_000 });
    let arrived!: () => void;
    const received = new Promise<void>((resolve) => (arrived = resolve));
    server.models = () => {
      arrived(); // and never answer
    };
    const loading = failure(slow.load('npc-small'));
    await received;
    await clock.advance(999);
    await clock.advance(1);
    const err = await loading;
    expect(err.message).toBe(`GET ${server.baseUrl}/models: no response within 1000 ms`);
  });
});

describe('stream', () => {
  it('yields the tokens in order, across arbitrary TCP splits and multi-byte characters', async () => {
    const tokens = ['Two', ' rooms', ', one', ' with a view of the ', 'fjörð', '.'];
    const payload = [
      JSON.stringify({
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      }),
      ...tokens.map((t) => delta(t)),
      delta('', 'stop'),
      '[DONE]',
    ]
      .map((d) => `data: ${d}\n\n`)
      .join('');
    server.chat = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const bytes = Buffer.from(payload, 'utf8');
      void (async () => {
        // 7-byte slices split lines, JSON and the UTF-8 sequence of 'ö'/'ð'.
        for (let i = 0; i < bytes.length; i += 7) {
          res.write(bytes.subarray(i, i + 7));
          if (i % 70 === 0) await sleep(1);
        }
        res.end();
      })();
    };
    const model = await backend.load('npc-small');
    const texts = await collect(model);
    expect(texts).toEqual(tokens);
    expect(texts.join('')).toBe('Two rooms, one with a view of the fjörð.');
  });

  it('sends the messages and sampling params, with bearer auth when an API key is set', async () => {
    const authed = new OpenAiCompatibleBackend({ baseUrl: server.baseUrl, apiKey: 'sk-local' });
    await collect(await authed.load('npc-small'));
    await collect(await backend.load('npc-small'));
    const chats = server.requests.filter((r) => r.path === '/v1/chat/completions');
    expect(chats[0]?.body).toEqual({
      model: 'npc-small',
      messages: [
        { role: 'system', content: 'You are Mira, the innkeeper.' },
        { role: 'user', content: 'Any rooms free?' },
      ],
      stream: true,
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 64,
      seed: 42,
    });
    expect(chats[0]?.headers['content-type']).toBe('application/json');
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer sk-local',
      'Bearer sk-local',
      undefined,
      undefined,
    ]);
  });

  it('ends at a finish_reason without waiting for [DONE], closing the connection', async () => {
    let run: SseRun | undefined;
    server.chat = (_req, res) => {
      run = sse(res, [delta('Yes'), delta('.', 'stop')], { end: false });
    };
    const model = await backend.load('npc-small');
    expect(await collect(model)).toEqual(['Yes', '.']);
    expect(await run?.closed).toBe(false);
  });

  it('stops promptly on abort and the server sees the connection close mid-stream', async () => {
    const controller = new AbortController();
    const reason = new Error('player cancelled');
    const total = 500;
    let run: SseRun | undefined;
    server.chat = (_req, res) => {
      run = sse(
        res,
        Array.from({ length: total }, (_, i) => delta(` t${i}`)),
        {
          onEvent: (i) => {
            if (i === 5) controller.abort(reason);
          },
        },
      );
    };
    const model = await backend.load('npc-small');
    const texts: string[] = [];
    let afterAbort = 0;
    const consuming = (async () => {
      for await (const chunk of model.stream(request, controller.signal)) {
        if (controller.signal.aborted) afterAbort++;
        texts.push(chunk.text);
      }
    })();
    await expect(consuming).rejects.toBe(reason);
    // Chunks already buffered when the signal fires are dropped, so none arrive after it.
    expect(afterAbort).toBe(0);
    expect(texts.length).toBeLessThanOrEqual(5);
    expect(await run?.closed).toBe(false);
    expect(run?.written()).toBeLessThan(total);
  });

  it('drops events already buffered when the signal fires', async () => {
    const controller = new AbortController();
    const reason = new Error('player cancelled');
    server.chat = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      // One write: all three events reach the client together.
      res.end([delta('One'), delta(' two'), delta(' three', 'stop')].map((d) => `data: ${d}\n\n`).join(''));
    };
    const model = await backend.load('npc-small');
    const texts: string[] = [];
    const consuming = (async () => {
      for await (const chunk of model.stream(request, controller.signal)) {
        texts.push(chunk.text);
        controller.abort(reason);
      }
    })();
    await expect(consuming).rejects.toBe(reason);
    expect(texts).toEqual(['One']);
  });

  it('dispose aborts in-flight streams', async () => {
    let run: SseRun | undefined;
    let started!: () => void;
    const streaming = new Promise<void>((resolve) => (started = resolve));
    server.chat = (_req, res) => {
      run = sse(
        res,
        Array.from({ length: 500 }, (_, i) => delta(` t${i}`)),
        {
          onEvent: (i) => {
            if (i === 2) started();
          },
        },
      );
    };
    const model = await backend.load('npc-small');
    const consuming = failure(collect(model));
    await streaming;
    await backend.dispose();
    const err = await consuming;
    expect(err.message).toContain('was disposed');
    expect(await run?.closed).toBe(false);
    await expect(backend.load('npc-small')).rejects.toThrow('was disposed');
  });

  it('throws the signal reason at once when already aborted', async () => {
    const model = await backend.load('npc-small');
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(collect(model, controller.signal)).rejects.toThrow('too late');
    expect(server.requests.filter((r) => r.path === '/v1/chat/completions')).toEqual([]);
  });

  it('reports the HTTP status and body of a failed request', async () => {
    server.chat = (_req, res) => {
      json(res, 500, { error: { message: 'llama runner process has terminated' } });
    };
    const model = await backend.load('npc-small');
    const err = await failure(collect(model));
    expect(err.code).toBe('model_unavailable');
    expect(err.message).toContain(`POST ${server.baseUrl}/chat/completions failed: HTTP 500`);
    expect(err.message).toContain('llama runner process has terminated');
    expect(err.details).toMatchObject({ status: 500 });
  });

  it('names a malformed data line', async () => {
    server.chat = (_req, res) => {
      sse(res, [delta('Hello'), '{"choices": [{"delta": ', '[DONE]']);
    };
    const model = await backend.load('npc-small');
    const texts: string[] = [];
    const err = await failure(
      (async () => {
        for await (const chunk of model.stream(request, new AbortController().signal)) texts.push(chunk.text);
      })(),
    );
    expect(texts).toEqual(['Hello']);
    expect(err.message).toContain('malformed JSON in SSE event 2');
    expect(err.message).toContain('data: {"choices": [{"delta":');
  });

  it('reports a stream that ends without [DONE] or a finish_reason as truncated', async () => {
    server.chat = (_req, res) => {
      sse(res, [delta('Half'), delta(' a')]);
    };
    const model = await backend.load('npc-small');
    const err = await failure(collect(model));
    expect(err.message).toContain('was truncated');
    expect(err.message).toContain('after 2 events and 2 text chunks');
  });

  it('reports a stream cut in the middle of an event as truncated', async () => {
    server.chat = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end(`data: ${delta('Half')}\n\ndata: {"choices":[{"del`);
    };
    const model = await backend.load('npc-small');
    const err = await failure(collect(model));
    expect(err.message).toContain('was truncated: it ended in the middle of an event');
  });

  it.each([
    ['an error object', `data: {"error":{"message":"CUDA out of memory","type":"server_error"}}\n\n`],
    ['an error string', `data: {"error":"CUDA out of memory"}\n\n`],
    ['an error event', `event: error\ndata: CUDA out of memory\n\n`],
  ])('surfaces %s in the stream', async (_name, frame) => {
    server.chat = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(`data: ${delta('Let me')}\n\n`);
      res.end(frame);
    };
    const model = await backend.load('npc-small');
    const err = await failure(collect(model));
    expect(err.message).toBe(
      `server error in the stream from ${server.baseUrl}/chat/completions: CUDA out of memory`,
    );
  });
});

describe('options', () => {
  it('rejects an invalid base URL or timeout', () => {
    expect(() => new OpenAiCompatibleBackend({ baseUrl: 'localhost:11434' })).toThrow(
      'must be http or https',
    );
    expect(() => new OpenAiCompatibleBackend({ baseUrl: 'not a url' })).toThrow('is not a URL');
    expect(() => new OpenAiCompatibleBackend({ baseUrl: server.baseUrl, requestTimeoutMs: 0 })).toThrow(
      'requestTimeoutMs must be positive',
    );
  });
});
