import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AGENT_INTENT_CLASSES,
  INTENT_CLASSES,
  PressureLevel,
  type AgentIntentClass,
  type AgentIntentRequest,
  type AgentName,
} from '../../../shared/agents';
import { admit, PRESSURE_PENALTY, spawnScore, type PolicyContext } from './policy';

function request(agent: string, intent: AgentIntentClass, relevance: number): AgentIntentRequest {
  return { request_id: `${agent}:1`, agent, intent, relevance, reason: 'test' };
}

function ctx(
  mode: PolicyContext['mode'],
  options: { pressure?: PressureLevel; threshold?: number; pilots?: AgentName[] } = {},
): PolicyContext {
  return {
    mode,
    pressure: options.pressure ?? 'LOW',
    config: {
      agentStreamSpawnThreshold: options.threshold ?? 0.5,
      agentStreamPilotAgents: options.pilots ?? [],
    },
  };
}

describe('spawnScore', () => {
  it('is relevance × the intent weight under LOW pressure', () => {
    expect(spawnScore(request('safety', 'safety_check', 0.8), 'LOW')).toBe(0.8);
    expect(spawnScore(request('quest_gate', 'quest_readiness', 1), 'LOW')).toBe(0.9);
    expect(spawnScore(request('lore', 'lore_consistency', 0.5), 'LOW')).toBe(0.4);
    expect(spawnScore(request('emotion', 'relationship_trajectory', 1), 'LOW')).toBe(0.7);
    expect(spawnScore(request('next_move', 'next_move_discovery', 1), 'LOW')).toBe(0.6);
  });

  it('takes the pressure penalty off non-critical intents only', () => {
    expect(spawnScore(request('lore', 'lore_consistency', 1), 'MEDIUM')).toBe(0.7);
    expect(spawnScore(request('lore', 'lore_consistency', 1), 'HIGH')).toBe(0.55);
    expect(spawnScore(request('safety', 'safety_check', 0.9), 'MEDIUM')).toBe(0.9);
    expect(spawnScore(request('safety', 'safety_check', 0.9), 'HIGH')).toBe(0.9);
  });

  it('clamps at 0 when the penalty exceeds the weighted relevance', () => {
    expect(spawnScore(request('next_move', 'next_move_discovery', 0.2), 'HIGH')).toBe(0);
    expect(spawnScore(request('lore', 'lore_consistency', 0), 'MEDIUM')).toBe(0);
  });

  it('rounds to 4 decimals (no floating-point residue)', () => {
    // 0.3 × 0.8 = 0.24000000000000002 and 0.7 × 0.7 = 0.48999999999999994 in binary floating point.
    expect(spawnScore(request('lore', 'lore_consistency', 0.3), 'LOW')).toBe(0.24);
    expect(spawnScore(request('emotion', 'relationship_trajectory', 0.7), 'LOW')).toBe(0.49);
    expect(spawnScore(request('lore', 'lore_consistency', 0.123456), 'LOW')).toBe(0.0988);
  });

  it('is always in [0, 1], 4 decimals, and equals the formula', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...AGENT_INTENT_CLASSES),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(...PressureLevel.options),
        (intent, relevance, pressure) => {
          const score = spawnScore(request('a', intent, relevance), pressure);
          const spec = INTENT_CLASSES[intent];
          const raw = relevance * spec.weight - (spec.critical ? 0 : PRESSURE_PENALTY[pressure]);
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(1);
          expect(Math.round(score * 10_000) / 10_000).toBe(score);
          expect(Math.abs(score - Math.min(1, Math.max(0, raw)))).toBeLessThanOrEqual(0.00005);
        },
      ),
    );
  });
});

describe('admit', () => {
  it('below the threshold: neither policy- nor execution-accepted', () => {
    const a = admit(request('lore', 'lore_consistency', 0.5), ctx('pilot', { pilots: ['lore'] }));
    expect(a).toMatchObject({ score: 0.4, threshold: 0.5, policyAccepted: false, executionAccepted: false });
    expect(a.executionReason).toBe('score 0.40 < threshold 0.50: not admitted');
  });

  it('exactly at the threshold passes', () => {
    const a = admit(request('lore', 'lore_consistency', 0.625), ctx('pilot', { pilots: ['lore'] }));
    expect(a.score).toBe(0.5);
    expect(a.policyAccepted).toBe(true);
    expect(a.executionAccepted).toBe(true);
  });

  it('pressure can push a request below the threshold', () => {
    const r = request('lore', 'lore_consistency', 0.7); // 0.56 at LOW, 0.46 at MEDIUM
    expect(admit(r, ctx('pilot', { pilots: ['lore'] })).policyAccepted).toBe(true);
    expect(admit(r, ctx('pilot', { pilots: ['lore'], pressure: 'MEDIUM' })).policyAccepted).toBe(false);
  });

  it('SHADOW: policy-accepted but not executed, saying SHADOW', () => {
    const a = admit(request('safety', 'safety_check', 1), ctx('shadow', { pilots: ['safety'] }));
    expect(a.policyAccepted).toBe(true);
    expect(a.executionAccepted).toBe(false);
    expect(a.executionReason).toContain('SHADOW');
    expect(a.executionReason).toContain('score 1.00 ≥ threshold 0.50');
  });

  it('PILOT, agent not in agentStreamPilotAgents: not executed, naming the flag', () => {
    const a = admit(request('lore', 'lore_consistency', 1), ctx('pilot', { pilots: ['safety'] }));
    expect(a.policyAccepted).toBe(true);
    expect(a.executionAccepted).toBe(false);
    expect(a.executionReason).toContain('agentStreamPilotAgents');
    expect(a.executionReason).toContain("'lore'");
  });

  it('PILOT, pilot agent: executed', () => {
    const a = admit(request('lore', 'lore_consistency', 1), ctx('pilot', { pilots: ['safety', 'lore'] }));
    expect(a).toMatchObject({ score: 0.8, policyAccepted: true, executionAccepted: true });
    expect(a.executionReason).toContain("PILOT agent 'lore'");
  });

  it('is a pure function: equal inputs, equal admissions', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...AGENT_INTENT_CLASSES),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(...PressureLevel.options),
        fc.constantFrom<PolicyContext['mode']>('shadow', 'pilot'),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (intent, relevance, pressure, mode, threshold) => {
          const c = ctx(mode, { pressure, threshold, pilots: ['lore'] });
          const a = admit(request('lore', intent, relevance), c);
          expect(admit(request('lore', intent, relevance), c)).toEqual(a);
          expect(a.policyAccepted).toBe(a.score >= threshold);
          expect(a.executionAccepted).toBe(a.policyAccepted && mode === 'pilot');
        },
      ),
    );
  });
});
