import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../../shared/commands';
import { BridgeError, type AnyBridgeCommand } from '../bridge/types';
import type { FrameScheduler } from '../events/event-batcher';
import { createAppStore, type AppStore } from '../store/app-store';
import { committedTurn, envelopes, MODEL, sessionSummary } from '../testing/envelopes';
import { FakeBridge } from '../testing/fake-bridge';
import { settle } from '../testing/fake-socket';
import { createInspector, type Inspector } from './inspector';

const SESSION: SessionSummary = sessionSummary('s1', 5);

let bridge: FakeBridge;
let store: AppStore;
let inspector: Inspector;
let frames: (() => void)[];

/** Scripted answers, by command type; a function may inspect the command, or throw to fail it. */
function answer(answers: Partial<Record<AnyBridgeCommand['type'], unknown>>): void {
  bridge.respond = (command) => {
    const a = answers[command.type];
    if (a === undefined) throw new Error(`unexpected ${command.type}`);
    return typeof a === 'function' ? (a as (c: AnyBridgeCommand) => unknown)(command) : a;
  };
}

const runFrame = (): void => {
  for (const frame of frames.splice(0)) frame();
};

beforeEach(() => {
  bridge = new FakeBridge();
  store = createAppStore();
  frames = [];
  const scheduler: FrameScheduler = (run) => {
    frames.push(run);
    return () => {
      frames = frames.filter((f) => f !== run);
    };
  };
  inspector = createInspector({ bridge, store, scheduler });
});

afterEach(() => {
  inspector.dispose();
});

describe('inspector', () => {
  it('mirrors the connection status and lists sessions once connected', async () => {
    answer({ 'session.list': { sessions: [SESSION] } });
    expect(store.getState().connection.state).toBe('connecting');
    bridge.setStatus({ state: 'connected', error: null });
    await settle();
    expect(store.getState().connection.state).toBe('connected');
    expect(store.getState().sessions.list).toEqual([SESSION]);
  });

  it('creates, selects and subscribes to a new session from seq 1', async () => {
    answer({
      'session.create': SESSION,
      'session.subscribe': { session_id: 's1', from_seq: 1, overflow_policy: 'drop_telemetry' },
    });
    await inspector.createSession();
    expect(bridge.requests).toEqual([
      { type: 'session.create' },
      { type: 'session.subscribe', session_id: 's1', from_seq: 1 },
    ]);
    expect(store.getState().sessions).toEqual({ list: [SESSION], selectedId: 's1' });
  });

  it('subscribes once per session, resuming after what the store already holds', async () => {
    answer({ 'session.subscribe': { session_id: 's1', from_seq: 4, overflow_policy: 'drop_telemetry' } });
    store.getState().ingestEvents(committedTurn(envelopes(), 't1', 'hi', ['a']));
    await inspector.selectSession('s1');
    await inspector.selectSession('s1');
    expect(bridge.requests).toEqual([{ type: 'session.subscribe', session_id: 's1', from_seq: 5 }]);
  });

  it('applies streamed events once per frame', () => {
    const ev = envelopes();
    bridge.emit(
      ev('turn_accepted', 't1', { text: 'hi', model: MODEL }),
      ev('token_delta', 't1', { index: 0, text: 'Yo' }),
    );
    expect(store.getState().dialogue.sessions['s1']).toBeUndefined();
    expect(frames).toHaveLength(1);
    runFrame();
    expect(store.getState().dialogue.sessions['s1']?.turns['t1']?.replyText).toBe('Yo');
  });

  it('sends a turn and records the player line; a rejected turn keeps it with the reason', async () => {
    store.getState().selectSession('s1');
    answer({ 'turn.start': { turn_id: 't9', accepted: false } });
    await expect(inspector.sendTurn('x'.repeat(4001))).resolves.toBe(false);
    bridge.emit(
      envelopes()('turn_rejected', 't9', {
        reason: 'text_too_long',
        message: '4001 > 4000',
        active_turn_id: null,
      }),
    );
    runFrame();
    expect(store.getState().dialogue.sessions['s1']?.turns['t9']).toMatchObject({
      state: 'rejected',
      playerText: 'x'.repeat(4001),
      reason: 'text_too_long: 4001 > 4000',
    });
  });

  it('does nothing on send without a selected session', async () => {
    await expect(inspector.sendTurn('hello')).resolves.toBe(false);
    expect(bridge.requests).toEqual([]);
  });

  it('puts a failed command in commandError and clears it on the next attempt', async () => {
    store.getState().selectSession('s1');
    answer({
      'turn.start': () => {
        throw new BridgeError('invalid_command', 'text: too long');
      },
    });
    await inspector.sendTurn('boom');
    expect(store.getState().commandError).toEqual({
      command: 'turn.start',
      code: 'invalid_command',
      message: 'text: too long',
    });
    answer({ 'turn.start': { turn_id: 't1', accepted: true } });
    await expect(inspector.sendTurn('ok')).resolves.toBe(true);
    expect(store.getState().commandError).toBeNull();
  });

  it('cancels the running turn of the selected session, and nothing when none runs', async () => {
    store.getState().selectSession('s1');
    answer({
      'turn.start': { turn_id: 't1', accepted: true },
      'turn.cancel': { turn_id: 't1', cancelled: true },
    });
    await inspector.cancelActiveTurn();
    expect(bridge.requests).toEqual([]);
    await inspector.sendTurn('talk');
    await inspector.cancelActiveTurn();
    expect(bridge.requests.at(-1)).toEqual({ type: 'turn.cancel', session_id: 's1', turn_id: 't1' });
  });

  it('resubscribes after an overflow from the last delivered seq + 1', async () => {
    answer({ 'session.subscribe': { session_id: 's1', from_seq: 1, overflow_policy: 'drop_telemetry' } });
    await inspector.selectSession('s1');
    bridge.end({
      type: 'subscription.ended',
      session_id: 's1',
      last_seq: 41,
      error: { code: 'subscription_overflow', message: 'full' },
    });
    await settle();
    expect(bridge.requests.at(-1)).toEqual({ type: 'session.subscribe', session_id: 's1', from_seq: 42 });
  });

  it('continues from the oldest buffered seq after a resume gap, and says what was lost', async () => {
    answer({
      'session.subscribe': (c: AnyBridgeCommand) => {
        if (c.type === 'session.subscribe' && c.from_seq === 1)
          throw new BridgeError('resume_gap', 'gone', { oldest_seq: 30 });
        return { session_id: 's1', from_seq: 30, overflow_policy: 'drop_telemetry' };
      },
    });
    await inspector.selectSession('s1');
    expect(bridge.requests.map((r) => (r.type === 'session.subscribe' ? r.from_seq : null))).toEqual([1, 30]);
    expect(store.getState().commandError).toMatchObject({ code: 'resume_gap' });
    expect(store.getState().commandError?.message).toContain('seq 30');
  });

  it('stops listening when disposed', () => {
    inspector.dispose();
    bridge.emit(envelopes()('session_closed', null, { reason: 'x' }));
    bridge.setStatus({ state: 'reconnecting', error: null });
    runFrame();
    expect(store.getState().dialogue.sessions).toEqual({});
    expect(store.getState().connection.state).toBe('connecting');
  });
});
