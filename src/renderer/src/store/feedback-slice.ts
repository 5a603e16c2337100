import type { StateCreator } from 'zustand';
import type { AppState } from './app-store';

/** A command the user triggered that did not do what they asked. */
export interface CommandFailure {
  command: string;
  code: string;
  message: string;
}

export interface FeedbackSlice {
  commandError: CommandFailure | null;
  reportCommandError: (failure: CommandFailure) => void;
  clearCommandError: () => void;
}

export const createFeedbackSlice: StateCreator<AppState, [], [], FeedbackSlice> = (set) => ({
  commandError: null,
  reportCommandError: (commandError) => {
    set({ commandError });
  },
  clearCommandError: () => {
    set({ commandError: null });
  },
});
