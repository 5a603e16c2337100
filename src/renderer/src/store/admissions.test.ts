import { describe, expect, it } from 'vitest';
import { admission, admissionPayload } from '../testing/agent-fixtures';
import { envelopes } from '../testing/envelopes';
import { admissionAgents, filterAdmissions, sessionAdmissions } from './admissions';
import { applyAgentEvents, EMPTY_AGENT_PLANE } from './agent-plane-reducer';

function plane() {
  const ev = envelopes();
  return applyAgentEvents(EMPTY_AGENT_PLANE, [
    ev('agent_admission', 't1', admissionPayload([admission('lore'), admission('safety')])),
    ev(
      'agent_admission',
      't3',
      admissionPayload([admission('lore', { execution_accepted: true })], 'pilot', 'MEDIUM'),
    ),
  ]).sessions['s1'];
}

describe('session admissions', () => {
  it('lists every admission across turns, newest turn first, in planning order within a turn', () => {
    const entries = sessionAdmissions(plane(), ['t1', 't2', 't3']);
    expect(entries.map((e) => [e.turnNumber, e.turnId, e.admission.agent, e.mode, e.pressure])).toEqual([
      [3, 't3', 'lore', 'pilot', 'MEDIUM'],
      [1, 't1', 'lore', 'shadow', 'LOW'],
      [1, 't1', 'safety', 'shadow', 'LOW'],
    ]);
    expect(new Set(entries.map((e) => e.key)).size).toBe(3);
    expect(entries[0]?.admission.execution_accepted).toBe(true);
  });

  it('is empty without an agent plane, and filters by agent', () => {
    expect(sessionAdmissions(undefined, ['t1'])).toEqual([]);
    const entries = sessionAdmissions(plane(), ['t1', 't2', 't3']);
    expect(admissionAgents(entries)).toEqual(['lore', 'safety']);
    expect(filterAdmissions(entries, null)).toBe(entries);
    expect(filterAdmissions(entries, 'safety').map((e) => e.turnId)).toEqual(['t1']);
    expect(filterAdmissions(entries, 'emotion')).toEqual([]);
  });
});
