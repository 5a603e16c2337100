import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../../shared/commands';
import { BridgeError, type AnyBridgeCommand } from '../bridge/types';
import type { FrameScheduler } from '../events/event-batcher';
import { createAppStore, type AppStore } from '../store/app-store';
import type { ResultOf } from '../../../shared/commands';
import {
  BRIBE,
  commitSummary,
  committedPayload,
  committedTurn,
  envelopes,
  failedPayload,
  MODEL,
  SCENARIO,
  SELL_KEY,
  sessionSummary,
  STATE_0,
  STATE_1,
  WORLD,
} from '../testing/envelopes';
import {
  agentsConfig,
  agentsStatus,
  arbiterPayload,
  configChanged,
  pressure,
  streamIdOf,
  verdict,
} from '../testing/agent-fixtures';
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

function snapshot(lastCommitSeq: number | null, stateHash = STATE_0): ResultOf<'world.get'> {
  return {
    session_id: 's1',
    scenario_id: 'wayside-inn',
    state: WORLD,
    state_hash: stateHash,
    last_commit_seq: lastCommitSeq,
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
  it('mirrors the connection status and lists sessions and scenarios once connected', async () => {
    answer({
      'session.list': { sessions: [SESSION] },
      'scenario.list': { scenarios: [SCENARIO], default_scenario_id: 'wayside-inn' },
    });
    expect(store.getState().connection.state).toBe('connecting');
    bridge.setStatus({ state: 'connected', error: null });
    await settle();
    expect(store.getState().connection.state).toBe('connected');
    expect(store.getState().sessions.list).toEqual([SESSION]);
    expect(store.getState().scenarios).toEqual({ list: [SCENARIO], defaultId: 'wayside-inn', error: null });
  });

  it('keeps working without a scenario list, and says why it is missing', async () => {
    answer({
      'session.list': { sessions: [] },
      'scenario.list': () => {
        throw new BridgeError('unknown_command', 'no scenarios here');
      },
    });
    bridge.setStatus({ state: 'connected', error: null });
    await settle();
    expect(store.getState().scenarios.error).toBe('unknown_command: no scenarios here');
    expect(store.getState().commandError).toBeNull();
  });

  it('creates a session for the chosen scenario and NPC', async () => {
    answer({
      'session.create': { ...SESSION, npc_id: 'wren' },
      'session.subscribe': { session_id: 's1', from_seq: 1, overflow_policy: 'drop_telemetry' },
      'world.get': snapshot(null),
      'ledger.commits': { session_id: 's1', commits: [], more: false },
    });
    await inspector.createSession({ scenarioId: 'wayside-inn', npcId: 'wren' });
    expect(bridge.requests[0]).toEqual({
      type: 'session.create',
      scenario_id: 'wayside-inn',
      npc_id: 'wren',
    });
  });

  it('reads world state and provenance again after each commit attempt, once per burst', async () => {
    let world = snapshot(null);
    let commits = [] as ReturnType<typeof commitSummary>[];
    answer({
      'session.subscribe': { session_id: 's1', from_seq: 1, overflow_policy: 'drop_telemetry' },
      'world.get': () => world,
      'ledger.commits': (c: AnyBridgeCommand) => ({
        session_id: 's1',
        commits: commits.filter((x) => c.type === 'ledger.commits' && x.commit_seq > (c.after_seq ?? 0)),
        more: false,
      }),
    });
    await inspector.selectSession('s1');
    const before = bridge.requests.length;

    world = snapshot(1, STATE_1);
    commits = [commitSummary(1)];
    const ev = envelopes();
    bridge.emit(
      ev('turn_accepted', 't1', { text: 'room', model: MODEL }),
      ev('turn_final', 't1', { text: 'Key.', token_count: 1, proposals: [SELL_KEY], proposal_errors: [] }),
      ev('commit_succeeded', 't1', committedPayload(1, 'Key.')),
    );
    runFrame();
    await settle();
    expect(bridge.requests.slice(before)).toEqual([
      { type: 'world.get', session_id: 's1' },
      { type: 'ledger.commits', session_id: 's1', after_seq: 0 },
    ]);
    expect(store.getState().world.sessions['s1']?.snapshot?.state_hash).toBe(STATE_1);
    expect(store.getState().provenance.sessions['s1']?.commits.map((c) => c.commit_seq)).toEqual([1]);

    // A failed attempt leaves world state as it was: only the ledger is read again, from the last record.
    commits = [commitSummary(1), commitSummary(2, 'failed')];
    const after = bridge.requests.length;
    bridge.emit(
      ev('turn_accepted', 't2', { text: 'bribe', model: MODEL }),
      ev('turn_final', 't2', { text: 'No.', token_count: 1, proposals: [BRIBE], proposal_errors: [] }),
      ev('commit_failed', 't2', failedPayload(undefined, 2)),
    );
    runFrame();
    await settle();
    expect(bridge.requests.slice(after)).toEqual([
      { type: 'ledger.commits', session_id: 's1', after_seq: 1 },
    ]);
    expect(store.getState().provenance.sessions['s1']?.commits.map((c) => c.outcome)).toEqual([
      'committed',
      'failed',
    ]);

    // Replayed events of commits already held ask for nothing.
    const replayed = bridge.requests.length;
    bridge.emit(envelopes()('commit_succeeded', 't1', committedPayload(1, 'Key.')));
    runFrame();
    await settle();
    expect(bridge.requests.length).toBe(replayed);
  });

  it('reads every page of a long ledger', async () => {
    answer({
      'ledger.commits': (c: AnyBridgeCommand) => {
        const after = c.type === 'ledger.commits' ? (c.after_seq ?? 0) : 0;
        return { session_id: 's1', commits: [commitSummary(after + 1)], more: after + 1 < 3 };
      },
    });
    await inspector.refreshCommits('s1');
    expect(store.getState().provenance.sessions['s1']).toMatchObject({ loading: false, error: null });
    expect(store.getState().provenance.sessions['s1']?.commits.map((c) => c.commit_seq)).toEqual([1, 2, 3]);
  });

  it('keeps fetch failures next to the view they concern, not in the command banner', async () => {
    answer({
      'world.get': () => {
        throw new BridgeError('unknown_session', 'gone');
      },
      'ledger.commits': () => {
        throw new BridgeError('internal', 'disk');
      },
    });
    await Promise.all([inspector.refreshWorld('s1'), inspector.refreshCommits('s1')]);
    expect(store.getState().world.sessions['s1']).toMatchObject({
      loading: false,
      error: 'unknown_session: gone',
    });
    expect(store.getState().provenance.sessions['s1']).toMatchObject({
      loading: false,
      error: 'internal: disk',
    });
    expect(store.getState().commandError).toBeNull();
  });

  it('verifies a session and remembers how far the report reaches', async () => {
    const report = {
      ok: true,
      commits_checked: 1,
      sessions_checked: 1,
      head_hash: STATE_1,
      first_divergence: null,
      state_hashes: { s1: STATE_1 },
    };
    answer({
      'ledger.commits': { session_id: 's1', commits: [commitSummary(1)], more: false },
      'ledger.verify': report,
    });
    await inspector.refreshCommits('s1');
    await inspector.verifySession('s1');
    expect(bridge.requests.at(-1)).toEqual({ type: 'ledger.verify', session_id: 's1' });
    expect(store.getState().provenance.sessions['s1']?.verify).toEqual({
      state: 'done',
      report,
      throughSeq: 1,
    });

    answer({
      'ledger.verify': () => {
        throw new BridgeError('internal', 'ledger closed');
      },
    });
    await inspector.verifySession('s1');
    expect(store.getState().provenance.sessions['s1']?.verify).toEqual({
      state: 'error',
      message: 'internal: ledger closed',
    });
  });

  it('creates, selects and subscribes to a new session from seq 1', async () => {
    answer({
      'session.create': SESSION,
      'session.subscribe': { session_id: 's1', from_seq: 1, overflow_policy: 'drop_telemetry' },
      'world.get': snapshot(null),
      'ledger.commits': { session_id: 's1', commits: [], more: false },
    });
    await inspector.createSession();
    expect(bridge.requests).toEqual([
      { type: 'session.create' },
      { type: 'session.subscribe', session_id: 's1', from_seq: 1, overflow_policy: 'drop_telemetry' },
      { type: 'world.get', session_id: 's1' },
      { type: 'ledger.commits', session_id: 's1', after_seq: 0 },
    ]);
    expect(store.getState().sessions).toEqual({ list: [SESSION], selectedId: 's1' });
    expect(store.getState().world.sessions['s1']).toMatchObject({ snapshot: snapshot(null), loading: false });
    expect(store.getState().provenance.sessions['s1']).toMatchObject({ commits: [], loading: false });
  });

  it('forks a session from a commit, then selects and subscribes to the fork', async () => {
    const FORK = sessionSummary('s2', 9, { forked_from: { session_id: 's1', commit_seq: 3 } });
    answer({
      'session.fork': FORK,
      'session.subscribe': { session_id: 's2', from_seq: 1, overflow_policy: 'drop_telemetry' },
      'world.get': { ...snapshot(null, STATE_1), session_id: 's2' },
      'ledger.commits': { session_id: 's2', commits: [], more: false },
    });
    store.getState().upsertSession(SESSION);
    store.getState().selectSession('s1');
    await inspector.forkSession('s1', 3);
    expect(bridge.requests).toEqual([
      { type: 'session.fork', session_id: 's1', commit_seq: 3 },
      { type: 'session.subscribe', session_id: 's2', from_seq: 1, overflow_policy: 'drop_telemetry' },
      { type: 'world.get', session_id: 's2' },
      { type: 'ledger.commits', session_id: 's2', after_seq: 0 },
    ]);
    expect(store.getState().sessions).toEqual({ list: [SESSION, FORK], selectedId: 's2' });
    expect(store.getState().world.sessions['s2']?.snapshot?.state_hash).toBe(STATE_1);
  });

  it('a refused fork leaves the selection and reports the error', async () => {
    answer({
      'session.fork': () => {
        throw new BridgeError('unknown_commit', 'cannot fork s1 at commit 2: it is a failed attempt');
      },
    });
    store.getState().upsertSession(SESSION);
    store.getState().selectSession('s1');
    await inspector.forkSession('s1', 2);
    expect(store.getState().sessions).toEqual({ list: [SESSION], selectedId: 's1' });
    expect(store.getState().commandError).toMatchObject({ command: 'session.fork', code: 'unknown_commit' });
  });

  it('subscribes once per session, resuming after what the store already holds', async () => {
    answer({ 'session.subscribe': { session_id: 's1', from_seq: 4, overflow_policy: 'drop_telemetry' } });
    store.getState().ingestEvents(committedTurn(envelopes(), 't1', 'hi', ['a']));
    await inspector.selectSession('s1');
    await inspector.selectSession('s1');
    expect(bridge.requests.filter((r) => r.type === 'session.subscribe')).toEqual([
      { type: 'session.subscribe', session_id: 's1', from_seq: 5, overflow_policy: 'drop_telemetry' },
    ]);
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
    expect(bridge.requests.at(-1)).toEqual({
      type: 'session.subscribe',
      session_id: 's1',
      from_seq: 42,
      overflow_policy: 'drop_telemetry',
    });
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
    expect(bridge.requests.flatMap((r) => (r.type === 'session.subscribe' ? [r.from_seq] : []))).toEqual([
      1, 30,
    ]);
    expect(store.getState().commandError).toMatchObject({ code: 'resume_gap' });
    expect(store.getState().commandError?.message).toContain('seq 30');
  });

  it('reads the agent config and status when the Agents view opens, and on reconnect while it is shown', async () => {
    answer({
      'agents.config.get': agentsConfig(),
      'agents.status': agentsStatus(),
      'session.list': { sessions: [] },
      'scenario.list': { scenarios: [], default_scenario_id: 'wayside-inn' },
    });
    store.getState().showSidePanel('world');
    expect(bridge.requests).toEqual([]);
    store.getState().showSidePanel('agents');
    store.getState().showSidePanel('agents');
    await settle();
    expect(bridge.typesSent()).toEqual(['agents.config.get', 'agents.status']);
    expect(store.getState().agentControl).toMatchObject({
      config: agentsConfig(),
      status: agentsStatus(),
      configLoading: false,
      statusLoading: false,
    });

    bridge.setStatus({ state: 'connected', error: null });
    await settle();
    expect(bridge.typesSent().slice(2).sort()).toEqual([
      'agents.config.get',
      'agents.status',
      'scenario.list',
      'session.list',
    ]);
  });

  it('shows agent read failures in the Agents view, not in the command banner', async () => {
    answer({
      'agents.config.get': () => {
        throw new BridgeError('unknown_command', 'no agents here');
      },
      'agents.status': () => {
        throw new BridgeError('internal', 'boom');
      },
    });
    await inspector.refreshAgents();
    expect(store.getState().agentControl).toMatchObject({
      configError: 'unknown_command: no agents here',
      statusError: 'internal: boom',
    });
    expect(store.getState().commandError).toBeNull();
  });

  it('reads agent status again after the selected session’s arbiter decisions and commits, once per burst', async () => {
    let statusCalls = 0;
    answer({
      'agents.config.get': agentsConfig(),
      'agents.status': () => {
        statusCalls++;
        return agentsStatus();
      },
    });
    store.getState().selectSession('s1');
    const ev = envelopes();
    const other = envelopes('s2');
    const decision = ev('arbiter_decision', 't1', arbiterPayload([verdict('safety')]));

    // Not shown: nothing is read.
    bridge.emit(decision);
    runFrame();
    await settle();
    expect(statusCalls).toBe(0);

    store.getState().showSidePanel('agents');
    await settle();
    expect(statusCalls).toBe(1);

    bridge.emit(
      ev('arbiter_decision', 't2', arbiterPayload([verdict('safety')])),
      ev('commit_failed', 't2', failedPayload(undefined, null)),
    );
    runFrame();
    await settle();
    expect(statusCalls).toBe(2);

    // Another session's decisions do not concern the view.
    bridge.emit(other('arbiter_decision', 'x1', arbiterPayload([verdict('safety')])));
    runFrame();
    await settle();
    expect(statusCalls).toBe(2);
  });

  it('reads the config again when a config_changed event reports a newer version', async () => {
    let version = 0;
    answer({
      'agents.config.get': () => agentsConfig({ agentStreamsEnabled: version > 0 }, version),
    });
    await inspector.loadAgentConfig();
    const ev = envelopes();
    const change = (v: number) =>
      ev('config_changed', null, configChanged(v, [{ key: 'agentStreamsEnabled', from: false, to: true }]));
    version = 1;
    bridge.emit(change(1), envelopes('s2')('config_changed', null, configChanged(1, [])));
    runFrame();
    await settle();
    expect(bridge.typesSent()).toEqual(['agents.config.get', 'agents.config.get']);
    expect(store.getState().agentControl.config?.config.agentStreamsEnabled).toBe(true);

    // An event of a version already held (e.g. the answer to our own change came first) reads nothing.
    bridge.emit(change(1));
    runFrame();
    await settle();
    expect(bridge.requests).toHaveLength(2);
  });

  it('reads the config again when the status names a newer config version', async () => {
    let version = 1;
    answer({
      'agents.config.get': () => agentsConfig({}, version),
      'agents.status': () => agentsStatus({ config_version: version }),
    });
    await inspector.refreshAgents();
    expect(bridge.requests).toHaveLength(2);
    version = 2;
    await inspector.refreshAgentStatus();
    await settle();
    expect(bridge.typesSent().slice(2)).toEqual(['agents.status', 'agents.config.get']);
    expect(store.getState().agentControl.config?.version).toBe(2);
  });

  it('changes agent flags, then reads status; a refused change shows in the Agents view', async () => {
    answer({
      'agents.config.set': (c: AnyBridgeCommand) =>
        c.type === 'agents.config.set' ? agentsConfig(c.changes, 1) : undefined,
      'agents.status': agentsStatus({ config_version: 1 }),
    });
    await expect(inspector.setAgentConfig({ agentStreamsEnabled: true })).resolves.toBe(true);
    await settle();
    expect(bridge.requests).toEqual([
      { type: 'agents.config.set', changes: { agentStreamsEnabled: true } },
      { type: 'agents.status' },
    ]);
    expect(store.getState().agentControl.config).toMatchObject({
      version: 1,
      config: { agentStreamsEnabled: true },
    });

    answer({
      'agents.config.set': () => {
        throw new BridgeError('invalid_command', 'changes.agentStreamTimeoutMs: too big');
      },
    });
    await expect(inspector.setAgentConfig({ agentStreamTimeoutMs: 1e9 })).resolves.toBe(false);
    expect(store.getState().agentControl.setError).toBe(
      'invalid_command: changes.agentStreamTimeoutMs: too big',
    );
    expect(store.getState().commandError).toBeNull();
    expect(store.getState().agentControl.config?.config.agentStreamTimeoutMs).toBe(2_000);
  });

  it('toggles pilot agents one change at a time, each from the config the previous one left', async () => {
    let current = agentsConfig();
    answer({
      'agents.config.get': () => current,
      'agents.config.set': (c: AnyBridgeCommand) => {
        if (c.type !== 'agents.config.set') throw new Error('unexpected');
        current = agentsConfig({ ...current.config, ...c.changes }, current.version + 1);
        return current;
      },
      'agents.status': agentsStatus(),
    });
    // Quick clicks, before any answer: the second must not undo the first.
    const results = await Promise.all([
      inspector.setPilotAgent('safety', true),
      inspector.setPilotAgent('lore', true),
      inspector.setPilotAgent('lore', true),
    ]);
    expect(results).toEqual([true, true, true]);
    expect(bridge.requests.filter((r) => r.type === 'agents.config.set')).toEqual([
      { type: 'agents.config.set', changes: { agentStreamPilotAgents: ['safety'] } },
      { type: 'agents.config.set', changes: { agentStreamPilotAgents: ['safety', 'lore'] } },
    ]);
    await inspector.setPilotAgent('safety', false);
    expect(store.getState().agentControl.config?.config.agentStreamPilotAgents).toEqual(['lore']);
  });

  it('forces pressure and returns to auto; a failure goes to the command banner', async () => {
    answer({
      'agents.pressure.set': (c: AnyBridgeCommand) =>
        pressure('LOW', c.type === 'agents.pressure.set' ? c.level : null),
      'agents.status': agentsStatus(),
    });
    await inspector.refreshAgentStatus();
    await inspector.setPressure('HIGH');
    expect(store.getState().agentControl.status?.pressure).toMatchObject({ level: 'HIGH', forced: 'HIGH' });
    await settle();
    await inspector.setPressure(null);
    expect(bridge.requests.filter((r) => r.type === 'agents.pressure.set')).toEqual([
      { type: 'agents.pressure.set', level: 'HIGH' },
      { type: 'agents.pressure.set', level: null },
    ]);
    expect(bridge.typesSent().filter((t) => t === 'agents.status').length).toBeGreaterThanOrEqual(2);

    answer({
      'agents.pressure.set': () => {
        throw new BridgeError('not_connected', 'offline');
      },
    });
    await inspector.setPressure('LOW');
    expect(store.getState().commandError).toMatchObject({
      command: 'agents.pressure.set',
      code: 'not_connected',
    });
  });

  it('cancels an agent stream; a failure goes to the command banner', async () => {
    const stream = streamIdOf('lore');
    answer({ 'agent.cancel': { stream_id: stream, cancelled: true } });
    await inspector.cancelAgentStream(stream);
    expect(bridge.requests).toEqual([{ type: 'agent.cancel', stream_id: stream }]);
    expect(store.getState().commandError).toBeNull();

    answer({
      'agent.cancel': () => {
        throw new BridgeError('unknown_stream', 'already ended');
      },
    });
    await inspector.cancelAgentStream(stream);
    expect(store.getState().commandError).toEqual({
      command: 'agent.cancel',
      code: 'unknown_stream',
      message: 'already ended',
    });
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

describe('inspector: retry, unread activity, overflow policy, gates', () => {
  const SUBSCRIBED = { session_id: 's1', from_seq: 1, overflow_policy: 'drop_telemetry' } as const;

  it('retries a cancelled turn with the same line as a new turn, and not while a turn runs', async () => {
    store.getState().selectSession('s1');
    const ev = envelopes();
    answer({ 'turn.start': { turn_id: 't3', accepted: true } });
    bridge.emit(
      ev('turn_accepted', 't1', { text: 'A room, please', model: MODEL }),
      ev('turn_cancelled', 't1', { reason: 'client_cancel', tokens_emitted: 2 }),
      ev('turn_accepted', 't2', { text: 'still running', model: MODEL }),
    );
    runFrame();
    await expect(inspector.retryTurn('s1', 't1')).resolves.toBe(false);
    await expect(inspector.retryTurn('s1', 't2')).resolves.toBe(false);
    expect(bridge.requests).toEqual([]);

    bridge.emit(ev('turn_failed', 't2', { code: 'model_failed', message: 'x', tokens_emitted: 0 }));
    runFrame();
    await expect(inspector.retryTurn('s1', 't1')).resolves.toBe(true);
    expect(bridge.requests).toEqual([{ type: 'turn.start', session_id: 's1', text: 'A room, please' }]);
    expect(store.getState().dialogue.sessions['s1']?.turnIds).toEqual(['t1', 't2', 't3']);
    expect(store.getState().dialogue.sessions['s1']?.turns['t3']?.playerText).toBe('A room, please');
  });

  it('counts the events of sessions not selected, and clears them on selection', async () => {
    answer({
      'session.subscribe': SUBSCRIBED,
      'world.get': snapshot(null),
      'ledger.commits': { session_id: 's2', commits: [], more: false },
    });
    store.getState().selectSession('s1');
    bridge.emit(...committedTurn(envelopes('s2'), 't1', 'hi', ['a', 'b']));
    bridge.emit(...committedTurn(envelopes('s1'), 't1', 'hi', ['a']));
    runFrame();
    // turn_accepted, turn_final, commit_succeeded: the tokens are not news one by one.
    expect(store.getState().unread).toEqual({ s2: 3 });
    await inspector.selectSession('s2');
    expect(store.getState().unread).toEqual({});
  });

  it('changes the overflow policy: unsubscribes, then subscribes from the next seq with it', async () => {
    answer({
      'session.subscribe': (c: AnyBridgeCommand) =>
        c.type === 'session.subscribe'
          ? {
              session_id: 's1',
              from_seq: c.from_seq ?? 1,
              overflow_policy: c.overflow_policy ?? 'drop_telemetry',
            }
          : null,
      'session.unsubscribe': { session_id: 's1' },
      'world.get': snapshot(null),
      'ledger.commits': { session_id: 's1', commits: [], more: false },
    });
    await inspector.selectSession('s1');
    expect(store.getState().subscriptions.sessions['s1']).toEqual({
      policy: 'drop_telemetry',
      phase: 'subscribed',
      fromSeq: 1,
      error: null,
    });
    // Events still on their way when the policy changes are applied before the new subscription starts.
    bridge.emit(...committedTurn(envelopes(), 't1', 'hi', ['a']));
    await inspector.setOverflowPolicy('s1', 'fail');
    const subscriptionCommands = bridge.requests.filter((r) => r.type.startsWith('session.'));
    expect(subscriptionCommands.slice(-2)).toEqual([
      { type: 'session.unsubscribe', session_id: 's1' },
      { type: 'session.subscribe', session_id: 's1', from_seq: 5, overflow_policy: 'fail' },
    ]);
    expect(store.getState().subscriptions.sessions['s1']).toMatchObject({ policy: 'fail', fromSeq: 5 });

    // An overflow under `fail` resubscribes with the policy chosen.
    bridge.end({
      type: 'subscription.ended',
      session_id: 's1',
      last_seq: 9,
      error: { code: 'subscription_overflow', message: 'full' },
    });
    await settle();
    expect(bridge.requests.at(-1)).toEqual({
      type: 'session.subscribe',
      session_id: 's1',
      from_seq: 10,
      overflow_policy: 'fail',
    });
    // The same policy again changes nothing.
    const sent = bridge.requests.length;
    await inspector.setOverflowPolicy('s1', 'fail');
    expect(bridge.requests).toHaveLength(sent);
  });

  it('keeps the chosen policy when the new subscription is refused, and reports it', async () => {
    answer({
      'session.subscribe': (c: AnyBridgeCommand) => {
        if (c.type === 'session.subscribe' && c.overflow_policy === 'fail')
          throw new BridgeError('unknown_session', 'gone');
        return SUBSCRIBED;
      },
      'session.unsubscribe': { session_id: 's1' },
      'world.get': snapshot(null),
      'ledger.commits': { session_id: 's1', commits: [], more: false },
    });
    await inspector.selectSession('s1');
    await inspector.setOverflowPolicy('s1', 'fail');
    expect(store.getState().subscriptions.sessions['s1']).toMatchObject({
      policy: 'fail',
      phase: 'failed',
      error: 'unknown_session: gone',
    });
    expect(store.getState().commandError).toMatchObject({ command: 'session.subscribe' });
  });

  it('reads agents.status when the Rollout gates tab opens, and after the selected session’s commits', async () => {
    answer({ 'agents.status': agentsStatus() });
    store.getState().selectSession('s1');
    store.getState().showSidePanel('gates');
    await settle();
    expect(bridge.typesSent()).toEqual(['agents.status']);
    expect(store.getState().agentControl.status).toEqual(agentsStatus());
    bridge.emit(envelopes()('commit_failed', 't1', failedPayload(undefined, null)));
    runFrame();
    await settle();
    expect(bridge.typesSent()).toEqual(['agents.status', 'agents.status']);
  });
});
