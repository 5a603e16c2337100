import { describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_CONFIG } from '../../../shared/agents';
import { draftChanges, FLAG_FIELDS, flagValue } from './agent-config-draft';

describe('FLAG_FIELDS', () => {
  it('takes the limits from the shared schema', () => {
    expect(FLAG_FIELDS.map((f) => f.key)).toEqual([
      'agentStreamMaxConcurrent',
      'agentStreamSpawnThreshold',
      'agentStreamTimeoutMs',
      'agentStreamMaxSpawnsPerTurn',
      'agentStreamPressureSheddingEnabled',
    ]);
    expect(FLAG_FIELDS[1]).toMatchObject({ kind: 'number', min: 0, max: 1, step: 0.05 });
    expect(FLAG_FIELDS[2]).toMatchObject({ kind: 'number', min: 10, max: 120_000, step: 1 });
  });
});

describe('draftChanges', () => {
  it('sends only the flags whose value changed', () => {
    expect(
      draftChanges(DEFAULT_AGENT_CONFIG, {
        agentStreamMaxConcurrent: ' 8 ',
        agentStreamSpawnThreshold: '0.5',
        agentStreamTimeoutMs: '2000',
        agentStreamPressureSheddingEnabled: false,
      }),
    ).toEqual({
      changes: { agentStreamMaxConcurrent: 8, agentStreamPressureSheddingEnabled: false },
      errors: [],
    });
    expect(draftChanges(DEFAULT_AGENT_CONFIG, {})).toEqual({ changes: {}, errors: [] });
  });

  it('names entries that are not numbers and leaves ranges to the runtime', () => {
    const { changes, errors } = draftChanges(DEFAULT_AGENT_CONFIG, {
      agentStreamMaxConcurrent: '',
      agentStreamTimeoutMs: 'soon',
      agentStreamMaxSpawnsPerTurn: '999',
    });
    expect(changes).toEqual({ agentStreamMaxSpawnsPerTurn: 999 });
    expect(errors).toEqual([
      'agentStreamMaxConcurrent: “” is not a number',
      'agentStreamTimeoutMs: “soon” is not a number',
    ]);
  });
});

describe('flagValue', () => {
  it('shows the draft where edited, the config elsewhere', () => {
    expect(flagValue(DEFAULT_AGENT_CONFIG, { agentStreamTimeoutMs: '50' }, 'agentStreamTimeoutMs')).toBe(
      '50',
    );
    expect(flagValue(DEFAULT_AGENT_CONFIG, {}, 'agentStreamMaxConcurrent')).toBe('4');
    expect(flagValue(DEFAULT_AGENT_CONFIG, {}, 'agentStreamPressureSheddingEnabled')).toBe(true);
  });
});
