import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { streamViolations } from '../testing/invariants';
import { closeAllClients, errorCode, WsTestClient } from '../testing/ws-test-client';
import { createTestRuntime, type TestRuntime } from '../testing/test-runtime';
import { startServer, type ParleyServer } from './ws-server';

const TOKEN = '0123456789abcdef0123456789abcdef';
let t: TestRuntime;
let server: ParleyServer;

beforeEach(async () => {
  t = createTestRuntime({ scripted: { tokenIntervalMs: 1 } });
  server = await startServer(t.runtime, { token: TOKEN, maxFrameBytes: 1024, hardMaxFrameBytes: 4096 });
});
afterEach(async () => {
  closeAllClients();
  await server.close();
  await t.dispose();
});

const Client = {
  open: (headers: Record<string, string> = {}): Promise<WsTestClient> =>
    WsTestClient.open(server.wsUrl, headers),
};

function helloClient(): Promise<WsTestClient> {
  return WsTestClient.hello(server.wsUrl, TOKEN);
}

describe('WebSocket endpoint', () => {
  it('runs a whole turn: create, subscribe, start, stream, commit', async () => {
    const c = await helloClient();
    const created = await c.call('1', { type: 'session.create' });
    if (created.type !== 'result') throw new Error('create failed');
    const sessionId = (created.result as { session_id: string }).session_id;
    expect((await c.call('2', { type: 'session.subscribe', session_id: sessionId, from_seq: 1 })).type).toBe(
      'result',
    );
    const started = await c.call('3', { type: 'turn.start', session_id: sessionId, text: 'Evening!' });
    expect(started.type === 'result' && started.result).toMatchObject({ accepted: true });
    await c.next((f) => f.type === 'commit_succeeded');
    const events = c.events();
    expect(events[0]?.type).toBe('session_started');
    expect(events.filter((e) => e.type === 'token_delta').length).toBeGreaterThan(3);
    expect(streamViolations(events)).toEqual([]);
    // The subscribe result precedes the replayed events it announces.
    const subIndex = c.frames.findIndex((f) => f.type === 'result' && f.command === 'session.subscribe');
    const firstEvent = c.frames.findIndex((f) => 'v' in f);
    expect(subIndex).toBeLessThan(firstEvent);
  });

  it('cancels mid-stream over the wire: one turn_cancelled, no later token_delta', async () => {
    const c = await helloClient();
    const created = await c.call('1', { type: 'session.create' });
    const sessionId = created.type === 'result' ? (created.result as { session_id: string }).session_id : '';
    await c.call('2', { type: 'session.subscribe', session_id: sessionId });
    const started = await c.call('3', { type: 'turn.start', session_id: sessionId, text: 'Talk.' });
    const turnId = started.type === 'result' ? (started.result as { turn_id: string }).turn_id : '';
    await c.next((f) => f.type === 'token_delta' && f.payload.index === 2);
    const cancelled = await c.call('4', { type: 'turn.cancel', session_id: sessionId, turn_id: turnId });
    expect(cancelled.type).toBe('result');
    await c.next((f) => f.type === 'turn_cancelled');
    await new Promise((r) => setTimeout(r, 30));
    const ofTurn = c.events().filter((e) => e.turn_id === turnId);
    expect(ofTurn.at(-1)?.type).toBe('turn_cancelled');
    expect(streamViolations(c.events())).toEqual([]);
    expect(t.runtime.ledger.count()).toBe(0);
  });

  it('answers bad frames with specific errors and stays usable, and other clients are unaffected', async () => {
    const bad = await helloClient();
    const good = await helloClient();
    bad.send('{not json');
    expect(errorCode(await bad.next((f) => f.type === 'error'))).toBe('malformed_json');
    expect(errorCode(await bad.call('u', { type: 'world.destroy' }))).toBe('unknown_command');
    expect(errorCode(await bad.call('v', { type: 'turn.start', session_id: 7 }))).toBe('invalid_command');
    expect(errorCode(await bad.call('w', { type: 'turn.start', session_id: 'nope', text: 'hi' }))).toBe(
      'unknown_session',
    );
    expect(errorCode(await bad.call('x', { type: 'session.subscribe', session_id: 'nope' }))).toBe(
      'unknown_session',
    );
    expect(errorCode(await bad.call('y', { type: 'turn.cancel', session_id: 'nope', turn_id: 't' }))).toBe(
      'unknown_session',
    );
    bad.send({ type: 'session.list', id: 'big', pad: 'x'.repeat(2000) });
    const big = await bad.next((f) => f.type === 'error' && f.error.code === 'frame_too_large');
    expect(big.type === 'error' && big.error.details).toMatchObject({ limit: 1024 });
    bad.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await bad.next((f) => f.type === 'error' && /binary/.test(f.error.message))).type).toBe('error');
    // Still usable.
    expect((await bad.call('ok', { type: 'session.list' })).type).toBe('result');
    // Past the hard limit the connection is closed (1009); the server keeps serving others.
    bad.send('x'.repeat(5000));
    expect((await bad.waitClosed()).code).toBe(1009);
    expect((await good.call('g', { type: 'session.create' })).type).toBe('result');
    const errors = bad.frames.flatMap((f) => (f.type === 'error' ? [f.error] : []));
    expect(errors.every((e) => e.message.length > 0)).toBe(true);
  });

  it('refuses commands before hello, a wrong token, and an unsupported protocol', async () => {
    const a = await Client.open();
    expect(errorCode(await a.call('1', { type: 'session.create' }))).toBe('hello_required');
    expect((await a.waitClosed()).code).toBe(1008);
    const b = await Client.open();
    expect(
      errorCode(await b.call('1', { type: 'hello', protocol: 1, token: 'wrong-token-wrong-token' })),
    ).toBe('unauthorized');
    expect((await b.waitClosed()).code).toBe(1008);
    const c = await Client.open();
    expect(errorCode(await c.call('1', { type: 'hello', protocol: 2, token: TOKEN }))).toBe(
      'unsupported_protocol',
    );
    expect(t.runtime.manager.list()).toHaveLength(0);
  });

  it('refuses a foreign Origin and a foreign Host at the upgrade with 403', async () => {
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(server.wsUrl, { headers });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => {
          ws.close();
          reject(new Error('upgrade was accepted'));
        });
        ws.on('error', () => undefined);
      });
    expect(await status({ Origin: 'http://evil.example' })).toBe(403);
    expect(await status({ Origin: `http://127.0.0.1:${server.port + 1}` })).toBe(403);
    expect(await status({ Host: `evil.example:${server.port}` })).toBe(403);
    expect(await status({ Host: `127.0.0.1.evil.example:${server.port}` })).toBe(403);
    // The server's own origin is allowed.
    const own = await Client.open({ Origin: `http://127.0.0.1:${server.port}` });
    expect(own.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('refuses plain HTTP requests with a foreign Host (DNS rebinding)', async () => {
    const code = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path: '/', headers: { Host: 'rebind.example' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(code).toBe(403);
  });

  it('resumes from a seq: a reconnecting client gets exactly what it missed', async () => {
    const a = await helloClient();
    const created = await a.call('1', { type: 'session.create' });
    const sessionId = created.type === 'result' ? (created.result as { session_id: string }).session_id : '';
    await a.call('2', { type: 'session.subscribe', session_id: sessionId });
    await a.call('3', { type: 'turn.start', session_id: sessionId, text: 'One.' });
    await a.next((f) => f.type === 'token_delta' && f.payload.index === 1);
    const lastSeen = a.events().at(-1)?.seq ?? 0;
    a.ws.terminate();
    await t.runtime.manager.get(sessionId).whenIdle();
    const b = await helloClient();
    await b.call('4', { type: 'session.subscribe', session_id: sessionId, from_seq: lastSeen + 1 });
    await b.next((f) => f.type === 'commit_succeeded');
    const seqs = [
      ...a
        .events()
        .map((e) => e.seq)
        .filter((s) => s <= lastSeen),
      ...b.events().map((e) => e.seq),
    ];
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(errorCode(await b.call('5', { type: 'session.subscribe', session_id: sessionId }))).toBe(
      'already_subscribed',
    );
  });
});

