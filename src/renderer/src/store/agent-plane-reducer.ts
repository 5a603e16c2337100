/**
 * Per-turn agent-plane state built from event envelopes: the turn's admissions (`agent_admission`),
 * its agent streams as lanes (`agent_stream_lifecycle`, `agent_token_delta`), the envelopes staged for
 * the arbiter (`agent_envelope`) and the arbiter's decision (`arbiter_decision`); per session, the
 * `config_changed` events. Plain functions; the store calls them from `ingestEvents`, which hands
 * each event over once.
 */
import type {
  AgentDecision,
  AgentIntentClass,
  BlockingCondition,
  StreamState,
  TerminalReason,
} from '../../../shared/agents';
import type { EnvelopeOf, EventEnvelope, EventPayload } from '../../../shared/protocol';

/** One agent stream that really ran (or was queued to run). */
export interface AgentLane {
  streamId: string;
  agent: string;
  /** Null when the lane is known only from its tokens (its lifecycle was dropped as telemetry). */
  intent: AgentIntentClass | null;
  critical: boolean;
  state: StreamState;
  /** Set once the stream has ended. */
  terminalReason: TerminalReason | null;
  /** Why it ended (timeout, failure, shedding, cancel). */
  message: string | null;
  /** The runtime's token count from the newest lifecycle event. */
  tokens: number;
  /** The `agent_token_delta` texts, concatenated. */
  text: string;
  /** Highest `agent_token_delta` index applied + 1. */
  textTokens: number;
  /** A token delta was skipped (telemetry dropped): the text has holes. */
  textMissing: boolean;
  /** ms since the stream was queued, from the newest lifecycle event. */
  elapsedMs: number;
}

/** What the arbiter was handed for a stream: a shadow preview or a real envelope. */
export interface StagedEnvelope {
  preview: boolean;
  agent: string;
  intent: AgentIntentClass;
  decision: AgentDecision;
  confidence: number;
  summary: string;
  blockingConditions: readonly BlockingCondition[];
  envelopeHash: string;
}

export interface TurnAgents {
  /** The turn's `agent_admission`; null before it (or when it was dropped as telemetry). */
  admission: EventPayload<'agent_admission'> | null;
  /** Lanes in order of their first event. */
  streamIds: readonly string[];
  lanes: Readonly<Record<string, AgentLane>>;
  /** By stream id; a later envelope for the same stream (a fail-closed stand-in) replaces the earlier. */
  envelopes: Readonly<Record<string, StagedEnvelope>>;
  decision: EventPayload<'arbiter_decision'> | null;
}

export type ConfigChange = EventPayload<'config_changed'> & {
  readonly seq: number;
  readonly timestamp: number;
};

export interface SessionAgents {
  turns: Readonly<Record<string, TurnAgents>>;
  /** The session's `config_changed` events, oldest first: the newest `CONFIG_CHANGES_KEPT`. */
  configChanges: readonly ConfigChange[];
}

export interface AgentPlaneState {
  sessions: Readonly<Record<string, SessionAgents>>;
}

export const EMPTY_AGENT_PLANE: AgentPlaneState = { sessions: {} };

export const CONFIG_CHANGES_KEPT = 20;

const STATE_RANK: Record<StreamState, number> = { queued: 0, started: 1, ended: 2 };

const NO_SESSION: SessionAgents = { turns: {}, configChanges: [] };

export function emptyTurnAgents(): TurnAgents {
  return { admission: null, streamIds: [], lanes: {}, envelopes: {}, decision: null };
}

const AGENT_EVENTS = new Set<EventEnvelope['type']>([
  'config_changed',
  'agent_admission',
  'agent_stream_lifecycle',
  'agent_token_delta',
  'agent_envelope',
  'arbiter_decision',
]);

/**
 * Copy-on-write over one batch: each session, turn and lane touched is copied once, then updated in
 * place. Inputs are never mutated.
 */
class AgentDraft {
  private readonly sessions: Record<string, SessionAgents>;
  private readonly copied = new Set<string>();

  constructor(state: AgentPlaneState) {
    this.sessions = { ...state.sessions };
  }

  private once(key: string): boolean {
    if (this.copied.has(key)) return false;
    this.copied.add(key);
    return true;
  }

