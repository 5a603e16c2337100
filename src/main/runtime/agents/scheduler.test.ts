import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AGENT_INTENT,
  AGENT_NAMES,
  INTENT_CLASSES,
  PressureLevel,
  SpawnPlan,
  type AgentIntentRequest,
  type AgentName,
  type AgentStreamConfig,
} from '../../../shared/agents';
import { planSpawns, streamId, type PlanContext, type SequenceCounters } from './scheduler';

type Config = PlanContext['config'];

const CONFIG: Config = {
  agentStreamSpawnThreshold: 0.5,
  agentStreamPilotAgents: ['safety', 'lore'],
  agentStreamMaxSpawnsPerTurn: 3,
};

function ctx(
  overrides: Partial<Omit<PlanContext, 'config'>> & { config?: Partial<Config> } = {},
): PlanContext {
  const { config, ...rest } = overrides;
  return {
    runId: 'r1',
    sessionId: 's1',
    turnId: 't1',
    mode: 'pilot',
    pressure: 'LOW',
    ...rest,
    config: { ...CONFIG, ...config },
  };
}

function req(agent: AgentName, relevance: number, n = 1): AgentIntentRequest {
  return {
    request_id: `${agent}:${n}`,
    agent,
    intent: AGENT_INTENT[agent],
    relevance,
    reason: `${agent} wants in`,
  };
}

