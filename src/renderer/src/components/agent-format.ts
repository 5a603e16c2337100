/**
 * How the agent plane reads in the inspector: admissions, scores, stream outcomes and config
 * changes. Pure functions, tested without React.
 */
import type { AgentAdmission, TerminalReason } from '../../../shared/agents';
import type { EventPayload } from '../../../shared/protocol';
import { formatValue } from './authority-format';

/** Policy and execution disagree: policy would admit it and it did not run, or the other way round. */
export function isDivergent(admission: AgentAdmission): boolean {
  return admission.policy_accepted !== admission.execution_accepted;
}

export interface AdmissionCounts {
  requests: number;
  /** Given a stream id (run, or staged as a shadow preview). */
  planned: number;
  executed: number;
  divergent: number;
}

export function countAdmissions(admissions: readonly AgentAdmission[]): AdmissionCounts {
  return {
    requests: admissions.length,
    planned: admissions.filter((a) => a.stream_id !== null).length,
    executed: admissions.filter((a) => a.execution_accepted).length,
    divergent: admissions.filter(isDivergent).length,
  };
}

/** Scores and thresholds are 0..1. */
export function formatScore(value: number): string {
  return value.toFixed(2);
}

export function formatMs(ms: number): string {
  return `${Math.round(ms)} ms`;
}

/** How a stream's end reads: completed is fine, the runtime's own stops are warnings, the rest failures. */
export const TERMINAL_TONE: Readonly<Record<TerminalReason, 'ok' | 'warn' | 'danger'>> = {
  completed: 'ok',
  manual_cancel: 'warn',
  pressure_shed: 'warn',
  engine_dispose: 'warn',
  timeout: 'danger',
  failed: 'danger',
};

type ConfigChangeEntry = EventPayload<'config_changed'>['changes'][number];

/** `agentStreamsEnabled: false → true`. */
export function describeConfigChange(change: ConfigChangeEntry): string {
  return `${change.key}: ${formatValue(change.from)} → ${formatValue(change.to)}`;
}
