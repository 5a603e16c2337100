import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventType, PROTOCOL_VERSION, type Event as AgUiEvent } from '@ag-ui/core';
import { RunAgentInputSchema } from '@ag-ui/core/schemas';
import { MAX_TURN_TEXT, type ProtocolError } from '../../../shared/commands';
import { spokenPart, streamingPreview } from '../../../shared/proposals';
import type { EventEnvelope } from '../../../shared/protocol';
import { RuntimeError } from '../core/errors';
import type { InteractionSession } from '../interaction/session';
import type { Subscription } from '../interaction/subscription';
import type { ParleyRuntime } from '../runtime';

/** Path of the AG-UI endpoint (POST, `RunAgentInput` in, an SSE stream of AG-UI events out). */
export const AGUI_PATH = '/v1/agui';

export interface AgUiOptions {
  /** Names the client in audit records. */
  readonly label: string;
  /** Largest request body accepted, bytes. */
  readonly maxBodyBytes: number;
}

/** A validated `RunAgentInput` as the schema gives it (optional fields may be present as undefined). */
type RunAgentInput = ReturnType<typeof RunAgentInputSchema.parse>;
type Message = RunAgentInput['messages'][number];

/** Prefix of the CUSTOM event names that carry Parley events (`parley.commit_succeeded`, ...). */
export const AGUI_CUSTOM_PREFIX = 'parley.';

/** CUSTOM event that names the Parley session a run spoke in; sent right after STATE_SNAPSHOT. */
export const AGUI_SESSION_EVENT = 'parley.session';

/** Why a request was refused before any event was streamed. Sent as `{ "error": { code, message } }`. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * AG-UI thread ids that are not Parley session ids, mapped to the session the first run on them
 * created, per runtime. A stock AG-UI client keeps one random thread id for a conversation, so this is
 * what makes its second run continue the first one's world. Lives as long as the runtime, like the
 * sessions it points at.
 */
const threads = new WeakMap<ParleyRuntime, Map<string, string>>();

/**
 * Serves one AG-UI run: one NPC turn. The server has already checked Host, Origin and the bearer
 * token. Refusals before the stream starts are HTTP 4xx with a JSON body; everything after is AG-UI
 * events (docs/agui.md). Never throws: a failure of this run must not reach the server.
 */
export function handleAgUiRequest(
  runtime: ParleyRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  options: AgUiOptions,
): void {
  void serve(runtime, req, res, options).catch((err: unknown) => {
    runtime.logger.error('agui request failed', { client: options.label, error: String(err) });
    if (!res.headersSent) sendError(res, new RequestError(500, 'internal', 'internal error'));
    else if (!res.writableEnded) res.end();
  });
}

async function serve(
  runtime: ParleyRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  options: AgUiOptions,
): Promise<void> {
  let plan: { session: InteractionSession; created: boolean; text: string; input: RunAgentInput };
  try {
    checkContentType(req);
    const body = await readBody(req, options.maxBodyBytes);
    // The client went away while its body was read: there is nobody to run a turn for.
    if (res.destroyed) return;
    const input = parseInput(body);
    const text = playerLine(input.messages);
    const { session, created } = resolveSession(runtime, input);
    plan = { session, created, text, input };
  } catch (err) {
    if (err instanceof RequestError) {
      if (err.status === 413) req.resume(); // discard the rest of an oversized body
      sendError(res, err);
      return;
    }
    throw err;
  }
  runtime.logger.info('agui run', {
    client: options.label,
    thread: plan.input.threadId,
    run: plan.input.runId,
    session: plan.session.id,
  });
  new AgUiRun(runtime, res, plan.session, plan.input, options.label).start(plan.text, plan.created);
}

function sendError(res: ServerResponse, err: RequestError): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
  // The rest of an oversized body is not worth reading on this connection.
  if (err.status === 413) headers.Connection = 'close';
  res
    .writeHead(err.status, headers)
    .end(`${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`);
}

