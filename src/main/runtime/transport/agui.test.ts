import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpAgent, verifyEvents } from '@ag-ui/client';
import { EventType, type BaseEvent, type Message } from '@ag-ui/core';
import fc from 'fast-check';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACTION_PREFIX, parseModelOutput, streamingPreview } from '../../../shared/proposals';
import { EventEnvelope } from '../../../shared/protocol';
import { BUILTIN_SCENARIOS } from '../authority/builtin-scenarios';
import { systemClock } from '../core/clock';
import { ScriptedBackend } from '../models/scripted-backend';
import type { RuntimeConfig } from '../runtime';
import { createTestRuntime, type TestRuntime } from '../testing/test-runtime';
import { AGUI_PATH, AGUI_SESSION_EVENT, handleAgUiRequest } from './agui';

/**
 * The AG-UI endpoint against the reference client: every stream goes through @ag-ui/client's
 * HttpAgent (which enforces the event schemas and runs verifyEvents on what it reads) and is then
 * verified once more on its own. The scripted backend of the default scenario (wayside-inn, Mira)
 * answers by keyword: 'room' sells the room key (commits), 'bribe' gives away 50 silver (governance
 * refuses it, rule turn-limits).
 */

const MAX_BODY = 4096;
let t: TestRuntime | undefined;
let server: Server | undefined;
let url = '';

