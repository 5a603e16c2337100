import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INTENT_CLASSES,
  type AgentEnvelope,
  type AgentIntentClass,
  type PlannedSpawn,
  type SpawnPlan,
} from '../../../shared/agents';
import { hashCanonical } from '../core/hash';
import { MergeArbiter, type ArbiterResult, type Staged } from './arbiter';

function planned(agent: string, sequence: number, intent: AgentIntentClass, execute: boolean): PlannedSpawn {
  const spec = INTENT_CLASSES[intent];
  return {
    stream: {
      stream_id: `agent_r1_${agent}_${sequence}`,
      run_id: 'r1',
      session_id: 's1',
      turn_id: 't1',
      agent,
      sequence,
    },
    request_id: `${agent}:${sequence}`,
    intent,
    critical: spec.critical,
    priority: spec.priority,
    score: 0.9,
    execute,
    needs: spec.needs,
  };
}

/** A PILOT plan in planning order: safety, quest_gate (not a pilot agent: preview), lore ×2, emotion. */
const SAFETY = planned('safety', 1, 'safety_check', true);
const QUEST = planned('quest_gate', 1, 'quest_readiness', false);
const LORE1 = planned('lore', 1, 'lore_consistency', true);
const LORE2 = planned('lore', 2, 'lore_consistency', true);
const EMOTION = planned('emotion', 1, 'relationship_trajectory', true);
const PLAN: SpawnPlan = {
  turn_id: 't1',
  mode: 'pilot',
  pressure: 'LOW',
  spawns: [SAFETY, QUEST, LORE1, LORE2, EMOTION],
  admissions: [],
  plan_hash: 'a'.repeat(64),
};

function envelope(spawn: PlannedSpawn, overrides: Partial<AgentEnvelope> = {}): AgentEnvelope {
  return {
    v: 1,
    stream: spawn.stream,
    intent: spawn.intent,
    decision: spawn.execute ? 'allow' : 'preview',
    confidence: 0.8,
    evidence_refs: [`request:${spawn.request_id}`],
    blocking_conditions: [],
    summary: `${spawn.stream.agent} says ok`,
    data: {},
    created_at: 1_000,
    ...overrides,
  };
}

const blocking = (code = 'unsafe'): Partial<AgentEnvelope> => ({
  decision: 'block',
  blocking_conditions: [{ code, message: `${code} content` }],
});

function staged(spawn: PlannedSpawn, overrides: Partial<AgentEnvelope> = {}): Staged {
  return { stream_id: spawn.stream.stream_id, preview: !spawn.execute, envelope: envelope(spawn, overrides) };
}

function decide(items: readonly Staged[], plan: SpawnPlan = PLAN): ArbiterResult {
  const arbiter = new MergeArbiter(plan);
  for (const s of items) arbiter.stage(s);
  return arbiter.decide();
}

function verdict(result: ArbiterResult, streamId: string, accepted: boolean) {
  const v = result.verdicts.filter((x) => x.stream_id === streamId && x.accepted === accepted);
  expect(v).toHaveLength(1);
  return v[0] as NonNullable<(typeof v)[0]>;
}