function checkContentType(req: IncomingMessage): void {
  const type = req.headers['content-type'];
  const essence = type?.split(';')[0]?.trim().toLowerCase();
  if (essence !== 'application/json')
    throw new RequestError(
      415,
      'unsupported_media_type',
      `the body must be a RunAgentInput as application/json; Content-Type was ${type === undefined ? 'missing' : `'${type}'`}`,
    );
}

function tooLarge(limit: number): RequestError {
  return new RequestError(413, 'body_too_large', `the request body is larger than ${limit} bytes`);
}

/** The whole body, refused as soon as it is known to exceed `limit` (before reading, when declared). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new RequestError(400, 'bad_request', `the request body could not be read: ${err.message}`));
    };
    // 'close' before 'end': the client aborted the upload.
    const onClose = (): void => {
      cleanup();
      reject(new RequestError(400, 'bad_request', 'the client closed the request before its body ended'));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function parseInput(body: Buffer): RunAgentInput {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new RequestError(400, 'malformed_json', `the body is not JSON: ${(err as Error).message}`);
  }
  const parsed = RunAgentInputSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((issue) => {
      const path = issue.path.map(String).join('.');
      return `${path === '' ? '(body)' : path}: ${issue.message}`;
    });
    throw new RequestError(400, 'invalid_input', `not a valid AG-UI RunAgentInput: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/**
 * The player's line: the last user message, which must not already be answered (no assistant message
 * after it). Re-running a conversation whose last line was answered would silently repeat that line.
 */
function playerLine(messages: readonly Message[]): string {
  let user = -1;
  for (let i = messages.length - 1; i >= 0 && user < 0; i--) if (messages[i]?.role === 'user') user = i;
  if (user < 0)
    throw new RequestError(
      400,
      'no_player_line',
      "messages has no user message; the player's line is the content of the last user message",
    );
  const answered = messages.findIndex((m, i) => i > user && m.role === 'assistant');
  if (answered >= 0)
    throw new RequestError(
      400,
      'no_player_line',
      `the last user message (messages.${user}) is already answered by messages.${answered} (assistant); ` +
        "append the player's new line as a user message",
    );
  const message = messages[user] as Extract<Message, { role: 'user' }>;
  // Media parts carry nothing a scripted or text model can hear; only text parts make the line.
  const text =
    typeof message.content === 'string'
      ? message.content
      : message.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  if (text.trim().length === 0)
    throw new RequestError(
      400,
      'empty_text',
      `messages.${user}.content has no text: the player's line is empty`,
    );
  if (text.length > MAX_TURN_TEXT)
    throw new RequestError(
      400,
      'text_too_long',
      `messages.${user}.content has ${text.length} characters; the limit is ${MAX_TURN_TEXT}`,
    );
  return text;
}