describe('agent plane commands', () => {
  it('config set is validated, audited with the client label, and read back; unknown streams are refused', async () => {
    const a = await helloClient();
    const created = await a.call('1', { type: 'session.create' });
    const sessionId = created.type === 'result' ? (created.result as { session_id: string }).session_id : '';
    await a.call('2', { type: 'session.subscribe', session_id: sessionId });
    const bad = await a.call('3', {
      type: 'agents.config.set',
      changes: { agentStreamPilotAgents: ['oracle'], agentStreamTimeoutMs: -1 },
    });
    expect(errorCode(bad)).toBe('invalid_command');
    if (bad.type === 'error') {
      expect(bad.error.message).toContain('changes.agentStreamPilotAgents');
      expect(bad.error.message).toContain('changes.agentStreamTimeoutMs');
    }
    const unknownKey = await a.call('4', {
      type: 'agents.config.set',
      changes: { agentStreamsEnabld: true },
    });
    expect(errorCode(unknownKey)).toBe('invalid_command');
    const ok = await a.call('5', {
      type: 'agents.config.set',
      changes: { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] },
    });
    expect(ok.type === 'result' && ok.result).toMatchObject({
      version: 1,
      config: { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] },
    });
    const changed = await a.next((f) => f.type === 'config_changed');
    expect(changed.type === 'config_changed' && changed.payload.changed_by).toMatch(/^ws#\d+/);
    const got = await a.call('6', { type: 'agents.config.get' });
    expect(got.type === 'result' && (got.result as { version: number }).version).toBe(1);
    expect(errorCode(await a.call('7', { type: 'agent.cancel', stream_id: 'agent_test_safety_99' }))).toBe(
      'unknown_stream',
    );
    const pressure = await a.call('8', { type: 'agents.pressure.set', level: 'HIGH' });
    expect(pressure.type === 'result' && pressure.result).toMatchObject({ level: 'HIGH', forced: 'HIGH' });
    const status = await a.call('9', { type: 'agents.status' });
    expect(status.type === 'result' && (status.result as { gates: unknown[] }).gates).toHaveLength(5);
    expect(errorCode(await a.call('10', { type: 'agents.pressure.set', level: 'EXTREME' }))).toBe(
      'invalid_command',
    );
  });
});
