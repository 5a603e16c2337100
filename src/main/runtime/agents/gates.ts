import type { AgentIntentRequest, RolloutGate, SpawnPlan, TerminalReason } from '../../../shared/agents';
import type { Staged } from './arbiter';
import type { ConfigChange } from './config-store';
import { planSpawns, type PlanContext, type SequenceCounters } from './scheduler';

/** What the control plane remembers of one turn: its planning inputs and outputs. */
export interface TurnRecord {
  readonly turn_id: string;
  readonly config_version: number;
  readonly ctx: PlanContext;
  readonly requests: readonly AgentIntentRequest[];
  readonly countersBefore: SequenceCounters;
  readonly plan: SpawnPlan;
  /** Set when the turn reached the arbiter. */
  staged: readonly Staged[];
  decision_hash: string | null;
  /** Planned spawns that ran as streams. */
  readonly executed: number;
}

export interface GateInputs {
  readonly records: readonly TurnRecord[];
  readonly config: { readonly changes: readonly ConfigChange[] };
  readonly ended: {
    readonly pilot: ReadonlyMap<TerminalReason, number>;
    readonly shedCritical: number;
    readonly shedNonCritical: number;
  };
  /** Re-runs the arbiter over a recorded turn's staged envelopes. */
  decide(plan: SpawnPlan, staged: readonly Staged[]): { decision_hash: string };
}

/** Recorded turns re-planned and re-decided by the determinism gate (the newest ones). */
export const DETERMINISM_WINDOW = 20;
/** Largest share of pilot streams that may time out for the pilot gate to pass. */
export const MAX_TIMEOUT_SHARE = 0.1;

const pct = (n: number, d: number): string => (d === 0 ? '0%' : `${((100 * n) / d).toFixed(0)}%`);

function shadowDivergence(records: readonly TurnRecord[]): RolloutGate {
  const shadow = records.filter((r) => r.plan.mode === 'shadow');
  const admissions = shadow.flatMap((r) => r.plan.admissions);
  const policy = admissions.filter((a) => a.policy_accepted).length;
  const executed = admissions.filter((a) => a.execution_accepted).length;
  const divergent = admissions.filter((a) => a.policy_accepted !== a.execution_accepted).length;
  const figures = {
    shadow_turns: shadow.length,
    admissions: admissions.length,
    policy_accepted: policy,
    execution_accepted: executed,
    divergent,
  };
  const base = {
    id: 'shadow-divergence' as const,
    title: 'Shadow divergence (policy vs execution)',
    figures,
  };
  if (shadow.length === 0) return { ...base, status: 'pending', detail: 'no SHADOW turn yet' };
  return {
    ...base,
    status: executed === 0 ? 'pass' : 'fail',
    detail: `${shadow.length} SHADOW turn(s): ${policy} of ${admissions.length} admissions pass policy, ${executed} executed; divergence ${divergent} (${pct(divergent, admissions.length)})${executed > 0 ? ' — SHADOW executed streams' : ''}`,
  };
}

function determinism(inputs: GateInputs): RolloutGate {
  const recent = inputs.records.slice(-DETERMINISM_WINDOW);
  let planned = 0;
  let decided = 0;
  let mismatch: string | null = null;
  for (const r of recent) {
    for (let run = 0; run < 2 && mismatch === null; run++) {
      const { plan } = planSpawns(r.ctx, r.requests, r.countersBefore);
      if (plan.plan_hash !== r.plan.plan_hash)
        mismatch = `turn ${r.turn_id}: re-planned hash ${plan.plan_hash.slice(0, 12)} ≠ recorded ${r.plan.plan_hash.slice(0, 12)}`;
      else if (r.decision_hash !== null) {
        const again = inputs.decide(plan, r.staged).decision_hash;
        if (again !== r.decision_hash)
          mismatch = `turn ${r.turn_id}: re-decided hash ${again.slice(0, 12)} ≠ recorded ${r.decision_hash.slice(0, 12)}`;
      }
    }
    if (mismatch !== null) break;
    planned++;
    if (r.decision_hash !== null) decided++;
  }
  const figures = { turns_checked: planned, decisions_checked: decided, runs_per_turn: 2 };
  const base = { id: 'deterministic-planning' as const, title: 'Deterministic ids and ordering', figures };
  if (mismatch !== null) return { ...base, status: 'fail', detail: mismatch };
  if (recent.length === 0) return { ...base, status: 'pending', detail: 'no turn planned yet' };
  return {
    ...base,
    status: 'pass',
    detail: `the last ${planned} turn(s) re-planned twice give the same stream ids, order and plan hash; ${decided} arbiter decision(s) re-decided identically`,
  };
}