function forwardedString(props: unknown, key: 'scenario_id' | 'npc_id'): string | undefined {
  if (props === undefined || props === null) return undefined;
  if (typeof props !== 'object' || Array.isArray(props))
    throw new RequestError(400, 'invalid_input', 'forwardedProps must be an object');
  const value = (props as Record<string, unknown>)[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw new RequestError(400, 'invalid_input', `forwardedProps.${key} must be a non-empty string`);
  return value;
}

/**
 * The session a run speaks in: the thread id itself when it is a live Parley session, else the
 * session an earlier run on this thread created, else a new one (created last, after every other
 * check passed, so a refused request leaves nothing behind).
 */
function resolveSession(
  runtime: ParleyRuntime,
  input: RunAgentInput,
): { session: InteractionSession; created: boolean } {
  const scenarioId = forwardedString(input.forwardedProps, 'scenario_id');
  const npcId = forwardedString(input.forwardedProps, 'npc_id');
  const { manager } = runtime;
  const known = threads.get(runtime)?.get(input.threadId);
  const existing = manager.find(input.threadId) ?? (known === undefined ? undefined : manager.find(known));
  if (existing !== undefined) {
    const actual = { scenario_id: existing.scenario.scenario.id, npc_id: existing.npc.id };
    for (const [key, wanted] of [
      ['scenario_id', scenarioId],
      ['npc_id', npcId],
    ] as const)
      if (wanted !== undefined && wanted !== actual[key])
        throw new RequestError(
          409,
          'thread_conflict',
          `thread '${input.threadId}' speaks in session ${existing.id} (${key} '${actual[key]}'), ` +
            `but forwardedProps.${key} is '${wanted}'; use a new threadId for another ${key === 'npc_id' ? 'NPC' : 'scenario'}`,
        );
    return { session: existing, created: false };
  }
  if (runtime.ledger.session(input.threadId) !== undefined)
    throw new RequestError(
      404,
      'unknown_session',
      `thread '${input.threadId}' is a session of an earlier run of this runtime: its ledger can be read, ` +
        'but it cannot be continued; use a new threadId',
    );
  let session: InteractionSession;
  try {
    session = manager.createSession(scenarioId, npcId);
  } catch (err) {
    if (err instanceof RuntimeError && (err.code === 'unknown_scenario' || err.code === 'unknown_npc'))
      throw new RequestError(
        400,
        err.code,
        `forwardedProps.${err.code === 'unknown_scenario' ? 'scenario_id' : 'npc_id'}: ${err.message}`,
      );
    if (err instanceof RuntimeError) throw new RequestError(503, err.code, err.message);
    throw err;
  }
  let map = threads.get(runtime);
  if (map === undefined) {
    map = new Map<string, string>();
    threads.set(runtime, map);
  }
  map.set(input.threadId, session.id);
  return { session, created: true };
}

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-transform: a proxy must neither cache nor compress (compression buffers the stream).
  'Cache-Control': 'no-cache, no-transform',
  // nginx and friends: do not buffer this response.
  'X-Accel-Buffering': 'no',
} as const;

type TerminalResult = Record<string, unknown> & { outcome: string };

/**
 * One AG-UI run over one SSE response: subscribes to the session for this turn only, starts the turn,
 * and maps its events to AG-UI events until its terminal event. The response closing first cancels the
 * turn. Invariant: nothing is written after RUN_FINISHED or RUN_ERROR, and a text message is always
 * ended before either.
 */
class AgUiRun {
  private sub: Subscription | undefined;
  private turnId: string | undefined;
  /** Events delivered while `startTurn` runs, before the turn id is known. */
  private early: EventEnvelope[] | undefined = [];
  private done = false;
  private saturated = false;
  private overflow: ProtocolError | undefined;
  /** The model's output so far (action lines included) and the speech already streamed from it. */
  private raw = '';
  private streamed = '';
  private message: 'none' | 'open' | 'ended' = 'none';

  constructor(
    private readonly runtime: ParleyRuntime,
    private readonly res: ServerResponse,
    private readonly session: InteractionSession,
    private readonly input: RunAgentInput,
    private readonly label: string,
  ) {}