/** Random request sets with unique request ids (the contract: unique within a turn). */
const requestsArb = fc
  .uniqueArray(
    fc.record({
      agent: fc.constantFrom(...AGENT_NAMES),
      n: fc.integer({ min: 1, max: 3 }),
      relevance: fc.oneof(fc.constantFrom(0, 0.5, 0.625, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    }),
    { selector: (r) => `${r.agent}:${r.n}`, maxLength: 12 },
  )
  .map((rs) => rs.map((r) => req(r.agent, r.relevance, r.n)));

const ctxArb = fc.record({
  mode: fc.constantFrom<PlanContext['mode']>('shadow', 'pilot'),
  pressure: fc.constantFrom(...PressureLevel.options),
  threshold: fc.constantFrom(0, 0.3, 0.5, 0.8),
  budget: fc.integer({ min: 1, max: 6 }),
  pilots: fc.subarray([...AGENT_NAMES]),
});

const countersArb: fc.Arbitrary<SequenceCounters> = fc.dictionary(
  fc.constantFrom(...AGENT_NAMES),
  fc.integer({ min: 0, max: 50 }),
);

describe('planSpawns', () => {
  it('names streams agent_<runId>_<agent>_<sequence> with run-scoped per-agent sequences', () => {
    const c = ctx({ config: { agentStreamMaxSpawnsPerTurn: 10 } });
    const first = planSpawns(c, [req('safety', 1), req('lore', 1), req('lore', 0.9, 2)], {});
    expect(first.plan.spawns.map((s) => s.stream.stream_id)).toEqual([
      'agent_r1_safety_1',
      'agent_r1_lore_1', // score 0.8
      'agent_r1_lore_2', // score 0.72
    ]);
    expect(first.counters).toEqual({ safety: 1, lore: 2 });
    expect(streamId('r1', 'lore', 7)).toBe('agent_r1_lore_7');

    const second = planSpawns(
      ctx({ turnId: 't2', config: { agentStreamMaxSpawnsPerTurn: 10 } }),
      [req('lore', 1), req('emotion', 1)],
      first.counters,
    );
    expect(second.plan.spawns.map((s) => s.stream)).toEqual([
      {
        stream_id: 'agent_r1_lore_3',
        run_id: 'r1',
        session_id: 's1',
        turn_id: 't2',
        agent: 'lore',
        sequence: 3,
      },
      {
        stream_id: 'agent_r1_emotion_1',
        run_id: 'r1',
        session_id: 's1',
        turn_id: 't2',
        agent: 'emotion',
        sequence: 1,
      },
    ]);
    expect(second.counters).toEqual({ safety: 1, lore: 3, emotion: 1 });
    // The caller's counters are not mutated.
    expect(first.counters).toEqual({ safety: 1, lore: 2 });
  });

  it('does not consume sequences for suppressed requests', () => {
    const { plan, counters } = planSpawns(ctx(), [req('lore', 0.1), req('emotion', 1)], { lore: 4 });
    expect(plan.spawns.map((s) => s.stream.stream_id)).toEqual(['agent_r1_emotion_1']);
    expect(counters).toEqual({ lore: 4, emotion: 1 });
  });

  it('plans in order: critical, intent priority, score, agent, request id', () => {
    const requests: AgentIntentRequest[] = [
      { request_id: 'z', agent: 'next_move', intent: 'next_move_discovery', relevance: 1, reason: '' },
      { request_id: 'b', agent: 'lore_b', intent: 'lore_consistency', relevance: 1, reason: '' },
      { request_id: 'a', agent: 'lore_b', intent: 'lore_consistency', relevance: 1, reason: '' },
      { request_id: 'c', agent: 'lore_a', intent: 'lore_consistency', relevance: 1, reason: '' },
      { request_id: 'd', agent: 'lore_z', intent: 'lore_consistency', relevance: 0.9, reason: '' },
      { request_id: 'e', agent: 'quest_gate', intent: 'quest_readiness', relevance: 0.6, reason: '' },
      { request_id: 'f', agent: 'safety', intent: 'safety_check', relevance: 0.5, reason: '' },
    ];
    const { plan } = planSpawns(
      ctx({ config: { agentStreamMaxSpawnsPerTurn: 64, agentStreamSpawnThreshold: 0 } }),
      requests,
      {},
    );
    expect(plan.spawns.map((s) => s.request_id)).toEqual(['f', 'e', 'c', 'a', 'b', 'd', 'z']);
    expect(plan.admissions.map((a) => a.request_id)).toEqual(['f', 'e', 'c', 'a', 'b', 'd', 'z']);
  });

  it('gives every request an admission; unplanned ones have no stream id', () => {
    const { plan } = planSpawns(ctx(), [req('lore', 0.1), req('safety', 1)], {});
    expect(plan.admissions).toHaveLength(2);
    const lore = plan.admissions.find((a) => a.agent === 'lore');
    expect(lore).toMatchObject({ policy_accepted: false, execution_accepted: false, stream_id: null });
    expect(lore?.execution_reason).toContain('< threshold');
  });

  it('the per-turn budget suppresses further requests, saying so', () => {
    const c = ctx({ config: { agentStreamMaxSpawnsPerTurn: 2 } });
    const { plan } = planSpawns(
      c,
      [req('safety', 1), req('quest_gate', 1), req('lore', 1), req('emotion', 1)],
      {},
    );
    expect(plan.spawns.map((s) => s.stream.agent)).toEqual(['safety', 'quest_gate']);
    const suppressed = plan.admissions.filter((a) => a.stream_id === null);
    expect(suppressed.map((a) => a.agent)).toEqual(['lore', 'emotion']);
    for (const a of suppressed) {
      expect(a.policy_accepted).toBe(true);
      expect(a.execution_accepted).toBe(false);
      expect(a.execution_reason).toContain('budget');
      expect(a.execution_reason).toContain('agentStreamMaxSpawnsPerTurn=2');
    }
  });

  it('under HIGH pressure suppresses non-critical intents, naming HIGH pressure; critical ones still spawn', () => {
    const c = ctx({ pressure: 'HIGH', config: { agentStreamSpawnThreshold: 0.3 } });
    // lore at relevance 1 scores 0.55 under HIGH: it passes policy and is suppressed by pressure.
    const { plan } = planSpawns(c, [req('lore', 1), req('safety', 0.9), req('emotion', 1)], {});
    expect(plan.pressure).toBe('HIGH');
    expect(plan.spawns.map((s) => s.stream.stream_id)).toEqual(['agent_r1_safety_1']);
    expect(plan.spawns[0]?.execute).toBe(true);
    for (const agent of ['lore', 'emotion']) {
      const a = plan.admissions.find((x) => x.agent === agent);
      expect(a?.policy_accepted).toBe(true);
      expect(a?.execution_accepted).toBe(false);
      expect(a?.stream_id).toBeNull();
      expect(a?.execution_reason).toContain('HIGH pressure');
    }
  });

  it('marks planned spawns execute only for PILOT pilot agents; admissions carry the stream id', () => {
    const { plan } = planSpawns(ctx(), [req('safety', 1), req('quest_gate', 1), req('lore', 1)], {});
    expect(plan.spawns.map((s) => [s.stream.agent, s.execute])).toEqual([
      ['safety', true],
      ['quest_gate', false],
      ['lore', true],
    ]);
    for (const s of plan.spawns) {
      const a = plan.admissions.find((x) => x.request_id === s.request_id);
      expect(a?.stream_id).toBe(s.stream.stream_id);
      expect(a?.execution_accepted).toBe(s.execute);
      expect(a?.execution_reason).toContain(`(${s.stream.stream_id})`);
      expect(s.priority).toBe(INTENT_CLASSES[s.intent].priority);
      expect(s.needs).toBe(INTENT_CLASSES[s.intent].needs);
    }
  });

  it('the same inputs give the same plan, ids, admissions and hash, whatever the input order', () => {
    fc.assert(
      fc.property(
        requestsArb.chain((rs) =>
          fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length })),
        ),
        ctxArb,
        countersArb,
        ([requests, shuffled], c, counters) => {
          const context = ctx({
            mode: c.mode,
            pressure: c.pressure,
            config: {
              agentStreamSpawnThreshold: c.threshold,
              agentStreamMaxSpawnsPerTurn: c.budget,
              agentStreamPilotAgents: c.pilots,
            },
          });
          const a = planSpawns(context, requests, counters);
          const b = planSpawns(context, requests, counters);
          const s = planSpawns(context, shuffled, counters);
          expect(b).toEqual(a);
          expect(s).toEqual(a);
          expect(s.plan.plan_hash).toBe(a.plan.plan_hash);
          expect(SpawnPlan.safeParse(a.plan).success).toBe(true);
          expect(a.plan.admissions).toHaveLength(requests.length);
          expect(a.plan.spawns.length).toBeLessThanOrEqual(c.budget);
          if (c.pressure === 'HIGH') expect(a.plan.spawns.every((sp) => sp.critical)).toBe(true);
          if (c.mode === 'shadow') expect(a.plan.spawns.every((sp) => !sp.execute)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('changes the plan hash when the plan changes', () => {
    const a = planSpawns(ctx(), [req('safety', 1)], {});
    const b = planSpawns(ctx(), [req('safety', 1)], { safety: 1 });
    const c = planSpawns(ctx(), [req('safety', 0.9)], {});
    expect(new Set([a.plan.plan_hash, b.plan.plan_hash, c.plan.plan_hash]).size).toBe(3);
  });

  it('SHADOW and PILOT runs of the same turns plan the same stream ids; only execute differs', () => {
    fc.assert(
      fc.property(
        fc.array(requestsArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.constantFrom(...PressureLevel.options), { minLength: 5, maxLength: 5 }),
        fc.subarray([...AGENT_NAMES]),
        (turns, pressures, pilots) => {
          const config: Partial<AgentStreamConfig> = { agentStreamPilotAgents: pilots };
          let shadowCounters: SequenceCounters = {};
          let pilotCounters: SequenceCounters = {};
          turns.forEach((requests, i) => {
            const base = { turnId: `t${i}`, pressure: pressures[i] ?? 'LOW', config };
            const shadow = planSpawns(ctx({ ...base, mode: 'shadow' }), requests, shadowCounters);
            const pilot = planSpawns(ctx({ ...base, mode: 'pilot' }), requests, pilotCounters);
            shadowCounters = shadow.counters;
            pilotCounters = pilot.counters;
            const strip = (p: typeof shadow.plan) => p.spawns.map(({ execute: _execute, ...rest }) => rest);
            expect(strip(shadow.plan)).toEqual(strip(pilot.plan));
            expect(shadow.plan.spawns.every((s) => !s.execute)).toBe(true);
            expect(pilot.plan.spawns.map((s) => s.execute)).toEqual(
              pilot.plan.spawns.map((s) => pilots.includes(s.stream.agent as AgentName)),
            );
            expect(shadow.counters).toEqual(pilot.counters);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
