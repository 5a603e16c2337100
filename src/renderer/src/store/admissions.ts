/**
 * The Admissions view: every `agent_admission` row of a session, across its turns, from what the
 * agent-plane reducer keeps per turn. Derived on read; nothing here is stored twice.
 */
import type { AgentAdmission, AgentMode, PressureLevel } from '../../../shared/agents';
import type { SessionAgents } from './agent-plane-reducer';

export interface AdmissionEntry {
  /** Unique in the session: turn id and request id. */
  key: string;
  turnId: string;
  /** The turn's position in the session, from 1. */
  turnNumber: number;
  mode: AgentMode;
  pressure: PressureLevel;
  admission: AgentAdmission;
}

/** Newest turn first; within a turn, the planning order. `turnIds` is the session's turn order, oldest first. */
export function sessionAdmissions(
  agents: SessionAgents | undefined,
  turnIds: readonly string[],
): AdmissionEntry[] {
  if (agents === undefined) return [];
  const entries: AdmissionEntry[] = [];
  for (let i = turnIds.length - 1; i >= 0; i--) {
    const turnId = turnIds[i] ?? '';
    const payload = agents.turns[turnId]?.admission;
    if (payload == null) continue;
    for (const admission of payload.admissions) {
      entries.push({
        key: `${turnId}\u0000${admission.request_id}`,
        turnId,
        turnNumber: i + 1,
        mode: payload.mode,
        pressure: payload.pressure,
        admission,
      });
    }
  }
  return entries;
}

/** The agents the entries name, sorted: the filter's choices. */
export function admissionAgents(entries: readonly AdmissionEntry[]): string[] {
  return [...new Set(entries.map((e) => e.admission.agent))].sort();
}

/** Only the agent's rows; null keeps them all. */
export function filterAdmissions(
  entries: readonly AdmissionEntry[],
  agent: string | null,
): readonly AdmissionEntry[] {
  return agent === null ? entries : entries.filter((e) => e.admission.agent === agent);
}