function pilotTerminals(inputs: GateInputs): RolloutGate {
  const counts = Object.fromEntries(inputs.ended.pilot);
  const total = [...inputs.ended.pilot.values()].reduce((a, b) => a + b, 0);
  const timeouts = inputs.ended.pilot.get('timeout') ?? 0;
  const failed = inputs.ended.pilot.get('failed') ?? 0;
  const base = {
    id: 'pilot-terminal-reasons' as const,
    title: 'Pilot timeouts and terminal reasons',
    figures: { total, ...counts },
  };
  if (total === 0) return { ...base, status: 'pending', detail: 'no PILOT stream has ended yet' };
  const list = Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const ok = failed === 0 && timeouts / total <= MAX_TIMEOUT_SHARE;
  return {
    ...base,
    status: ok ? 'pass' : 'fail',
    detail: `${total} PILOT stream(s): ${list}; timeouts ${pct(timeouts, total)} (limit ${pct(MAX_TIMEOUT_SHARE, 1)}), failed ${failed} (limit 0)`,
  };
}

function shedding(inputs: GateInputs): RolloutGate {
  const high = inputs.records.filter((r) => r.plan.pressure === 'HIGH');
  const leaked = high.flatMap((r) => r.plan.spawns).filter((s) => !s.critical).length;
  const suppressed = high
    .flatMap((r) => r.plan.admissions)
    .filter((a) => a.policy_accepted && !a.critical && a.stream_id === null).length;
  const { shedCritical, shedNonCritical } = inputs.ended;
  const figures = {
    high_pressure_turns: high.length,
    suppressed_non_critical: suppressed,
    non_critical_planned: leaked,
    shed_non_critical: shedNonCritical,
    shed_critical: shedCritical,
  };
  const base = {
    id: 'pressure-shedding' as const,
    title: 'Under HIGH pressure only non-critical intents shed',
    figures,
  };
  if (high.length === 0 && shedNonCritical + shedCritical === 0)
    return {
      ...base,
      status: 'pending',
      detail: 'no HIGH-pressure turn or shed yet (force HIGH to exercise it)',
    };
  const ok = leaked === 0 && shedCritical === 0;
  return {
    ...base,
    status: ok ? 'pass' : 'fail',
    detail: `${high.length} HIGH turn(s): ${suppressed} non-critical admission(s) suppressed, ${leaked} planned; streams shed: ${shedNonCritical} non-critical, ${shedCritical} critical`,
  };
}

function rollback(inputs: GateInputs): RolloutGate {
  const change = [...inputs.config.changes]
    .reverse()
    .find((c) => c.changes.some((k) => k.key === 'agentStreamsEnabled' && k.from === true && k.to === false));
  const base = { id: 'rollback' as const, title: 'Rollback (agentStreamsEnabled=false) returns to SHADOW' };
  if (change === undefined)
    return {
      ...base,
      status: 'pending',
      detail: 'no rollback yet: set agentStreamsEnabled=false after PILOT turns',
      figures: {},
    };
  const after = inputs.records.find((r) => r.config_version >= change.version);
  if (after === undefined)
    return {
      ...base,
      status: 'pending',
      detail: `rolled back at config version ${change.version} by ${change.changed_by}; waiting for the next turn`,
      figures: { rollback_version: change.version },
    };
  const previews = after.staged.every((s) => s.preview);
  const ok = after.plan.mode === 'shadow' && after.executed === 0 && previews;
  return {
    ...base,
    status: ok ? 'pass' : 'fail',
    detail: `first turn after the rollback (${after.turn_id}) ran in ${after.plan.mode.toUpperCase()} with ${after.executed} executed stream(s)${ok ? '' : ' — expected SHADOW with none'}`,
    figures: { rollback_version: change.version, executed_after: after.executed },
  };
}

/** The rollout stage-gate checklist, computed from what the control plane recorded. */
export function computeGates(inputs: GateInputs): RolloutGate[] {
  return [
    shadowDivergence(inputs.records),
    determinism(inputs),
    pilotTerminals(inputs),
    shedding(inputs),
    rollback(inputs),
  ];
}