  start(text: string, created: boolean): void {
    const { res, session, input } = this;
    res.writeHead(200, SSE_HEADERS);
    res.on('close', () => {
      this.clientGone();
    });
    this.write({
      type: EventType.RUN_STARTED,
      threadId: input.threadId,
      runId: input.runId,
      protocolVersion: PROTOCOL_VERSION,
      timestamp: this.now(),
    });
    // Read in the same synchronous step as the turn starts: the world changes only by this session's
    // commits, and none can run before this turn's, so STATE_DELTA applies to exactly this snapshot.
    this.write({ type: EventType.STATE_SNAPSHOT, snapshot: session.worldState.state, timestamp: this.now() });
    this.write({
      type: EventType.CUSTOM,
      name: AGUI_SESSION_EVENT,
      value: {
        session_id: session.id,
        thread_id: input.threadId,
        created,
        scenario_id: session.scenario.scenario.id,
        npc_id: session.npc.id,
        state_hash: session.worldState.hash,
      },
      timestamp: this.now(),
    });
    try {
      // From the next seq: the turn's `turn_accepted` and everything after it, nothing older.
      this.sub = session.subscribe(
        {
          deliver: (event) => this.deliver(event),
          ended: ({ error }) => {
            this.overflow = error;
          },
        },
        {
          fromSeq: session.lastSeq + 1,
          policy: 'drop_telemetry',
          onClosed: () => {
            // The subscription reports an overflow right after closing: decide once it has.
            queueMicrotask(() => {
              this.interrupted();
            });
          },
        },
      );
      this.turnId = this.runtime.manager.startTurn(session.id, text).turnId;
    } catch (err) {
      this.runtime.logger.error('agui turn did not start', { session: session.id, error: String(err) });
      this.fail('internal', err instanceof RuntimeError ? err.message : 'the turn could not be started');
      return;
    }
    const early = this.early ?? [];
    this.early = undefined;
    for (const event of early) if (!this.done) this.handle(event);
  }

  private now(): number {
    return Math.trunc(this.runtime.clock.now());
  }

  private deliver(event: EventEnvelope): boolean {
    if (this.early !== undefined) {
      this.early.push(event);
      return true;
    }
    if (!this.done) this.handle(event);
    return !this.saturated;
  }

  /** Writes one event; on a full socket buffer pauses the subscription until the socket drains. */
  private write(event: AgUiEvent): void {
    if (this.done || this.res.destroyed) return;
    const ok = this.res.write(`data: ${JSON.stringify(event)}\n\n`);
    if (!ok && !this.saturated) {
      this.saturated = true;
      this.res.once('drain', () => {
        this.saturated = false;
        this.sub?.resume();
      });
    }
  }

  private custom(event: EventEnvelope): void {
    this.write({
      type: EventType.CUSTOM,
      name: `${AGUI_CUSTOM_PREFIX}${event.type}`,
      value: event,
      timestamp: Math.trunc(event.timestamp),
    });
  }

  private handle(event: EventEnvelope): void {
    // Session-level events (another session's model loads, config changes) are not part of this run;
    // an overflow marker is, since it says what this run's subscription lost.
    if (event.type === 'stream_overflow') {
      this.custom(event);
      return;
    }
    if (event.turn_id !== this.turnId) return;
    switch (event.type) {
      case 'token_delta':
        this.raw += event.payload.text;
        this.speak(streamingPreview(this.raw).spoken, event.timestamp);
        return;
      case 'turn_final':
        this.speak(event.payload.text, event.timestamp);
        this.endMessage(event.timestamp);
        this.custom(event);
        return;
      case 'commit_succeeded':
        this.endMessage(event.timestamp);
        if (event.payload.patch.length > 0)
          this.write({
            type: EventType.STATE_DELTA,
            delta: event.payload.patch,
            timestamp: Math.trunc(event.timestamp),
          });
        this.custom(event);
        this.finish({
          outcome: 'committed',
          ...this.ids(event),
          text: event.payload.text,
          commit_seq: event.payload.commit_seq,
          provenance_hash: event.payload.provenance_hash,
          state_hash: event.payload.state_hash,
        });
        return;
      case 'commit_failed': {
        this.endMessage(event.timestamp);
        this.custom(event);
        const { code, message, stage, commit_seq, provenance_hash, state_hash } = event.payload;
        this.finish({
          outcome: 'commit_failed',
          ...this.ids(event),
          code,
          message,
          stage,
          commit_seq,
          provenance_hash,
          state_hash,
        });
        return;
      }
      case 'turn_cancelled':
        this.speak(spokenPart(this.raw), event.timestamp);
        this.endMessage(event.timestamp);
        this.custom(event);
        this.finish(
          {
            outcome: 'cancelled',
            ...this.ids(event),
            reason: event.payload.reason,
            tokens_emitted: event.payload.tokens_emitted,
          },
          true,
        );
        return;
      case 'turn_failed':
        this.speak(spokenPart(this.raw), event.timestamp);
        this.endMessage(event.timestamp);
        this.custom(event);
        this.fail(event.payload.code, event.payload.message, event.timestamp);
        return;
      case 'turn_rejected':
        this.custom(event);
        this.fail(event.payload.reason, event.payload.message, event.timestamp);
        return;
      default:
        this.custom(event);
    }
  }

