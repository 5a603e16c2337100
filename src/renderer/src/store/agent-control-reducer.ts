/**
 * The agent-stream control plane as the runtime last answered: its config (`agents.config.get` /
 * `agents.config.set`) and its status (`agents.status`, `agents.pressure.set`). Runtime-wide, not per
 * session. A cache refetched on request and after the events that move it, never guessed from events.
 */
import { AgentName, type PressureStatus } from '../../../shared/agents';
import type { AgentsConfigResult, AgentsStatusResult } from '../../../shared/commands';

export interface AgentControlState {
  config: AgentsConfigResult | null;
  configLoading: boolean;
  /** Why the last `agents.config.get` failed; cleared by the next answer. */
  configError: string | null;
  /** Why the last `agents.config.set` was refused (e.g. a value out of range); cleared by the next one. */
  setError: string | null;
  status: AgentsStatusResult | null;
  statusLoading: boolean;
  statusError: string | null;
}

export const EMPTY_AGENT_CONTROL: AgentControlState = {
  config: null,
  configLoading: false,
  configError: null,
  setError: null,
  status: null,
  statusLoading: false,
  statusError: null,
};

export function configRequested(state: AgentControlState): AgentControlState {
  return { ...state, configLoading: true };
}

/**
 * Takes an answer of `agents.config.get` or `agents.config.set`. One older than the config held (a
 * lower version) is dropped: answers to overlapping requests may arrive out of order, and the version
 * only moves forward.
 */
export function configLoaded(state: AgentControlState, config: AgentsConfigResult): AgentControlState {
  const held = state.config;
  const fresh = held === null || config.version >= held.version;
  return { ...state, config: fresh ? config : held, configLoading: false, configError: null };
}

export function configFailed(state: AgentControlState, error: string): AgentControlState {
  return { ...state, configLoading: false, configError: error };
}

/** A change was sent: the previous refusal no longer applies. */
export function configSetStarted(state: AgentControlState): AgentControlState {
  return state.setError === null ? state : { ...state, setError: null };
}

export function configSetFailed(state: AgentControlState, error: string): AgentControlState {
  return { ...state, setError: error };
}

export function statusRequested(state: AgentControlState): AgentControlState {
  return { ...state, statusLoading: true };
}

export function statusLoaded(state: AgentControlState, status: AgentsStatusResult): AgentControlState {
  return { ...state, status, statusLoading: false, statusError: null };
}

export function statusFailed(state: AgentControlState, error: string): AgentControlState {
  return { ...state, statusLoading: false, statusError: error };
}

/** The answer of `agents.pressure.set`: the status held gets the new pressure at once. */
export function pressureLoaded(state: AgentControlState, pressure: PressureStatus): AgentControlState {
  return state.status === null ? state : { ...state, status: { ...state.status, pressure } };
}

/** The runtime's config moved past the one held (a status or an event said so): it should be read again. */
export function configBehind(state: AgentControlState, version: number): boolean {
  return state.config !== null && version > state.config.version;
}

/**
 * The pilot list with `agent` added (at the end) or removed; the same array when nothing changes, so
 * a toggle that changes nothing sends nothing. Only built-in agent names can be pilots.
 */
export function withPilotAgent(list: AgentName[], agent: string, enabled: boolean): AgentName[] {
  const name = AgentName.safeParse(agent);
  if (!name.success || list.includes(name.data) === enabled) return list;
  return enabled ? [...list, name.data] : list.filter((a) => a !== name.data);
}
