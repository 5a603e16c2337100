import { describe, expect, it } from 'vitest';
import { admission } from '../testing/agent-fixtures';
import { countAdmissions, describeConfigChange, formatMs, formatScore, isDivergent } from './agent-format';

describe('admissions', () => {
  it('are divergent when policy and execution disagree', () => {
    expect(isDivergent(admission('lore'))).toBe(true);
    expect(isDivergent(admission('lore', { execution_accepted: true }))).toBe(false);
    expect(isDivergent(admission('lore', { policy_accepted: false, planned: false }))).toBe(false);
  });

  it('are counted by what became of them', () => {
    expect(
      countAdmissions([
        admission('safety', { execution_accepted: true }),
        admission('lore'),
        admission('next_move', { policy_accepted: false, planned: false }),
      ]),
    ).toEqual({ requests: 3, planned: 2, executed: 1, divergent: 1 });
  });
});

describe('formatting', () => {
  it('reads scores, times and config changes', () => {
    expect(formatScore(0.5)).toBe('0.50');
    expect(formatScore(0.126)).toBe('0.13');
    expect(formatMs(2000.4)).toBe('2000 ms');
    expect(describeConfigChange({ key: 'agentStreamsEnabled', from: false, to: true })).toBe(
      'agentStreamsEnabled: false → true',
    );
    expect(describeConfigChange({ key: 'agentStreamPilotAgents', from: [], to: ['lore'] })).toBe(
      'agentStreamPilotAgents: [] → ["lore"]',
    );
  });
});
