import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStreamConfigPatch } from '../../../shared/agents';
import type { EventEnvelope } from '../../../shared/protocol';
import { ProvenanceRecordV2 } from '../../../shared/world';
import { ManualClock } from '../core/clock';
import { RuntimeError } from '../core/errors';
import { streamViolations } from '../testing/invariants';
import { createTestRuntime, type RecordedSession, type TestRuntime } from '../testing/test-runtime';
import { BUILTIN_AGENTS, safetyAgent } from './builtin-agents';
import type { AgentDefinition } from './contracts';

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

function configure(rt: TestRuntime, patch: AgentStreamConfigPatch): void {
  rt.runtime.agents.config.set(patch, 'test');
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

const typesOf = (events: readonly EventEnvelope[]): string[] => events.map((e) => e.type);

describe('SHADOW mode (the default)', () => {
  it('plans and arbitrates every turn but runs nothing and leaves the commit alone', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    const events = await turn(s, 'Any rooms free?');
    expect(typesOf(events).slice(0, 2)).toEqual(['turn_accepted', 'agent_admission']);
    const admission = s.ofType('agent_admission')[0]?.payload;
    expect(admission?.mode).toBe('shadow');
    const planned = admission?.admissions.filter((a) => a.stream_id !== null) ?? [];
    expect(planned.length).toBeGreaterThan(0);
    expect(admission?.admissions.every((a) => !a.execution_accepted)).toBe(true);
    // Nothing ran: no lifecycle, no agent tokens; one preview envelope per planned spawn.
    expect(s.ofType('agent_stream_lifecycle')).toEqual([]);
    expect(s.ofType('agent_token_delta')).toEqual([]);
    const previews = s.ofType('agent_envelope');
    expect(previews.map((e) => e.payload.envelope.stream.stream_id)).toEqual(planned.map((a) => a.stream_id));
    expect(previews.every((e) => e.payload.preview && e.payload.envelope.decision === 'preview')).toBe(true);
    const decision = s.ofType('arbiter_decision')[0]?.payload;
    expect(decision).toMatchObject({ mode: 'shadow', accepted: planned.length, rejected: 0, committed: 0 });
    expect(s.ofType('commit_succeeded')).toHaveLength(1);
    expect(records(t, s.session.id)[0]?.agent_envelopes).toEqual([]);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('lets a turn the safety agent would block commit: shadow decides nothing', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    const events = await turn(s, 'Do you have any poison?');
    expect(events.at(-1)?.type).toBe('commit_succeeded');
  });
});

describe('PILOT mode', () => {
  it('runs pilot agents as streams whose accepted envelopes reach the ledger provenance', async () => {
    t = createTestRuntime();
    configure(t, { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety', 'lore'] });
    const s = t.openSession();
    const events = await turn(s, 'Any rooms free?');
    expect(events.at(-1)?.type).toBe('commit_succeeded');
    const admissions = s.ofType('agent_admission')[0]?.payload.admissions ?? [];
    const executed = admissions.filter((a) => a.execution_accepted).map((a) => a.stream_id);
    expect(executed).toEqual(['agent_test_safety_1', 'agent_test_lore_1']);
    for (const id of executed) {
      const states = s
        .ofType('agent_stream_lifecycle')
        .filter((e) => e.payload.stream_id === id)
        .map((e) => [e.payload.state, e.payload.terminal_reason]);
      expect(states).toEqual([
        ['queued', null],
        ['started', null],
        ['ended', 'completed'],
      ]);
      expect(s.ofType('agent_token_delta').filter((e) => e.payload.stream_id === id).length).toBeGreaterThan(
        0,
      );
    }
    const real = s.ofType('agent_envelope').filter((e) => !e.payload.preview);
    expect(real.map((e) => e.payload.envelope.stream.stream_id)).toEqual(executed);
    const decision = s.ofType('arbiter_decision')[0]?.payload;
    expect(decision).toMatchObject({ mode: 'pilot', committed: 2, blocking: 0 });
    // The stream ids and envelope hashes are in the commit's provenance, in acceptance order.
    const record = records(t, s.session.id)[0];
    expect(record?.agent_envelopes.map((e) => [e.stream_id, e.envelope_hash])).toEqual(
      real.map((e) => [e.payload.envelope.stream.stream_id, e.payload.envelope_hash]),
    );
    expect(record?.agent_envelopes.map((e) => e.block)).toEqual([null, null]);
    // Agent events all precede the commit; invariants hold.
    const commitIndex = typesOf(events).indexOf('commit_succeeded');
    expect(events.slice(commitIndex + 1)).toEqual([]);
    expect(streamViolations(s.events)).toEqual([]);
    expect((await t.runtime.verify()).ok).toBe(true);
  });

  it('fails the commit when the safety agent blocks; the failed record names the stream and replays', async () => {
    t = createTestRuntime();
    configure(t, { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] });
    const s = t.openSession();
    const hashBefore = s.session.worldState.hash;
    const events = await turn(s, 'Do you have any poison?');
    const failed = events.at(-1);
    expect(failed?.type).toBe('commit_failed');
    if (failed?.type !== 'commit_failed') return;
    expect(failed.payload.code).toBe('governance_failed');
    const verdict = failed.payload.verdicts.find((v) => v.rule === 'agent-blocks');
    expect(verdict?.ok).toBe(false);
    expect(verdict?.message).toContain('agent_test_safety_1');
    expect(verdict?.message).toContain('restricted_item');
    // Only the agent refused it: every other rule passed.
    expect(failed.payload.verdicts.filter((v) => !v.ok).map((v) => v.rule)).toEqual(['agent-blocks']);
    expect(s.session.worldState.hash).toBe(hashBefore);
    const record = records(t, s.session.id)[0];
    expect(record?.outcome).toBe('failed');
    expect(record?.agent_envelopes[0]?.stream_id).toBe('agent_test_safety_1');
    expect(record?.agent_envelopes[0]?.block).toMatch(/blocked_phrase.*restricted_item/);
    expect((await t.runtime.verify()).ok).toBe(true);
  });

  it('fails closed when a critical agent times out (virtual time)', async () => {
    const stuck: AgentDefinition = {
      ...safetyAgent,
      async run(ctx) {
        await ctx.say('thinking');
        await new Promise<never>((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reject(new Error('aborted'));
          });
        });
        throw new Error('unreachable');
      },
    };
    const clock = new ManualClock(1_700_000_000_000);
    t = createTestRuntime({
      clock,
      agents: {
        definitions: [stuck],
        config: { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'], agentStreamTimeoutMs: 500 },
      },
    });
    const s = t.openSession();
    const r = s.session.startTurn('Any rooms free?');
    // The reply streams at pace 0; the safety stream then starts and waits.
    await clock.advance(0);
    for (
      let i = 0;
      i < 20 && !s.events.some((e) => e.type === 'agent_stream_lifecycle' && e.payload.state === 'started');
      i++
    )
      await clock.advance(0);
    await clock.advance(499);
    expect(s.ofType('agent_stream_lifecycle').some((e) => e.payload.state === 'ended')).toBe(false);
    await clock.advance(1);
    await s.session.whenIdle();
    const ended = s.ofType('agent_stream_lifecycle').find((e) => e.payload.state === 'ended');
    expect(ended?.payload.terminal_reason).toBe('timeout');
    const last = s.events.filter((e) => e.turn_id === r.turnId).at(-1);
    expect(last?.type).toBe('commit_failed');
    const decision = s.ofType('arbiter_decision')[0]?.payload;
    expect(decision?.verdicts.find((v) => v.accepted)?.reason).toContain('critical_agent_missing');
    expect(decision?.verdicts.find((v) => !v.accepted)?.reason).toMatch(
      /^no envelope: the stream ended with timeout/,
    );
    expect(streamViolations(s.events)).toEqual([]);
  });

  it("fails closed when the arbiter refuses the critical agent's envelope", async () => {
    const broken: AgentDefinition = {
      ...safetyAgent,
      run: () =>
        Promise.resolve({
          decision: 'allow',
          confidence: 1,
          evidence_refs: [],
          blocking_conditions: [],
          summary: 'fine',
          data: { count: 1n }, // not JSON
        }),
    };
    t = createTestRuntime({
      agents: {
        definitions: [broken],
        config: { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] },
      },
    });
    const s = t.openSession();
    const events = await turn(s, 'Any rooms free?');
    expect(events.at(-1)?.type).toBe('commit_failed');
    const verdicts = s.ofType('arbiter_decision')[0]?.payload.verdicts ?? [];
    expect(verdicts.find((v) => !v.accepted)?.reason).toBe(
      'invalid payload: not representable as canonical JSON',
    );
    expect(verdicts.find((v) => v.accepted)?.reason).toContain('critical_agent_missing');
    // Only the stand-in could be shown.
    expect(s.ofType('agent_envelope').map((e) => e.payload.envelope.decision)).toEqual(['block']);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('a cancelled turn ends its streams (manual_cancel) before turn_cancelled, and nothing follows', async () => {
    t = createTestRuntime();
    configure(t, {
      agentStreamsEnabled: true,
      agentStreamPilotAgents: ['next_move'],
      agentStreamSpawnThreshold: 0.3,
    });
    const s = t.openSession();
    let cancelled = false;
    s.onEvent((e) => {
      if (!cancelled && e.type === 'agent_stream_lifecycle' && e.payload.state === 'started') {
        cancelled = true;
        s.session.cancelTurn(e.turn_id ?? '');
      }
    });
    const events = await turn(s, 'Any rooms free?');
    const types = typesOf(events);
    expect(types.at(-1)).toBe('turn_cancelled');
    const ended = s.ofType('agent_stream_lifecycle').find((e) => e.payload.state === 'ended');
    expect(ended?.payload.terminal_reason).toBe('manual_cancel');
    const endedAt = events.findIndex(
      (e) => e.type === 'agent_stream_lifecycle' && e.payload.state === 'ended',
    );
    expect(endedAt).toBeGreaterThan(-1);
    expect(endedAt).toBeLessThan(types.indexOf('turn_cancelled'));
    expect(s.ofType('arbiter_decision')).toEqual([]);
    expect(t.runtime.ledger.commitsForSession(s.session.id)).toEqual([]);
    expect(streamViolations(s.events)).toEqual([]);
  });

  it('cancelling the critical stream from a client blocks the commit (fail closed)', async () => {
    t = createTestRuntime();
    configure(t, { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] });
    const s = t.openSession();
    s.onEvent((e) => {
      if (e.type === 'agent_stream_lifecycle' && e.payload.state === 'started')
        t?.runtime.agents.cancelStream(e.payload.stream_id);
    });
    const events = await turn(s, 'Any rooms free?');
    expect(events.at(-1)?.type).toBe('commit_failed');
    expect(s.ofType('agent_stream_lifecycle').at(-1)?.payload.terminal_reason).toBe('manual_cancel');
    expect(() => {
      t?.runtime.agents.cancelStream('agent_test_safety_1');
    }).toThrow(RuntimeError);
  });

  it('ends running streams with engine_dispose when the runtime shuts down', async () => {
    t = createTestRuntime({
      agents: {
        tokenIntervalMs: 50,
        config: { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] },
      },
    });
    const s = t.openSession();
    const started = new Promise<void>((resolve) => {
      s.onEvent((e) => {
        if (e.type === 'agent_stream_lifecycle' && e.payload.state === 'started') resolve();
      });
    });
    s.session.startTurn('Any rooms free?');
    await started;
    await t.runtime.dispose();
    expect(s.ofType('agent_stream_lifecycle').at(-1)?.payload.terminal_reason).toBe('engine_dispose');
    expect(s.events.at(-1)?.type).toBe('session_closed');
    expect(streamViolations(s.events)).toEqual([]);
  });
});

