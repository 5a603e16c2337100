import { beforeEach, describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../../shared/commands';
import { admission, admissionPayload, configChanged, lifecycle, streamIdOf } from '../testing/agent-fixtures';
import { committedTurn, envelopes, MODEL, sessionSummary } from '../testing/envelopes';
import { createAppStore, type AppStore } from './app-store';
import { forkOriginLabel } from './sessions-slice';
import {
  selectActiveTurnId,
  selectSelectedLog,
  selectSelectedTurnIds,
  selectSessionIds,
  selectLatestConfigChange,
  selectTurn,
  selectTurnAgents,
  selectTurnTimeline,
} from './selectors';
import { pooled, poolStatus } from '../testing/model-fixtures';

const summary = (id: string, createdAt: number): SessionSummary => sessionSummary(id, createdAt);

let store: AppStore;

beforeEach(() => {
  store = createAppStore();
});

describe('app store', () => {
  it('starts empty and connecting', () => {
    const s = store.getState();
    expect(s.connection).toEqual({ state: 'connecting', error: null });
    expect(s.sessions).toEqual({ list: [], selectedId: null });
    expect(s.dialogue.sessions).toEqual({});
    expect(s.eventLog.sessions).toEqual({});
    expect(s.agentPlane.sessions).toEqual({});
    expect(s.agentControl).toMatchObject({ config: null, status: null, setError: null });
    expect(s.models).toMatchObject({ status: null, discovery: null, npcSettings: {}, pending: {} });
    expect(s.timelines.sessions).toEqual({});
    expect(s.sidePanel).toBe('events');
    expect(s.commandError).toBeNull();
  });

  it('applies a batch to dialogue and log in one update', () => {
    let updates = 0;
    store.subscribe(() => updates++);
    store.getState().ingestEvents(committedTurn(envelopes(), 't1', 'hi', ['a', 'b', 'c']));
    expect(updates).toBe(1);
    expect(store.getState().dialogue.sessions['s1']?.turns['t1']?.state).toBe('committed');
    expect(store.getState().eventLog.sessions['s1']?.entries).toHaveLength(6);
  });

  it('moves held pool rows and keeps turn timelines from the same batch', () => {
    store.getState().modelStatusLoaded(poolStatus([pooled(MODEL, { state: 'unloaded', progress: 0 })]));
    const ev = envelopes();
    store
      .getState()
      .ingestEvents([
        ev('turn_accepted', 't1', { text: 'hi', model: MODEL }),
        ev('model_selected', 't1', { model: MODEL, state: 'unloaded', prewarm: null }),
        ev('model_loading', 't1', { model: MODEL, progress: 0.5, trigger: 'turn' }),
      ]);
    const s = store.getState();
    expect(s.models.status?.models[0]).toMatchObject({ state: 'loading', progress: 0.5, loaded_by: 'turn' });
    expect(selectTurnTimeline('s1', 't1')(s).map((e) => e.type)).toEqual([
      'turn_accepted',
      'model_selected',
      'model_loading',
    ]);
    expect(selectTurnTimeline('s1', 'nope')(s)).toBe(selectTurnTimeline('s2', 't1')(s));
  });

  it('skips events already applied, so a resumed subscription cannot double text or log rows', () => {
    const events = committedTurn(envelopes(), 't1', 'hi', ['a', 'b']);
    store.getState().ingestEvents(events.slice(0, 3));
    store.getState().ingestEvents(events);
    const repeated = events.slice(1, 2);
    store.getState().ingestEvents([...repeated, ...repeated]);
    const s = store.getState();
    expect(s.eventLog.sessions['s1']?.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(s.dialogue.sessions['s1']?.turns['t1']?.replyText).toBe('ab');
  });

  it('applies agent events once: a repeated token delta does not double a lane', () => {
    const ev = envelopes();
    const stream = streamIdOf('lore');
    const events = [
      ev('turn_accepted', 't1', { text: 'hi', model: MODEL }),
      ev(
        'agent_admission',
        't1',
        admissionPayload([admission('lore', { execution_accepted: true })], 'pilot'),
      ),
      ev('agent_stream_lifecycle', 't1', lifecycle('lore', 'started')),
      ev('agent_token_delta', 't1', { stream_id: stream, index: 0, text: 'old ' }),
      ev('agent_token_delta', 't1', { stream_id: stream, index: 1, text: 'inn' }),
      ev('config_changed', null, configChanged(1, [{ key: 'agentStreamsEnabled', from: false, to: true }])),
    ];
    store.getState().ingestEvents(events.slice(0, 4));
    store.getState().ingestEvents(events);
    store.getState().ingestEvents(events.slice(3));
    const turn = selectTurnAgents('s1', 't1')(store.getState());
    expect(turn?.lanes[stream]?.text).toBe('old inn');
    expect(turn?.admission?.mode).toBe('pilot');
    expect(store.getState().agentPlane.sessions['s1']?.configChanges).toHaveLength(1);
    expect(selectLatestConfigChange(store.getState())?.version).toBe(1);
  });

  it('keeps the selection across a session list refresh and sorts by creation', () => {
    const s = store.getState();
    s.upsertSession(summary('b', 2));
    s.selectSession('b');
    s.setSessions([summary('c', 3), summary('a', 1), summary('b', 2)]);
    expect(selectSessionIds(store.getState())).toEqual(['a', 'b', 'c']);
    expect(store.getState().sessions.selectedId).toBe('b');
    store.getState().upsertSession({ ...summary('b', 2), last_seq: 9 });
    expect(store.getState().sessions.list.map((x) => x.last_seq)).toEqual([0, 9, 0]);
  });

  it('adds a forked session after its origin and names the origin for the list', () => {
    const parent = summary('r.s1', 1);
    const fork = sessionSummary('r.s2', 2, { forked_from: { session_id: 'r.s1', commit_seq: 4 } });
    store.getState().upsertSession(parent);
    store.getState().upsertSession(fork);
    store.getState().selectSession('r.s2');
    expect(store.getState().sessions).toEqual({ list: [parent, fork], selectedId: 'r.s2' });
    // A later list refresh keeps the origin (it is part of the server's summary).
    store.getState().setSessions([fork, parent]);
    expect(store.getState().sessions.list[1]?.forked_from).toEqual({ session_id: 'r.s1', commit_seq: 4 });
    expect(forkOriginLabel(fork)).toBe('forked from r.s1 #4');
    expect(forkOriginLabel(fork, (id) => id.slice(-2))).toBe('forked from s1 #4');
    expect(forkOriginLabel(parent)).toBeNull();
  });

  it('holds one command error at a time until cleared', () => {
    store.getState().reportCommandError({ command: 'turn.start', code: 'not_connected', message: 'offline' });
    expect(store.getState().commandError?.code).toBe('not_connected');
    store.getState().clearCommandError();
    expect(store.getState().commandError).toBeNull();
  });
});

describe('selectors', () => {
  it('follow the selected session', () => {
    const a = envelopes('a');
    const b = envelopes('b');
    store
      .getState()
      .ingestEvents([
        ...committedTurn(a, 'a1', 'one', ['x']),
        b('turn_accepted', 'b1', { text: 'running', model: MODEL }),
        b('token_delta', 'b1', { index: 0, text: 'y' }),
      ]);
    expect(selectSelectedTurnIds(store.getState())).toEqual([]);
    expect(selectActiveTurnId(store.getState())).toBeNull();
    store.getState().selectSession('a');
    expect(selectSelectedTurnIds(store.getState())).toEqual(['a1']);
    expect(selectActiveTurnId(store.getState())).toBeNull();
    expect(selectSelectedLog(store.getState())?.entries).toHaveLength(4);
    store.getState().selectSession('b');
    expect(selectActiveTurnId(store.getState())).toBe('b1');
    expect(selectTurn('b', 'b1')(store.getState())?.replyText).toBe('y');
  });

  it('find the running turn behind a later rejected one', () => {
    const ev = envelopes();
    store.getState().selectSession('s1');
    store
      .getState()
      .ingestEvents([
        ev('turn_accepted', 't1', { text: 'long', model: MODEL }),
        ev('turn_rejected', 't2', { reason: 'turn_in_progress', message: 'busy', active_turn_id: 't1' }),
      ]);
    expect(selectActiveTurnId(store.getState())).toBe('t1');
  });

  it('return stable references while nothing they read changes', () => {
    store.getState().selectSession('s1');
    store.getState().ingestEvents(committedTurn(envelopes(), 't1', 'hi', ['a']));
    const ids = selectSelectedTurnIds(store.getState());
    const turn = selectTurn('s1', 't1')(store.getState());
    store.getState().setConnection({ state: 'connected', error: null });
    store.getState().ingestEvents([envelopes('other')('session_closed', null, { reason: 'x' })]);
    expect(selectSelectedTurnIds(store.getState())).toBe(ids);
    expect(selectTurn('s1', 't1')(store.getState())).toBe(turn);
  });
});