  session(sessionId: string): SessionAgents {
    if (this.once(sessionId)) {
      const base = this.sessions[sessionId] ?? NO_SESSION;
      this.sessions[sessionId] = { ...base, turns: { ...base.turns } };
    }
    return this.sessions[sessionId] as SessionAgents;
  }

  turn(sessionId: string, turnId: string): TurnAgents {
    const turns = this.session(sessionId).turns as Record<string, TurnAgents>;
    const key = `${sessionId}\u0000${turnId}`;
    if (this.once(key)) {
      const base = turns[turnId] ?? emptyTurnAgents();
      turns[turnId] = {
        ...base,
        streamIds: [...base.streamIds],
        lanes: { ...base.lanes },
        envelopes: { ...base.envelopes },
      };
    }
    return turns[turnId] as TurnAgents;
  }

  /** The lane, created from `init` if new. */
  lane(sessionId: string, turnId: string, streamId: string, init: () => AgentLane): AgentLane {
    const turn = this.turn(sessionId, turnId);
    const lanes = turn.lanes as Record<string, AgentLane>;
    const key = `${sessionId}\u0000${turnId}\u0000${streamId}`;
    const existing = lanes[streamId];
    if (existing === undefined) {
      (turn.streamIds as string[]).push(streamId);
      lanes[streamId] = init();
      this.copied.add(key);
    } else if (this.once(key)) {
      lanes[streamId] = { ...existing };
    }
    return lanes[streamId] as AgentLane;
  }

  result(): AgentPlaneState {
    return { sessions: this.sessions };
  }
}

export function applyAgentEvents(state: AgentPlaneState, events: readonly EventEnvelope[]): AgentPlaneState {
  const relevant = events.filter((e) => AGENT_EVENTS.has(e.type));
  if (relevant.length === 0) return state;
  const draft = new AgentDraft(state);
  for (const event of relevant) applyEvent(draft, event);
  return draft.result();
}

function applyEvent(draft: AgentDraft, event: EventEnvelope): void {
  if (event.type === 'config_changed') {
    const session = draft.session(event.session_id);
    const change: ConfigChange = { ...event.payload, seq: event.seq, timestamp: event.timestamp };
    session.configChanges = [...session.configChanges, change].slice(-CONFIG_CHANGES_KEPT);
    return;
  }
  // Everything else is turn-level.
  const turnId = event.turn_id;
  if (turnId === null) return;
  const sid = event.session_id;
  switch (event.type) {
    case 'agent_admission':
      draft.turn(sid, turnId).admission = event.payload;
      return;
    case 'agent_stream_lifecycle':
      applyLifecycle(
        draft.lane(sid, turnId, event.payload.stream_id, () => laneOf(event.payload)),
        event,
      );
      return;
    case 'agent_token_delta': {
      const { stream_id, index, text } = event.payload;
      const turn = draft.turn(sid, turnId);
      const lane = draft.lane(sid, turnId, stream_id, () => laneFromAdmission(turn, stream_id));
      if (lane.state === 'ended' || index < lane.textTokens) return;
      if (index > lane.textTokens) lane.textMissing = true;
      lane.text += text;
      lane.textTokens = index + 1;
      if (lane.state === 'queued') lane.state = 'started';
      return;
    }
    case 'agent_envelope': {
      const { envelope, preview, envelope_hash } = event.payload;
      const envelopes = draft.turn(sid, turnId).envelopes as Record<string, StagedEnvelope>;
      envelopes[envelope.stream.stream_id] = {
        preview,
        agent: envelope.stream.agent,
        intent: envelope.intent,
        decision: envelope.decision,
        confidence: envelope.confidence,
        summary: envelope.summary,
        blockingConditions: envelope.blocking_conditions,
        envelopeHash: envelope_hash,
      };
      return;
    }
    case 'arbiter_decision':
      draft.turn(sid, turnId).decision = event.payload;
      return;
    default:
      return;
  }
}

function laneOf(p: EventPayload<'agent_stream_lifecycle'>): AgentLane {
  return {
    streamId: p.stream_id,
    agent: p.agent,
    intent: p.intent,
    critical: p.critical,
    state: p.state,
    terminalReason: p.terminal_reason,
    message: p.message,
    tokens: p.tokens,
    text: '',
    textTokens: 0,
    textMissing: false,
    elapsedMs: p.elapsed_ms,
  };
}