describe('config flags', () => {
  it('a change is published to every live session and applies from the next turn only', async () => {
    t = createTestRuntime({ agents: { tokenIntervalMs: 0 } });
    const a = t.openSession();
    const b = t.openSession();
    let changedMidTurn = false;
    a.onEvent((e) => {
      if (!changedMidTurn && e.type === 'token_delta') {
        changedMidTurn = true;
        t?.runtime.agents.config.set(
          { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] },
          'designer@ws#1',
        );
      }
    });
    await turn(a, 'Any rooms free?');
    for (const s of [a, b]) {
      const changed = s.ofType('config_changed');
      expect(changed).toHaveLength(1);
      expect(changed[0]?.payload).toMatchObject({
        changed_by: 'designer@ws#1',
        version: 1,
        changes: [
          { key: 'agentStreamsEnabled', from: false, to: true },
          { key: 'agentStreamPilotAgents', from: [], to: ['safety'] },
        ],
      });
      expect(changed[0]?.class).toBe('authoritative');
    }
    // The running turn kept SHADOW; the next one runs the pilot agent.
    expect(a.ofType('arbiter_decision')[0]?.payload.mode).toBe('shadow');
    expect(a.ofType('agent_stream_lifecycle')).toEqual([]);
    await turn(a, 'Any rooms free?');
    expect(a.ofType('arbiter_decision')[1]?.payload.mode).toBe('pilot');
    expect(a.ofType('agent_admission')[1]?.payload.config_version).toBe(1);
    expect(a.ofType('agent_stream_lifecycle').length).toBeGreaterThan(0);
  });

  it('a no-op change publishes nothing; invalid values are refused before anything changes', () => {
    t = createTestRuntime();
    const s = t.openSession();
    expect(t.runtime.agents.config.set({ agentStreamsEnabled: false }, 'test')).toBeNull();
    expect(() => t?.runtime.agents.config.set({ agentStreamMaxConcurrent: 0 }, 'test')).toThrow();
    expect(s.ofType('config_changed')).toEqual([]);
    expect(t.runtime.agents.config.version).toBe(0);
  });
});