describe('MergeArbiter', () => {
  it('accepts valid envelopes in order: blocking first, then intent priority, then plan order', () => {
    const r = decide([
      staged(EMOTION, { decision: 'propose', confidence: 0.6 }),
      staged(QUEST),
      staged(LORE1, blocking('contradiction')),
      staged(SAFETY, { confidence: 1 }),
    ]);
    expect(r.verdicts.map((v) => [v.stream_id, v.accepted, v.order, v.effect, v.blocking])).toEqual([
      [LORE1.stream.stream_id, true, 0, 'commit', true],
      [SAFETY.stream.stream_id, true, 1, 'commit', false],
      [QUEST.stream.stream_id, true, 2, 'shadow', false],
      [EMOTION.stream.stream_id, true, 3, 'commit', false],
    ]);
    expect(r).toMatchObject({ mode: 'pilot', accepted: 4, rejected: 0, blocking: 1 });
    expect(r.verdicts[0]?.reason).toBe('accepted: blocks the commit (contradiction)');
    expect(r.verdicts[1]?.reason).toBe('accepted: allow, confidence 1.00');
    expect(r.verdicts[2]?.reason).toContain('shadow preview');
    for (const v of r.verdicts) expect(v.envelope_hash).toMatch(/^[0-9a-f]{64}$/);

    // The blackboard has every accepted envelope; only those that really ran go to the commit.
    expect(r.blackboard.map((b) => [b.stream_id, b.effect])).toEqual([
      [LORE1.stream.stream_id, 'commit'],
      [SAFETY.stream.stream_id, 'commit'],
      [QUEST.stream.stream_id, 'shadow'],
      [EMOTION.stream.stream_id, 'commit'],
    ]);
    expect(r.commit).toEqual([
      {
        stream_id: LORE1.stream.stream_id,
        agent: 'lore',
        intent: 'lore_consistency',
        decision: 'block',
        confidence: 0.8,
        envelope_hash: hashCanonical(envelope(LORE1, blocking('contradiction'))),
        block: 'contradiction: contradiction content',
      },
      {
        stream_id: SAFETY.stream.stream_id,
        agent: 'safety',
        intent: 'safety_check',
        decision: 'allow',
        confidence: 1,
        envelope_hash: hashCanonical(envelope(SAFETY, { confidence: 1 })),
        block: null,
      },
      {
        stream_id: EMOTION.stream.stream_id,
        agent: 'emotion',
        intent: 'relationship_trajectory',
        decision: 'propose',
        confidence: 0.6,
        envelope_hash: hashCanonical(envelope(EMOTION, { decision: 'propose', confidence: 0.6 })),
        block: null,
      },
    ]);
  });

  it('orders by intent priority even when the plan lists the spawns otherwise', () => {
    const reversed: SpawnPlan = { ...PLAN, spawns: [EMOTION, LORE1, QUEST, SAFETY] };
    const r = decide([staged(EMOTION), staged(LORE1), staged(QUEST), staged(SAFETY)], reversed);
    expect(r.verdicts.map((v) => v.agent)).toEqual(['safety', 'quest_gate', 'lore', 'emotion']);
    const b = decide([staged(EMOTION, blocking()), staged(SAFETY), staged(LORE1, blocking())], reversed);
    expect(b.verdicts.map((v) => [v.agent, v.blocking])).toEqual([
      ['lore', true],
      ['emotion', true],
      ['safety', false],
    ]);
  });

  it('joins several blocking conditions into the commit block text', () => {
    const r = decide([
      staged(SAFETY, {
        decision: 'block',
        blocking_conditions: [
          { code: 'a', message: 'first' },
          { code: 'b', message: 'second' },
        ],
      }),
    ]);
    expect(r.commit[0]?.block).toBe('a: first; b: second');
    expect(r.verdicts[0]?.reason).toBe('accepted: blocks the commit (a, b)');
  });

  it('a blocking preview stays on the blackboard and does not block the commit', () => {
    const r = decide([staged(QUEST, blocking())]);
    expect(r.verdicts[0]).toMatchObject({ accepted: true, effect: 'shadow', blocking: true });
    expect(r.commit).toEqual([]);
    expect(r.blocking).toBe(0);
  });

  describe('rejects invalid payloads with a reason', () => {
    const cases: [string, Staged, RegExp][] = [
      ['schema violation', staged(LORE1, { confidence: 2 }), /^invalid payload: confidence: /],
      [
        'schema violation: unknown key',
        { ...staged(LORE1), envelope: { ...envelope(LORE1), extra: true } },
        /^invalid payload: /,
      ],
      [
        'not an object',
        { stream_id: LORE1.stream.stream_id, preview: false, envelope: 'hello' },
        /^invalid payload: \(root\)/,
      ],
      [
        'unplanned stream id',
        { ...staged(LORE1), stream_id: 'agent_r1_lore_9' },
        /^invalid payload: stream not planned this turn$/,
      ],
      [
        'identity mismatch (sequence)',
        staged(LORE1, { stream: { ...LORE1.stream, sequence: 2 } }),
        /^invalid payload: stream identity does not match the plan$/,
      ],
      [
        'identity mismatch (session)',
        staged(LORE1, { stream: { ...LORE1.stream, session_id: 's2' } }),
        /^invalid payload: stream identity does not match the plan$/,
      ],
      [
        'identity mismatch (envelope of another planned stream)',
        { ...staged(LORE2), stream_id: LORE1.stream.stream_id },
        /^invalid payload: stream identity does not match the plan$/,
      ],
      [
        'intent mismatch',
        staged(LORE1, { intent: 'quest_readiness' }),
        /^invalid payload: intent 'quest_readiness' but the stream was planned for 'lore_consistency'$/,
      ],
      [
        'preview from an executing spawn',
        { ...staged(LORE1), preview: true },
        /^invalid payload: a preview from a stream that runs$/,
      ],
      [
        'real envelope from a non-executing spawn',
        { ...staged(QUEST), preview: false },
        /^invalid payload: an envelope from a stream that was not run$/,
      ],
      [
        'missing',
        {
          stream_id: LORE1.stream.stream_id,
          preview: false,
          envelope: undefined,
          missing: 'ended with timeout',
        },
        /^no envelope: the stream ended with timeout$/,
      ],
    ];
    it.each(cases)('%s', (_name, s, reason) => {
      const r = decide([s]);
      expect(r.accepted).toBe(0);
      expect(r.rejected).toBe(1);
      expect(r.commit).toEqual([]);
      expect(r.blackboard).toEqual([]);
      expect(r.verdicts).toHaveLength(1);
      expect(r.verdicts[0]).toMatchObject({
        stream_id: s.stream_id,
        accepted: false,
        blocking: false,
        order: null,
        envelope_hash: null,
        effect: s.preview ? 'shadow' : 'commit',
      });
      expect(r.verdicts[0]?.reason).toMatch(reason);
    });

    it('rejected envelopes name the planned agent and intent, or unknown', () => {
      const r = decide([staged(LORE1, { confidence: -1 }), { ...staged(LORE1), stream_id: 'nope' }]);
      expect(r.verdicts.map((v) => [v.stream_id, v.agent, v.intent])).toEqual([
        [LORE1.stream.stream_id, 'lore', 'lore_consistency'],
        ['nope', 'unknown', 'unknown'],
      ]);
    });
  });

  it('rejects a second envelope from the same stream', () => {
    const r = decide([staged(SAFETY, { confidence: 0.9 }), staged(SAFETY, { confidence: 0.95 })]);
    expect(r.accepted).toBe(1);
    expect(r.rejected).toBe(1);
    expect(verdict(r, SAFETY.stream.stream_id, false).reason).toBe(
      'invalid payload: a second envelope from the same stream',
    );
  });

  it('duplicate agent + intent: a blocking envelope beats a non-blocking one, whatever its confidence', () => {
    const r = decide([staged(LORE1, { confidence: 1 }), staged(LORE2, { ...blocking(), confidence: 0.1 })]);
    expect(verdict(r, LORE2.stream.stream_id, true).blocking).toBe(true);
    const loser = verdict(r, LORE1.stream.stream_id, false);
    expect(loser.reason).toBe(
      `duplicate of ${LORE2.stream.stream_id} for lore/lore_consistency: the winner blocks`,
    );
    expect(r.commit.map((c) => c.stream_id)).toEqual([LORE2.stream.stream_id]);
  });

  it('duplicate agent + intent: then the higher confidence wins', () => {
    const r = decide([staged(LORE1, { confidence: 0.5 }), staged(LORE2, { confidence: 0.8 })]);
    verdict(r, LORE2.stream.stream_id, true);
    expect(verdict(r, LORE1.stream.stream_id, false).reason).toBe(
      `duplicate of ${LORE2.stream.stream_id} for lore/lore_consistency: lower confidence`,
    );
    // Both blocking: confidence still decides.
    const b = decide([
      staged(LORE1, { ...blocking(), confidence: 0.9 }),
      staged(LORE2, { ...blocking(), confidence: 0.3 }),
    ]);
    verdict(b, LORE1.stream.stream_id, true);
    expect(verdict(b, LORE2.stream.stream_id, false).reason).toContain(
      `duplicate of ${LORE1.stream.stream_id}`,
    );
  });

  it('duplicate agent + intent: then the earlier sequence wins', () => {
    const r = decide([staged(LORE2, { confidence: 0.7 }), staged(LORE1, { confidence: 0.7 })]);
    verdict(r, LORE1.stream.stream_id, true);
    expect(verdict(r, LORE2.stream.stream_id, false).reason).toBe(
      `duplicate of ${LORE1.stream.stream_id} for lore/lore_consistency: later stream`,
    );
    // The sequence decides even when the plan lists the later sequence first.
    const swapped: SpawnPlan = { ...PLAN, spawns: [LORE2, LORE1] };
    const s = decide([staged(LORE2, { confidence: 0.7 }), staged(LORE1, { confidence: 0.7 })], swapped);
    verdict(s, LORE1.stream.stream_id, true);
  });

  it('an invalid envelope does not take part in the duplicate contest', () => {
    const r = decide([staged(LORE1, blocking()), staged(LORE2, { ...blocking(), confidence: 7 })]);
    verdict(r, LORE1.stream.stream_id, true);
    expect(verdict(r, LORE2.stream.stream_id, false).reason).toMatch(/^invalid payload: confidence/);
  });

  it("accepts the plane's fail-closed stand-in for a missing critical envelope as blocking", () => {
    const standIn: AgentEnvelope = envelope(SAFETY, {
      decision: 'block',
      confidence: 1,
      evidence_refs: [`stream:${SAFETY.stream.stream_id}`],
      blocking_conditions: [
        {
          code: 'critical_agent_missing',
          message: "critical agent 'safety' ended with timeout before deciding",
        },
      ],
      summary: "fail closed: critical agent 'safety' ended with timeout",
    });
    const missing: Staged = {
      stream_id: SAFETY.stream.stream_id,
      preview: false,
      envelope: undefined,
      missing: 'ended with timeout',
    };
    const replaces: Staged = {
      stream_id: SAFETY.stream.stream_id,
      preview: false,
      envelope: standIn,
      replaces: true,
    };
    const r = decide([staged(EMOTION), replaces, missing]);
    expect(verdict(r, SAFETY.stream.stream_id, true)).toMatchObject({
      blocking: true,
      order: 0,
      effect: 'commit',
    });
    expect(verdict(r, SAFETY.stream.stream_id, false).reason).toBe(
      'no envelope: the stream ended with timeout',
    );
    expect(r.commit[0]).toMatchObject({
      stream_id: SAFETY.stream.stream_id,
      decision: 'block',
      block: "critical_agent_missing: critical agent 'safety' ended with timeout before deciding",
    });
    expect(r.blocking).toBe(1);

    // Also when the stream completed with an invalid envelope.
    const invalid: Staged = { stream_id: SAFETY.stream.stream_id, preview: false, envelope: { nope: true } };
    const i = decide([invalid, replaces]);
    expect(verdict(i, SAFETY.stream.stream_id, true).blocking).toBe(true);
    expect(verdict(i, SAFETY.stream.stream_id, false).reason).toMatch(/^invalid payload/);
  });

  it('decides once; no staging after the decision', () => {
    const arbiter = new MergeArbiter(PLAN);
    arbiter.stage(staged(SAFETY));
    const r = arbiter.decide();
    expect(r.accepted).toBe(1);
    expect(() => arbiter.decide()).toThrow(/decides once/);
    expect(() => {
      arbiter.stage(staged(LORE1));
    }).toThrow(/has decided/);
  });

  it('survives payloads JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const r = decide([
      { stream_id: LORE1.stream.stream_id, preview: false, envelope: 10n },
      { stream_id: LORE2.stream.stream_id, preview: false, envelope: cyclic },
      staged(SAFETY),
    ]);
    expect(r.accepted).toBe(1);
    expect(r.rejected).toBe(2);
  });

  it('rejects an envelope whose data JSON cannot hold (no exception out of decide)', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const r = decide([
      staged(LORE1, { data: { n: 1n } }),
      staged(EMOTION, { data: { cyclic } }),
      staged(SAFETY),
    ]);
    expect(r.accepted).toBe(1);
    expect(verdict(r, LORE1.stream.stream_id, false).reason).toMatch(/^invalid payload: /);
    expect(verdict(r, EMOTION.stream.stream_id, false).reason).toMatch(/^invalid payload: /);
  });

  it('orders rejections of one stream by content, not by staging order', () => {
    const timedOut: Staged = {
      stream_id: SAFETY.stream.stream_id,
      preview: false,
      envelope: undefined,
      missing: 'timeout',
    };
    const empty: Staged = { stream_id: SAFETY.stream.stream_id, preview: false, envelope: undefined };
    const a = decide([timedOut, empty]);
    const b = decide([empty, timedOut]);
    expect(b.verdicts).toEqual(a.verdicts);
    expect(b.decision_hash).toBe(a.decision_hash);
  });

  /** Valid, invalid, conflicting, missing and unplanned stagings: every rule has something to decide. */
  const POOL: readonly Staged[] = [
    staged(SAFETY, { confidence: 0.9 }),
    staged(SAFETY, { confidence: 0.4 }),
    staged(SAFETY, blocking()),
    {
      stream_id: SAFETY.stream.stream_id,
      preview: false,
      envelope: undefined,
      missing: 'ended with timeout',
    },
    { stream_id: SAFETY.stream.stream_id, preview: false, envelope: undefined, missing: 'ended with failed' },
    { stream_id: SAFETY.stream.stream_id, preview: false, envelope: undefined },
    { ...staged(SAFETY, blocking('critical_agent_missing')), replaces: true },
    staged(QUEST),
    { ...staged(QUEST), preview: false },
    staged(LORE1, { confidence: 0.7 }),
    staged(LORE1, { confidence: 0.7, summary: 'same stream, other words' }),
    { ...staged(LORE1, { confidence: 0.7 }), preview: true },
    staged(LORE2, { confidence: 0.7 }),
    staged(LORE2, { ...blocking(), confidence: 0.2 }),
    staged(LORE2, { intent: 'safety_check' }),
    staged(EMOTION, { confidence: 0.3, decision: 'propose' }),
    staged(EMOTION, { confidence: 1.5 }),
    staged(EMOTION, { stream: { ...EMOTION.stream, turn_id: 't0' } }),
    { ...staged(EMOTION), stream_id: 'agent_r1_emotion_7' },
    { ...staged(EMOTION), stream_id: 'agent_r1_emotion_8' },
    { stream_id: 'agent_r1_ghost_1', preview: true, envelope: null },
  ];

  it('decides independently of staging order (same verdicts, same decision hash)', () => {
    fc.assert(
      fc.property(
        fc
          .subarray([...POOL], { minLength: 1 })
          .chain((items) =>
            fc.tuple(fc.constant(items), fc.shuffledSubarray(items, { minLength: items.length })),
          ),
        ([items, permuted]) => {
          const a = decide(items);
          const b = decide(permuted);
          expect(b.verdicts).toEqual(a.verdicts);
          expect(b.decision_hash).toBe(a.decision_hash);
          expect(b.commit).toEqual(a.commit);
          expect(b.blackboard).toEqual(a.blackboard);
          // Every staged item gets exactly one verdict; one accepted envelope per stream and per agent + intent.
          expect(a.verdicts).toHaveLength(items.length);
          expect(a.accepted + a.rejected).toBe(items.length);
          const accepted = a.verdicts.filter((v) => v.accepted);
          expect(new Set(accepted.map((v) => v.stream_id)).size).toBe(accepted.length);
          expect(new Set(accepted.map((v) => `${v.agent}/${v.intent}`)).size).toBe(accepted.length);
          expect(accepted.map((v) => v.order)).toEqual(accepted.map((_, i) => i));
          // Blocking first, then intent priority.
          const keys = accepted.map((v) => [
            Number(!v.blocking),
            -INTENT_CLASSES[v.intent as AgentIntentClass].priority,
          ]);
          const sorted = [...keys].sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0) || (x[1] ?? 0) - (y[1] ?? 0));
          expect(keys).toEqual(sorted);
        },
      ),
      { numRuns: 500 },
    );
  });
});