/** A lane first seen through its tokens: what the admission says of it, else only its id. */
function laneFromAdmission(turn: TurnAgents, streamId: string): AgentLane {
  const admission = turn.admission?.admissions.find((a) => a.stream_id === streamId);
  return {
    streamId,
    agent: admission?.agent ?? 'unknown',
    intent: admission?.intent ?? null,
    critical: admission?.critical ?? false,
    state: 'started',
    terminalReason: null,
    message: null,
    tokens: 0,
    text: '',
    textTokens: 0,
    textMissing: false,
    elapsedMs: 0,
  };
}

/** Streams only move forward: queued → started → ended; nothing changes an ended stream. */
function applyLifecycle(lane: AgentLane, event: EnvelopeOf<'agent_stream_lifecycle'>): void {
  const p = event.payload;
  if (lane.state === 'ended' || STATE_RANK[p.state] < STATE_RANK[lane.state]) return;
  lane.agent = p.agent;
  lane.intent = p.intent;
  lane.critical = p.critical;
  lane.state = p.state;
  lane.terminalReason = p.terminal_reason;
  lane.message = p.message;
  lane.tokens = p.tokens;
  lane.elapsedMs = p.elapsed_ms;
}

// ---------------------------------------------------------------------------------------------
// Views

/** `shadow`: planned, but not executed in this mode (its admission has a stream id, execution refused). */
export type LaneState = StreamState | 'shadow';

export interface LaneView {
  streamId: string;
  agent: string;
  intent: AgentIntentClass | null;
  critical: boolean;
  state: LaneState;
  terminalReason: TerminalReason | null;
  message: string | null;
  tokens: number;
  text: string;
  textMissing: boolean;
  /** Null for shadow lanes (nothing ran). */
  elapsedMs: number | null;
  envelope: StagedEnvelope | null;
}

/**
 * The turn's lanes: streams that ran or were queued, and shadow lanes for planned spawns that did not
 * execute, in planning order; then streams the admission does not list (it was dropped). A spawn
 * planned to execute shows once its first lifecycle event arrives (streams that read the reply are
 * queued only after `turn_final`).
 */
export function turnLanes(turn: TurnAgents): LaneView[] {
  const out: LaneView[] = [];
  const seen = new Set<string>();
  const envelopeOf = (id: string) => turn.envelopes[id] ?? null;
  for (const a of turn.admission?.admissions ?? []) {
    if (a.stream_id === null || seen.has(a.stream_id)) continue;
    const lane = turn.lanes[a.stream_id];
    if (lane !== undefined) {
      seen.add(a.stream_id);
      out.push(laneView(lane, envelopeOf(a.stream_id)));
    } else if (!a.execution_accepted) {
      seen.add(a.stream_id);
      out.push({
        streamId: a.stream_id,
        agent: a.agent,
        intent: a.intent,
        critical: a.critical,
        state: 'shadow',
        terminalReason: null,
        message: null,
        tokens: 0,
        text: '',
        textMissing: false,
        elapsedMs: null,
        envelope: envelopeOf(a.stream_id),
      });
    }
  }
  for (const id of turn.streamIds) {
    const lane = turn.lanes[id];
    if (seen.has(id) || lane === undefined) continue;
    out.push(laneView(lane, envelopeOf(id)));
  }
  return out;
}

function laneView(lane: AgentLane, envelope: StagedEnvelope | null): LaneView {
  return {
    streamId: lane.streamId,
    agent: lane.agent,
    intent: lane.intent,
    critical: lane.critical,
    state: lane.state,
    terminalReason: lane.terminalReason,
    message: lane.message,
    tokens: Math.max(lane.tokens, lane.textTokens),
    text: lane.text,
    textMissing: lane.textMissing,
    elapsedMs: lane.elapsedMs,
    envelope,
  };
}

/** A stream that can still be cancelled. */
export function isLaneRunning(state: LaneState): boolean {
  return state === 'queued' || state === 'started';
}

/** The newest `config_changed` of any session held: the config is runtime-wide, versions order it. */
export function latestConfigChange(state: AgentPlaneState): ConfigChange | null {
  let latest: ConfigChange | null = null;
  for (const session of Object.values(state.sessions)) {
    const last = session.configChanges.at(-1);
    if (last !== undefined && (latest === null || last.version > latest.version)) latest = last;
  }
  return latest;
}