describe('pressure, determinism and rollout gates', () => {
  it('under forced HIGH pressure only critical intents spawn, and the gate says so', async () => {
    t = createTestRuntime();
    configure(t, { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety', 'lore', 'emotion'] });
    t.runtime.agents.forcePressure('HIGH');
    const s = t.openSession();
    await turn(s, 'Thank you, Mira. Any rooms free?');
    const admissions = s.ofType('agent_admission')[0]?.payload;
    expect(admissions?.pressure).toBe('HIGH');
    const spawned = admissions?.admissions.filter((a) => a.stream_id !== null) ?? [];
    expect(spawned.map((a) => a.intent)).toEqual(['safety_check']);
    const suppressed = admissions?.admissions.filter((a) => a.policy_accepted && a.stream_id === null) ?? [];
    expect(suppressed.length).toBeGreaterThan(0);
    for (const a of suppressed) expect(a.execution_reason).toMatch(/^HIGH pressure/);
    const gate = t.runtime.agents.status().gates.find((g) => g.id === 'pressure-shedding');
    expect(gate?.status).toBe('pass');
    expect(gate?.figures.shed_critical).toBe(0);
  });

  it('forcing HIGH sheds running non-critical streams and never the critical one', async () => {
    t = createTestRuntime({ agents: { tokenIntervalMs: 30 } });
    configure(t, {
      agentStreamsEnabled: true,
      agentStreamPilotAgents: ['safety', 'next_move'],
      agentStreamSpawnThreshold: 0.3,
    });
    const s = t.openSession();
    const bothRunning = new Promise<void>((resolve) => {
      s.onEvent((e) => {
        if (
          e.type === 'agent_stream_lifecycle' &&
          e.payload.state === 'started' &&
          e.payload.agent === 'safety'
        )
          resolve();
      });
    });
    const r = s.session.startTurn('Any rooms free?');
    await bothRunning;
    t.runtime.agents.forcePressure('HIGH');
    await s.session.whenIdle();
    const ends = s.ofType('agent_stream_lifecycle').filter((e) => e.payload.state === 'ended');
    const byAgent = Object.fromEntries(ends.map((e) => [e.payload.agent, e.payload.terminal_reason]));
    expect(byAgent.safety).toBe('completed');
    expect(['pressure_shed', 'completed']).toContain(byAgent.next_move);
    expect(s.events.filter((e) => e.turn_id === r.turnId).at(-1)?.type).toBe('commit_succeeded');
    expect(t.runtime.agents.ended.shedCritical).toBe(0);
  });

  it('the same turns give the same stream ids, plans and arbiter decisions in a fresh runtime', async () => {
    const run = async (): Promise<unknown[]> => {
      // Virtual time: envelopes carry their creation time, so equal inputs include equal clocks.
      const clock = new ManualClock(1_700_000_000_000);
      const rt = createTestRuntime({
        clock,
        agents: {
          config: { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety', 'quest_gate', 'lore'] },
        },
      });

      try {
        const s = rt.openSession();
        for (const line of [
          'Any work going?',
          'Any rooms free?',
          'Do you have poison?',
          'When did the coach cross?',
        ]) {
          s.session.startTurn(line);
          const turnEnd = { idle: false };
          void s.session.whenIdle().then(() => (turnEnd.idle = true));
          while (!turnEnd.idle) await clock.advance(1);
        }
        return s.events
          .filter((e) => e.type === 'agent_admission' || e.type === 'arbiter_decision')
          .map((e) =>
            e.type === 'agent_admission'
              ? [e.payload.plan_hash, e.payload.admissions.map((a) => a.stream_id)]
              : [e.payload.decision_hash, e.payload.verdicts.map((v) => [v.stream_id, v.accepted, v.order])],
          );
      } finally {
        await rt.dispose();
      }
    };
    const first = await run();
    expect(first).toHaveLength(8);
    expect(await run()).toEqual(first);
  });

  it('the gates: shadow divergence, determinism, pilot terminal reasons and rollback', async () => {
    t = createTestRuntime();
    const gates = () => Object.fromEntries(t?.runtime.agents.status().gates.map((g) => [g.id, g]) ?? []);
    expect(Object.values(gates()).map((g) => g.status)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    const s = t.openSession();
    await turn(s, 'Any rooms free?');
    expect(gates()['shadow-divergence']?.status).toBe('pass');
    expect(gates()['shadow-divergence']?.figures.divergent).toBeGreaterThan(0);
    expect(gates()['shadow-divergence']?.figures.execution_accepted).toBe(0);
    configure(t, { agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] });
    await turn(s, 'Any rooms free?');
    expect(gates()['pilot-terminal-reasons']).toMatchObject({
      status: 'pass',
      figures: { total: 1, completed: 1 },
    });
    expect(gates().rollback?.status).toBe('pending');
    configure(t, { agentStreamsEnabled: false });
    expect(gates().rollback?.status).toBe('pending');
    await turn(s, 'Any rooms free?');
    expect(gates().rollback).toMatchObject({ status: 'pass', figures: { executed_after: 0 } });
    expect(gates()['deterministic-planning']).toMatchObject({
      status: 'pass',
      figures: { turns_checked: 3, decisions_checked: 3 },
    });
  });

  it('the determinism gate fails when a recorded plan does not re-plan identically', async () => {
    t = createTestRuntime();
    const s = t.openSession();
    await turn(s, 'Any rooms free?');
    const record = t.runtime.agents.records[0];
    if (record === undefined) throw new Error('no record');
    // Tamper with the recorded inputs, as a nondeterministic scheduler would look.
    (record as { requests: unknown }).requests = record.requests.map((r) => ({
      ...r,
      relevance: r.relevance / 2,
    }));
    expect(t.runtime.agents.status().gates.find((g) => g.id === 'deterministic-planning')?.status).toBe(
      'fail',
    );
  });
});

describe('pressure from live signals', () => {
  it('a saturated subscriber queue and streams at the cap raise the computed level', async () => {
    t = createTestRuntime({
      queue: { capacity: 10 },
      agents: {
        tokenIntervalMs: 40,
        config: {
          agentStreamsEnabled: true,
          agentStreamPilotAgents: ['next_move'],
          agentStreamMaxConcurrent: 1,
          agentStreamSpawnThreshold: 0.3,
        },
      },
    });
    expect(t.runtime.agents.status().pressure).toMatchObject({ level: 'LOW', computed: 'LOW' });
    const s = t.openSession();
    // A second subscriber that never takes anything: its queue fills.
    s.session.subscribe(
      { deliver: () => false, ended: () => undefined },
      { fromSeq: 1, policy: 'drop_telemetry' },
    );
    const running = new Promise<void>((resolve) => {
      s.onEvent((e) => {
        if (e.type === 'agent_stream_lifecycle' && e.payload.state === 'started') resolve();
      });
    });
    s.session.startTurn('Any rooms free?');
    await running;
    const during = t.runtime.agents.status().pressure;
    expect(during.signals.active_streams).toBe(1);
    expect(during.signals.max_concurrent).toBe(1);
    expect(during.computed).not.toBe('LOW');
    await s.session.whenIdle();
    const after = t.runtime.agents.status().pressure;
    expect(after.signals.queue_fill).toBeGreaterThanOrEqual(0.9);
    expect(after.computed).toBe('HIGH');
    expect(after.reason).toContain('subscriber queue');
  });
});

describe('built-in agents', () => {
  it('are one per intent class, named as AGENT_NAMES', () => {
    expect(BUILTIN_AGENTS.map((a) => [a.name, a.intent])).toEqual([
      ['safety', 'safety_check'],
      ['quest_gate', 'quest_readiness'],
      ['lore', 'lore_consistency'],
      ['emotion', 'relationship_trajectory'],
      ['next_move', 'next_move_discovery'],
    ]);
  });

  it('lore flags a reply that contradicts the scenario, without blocking', async () => {
    t = createTestRuntime();
    configure(t, { agentStreamsEnabled: true, agentStreamPilotAgents: ['lore'] });
    const s = t.openSession();
    const events = await turn(s, 'Is the coach running?');
    expect(events.at(-1)?.type).toBe('commit_succeeded');
    const lore = s.ofType('agent_envelope').find((e) => e.payload.envelope.stream.agent === 'lore');
    expect(lore?.payload.envelope.decision).toBe('flag');
    expect(lore?.payload.envelope.evidence_refs).toContain('lore:bridge-out');
    expect(lore?.payload.envelope.blocking_conditions).toEqual([]);
  });
});
