import { createStore, type StoreApi } from 'zustand/vanilla';
import { createAgentControlSlice, type AgentControlSlice } from './agent-control-slice';
import { createAuthoritySlice, type AuthoritySlice } from './authority-slice';
import { createConnectionSlice, type ConnectionSlice } from './connection-slice';
import { createDialogueSlice, type DialogueSlice } from './dialogue-slice';
import { createFeedbackSlice, type FeedbackSlice } from './feedback-slice';
import { createModelsSlice, type ModelsSlice } from './models-slice';
import { createScenariosSlice, type ScenariosSlice } from './scenarios-slice';
import { createSessionsSlice, type SessionsSlice } from './sessions-slice';
import { createSubscriptionSlice, type SubscriptionSlice } from './subscription-slice';
import { createViewSlice, type ViewSlice } from './view-slice';

export type AppState = ConnectionSlice &
  SessionsSlice &
  ScenariosSlice &
  DialogueSlice &
  AuthoritySlice &
  AgentControlSlice &
  ModelsSlice &
  FeedbackSlice &
  SubscriptionSlice &
  ViewSlice;
export type AppStore = StoreApi<AppState>;

/** One store for the whole inspector. A factory, so each test (and each window) gets a fresh one. */
export function createAppStore(): AppStore {
  return createStore<AppState>()((...args) => ({
    ...createConnectionSlice(...args),
    ...createSessionsSlice(...args),
    ...createScenariosSlice(...args),
    ...createDialogueSlice(...args),
    ...createAuthoritySlice(...args),
    ...createAgentControlSlice(...args),
    ...createModelsSlice(...args),
    ...createFeedbackSlice(...args),
    ...createSubscriptionSlice(...args),
    ...createViewSlice(...args),
  }));
}