  private ids(event: EventEnvelope): { session_id: string; turn_id: string | null } {
    return { session_id: event.session_id, turn_id: event.turn_id };
  }

  /** Streams the part of `speech` not streamed yet; opens the message on its first text. */
  private speak(speech: string, timestamp: number): void {
    if (this.message === 'ended' || !speech.startsWith(this.streamed)) return;
    const delta = speech.slice(this.streamed.length);
    if (delta.length === 0) return;
    const messageId = this.turnId ?? '';
    if (this.message === 'none') {
      this.message = 'open';
      this.write({
        type: EventType.TEXT_MESSAGE_START,
        messageId,
        role: 'assistant',
        name: this.session.npc.name,
        timestamp: Math.trunc(timestamp),
      });
    }
    this.streamed = speech;
    this.write({ type: EventType.TEXT_MESSAGE_CONTENT, messageId, delta, timestamp: Math.trunc(timestamp) });
  }

  private endMessage(timestamp: number): void {
    if (this.message === 'open')
      this.write({
        type: EventType.TEXT_MESSAGE_END,
        messageId: this.turnId ?? '',
        timestamp: Math.trunc(timestamp),
      });
    this.message = 'ended';
  }

  private finish(result: TerminalResult, cancelled = false): void {
    this.write({
      type: EventType.RUN_FINISHED,
      threadId: this.input.threadId,
      runId: this.input.runId,
      outcome: cancelled ? { type: 'cancelled' } : { type: 'success' },
      result,
      timestamp: this.now(),
    });
    this.close();
  }

  private fail(code: string, message: string, timestamp = this.runtime.clock.now()): void {
    this.endMessage(timestamp);
    this.write({ type: EventType.RUN_ERROR, code, message, timestamp: Math.trunc(timestamp) });
    this.close();
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.sub?.close();
    if (!this.res.destroyed) this.res.end();
  }

  /**
   * The client closed the response before the turn ended: the run is abandoned, so is the turn. The
   * cancel fails harmlessly when the turn ended meanwhile (its commit, if any, stands).
   */
  private clientGone(): void {
    if (this.done) return;
    this.done = true;
    this.sub?.close();
    this.cancelTurn('the client closed the stream');
  }

  /** The subscription ended before the turn did: overflow, or the session closed under a paused stream. */
  private interrupted(): void {
    if (this.done) return;
    this.cancelTurn('the run lost its event stream');
    const overflow = this.overflow;
    this.fail(
      overflow?.code ?? 'stream_interrupted',
      overflow === undefined
        ? "the session ended this run's event subscription before the turn ended"
        : `the client read too slowly and the run lost authoritative events: ${overflow.message}`,
    );
  }

  private cancelTurn(why: string): void {
    const turnId = this.turnId;
    if (turnId === undefined) return;
    try {
      this.runtime.manager.cancelTurn(this.session.id, turnId);
      this.runtime.logger.info('agui turn cancelled', {
        client: this.label,
        session: this.session.id,
        turn: turnId,
        why,
      });
    } catch (err) {
      // unknown_turn (it ended first) or commit_in_progress: the turn keeps its own ending.
      if (!(err instanceof RuntimeError)) throw err;
    }
  }
}
