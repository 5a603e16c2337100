/**
 * The local-models plane through real sessions and the ledger: NPCs speaking through llama.cpp
 * workers on generated models, a worker killed mid-turn, prewarm triggers and the load time they
 * hide, per-NPC model and sampling settings recorded in provenance, model discovery.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRef } from '../../../shared/common';
import type { EventEnvelope } from '../../../shared/protocol';
import { ProvenanceRecordV2 } from '../../../shared/world';
import { streamViolations } from '../testing/invariants';
import { createTestRuntime, type RecordedSession, type TestRuntime } from '../testing/test-runtime';
import { writeTinyModel } from '../testing/tiny-models';
import { asLlama } from './llama/llama-backend';

let dir: string;
let modelA: ModelRef;
let modelB: ModelRef;
let pathA: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-models-'));
  pathA = await writeTinyModel(dir, { seed: 11, name: 'npc-a' });
  const pathB = await writeTinyModel(dir, { seed: 12, name: 'npc-b' });
  const id = (p: string): string => p.slice(dir.length + 1, -'.gguf'.length);
  modelA = { backend: 'llama', model_id: id(pathA) };
  modelB = { backend: 'llama', model_id: id(pathB) };
  writeFileSync(join(dir, 'not-a-model.gguf'), 'hello');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

function llamaRuntime(prewarm = false): TestRuntime {
  t = createTestRuntime({
    models: {
      modelsDir: dir,
      defaultModel: modelA,
      pool: { prewarm, max_loaded: 2 },
      restart: { baseMs: 10, maxMs: 20, maxCrashes: 3, windowMs: 60_000 },
      llama: { contextSize: 1024 },
    },
  });
  return t;
}

async function turn(s: RecordedSession, text: string): Promise<EventEnvelope[]> {
  const result = s.session.startTurn(text);
  await s.session.whenIdle();
  return s.events.filter((e) => e.turn_id === result.turnId);
}

function records(rt: TestRuntime, sessionId: string): ProvenanceRecordV2[] {
  return rt.runtime.ledger
    .commitsForSession(sessionId)
    .map((r) => ProvenanceRecordV2.parse(JSON.parse(r.provenance_json)));
}

const types = (events: readonly EventEnvelope[]): string[] => events.map((e) => e.type);

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('NPCs speaking through llama.cpp workers', () => {
  it('streams real tokens and commits with the model file hash and sampling in provenance', async () => {
    const rt = llamaRuntime();
    const s = rt.openSession();
    const events = await turn(s, 'Good evening!');
    const order = types(events);
    expect(order.slice(0, 1)).toEqual(['turn_accepted']);
    expect(order).toContain('model_selected');
    expect(order.indexOf('model_selected')).toBeLessThan(order.indexOf('model_loading'));
    expect(order.indexOf('model_ready')).toBeLessThan(order.indexOf('token_delta'));
    expect(order.filter((x) => x === 'token_delta').length).toBeGreaterThan(5);
    expect(order.at(-1)).toMatch(/^commit_(succeeded|failed)$/);
    expect(s.ofType('model_selected')[0]?.payload).toMatchObject({
      model: modelA,
      state: 'unloaded',
      prewarm: null,
    });
    const [record] = records(rt, s.session.id);
    expect(record?.model).toEqual(modelA);
    expect(record?.model_content_hash).toBe(createHash('sha256').update(readFileSync(pathA)).digest('hex'));
    expect(record?.sampling.seed).toBe(
      rt.runtime.npcSettings.resolve('wayside-inn', s.session.npc.id).sampling.seed,
    );
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('a worker SIGKILLed mid-turn fails only that turn; the runtime lives on and the next turn succeeds', async () => {
    const rt = llamaRuntime();
    const s = rt.openSession();
    rt.runtime.npcSettings.set('wayside-inn', s.session.npc.id, { sampling: { max_tokens: 400 } });
    let killed: number | undefined;
    s.onEvent((e) => {
      if (killed === undefined && e.type === 'token_delta' && e.payload.index === 3) {
        const entry = rt.runtime.models.status().models.find((m) => m.model.model_id === modelA.model_id);
        killed = entry?.pid ?? undefined;
        process.kill(killed ?? 0, 'SIGKILL');
      }
    });
    const first = await turn(s, 'Tell me a long story.');
    expect(killed).toBeGreaterThan(0);
    expect(killed).not.toBe(process.pid);
    const failed = first.find((e) => e.type === 'turn_failed');
    expect(failed?.payload).toMatchObject({ code: 'worker_crashed' });
    expect((failed?.payload as { message: string }).message).toMatch(/SIGKILL/);
    expect(types(first).at(-1)).toBe('turn_failed');
    expect(records(rt, s.session.id)).toEqual([]); // nothing committed
    // The pool says what happened, as session-level events, and restarts the worker.
    await until(() => s.ofType('model_ready').some((e) => e.payload.trigger === 'restart'));
    expect(s.ofType('model_unloaded').map((e) => e.payload.reason)).toContain('crashed');
    expect(
      s.ofType('model_failed').find((e) => e.payload.code === 'worker_crashed')?.payload.restart_in_ms,
    ).toBe(10);
    const second = await turn(s, 'Good evening!');
    expect(types(second).at(-1)).toMatch(/^commit_(succeeded|failed)$/);
    const newPid = rt.runtime.models.status().models.find((m) => m.model.model_id === modelA.model_id)?.pid;
    expect(newPid).not.toBe(killed);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('prewarm on session open hides the load from the first turn, and says how much', async () => {
    const rt = llamaRuntime(true);
    const s = rt.openSession();
    expect(s.ofType('model_loading')[0]?.payload.trigger).toBe('session_open');
    await until(() => s.ofType('model_ready').length > 0);
    const loadMs = s.ofType('model_ready')[0]?.payload.load_ms ?? -1;
    const events = await turn(s, 'Hello.');
    const selected = events.find((e) => e.type === 'model_selected');
    expect(selected?.payload).toEqual({
      model: modelA,
      state: 'ready',
      prewarm: { trigger: 'session_open', hidden_ms: loadMs },
    });
    expect(types(events)).not.toContain('model_loading');
    // Credited once: the next turn had nothing hidden.
    const next = await turn(s, 'Hello again.');
    expect(next.find((e) => e.type === 'model_selected')?.payload).toMatchObject({ prewarm: null });
  });

  it('a typing hint prewarms the NPC model; with prewarm off it does nothing', async () => {
    const rt = llamaRuntime(false);
    const npc = rt.runtime.scenarios.get('wayside-inn').scenario.default_npc;
    expect(rt.runtime.hint('typing', 'wayside-inn', npc)).toEqual({ model: modelA, prewarming: false });
    expect(rt.runtime.models.status().models).toEqual([]);
    rt.runtime.models.configure({ prewarm: true });
    expect(rt.runtime.hint('typing', 'wayside-inn', npc)).toEqual({ model: modelA, prewarming: true });
    await until(() => rt.runtime.models.status().models[0]?.state === 'ready');
    expect(rt.runtime.models.status().models[0]?.loaded_by).toBe('typing');
  });

  it('the next_move agent (PILOT) names the NPC the player mentions; its model is prewarmed', async () => {
    const rt = llamaRuntime(true);
    rt.runtime.agents.config.set(
      { agentStreamsEnabled: true, agentStreamPilotAgents: ['next_move'], agentStreamSpawnThreshold: 0.3 },
      'test',
    );
    rt.runtime.npcSettings.set('wayside-inn', 'wren', { model: modelB });
    const s = rt.openSession('mira');
    await until(() => rt.runtime.models.stateOf(modelA) === 'ready');
    await turn(s, 'Is Wren out in the stable?');
    const envelope = s.ofType('agent_envelope').find((e) => e.payload.envelope.stream.agent === 'next_move');
    expect(envelope?.payload.envelope.data.prewarm).toEqual([{ npc_id: 'mira' }, { npc_id: 'wren' }]);
    await until(() => rt.runtime.models.stateOf(modelB) === 'ready');
    const loading = s.ofType('model_loading').find((e) => e.payload.model.model_id === modelB.model_id);
    expect(loading?.payload.trigger).toBe('agent_prediction');
    expect(loading?.turn_id).toBeNull();
  });

  it('a designer switches the NPC model and sampling from the next turn; provenance records both', async () => {
    const rt = llamaRuntime();
    const s = rt.openSession();
    await turn(s, 'Hello.');
    const setting = rt.runtime.npcSettings.set('wayside-inn', s.session.npc.id, {
      model: modelB,
      sampling: { seed: 99, temperature: 0.2 },
    });
    expect(setting).toMatchObject({ model: modelB, source: 'designer' });
    const events = await turn(s, 'Hello again.');
    const switching = events.find((e) => e.type === 'model_switching');
    expect(switching?.payload).toEqual({ from: modelA, to: modelB });
    expect(types(events).indexOf('model_switching')).toBeLessThan(types(events).indexOf('model_selected'));
    const [r1, r2] = records(rt, s.session.id);
    expect(r1?.model).toEqual(modelA);
    expect(r2?.model).toEqual(modelB);
    expect(r2?.sampling).toMatchObject({ seed: 99, temperature: 0.2 });
    expect(r2?.model_content_hash).not.toBe(r1?.model_content_hash);
    // Null returns to the default.
    expect(
      rt.runtime.npcSettings.set('wayside-inn', s.session.npc.id, { model: null, sampling: null }),
    ).toMatchObject({
      model: modelA,
      source: 'default',
    });
  });

  it('discovers the models folder: usable files described, a broken one named with its problem', async () => {
    const rt = llamaRuntime();
    const { models } = await rt.runtime.discoverModels();
    const a = models.find((m) => m.model.model_id === modelA.model_id);
    expect(a).toMatchObject({
      name: 'npc-a',
      architecture: 'llama',
      quantization: 'ALL_F32',
      context_length: 512,
      error: null,
    });
    expect(a?.parameters).toBeGreaterThan(10_000);
    const broken = models.find((m) => m.model.model_id === 'not-a-model');
    expect(broken?.error).toMatch(/not a usable GGUF model/);
    expect(broken?.name).toBeNull();
  });

  it('an unknown model fails the turn with a clear error and leaves the session usable', async () => {
    const rt = llamaRuntime();
    const s = rt.openSession();
    rt.runtime.npcSettings.set('wayside-inn', s.session.npc.id, {
      model: { backend: 'llama', model_id: 'nope' },
    });
    const events = await turn(s, 'Hello.');
    expect(events.at(-1)?.type).toBe('turn_failed');
    expect(events.at(-1)?.payload).toMatchObject({ code: 'unknown_model' });
    expect((events.at(-1)?.payload as { message: string }).message).toMatch(/no llama model 'nope'/);
    rt.runtime.npcSettings.set('wayside-inn', s.session.npc.id, { model: null });
    expect(types(await turn(s, 'Hello.')).at(-1)).toMatch(/^commit_/);
    const lease = await rt.runtime.models.acquire(modelA);
    expect(asLlama(lease.model).pid).toBeGreaterThan(0);
    lease.release();
  });
});
