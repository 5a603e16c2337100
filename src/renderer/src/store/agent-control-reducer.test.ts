import { describe, expect, it } from 'vitest';
import { agentsConfig, agentsStatus, pressure } from '../testing/agent-fixtures';
import {
  configBehind,
  configFailed,
  configLoaded,
  configRequested,
  configSetFailed,
  configSetStarted,
  EMPTY_AGENT_CONTROL,
  pressureLoaded,
  statusFailed,
  statusLoaded,
  statusRequested,
  withPilotAgent,
} from './agent-control-reducer';

describe('agent control state', () => {
  it('loads the config and keeps the newest version when answers cross', () => {
    const v2 = agentsConfig({ agentStreamsEnabled: true }, 2);
    let state = configLoaded(configRequested(EMPTY_AGENT_CONTROL), v2);
    expect(state).toMatchObject({ config: v2, configLoading: false, configError: null });
    state = configLoaded(configRequested(state), agentsConfig({}, 1));
    expect(state.config).toBe(v2);
    expect(state.configLoading).toBe(false);
  });

  it('keeps a failed read and a refused change apart, and clears the refusal on the next change', () => {
    let state = configFailed(configRequested(EMPTY_AGENT_CONTROL), 'not_connected: offline');
    expect(state).toMatchObject({
      configLoading: false,
      configError: 'not_connected: offline',
      setError: null,
    });
    state = configSetFailed(state, 'invalid_command: agentStreamTimeoutMs: too big');
    expect(state.setError).toBe('invalid_command: agentStreamTimeoutMs: too big');
    expect(configSetStarted(state).setError).toBeNull();
    expect(configLoaded(state, agentsConfig()).configError).toBeNull();
  });

  it('loads the status and takes a new pressure into it', () => {
    let state = statusRequested(EMPTY_AGENT_CONTROL);
    expect(state.statusLoading).toBe(true);
    // No status yet: a pressure answer has nothing to go into (the status refresh that follows brings it).
    expect(pressureLoaded(state, pressure('LOW', 'HIGH'))).toBe(state);
    state = statusLoaded(state, agentsStatus());
    state = pressureLoaded(state, pressure('LOW', 'HIGH'));
    expect(state.status?.pressure).toMatchObject({ level: 'HIGH', computed: 'LOW', forced: 'HIGH' });
    expect(state.status?.gates).toHaveLength(2);
    state = statusFailed(statusRequested(state), 'internal: boom');
    expect(state).toMatchObject({ statusLoading: false, statusError: 'internal: boom' });
    expect(state.status).not.toBeNull();
  });

  it('says when the runtime has moved past the config held', () => {
    expect(configBehind(EMPTY_AGENT_CONTROL, 3)).toBe(false);
    const state = configLoaded(EMPTY_AGENT_CONTROL, agentsConfig({}, 2));
    expect(configBehind(state, 2)).toBe(false);
    expect(configBehind(state, 3)).toBe(true);
  });
});

describe('withPilotAgent', () => {
  it('adds at the end and removes, and returns the same list when nothing changes', () => {
    const list: ('safety' | 'lore')[] = ['safety'];
    expect(withPilotAgent(list, 'lore', true)).toEqual(['safety', 'lore']);
    expect(withPilotAgent(list, 'safety', false)).toEqual([]);
    expect(withPilotAgent(list, 'safety', true)).toBe(list);
    expect(withPilotAgent(list, 'lore', false)).toBe(list);
    // Only built-in agents can be pilots.
    expect(withPilotAgent(list, 'custom_agent', true)).toBe(list);
  });
});
