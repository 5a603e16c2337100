import { describe, expect, it } from 'vitest';
import type { SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { envelopes, MODEL } from '../testing/envelopes';
import { MIRA_MODEL, poolStatus } from '../testing/model-fixtures';
import type { IpcReply } from '../../../shared/ipc';
import type { ParleyPreloadApi } from './ipc-api';
import { IpcBridge } from './ipc-bridge';
import { BridgeError, type BridgeStatus } from './types';

function fakePreload(answer: (fn: string, args: unknown) => IpcReply<unknown>) {
  const calls: [string, unknown][] = [];
  let eventCallback: ((e: EventEnvelope) => void) | null = null;
  let endedCallback: ((f: SubscriptionEndedFrame) => void) | null = null;
  const invoke =
    (fn: string) =>
    (args: unknown): Promise<never> => {
      calls.push([fn, args]);
      return Promise.resolve(answer(fn, args) as never);
    };
  const api: ParleyPreloadApi = {
    createSession: invoke('createSession'),
    listSessions: invoke('listSessions'),
    subscribe: invoke('subscribe'),
    unsubscribe: invoke('unsubscribe'),
    startTurn: invoke('startTurn'),
    cancelTurn: invoke('cancelTurn'),
    listScenarios: invoke('listScenarios'),
    getWorld: invoke('getWorld'),
    listCommits: invoke('listCommits'),
    verifyLedger: invoke('verifyLedger'),
    exportSession: invoke('exportSession'),
    getAgentConfig: invoke('getAgentConfig'),
    setAgentConfig: invoke('setAgentConfig'),
    setPressure: invoke('setPressure'),
    getAgentStatus: invoke('getAgentStatus'),
    cancelAgentStream: invoke('cancelAgentStream'),
    getModelStatus: invoke('getModelStatus'),
    listModels: invoke('listModels'),
    setModelPoolConfig: invoke('setModelPoolConfig'),
    loadModel: invoke('loadModel'),
    unloadModel: invoke('unloadModel'),
    hintModel: invoke('hintModel'),
    getNpcSettings: invoke('getNpcSettings'),
    setNpcSettings: invoke('setNpcSettings'),
    onEvent: (cb) => {
      eventCallback = cb;
      return () => {
        eventCallback = null;
      };
    },
    onSubscriptionEnded: (cb) => {
      endedCallback = cb;
      return () => {
        endedCallback = null;
      };
    },
  };
  return {
    api,
    calls,
    sendEvent: (e: unknown) => eventCallback?.(e as EventEnvelope),
    sendEnded: (f: unknown) => endedCallback?.(f as SubscriptionEndedFrame),
    attached: () => eventCallback !== null && endedCallback !== null,
  };
}

describe('IpcBridge', () => {
  it('calls the preload function of each command and resolves with the validated result', async () => {
    const preload = fakePreload((fn) =>
      fn === 'startTurn'
        ? { ok: true, result: { turn_id: 't1', accepted: true } }
        : { ok: true, result: { session_id: 's1', from_seq: 3, overflow_policy: 'fail' } },
    );
    const bridge = new IpcBridge(preload.api);
    await expect(bridge.request({ type: 'turn.start', session_id: 's1', text: 'hi' })).resolves.toEqual({
      turn_id: 't1',
      accepted: true,
    });
    await bridge.request({
      type: 'session.subscribe',
      session_id: 's1',
      from_seq: 3,
      overflow_policy: 'fail',
    });
    expect(preload.calls).toEqual([
      ['startTurn', { session_id: 's1', text: 'hi' }],
      ['subscribe', { session_id: 's1', from_seq: 3, overflow_policy: 'fail' }],
    ]);
  });

  it('carries the local-models commands on their own preload functions', async () => {
    const status = poolStatus();
    const preload = fakePreload((fn) =>
      fn === 'loadModel'
        ? { ok: true, result: { model: MIRA_MODEL, state: 'loading' } }
        : { ok: true, result: status },
    );
    const bridge = new IpcBridge(preload.api);
    await expect(bridge.request({ type: 'models.load', model: MIRA_MODEL })).resolves.toEqual({
      model: MIRA_MODEL,
      state: 'loading',
    });
    await expect(bridge.request({ type: 'models.status' })).resolves.toEqual(status);
    expect(preload.calls).toEqual([
      ['loadModel', { model: MIRA_MODEL }],
      ['getModelStatus', {}],
    ]);
  });

  it('turns an error answer into a BridgeError with its code', async () => {
    const bridge = new IpcBridge(
      fakePreload(() => ({ ok: false, error: { code: 'unknown_session', message: 'no such session' } })).api,
    );
    const error: unknown = await bridge
      .request({ type: 'session.unsubscribe', session_id: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BridgeError);
    expect(error).toMatchObject({ code: 'unknown_session', message: 'no such session' });
  });

  it('rejects results and errors that do not match the contract', async () => {
    const bridge = new IpcBridge(
      fakePreload((fn) =>
        fn === 'listSessions'
          ? { ok: true, result: { sessions: 'none' } }
          : ({ ok: false, error: { code: 'weird', message: '' } } as unknown as IpcReply<unknown>),
      ).api,
    );
    await expect(bridge.request({ type: 'session.list' })).rejects.toMatchObject({
      code: 'invalid_response',
    });
    await expect(bridge.request({ type: 'session.create' })).rejects.toMatchObject({
      code: 'invalid_response',
    });
  });

  it('forwards valid events and drops invalid ones; dispose detaches from the preload', () => {
    const preload = fakePreload(() => ({ ok: true, result: {} }));
    const dropped: string[] = [];
    const bridge = new IpcBridge(preload.api, (reason) => dropped.push(reason));
    const events: EventEnvelope[] = [];
    const statuses: BridgeStatus[] = [];
    bridge.onEvent((e) => events.push(e));
    bridge.onStatus((s) => statuses.push(s));
    const good = envelopes('s1')('turn_accepted', 't1', { text: 'hi', model: MODEL });
    preload.sendEvent(good);
    preload.sendEvent({ ...good, seq: -1 });
    preload.sendEnded({ type: 'subscription.ended' });
    expect(events).toEqual([good]);
    expect(dropped).toHaveLength(2);
    bridge.dispose();
    expect(preload.attached()).toBe(false);
    expect(statuses.map((s) => s.state)).toEqual(['connected', 'closed']);
  });
});
