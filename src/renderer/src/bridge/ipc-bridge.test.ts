import { describe, expect, it } from 'vitest';
import type { SubscriptionEndedFrame } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';
import { envelopes, MODEL } from '../testing/envelopes';
import { MIRA_MODEL, poolStatus } from '../testing/model-fixtures';
import { IPC_INVOKE, type IpcEventBatch, type IpcReply } from '../../../shared/ipc';
import type { ParleyPreloadApi } from './ipc-api';
import { IpcBridge } from './ipc-bridge';
import { BridgeError, type BridgeStatus } from './types';

function fakePreload(answer: (fn: string, args: unknown) => IpcReply<unknown>) {
  const calls: [string, unknown][] = [];
  let eventsCallback: ((batch: IpcEventBatch) => void) | null = null;
  let endedCallback: ((f: SubscriptionEndedFrame) => void) | null = null;
  const invoke =
    (fn: string) =>
    (args: unknown): Promise<never> => {
      calls.push([fn, args]);
      return Promise.resolve(answer(fn, args) as never);
    };
  // One function per contract channel, as the preload builds it.
  const api = {
    ...Object.fromEntries(Object.values(IPC_INVOKE).map(({ fn }) => [fn, invoke(fn)])),
    onEvents: (cb: (batch: IpcEventBatch) => void) => {
      eventsCallback = cb;
      return () => {
        eventsCallback = null;
      };
    },
    onSubscriptionEnded: (cb: (f: SubscriptionEndedFrame) => void) => {
      endedCallback = cb;
      return () => {
        endedCallback = null;
      };
    },
  } as unknown as ParleyPreloadApi;
  return {
    api,
    calls,
    sendBatch: (b: unknown) => eventsCallback?.(b as IpcEventBatch),
    sendEnded: (f: unknown) => endedCallback?.(f as SubscriptionEndedFrame),
    attached: () => eventsCallback !== null && endedCallback !== null,
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

  it('hands on the events of valid batches in order and drops invalid batches whole; dispose detaches', () => {
    const preload = fakePreload(() => ({ ok: true, result: {} }));
    const dropped: string[] = [];
    const bridge = new IpcBridge(preload.api, (reason) => dropped.push(reason));
    const events: EventEnvelope[] = [];
    const statuses: BridgeStatus[] = [];
    bridge.onEvent((e) => events.push(e));
    bridge.onStatus((s) => statuses.push(s));
    const s1 = envelopes('s1');
    const s2 = envelopes('s2');
    const first = [
      s1('turn_accepted', 't1', { text: 'hi', model: MODEL }),
      s1('token_delta', 't1', { text: 'Eve', index: 0 }),
      s1('token_delta', 't1', { text: 'ning', index: 1 }),
    ];
    const other = [s2('turn_accepted', 't9', { text: 'yo', model: MODEL })];
    preload.sendBatch({ session_id: 's1', events: first });
    preload.sendBatch({ session_id: 's2', events: other });
    // One bad event spoils its batch; so does an event of another session, or an empty batch.
    preload.sendBatch({ session_id: 's1', events: [{ ...first[0], seq: -1 }] });
    preload.sendBatch({ session_id: 's1', events: other });
    preload.sendBatch({ session_id: 's1', events: [] });
    preload.sendBatch(first[0]);
    preload.sendEnded({ type: 'subscription.ended' });
    expect(events).toEqual([...first, ...other]);
    expect(dropped).toEqual([
      'event batch not in the contract',
      'event batch not in the contract',
      'event batch not in the contract',
      'event batch not in the contract',
      'subscription.ended not in the contract',
    ]);
    bridge.dispose();
    expect(preload.attached()).toBe(false);
    expect(statuses.map((s) => s.state)).toEqual(['connected', 'closed']);
  });

  it('refuses commands that have no IPC channel', async () => {
    const preload = fakePreload(() => ({ ok: true, result: {} }));
    const bridge = new IpcBridge(preload.api);
    await expect(bridge.request({ type: 'auth.pair' } as never)).rejects.toMatchObject({
      code: 'unknown_command',
    });
    expect(preload.calls).toEqual([]);
  });
});