async function start(config: Partial<RuntimeConfig> = {}): Promise<TestRuntime> {
  const rt = createTestRuntime({ scripted: { tokenIntervalMs: 1 }, ...config });
  t = rt;
  // Stands in for startServer, which checks Host, Origin, the method and the token first.
  const srv = createServer((req, res) => {
    if (req.method === 'POST' && req.url === AGUI_PATH)
      handleAgUiRequest(rt.runtime, req, res, { label: 'agui-test', maxBodyBytes: MAX_BODY });
    else res.writeHead(404).end();
  });
  server = srv;
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}${AGUI_PATH}`;
  return rt;
}

afterEach(async () => {
  vi.restoreAllMocks();
  const srv = server;
  server = undefined;
  if (srv !== undefined) {
    srv.closeAllConnections();
    await new Promise((resolve) => srv.close(resolve));
  }
  await t?.dispose();
  t = undefined;
});

function userMessage(content: string, id = 'u1'): Message {
  return { id, role: 'user', content };
}

interface Run {
  readonly agent: HttpAgent;
  readonly events: BaseEvent[];
  readonly result: unknown;
}

/** One `runAgent` of an HttpAgent: the client enforces and verifies; every event it passed is kept. */
async function runAgent(
  line: string,
  options: {
    agent?: HttpAgent;
    threadId?: string;
    forwardedProps?: Record<string, unknown>;
    /** Called as the client applies each event; `seen` holds the events so far, this one included. */
    onEvent?: (event: BaseEvent, agent: HttpAgent, seen: readonly BaseEvent[]) => void;
  } = {},
): Promise<Run> {
  const agent =
    options.agent ??
    new HttpAgent({ url, ...(options.threadId === undefined ? {} : { threadId: options.threadId }) });
  agent.addMessage(userMessage(line, `u${agent.messages.length + 1}`));
  const events: BaseEvent[] = [];
  const run = await agent.runAgent(
    { runId: `run-${agent.messages.length}`, forwardedProps: options.forwardedProps ?? {} },
    {
      onEvent: ({ event }) => {
        events.push(event);
        options.onEvent?.(event, agent, events);
      },
    },
  );
  const result: unknown = run.result;
  return { agent, events, result };
}

/** Replays recorded events through HttpAgent's SSE transport and verifyEvents, on their own. */
function verify(events: readonly BaseEvent[]): Promise<BaseEvent[]> {
  const body = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
  const replay = new HttpAgent({
    url: 'http://replay.invalid',
    fetch: () => Promise.resolve(new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })),
  });
  return new Promise((resolve, reject) => {
    const out: BaseEvent[] = [];
    replay
      .run({ threadId: 'replay', runId: 'replay', messages: [], tools: [], context: [] })
      .pipe(verifyEvents())
      .subscribe({
        next: (e) => out.push(e),
        error: (err: unknown) => {
          reject(err instanceof Error ? err : new Error(String(err)));
        },
        complete: () => {
          resolve(out);
        },
      });
  });
}

function customName(event: BaseEvent): string | undefined {
  return event.type === EventType.CUSTOM ? (event as unknown as { name: string }).name : undefined;
}

function types(events: readonly BaseEvent[]): string[] {
  return events.map((e) => (e.type === EventType.CUSTOM ? `CUSTOM ${customName(e) ?? ''}` : e.type));
}

function ofType<T>(events: readonly BaseEvent[], type: EventType): T[] {
  return events.filter((e) => e.type === type) as T[];
}

/** The Parley envelopes the run's CUSTOM events carry, schema-checked. */
function parleyEvents(events: readonly BaseEvent[]): EventEnvelope[] {
  return ofType<{ name: string; value: unknown }>(events, EventType.CUSTOM)
    .filter((e) => e.name !== AGUI_SESSION_EVENT)
    .map((e) => {
      const envelope = EventEnvelope.parse(e.value);
      expect(e.name).toBe(`parley.${envelope.type}`);
      return envelope;
    });
}

function sessionOf(events: readonly BaseEvent[]): { session_id: string; created: boolean } {
  const e = ofType<{ name: string; value: { session_id: string; created: boolean } }>(
    events,
    EventType.CUSTOM,
  ).find((c) => c.name === AGUI_SESSION_EVENT);
  if (e === undefined) throw new Error('no parley.session event');
  return e.value;
}

function text(events: readonly BaseEvent[]): string {
  return ofType<{ delta: string }>(events, EventType.TEXT_MESSAGE_CONTENT)
    .map((e) => e.delta)
    .join('');
}

/** Warnings the client prints when it strips or drops what the schemas do not describe. */
function watchClientWarnings(): string[] {
  const seen: string[] = [];
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    seen.push(args.map(String).join(' '));
  });
  return seen;
}

async function until(what: string, predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!predicate()) throw new Error(`timed out waiting until ${what}`);
}

describe('AG-UI endpoint', () => {
  it('streams a committed turn that the client verifies; text and state match what was committed', async () => {
    const rt = await start();
    const warnings = watchClientWarnings();
    const { agent, events, result } = await runAgent('Do you have a room for the night?');
    expect(await verify(events)).toHaveLength(events.length);
    expect(warnings.filter((w) => w.includes('[ag-ui]'))).toEqual([]);

    const seq = types(events);
    expect(seq.slice(0, 3)).toEqual(['RUN_STARTED', 'STATE_SNAPSHOT', `CUSTOM ${AGUI_SESSION_EVENT}`]);
    expect(seq.at(-1)).toBe('RUN_FINISHED');
    expect(seq.indexOf('TEXT_MESSAGE_START')).toBeLessThan(seq.indexOf('TEXT_MESSAGE_CONTENT'));
    expect(seq.indexOf('TEXT_MESSAGE_END')).toBeLessThan(seq.indexOf('CUSTOM parley.turn_final'));
    expect(seq.indexOf('STATE_DELTA')).toBeLessThan(seq.indexOf('CUSTOM parley.commit_succeeded'));
    expect(seq).toContain('CUSTOM parley.turn_accepted');
    expect(seq).toContain('CUSTOM parley.agent_admission');
    expect(seq).toContain('CUSTOM parley.model_selected');
    expect(seq).not.toContain('RUN_ERROR');

    const parley = parleyEvents(events);
    const commit = parley.find((e) => e.type === 'commit_succeeded');
    if (commit?.type !== 'commit_succeeded') throw new Error('no commit_succeeded');
    // Seqs strictly increase: the CUSTOM events are the turn's events in order.
    expect(parley.map((e) => e.seq)).toEqual([...parley.map((e) => e.seq)].sort((a, b) => a - b));
    expect(new Set(parley.map((e) => e.turn_id))).toEqual(new Set([commit.turn_id]));

    // The message is the NPC's speech only, exactly the committed text; action lines never show.
    expect(text(events)).toBe(commit.payload.text);
    expect(text(events)).not.toContain('ACTION');
    expect(ofType<{ messageId: string }>(events, EventType.TEXT_MESSAGE_START)[0]?.messageId).toBe(
      commit.turn_id,
    );

    const { session_id: sessionId, created } = sessionOf(events);
    expect(created).toBe(true);
    const world = rt.runtime.manager.get(sessionId).worldState;
    const snapshot = ofType<{ snapshot: unknown }>(events, EventType.STATE_SNAPSHOT)[0]?.snapshot;
    const deltas = ofType<{ delta: Operation[] }>(events, EventType.STATE_DELTA);
    expect(deltas).toHaveLength(1);
    expect(deltas[0]?.delta).toEqual(commit.payload.patch);
    expect(snapshot).not.toEqual(world.state);
    const patched = jsonPatch.applyPatch(structuredClone(snapshot), deltas[0]?.delta ?? [], true, false);
    expect(patched.newDocument).toEqual(world.state);
    // The client applied the same snapshot and delta.
    expect(agent.state).toEqual(world.state);
    expect(world.hash).toBe(commit.payload.state_hash);

    expect(result).toEqual({
      outcome: 'committed',
      session_id: sessionId,
      turn_id: commit.turn_id,
      text: commit.payload.text,
      commit_seq: commit.payload.commit_seq,
      provenance_hash: commit.payload.provenance_hash,
      state_hash: commit.payload.state_hash,
    });
    const reply = agent.messages.at(-1);
    expect(reply).toMatchObject({
      role: 'assistant',
      content: commit.payload.text,
      name: rt.runtime.manager.get(sessionId).npc.name,
    });
    expect(rt.runtime.ledger.commitsForSession(sessionId).map((r) => r.outcome)).toEqual(['committed']);
    // The run's subscription ended with it.
    expect(rt.runtime.manager.get(sessionId).subscriberCount).toBe(0);
  });

  it("continues the thread's session on the next run, from the world the last commit left", async () => {
    const rt = await start();
    const first = await runAgent('A room, please.');
    const { session_id: sessionId } = sessionOf(first.events);
    const after = rt.runtime.manager.get(sessionId).worldState;
    const second = await runAgent('And some stew, I am hungry.', { agent: first.agent });
    expect(sessionOf(second.events)).toEqual(
      expect.objectContaining({ session_id: sessionId, created: false }),
    );
    expect(ofType<{ snapshot: unknown }>(second.events, EventType.STATE_SNAPSHOT)[0]?.snapshot).toEqual(
      after.state,
    );
    expect(first.agent.state).toEqual(rt.runtime.manager.get(sessionId).worldState.state);
    expect(rt.runtime.manager.list()).toHaveLength(1);
    expect(rt.runtime.ledger.commitsForSession(sessionId)).toHaveLength(2);
    await verify(second.events);
  });

  it('ends a governance refusal (commit_failed) with RUN_FINISHED carrying the outcome; the world is unchanged', async () => {
    const rt = await start();
    const { agent, events, result } = await runAgent('Here is a bribe. Keep quiet.');
    await verify(events);
    const seq = types(events);
    expect(seq.at(-1)).toBe('RUN_FINISHED');
    expect(seq.at(-2)).toBe('CUSTOM parley.commit_failed');
    expect(seq).not.toContain('STATE_DELTA');
    const failed = parleyEvents(events).find((e) => e.type === 'commit_failed');
    if (failed?.type !== 'commit_failed') throw new Error('no commit_failed');
    expect(failed.payload).toMatchObject({ code: 'governance_failed', stage: 'governance' });
    expect(result).toMatchObject({
      outcome: 'commit_failed',
      code: 'governance_failed',
      stage: 'governance',
      turn_id: failed.turn_id,
      commit_seq: failed.payload.commit_seq,
    });
    const { session_id: sessionId } = sessionOf(events);
    const world = rt.runtime.manager.get(sessionId).worldState;
    expect(world.hash).toBe(failed.payload.state_hash);
    expect(agent.state).toEqual(world.state);
    expect(world.lastCommitSeq).toBeNull();
    expect(text(events).length).toBeGreaterThan(0);
    expect(rt.runtime.ledger.commitsForSession(sessionId).map((r) => r.outcome)).toEqual(['failed']);
  });

  it('ends a turn whose model fails mid-reply with TEXT_MESSAGE_END, then RUN_ERROR with the failure code', async () => {
    const models = Object.assign({}, ...BUILTIN_SCENARIOS.map((s) => s.scenario.scripted_models)) as Record<
      string,
      never
    >;
    const rt = await start({
      backends: [new ScriptedBackend({ clock: systemClock, models, tokenIntervalMs: 1, failAfterTokens: 3 })],
    });
    const { events } = await runAgent('Do you have a room for the night?');
    await verify(events);
    const seq = types(events);
    expect(seq.slice(-3)).toEqual(['TEXT_MESSAGE_END', 'CUSTOM parley.turn_failed', 'RUN_ERROR']);
    expect(ofType(events, EventType.TEXT_MESSAGE_CONTENT).length).toBeGreaterThan(0);
    const error = ofType<{ code: string; message: string }>(events, EventType.RUN_ERROR)[0];
    expect(error?.code).toBe('backend_error');
    expect(error?.message).toMatch(/failed on purpose after 3 tokens/);
    expect(rt.runtime.ledger.count()).toBe(0);
  });

  it('ends a turn that cannot load its model with RUN_ERROR and no text message', async () => {
    const rt = await start();
    rt.runtime.npcSettings.set('wayside-inn', 'mira', {
      model: { backend: 'llama', model_id: 'no-such-model' },
    });
    const { events } = await runAgent('Hello?');
    await verify(events);
    const seq = types(events);
    expect(seq.at(-1)).toBe('RUN_ERROR');
    expect(seq).not.toContain('TEXT_MESSAGE_START');
    expect(ofType<{ code: string }>(events, EventType.RUN_ERROR)[0]?.code).toBe('unknown_model');
    expect(rt.runtime.ledger.count()).toBe(0);
  });

  it('cancels the turn on the server when the client aborts mid-stream; nothing is committed', async () => {
    const rt = await start({ scripted: { tokenIntervalMs: 25 } });
    let sessionId = '';
    let aborted = false;
    const { events } = await runAgent('Do you have a room for the night?', {
      onEvent: (event, agent) => {
        if (customName(event) === AGUI_SESSION_EVENT) sessionId = sessionOf([event]).session_id;
        if (event.type === EventType.TEXT_MESSAGE_CONTENT && !aborted) {
          aborted = true;
          agent.abortRun();
        }
      },
    });
    expect(aborted).toBe(true);
    await verify(events);
    expect(types(events)).not.toContain('RUN_FINISHED');
    const session = rt.runtime.manager.get(sessionId);
    await until('the server cancels the turn', () =>
      session.bufferedEvents().some((e) => e.type === 'turn_cancelled'),
    );
    await session.whenIdle();
    const turn = session.bufferedEvents().filter((e) => e.turn_id !== null);
    const cancelled = turn.find((e) => e.type === 'turn_cancelled');
    expect(cancelled?.type === 'turn_cancelled' && cancelled.payload.reason).toBe('client_cancel');
    expect(turn.at(-1)).toBe(cancelled);
    expect(turn.some((e) => e.type === 'commit_succeeded' || e.type === 'commit_failed')).toBe(false);
    expect(rt.runtime.ledger.count()).toBe(0);
    expect(session.worldState.lastCommitSeq).toBeNull();
    expect(session.activeTurnId).toBeNull();
    expect(session.subscriberCount).toBe(0);
  });

  it('ends with RUN_FINISHED (outcome cancelled) when another client cancels the turn', async () => {
    const rt = await start({ scripted: { tokenIntervalMs: 25 } });
    let cancelled = false;
    const { events, result } = await runAgent('Do you have a room for the night?', {
      onEvent: (event, _agent, seen) => {
        if (event.type !== EventType.TEXT_MESSAGE_CONTENT || cancelled) return;
        cancelled = true;
        const accepted = parleyEvents(seen).find((e) => e.type === 'turn_accepted');
        rt.runtime.manager.cancelTurn(sessionOf(seen).session_id, accepted?.turn_id ?? '');
      },
    });
    await verify(events);
    const seq = types(events);
    expect(seq.slice(-3)).toEqual(['TEXT_MESSAGE_END', 'CUSTOM parley.turn_cancelled', 'RUN_FINISHED']);
    expect(ofType<{ outcome: unknown }>(events, EventType.RUN_FINISHED)[0]?.outcome).toEqual({
      type: 'cancelled',
    });
    // The client hands a result to the caller only for a successful run.
    expect(result).toBeUndefined();
    expect(rt.runtime.ledger.count()).toBe(0);
  });

  it('answers a run on a busy session with RUN_ERROR turn_in_progress and leaves the running turn alone', async () => {
    const rt = await start({ scripted: { tokenIntervalMs: 25 } });
    const session = rt.runtime.manager.createSession();
    let second: Promise<Run> | undefined;
    const first = await runAgent('Do you have a room for the night?', {
      threadId: session.id,
      onEvent: (event) => {
        if (event.type === EventType.TEXT_MESSAGE_CONTENT && second === undefined)
          second = runAgent('Stew, please.', { threadId: session.id });
      },
    });
    const busy = await second;
    if (busy === undefined) throw new Error('the second run did not start');
    await verify(busy.events);
    expect(sessionOf(first.events)).toMatchObject({ session_id: session.id, created: false });
    expect(types(busy.events)).toEqual([
      'RUN_STARTED',
      'STATE_SNAPSHOT',
      `CUSTOM ${AGUI_SESSION_EVENT}`,
      'CUSTOM parley.turn_rejected',
      'RUN_ERROR',
    ]);
    expect(ofType<{ code: string }>(busy.events, EventType.RUN_ERROR)[0]?.code).toBe('turn_in_progress');
    expect(types(first.events).at(-1)).toBe('RUN_FINISHED');
    expect(first.result).toMatchObject({ outcome: 'committed' });
    expect(rt.runtime.ledger.commitsForSession(session.id)).toHaveLength(1);
  });

  it('pauses on a full socket and resumes on drain; a slow reader loses telemetry, never the outcome', async () => {
    // 200 tokens of 30 kB: more than the socket buffers hold while the client does not read (and each
    // event under the client's 10 MB frame limit).
    const words = Array.from({ length: 200 }, (_, i) => `w${i}${'x'.repeat(30_000)}`);
    const rt = await start({
      backends: [
        new ScriptedBackend({ clock: systemClock, tokenIntervalMs: 0, script: () => words.join(' ') }),
      ],
      queue: { capacity: 16 },
    });
    const slow = new HttpAgent({
      url,
      fetch: async (u, init) => {
        const res = await fetch(u, init);
        await new Promise((r) => setTimeout(r, 300));
        return res;
      },
    });
    const { events, result } = await runAgent('Talk to me.', { agent: slow });
    await verify(events);
    const seq = types(events);
    expect(seq).toContain('CUSTOM parley.stream_overflow');
    expect(seq.at(-1)).toBe('RUN_FINISHED');
    expect(result).toMatchObject({ outcome: 'committed', text: words.join(' ') });
    // Dropped token deltas leave gaps in the streamed text; the committed text is whole.
    expect(text(events).length).toBeLessThan(words.join(' ').length);
    expect(rt.runtime.manager.get(sessionOf(events).session_id).subscriberCount).toBe(0);
  });

  it('refuses bad requests with a 4xx and a JSON error that names the problem, creating no session', async () => {
    const rt = await start();
    const post = async (body: string, contentType = 'application/json') => {
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': contentType }, body });
      const json = (await res.json()) as { error: { code: string; message: string } };
      return { status: res.status, ...json.error };
    };
    const input = (over: Record<string, unknown>) =>
      JSON.stringify({ threadId: 'th', runId: 'r', messages: [userMessage('Hello')], ...over });

    expect(await post('{"threadId": ')).toMatchObject({ status: 400, code: 'malformed_json' });
    const missing = await post(JSON.stringify({ runId: 'r', messages: [] }));
    expect(missing).toMatchObject({ status: 400, code: 'invalid_input' });
    expect(missing.message).toMatch(/threadId/);
    const badRole = await post(input({ messages: [{ id: 'm', role: 'npc', content: 'x' }] }));
    expect(badRole).toMatchObject({ status: 400, code: 'invalid_input' });
    expect(badRole.message).toMatch(/messages\.0/);
    expect(await post(input({ messages: [] }))).toMatchObject({ status: 400, code: 'no_player_line' });
    const answered = await post(
      input({ messages: [userMessage('Hi'), { id: 'a', role: 'assistant', content: 'Evening.' }] }),
    );
    expect(answered).toMatchObject({ status: 400, code: 'no_player_line' });
    expect(answered.message).toMatch(/messages\.0.*messages\.1/);
    expect(await post(input({ messages: [userMessage('   ')] }))).toMatchObject({
      status: 400,
      code: 'empty_text',
    });
    const scenario = await post(input({ forwardedProps: { scenario_id: 'atlantis' } }));
    expect(scenario).toMatchObject({ status: 400, code: 'unknown_scenario' });
    expect(scenario.message).toMatch(/forwardedProps\.scenario_id/);
    expect(await post(input({ forwardedProps: { npc_id: 7 } }))).toMatchObject({
      status: 400,
      code: 'invalid_input',
    });
    expect(await post(input({}), 'text/plain')).toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
    });
    const big = await post(input({ messages: [userMessage('x'.repeat(MAX_BODY))] }));
    expect(big).toMatchObject({ status: 413, code: 'body_too_large' });
    expect(big.message).toContain(String(MAX_BODY));
    expect(rt.runtime.manager.list()).toEqual([]);
    // The client reports the refusal as an error of the run (and logs it: keep the output clean).
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await expect(runAgent('')).rejects.toThrow(/HTTP 400/);
  });

  it('refuses a body that grows past the limit without declaring its length', async () => {
    const rt = await start();
    const { port } = new URL(url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: AGUI_PATH,
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      // Chunked: no Content-Length, so only counting the bytes can catch it.
      for (let i = 0; i < 8; i++) req.write(' '.repeat(1024));
      req.end();
    });
    expect(status).toBe(413);
    expect(rt.runtime.manager.list()).toEqual([]);
  });

  it('verifyEvents is not a rubber stamp: the committed stream without TEXT_MESSAGE_END is refused', async () => {
    await start();
    const { events } = await runAgent('A room, please.');
    const broken = events.filter((e) => e.type !== EventType.TEXT_MESSAGE_END);
    expect(broken.length).toBe(events.length - 1);
    await expect(verify(broken)).rejects.toThrow(/text messages are still active/);
  });
});

describe('streamed speech (streamingPreview, as the AG-UI stream uses it)', () => {
  it('streams only speech, each value a prefix of the next and of the final spoken text, however the reply is split', () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'A', 'C', 'T', 'I', 'O', 'N', ' ', '\n', 'ACTION') });
    const action = fc.constantFrom(
      `${ACTION_PREFIX} {"kind":"set_flag","flag":"x","value":true}`,
      `  ${ACTION_PREFIX} {`,
    );
    const reply = fc
      .tuple(fc.array(line, { maxLength: 4 }), fc.array(action, { maxLength: 2 }))
      .map(([speech, actions]) => [...speech, ...actions].join('\n'));
    fc.assert(
      fc.property(reply, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        let streamed = '';
        for (const end of [...points, text.length]) {
          const settled = streamingPreview(text.slice(0, end)).spoken;
          expect(settled.startsWith(streamed)).toBe(true);
          streamed = settled;
        }
        const { spoken } = parseModelOutput(text);
        expect(spoken.startsWith(streamed)).toBe(true);
        expect(streamed.split('\n').some((l) => l.trimStart().startsWith(`${ACTION_PREFIX} `))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
