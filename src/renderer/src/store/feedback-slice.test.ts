import { beforeEach, describe, expect, it } from 'vitest';
import { createAppStore, type AppStore } from './app-store';

let store: AppStore;
beforeEach(() => {
  store = createAppStore();
});

describe('feedback slice', () => {
  it('holds the newest command error until it is cleared', () => {
    expect(store.getState().commandError).toBeNull();
    const first = { command: 'turn.start', code: 'turn_in_progress', message: 'a turn is running' };
    const second = { command: 'session.fork', code: 'unknown_commit', message: 'no such commit' };
    store.getState().reportCommandError(first);
    expect(store.getState().commandError).toEqual(first);
    store.getState().reportCommandError(second);
    expect(store.getState().commandError).toEqual(second);
    store.getState().clearCommandError();
    expect(store.getState().commandError).toBeNull();
  });
});
