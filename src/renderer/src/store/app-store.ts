import { createStore, type StoreApi } from 'zustand/vanilla';
import { createConnectionSlice, type ConnectionSlice } from './connection-slice';
import { createDialogueSlice, type DialogueSlice } from './dialogue-slice';
import { createFeedbackSlice, type FeedbackSlice } from './feedback-slice';
import { createSessionsSlice, type SessionsSlice } from './sessions-slice';

export type AppState = ConnectionSlice & SessionsSlice & DialogueSlice & FeedbackSlice;
export type AppStore = StoreApi<AppState>;

/** One store for the whole inspector. A factory, so each test (and each window) gets a fresh one. */
export function createAppStore(): AppStore {
  return createStore<AppState>()((...args) => ({
    ...createConnectionSlice(...args),
    ...createSessionsSlice(...args),
    ...createDialogueSlice(...args),
    ...createFeedbackSlice(...args),
  }));
}
