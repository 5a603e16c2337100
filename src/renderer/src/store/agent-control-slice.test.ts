import { beforeEach, describe, expect, it } from 'vitest';
import { agentsConfig, agentsStatus, pressure } from '../testing/agent-fixtures';
import { createAppStore, type AppStore } from './app-store';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

describe('agent control slice', () => {
  it('reads the config, ignores an older version, and holds a set error until the next set', () => {
    store.getState().agentConfigRequested();
    expect(store.getState().agentControl.configLoading).toBe(true);
    store.getState().agentConfigLoaded(agentsConfig({ agentStreamsEnabled: true }, 3));
    expect(store.getState().agentControl).toMatchObject({ configLoading: false, config: { version: 3 } });
    store.getState().agentConfigLoaded(agentsConfig({}, 2));
    expect(store.getState().agentControl.config?.version).toBe(3);
    store.getState().agentConfigFailed('timed out');
    expect(store.getState().agentControl.configError).toBe('timed out');

    store.getState().agentConfigSetFailed('value out of range');
    expect(store.getState().agentControl.setError).toBe('value out of range');
    store.getState().agentConfigSetStarted();
    expect(store.getState().agentControl.setError).toBeNull();
  });

  it('reads the status and moves its pressure when a forced level comes back', () => {
    // No status held: a pressure answer has nothing to update.
    store.getState().agentPressureLoaded(pressure('HIGH', 'HIGH'));
    expect(store.getState().agentControl.status).toBeNull();
    store.getState().agentStatusRequested();
    expect(store.getState().agentControl.statusLoading).toBe(true);
    store.getState().agentStatusLoaded(agentsStatus());
    expect(store.getState().agentControl).toMatchObject({
      statusLoading: false,
      status: { pressure: { level: 'LOW' } },
    });
    store.getState().agentPressureLoaded(pressure('LOW', 'MEDIUM'));
    expect(store.getState().agentControl.status?.pressure).toMatchObject({
      level: 'MEDIUM',
      forced: 'MEDIUM',
    });
    store.getState().agentStatusFailed('connection lost');
    expect(store.getState().agentControl.statusError).toBe('connection lost');
  });
});
