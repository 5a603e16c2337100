import type { StateCreator } from 'zustand';
import type { PressureStatus } from '../../../shared/agents';
import type { AgentsConfigResult, AgentsStatusResult } from '../../../shared/commands';
import {
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
  type AgentControlState,
} from './agent-control-reducer';
import type { AppState } from './app-store';

/** What the runtime's agent-stream control plane answers on request: its config and its status. */
export interface AgentControlSlice {
  agentControl: AgentControlState;
  agentConfigRequested: () => void;
  agentConfigLoaded: (config: AgentsConfigResult) => void;
  agentConfigFailed: (error: string) => void;
  agentConfigSetStarted: () => void;
  agentConfigSetFailed: (error: string) => void;
  agentStatusRequested: () => void;
  agentStatusLoaded: (status: AgentsStatusResult) => void;
  agentStatusFailed: (error: string) => void;
  agentPressureLoaded: (pressure: PressureStatus) => void;
}

export const createAgentControlSlice: StateCreator<AppState, [], [], AgentControlSlice> = (set) => {
  const update = (change: (state: AgentControlState) => AgentControlState) => {
    set((s) => ({ agentControl: change(s.agentControl) }));
  };
  return {
    agentControl: EMPTY_AGENT_CONTROL,
    agentConfigRequested: () => {
      update(configRequested);
    },
    agentConfigLoaded: (config) => {
      update((s) => configLoaded(s, config));
    },
    agentConfigFailed: (error) => {
      update((s) => configFailed(s, error));
    },
    agentConfigSetStarted: () => {
      update(configSetStarted);
    },
    agentConfigSetFailed: (error) => {
      update((s) => configSetFailed(s, error));
    },
    agentStatusRequested: () => {
      update(statusRequested);
    },
    agentStatusLoaded: (status) => {
      update((s) => statusLoaded(s, status));
    },
    agentStatusFailed: (error) => {
      update((s) => statusFailed(s, error));
    },
    agentPressureLoaded: (pressure) => {
      update((s) => pressureLoaded(s, pressure));
    },
  };
};
