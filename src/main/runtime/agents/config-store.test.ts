import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { DEFAULT_AGENT_CONFIG, type AgentStreamConfigPatch } from '../../../shared/agents';
import { AgentConfigStore, type ConfigChange } from './config-store';

function store(initial: ConstructorParameters<typeof AgentConfigStore>[0] = {}) {
  let t = 1_000;
  const s = new AgentConfigStore(initial, () => t);
  const heard: ConfigChange[] = [];
  s.onChange((c) => heard.push(c));
  return {
    s,
    heard,
    tick: (ms: number) => {
      t += ms;
    },
  };
}

describe('AgentConfigStore', () => {
  it('starts from the conservative defaults, overridable', () => {
    expect(store().s.config).toEqual(DEFAULT_AGENT_CONFIG);
    expect(DEFAULT_AGENT_CONFIG).toMatchObject({ agentStreamsEnabled: false, agentStreamPilotAgents: [] });
    expect(store({ agentStreamMaxConcurrent: 8 }).s.config.agentStreamMaxConcurrent).toBe(8);
    expect(store().s.version).toBe(0);
    expect(() => store({ agentStreamMaxConcurrent: 0 })).toThrow(ZodError);
  });

  it('reports only the keys that changed, from → to, and bumps the version', () => {
    const { s, heard, tick } = store();
    tick(5);
    const change = s.set(
      { agentStreamsEnabled: true, agentStreamMaxConcurrent: 4, agentStreamPilotAgents: ['safety'] },
      'ui',
    );
    expect(change).toEqual({
      changed_by: 'ui',
      changes: [
        { key: 'agentStreamsEnabled', from: false, to: true },
        { key: 'agentStreamPilotAgents', from: [], to: ['safety'] },
      ],
      config: { ...DEFAULT_AGENT_CONFIG, agentStreamsEnabled: true, agentStreamPilotAgents: ['safety'] },
      version: 1,
      at: 1_005,
    });
    expect(s.version).toBe(1);
    expect(s.config).toEqual(change?.config);
    expect(heard).toEqual([change]);

    const second = s.set({ agentStreamTimeoutMs: 500 }, 'cli');
    expect(second?.version).toBe(2);
    expect(second?.changes).toEqual([{ key: 'agentStreamTimeoutMs', from: 2_000, to: 500 }]);
    expect(s.changes).toEqual([change, second]);
  });

  it('a no-op change returns null, keeps the version and tells nobody', () => {
    const { s, heard } = store({ agentStreamPilotAgents: ['safety', 'lore'] });
    const before = s.config;
    expect(s.set({}, 'ui')).toBeNull();
    expect(s.set({ agentStreamsEnabled: false, agentStreamMaxConcurrent: 4 }, 'ui')).toBeNull();
    expect(s.set({ agentStreamPilotAgents: ['safety', 'lore'] }, 'ui')).toBeNull(); // equal arrays are no change
    expect(s.version).toBe(0);
    expect(s.changes).toEqual([]);
    expect(heard).toEqual([]);
    expect(s.config).toBe(before);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a count below its minimum', { agentStreamMaxConcurrent: 0 }],
    ['a count above its maximum', { agentStreamMaxSpawnsPerTurn: 65 }],
    ['a fraction', { agentStreamMaxConcurrent: 2.5 }],
    ['a threshold above 1', { agentStreamSpawnThreshold: 1.1 }],
    ['a timeout below 10 ms', { agentStreamTimeoutMs: 5 }],
    ['a wrong type', { agentStreamsEnabled: 'yes' }],
    ['an unknown agent', { agentStreamPilotAgents: ['wizard'] }],
    ['an unknown key', { agentStreamTurbo: true }],
  ])('refuses %s with a zod error and changes nothing', (_name, patch) => {
    const { s, heard } = store();
    expect(() => s.set(patch as AgentStreamConfigPatch, 'ui')).toThrow(ZodError);
    expect(s.config).toEqual(DEFAULT_AGENT_CONFIG);
    expect(s.version).toBe(0);
    expect(heard).toEqual([]);
  });

  it('calls every listener; an unsubscribed one no more', () => {
    const { s, heard } = store();
    const other: number[] = [];
    const off = s.onChange((c) => other.push(c.version));
    s.set({ agentStreamsEnabled: true }, 'ui');
    off();
    s.set({ agentStreamsEnabled: false }, 'ui');
    expect(heard.map((c) => c.version)).toEqual([1, 2]);
    expect(other).toEqual([1]);
  });

  it('keeps the last 100 changes, oldest first', () => {
    const { s, heard } = store();
    for (let i = 1; i <= 150; i++) s.set({ agentStreamTimeoutMs: 100 + i }, `u${i}`);
    expect(s.version).toBe(150);
    expect(heard).toHaveLength(150);
    expect(s.changes).toHaveLength(100);
    expect(s.changes[0]?.version).toBe(51);
    expect(s.changes[0]?.changed_by).toBe('u51');
    expect(s.changes.at(-1)?.version).toBe(150);
    expect(s.config.agentStreamTimeoutMs).toBe(250);
  });
});
