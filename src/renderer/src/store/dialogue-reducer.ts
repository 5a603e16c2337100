/**
 * Per-session dialogue state built from event envelopes: turns in order, each with its player line,
 * the NPC reply and where that reply stands. Plain functions; the store calls them.
 *
 * The reply text goes through three stages, and only the last is canonical:
 * streamed `token_delta`s → `turn_final` (preview) → `commit_succeeded.payload.text` (committed).
 */
import type { EventEnvelope, TerminalTurnEventType } from '../../../shared/protocol';

export type TurnState = 'streaming' | 'final-preview' | 'committed' | 'cancelled' | 'failed' | 'rejected';

export interface Turn {
  turnId: string;
  /** The player's line; null when this client never saw it (a rejected turn replayed from the buffer). */
  playerText: string | null;
  replyText: string;
  state: TurnState;
  /** Tokens the runtime published so far (highest `token_delta` index + 1, then the runtime's own count). */
  tokenCount: number;
  /** A `token_delta` was skipped (telemetry dropped): the streamed text has holes until `turn_final`. */
  tokensMissing: boolean;
  commitSeq: number | null;
  provenanceHash: string | null;
  /** Why the turn did not commit, e.g. `text_too_long: …` or `client_cancel`. */
  reason: string | null;
  /** `backend/model_id`. */
  model: string | null;
}

export interface SessionDialogue {
  /** Highest seq applied; older or repeated events are ignored (resume and replay are idempotent). */
  lastSeq: number;
  turnIds: readonly string[];
  turns: Readonly<Record<string, Turn>>;
  /** Telemetry events the server dropped for this subscriber (sum of `stream_overflow.dropped`). */
  telemetryDropped: number;
  closedReason: string | null;
}

export interface DialogueState {
  sessions: Readonly<Record<string, SessionDialogue>>;
}

export const EMPTY_DIALOGUE: DialogueState = { sessions: {} };

export function isTurnInProgress(state: TurnState): boolean {
  return state === 'streaming' || state === 'final-preview';
}

export function emptySession(): SessionDialogue {
  return { lastSeq: 0, turnIds: [], turns: {}, telemetryDropped: 0, closedReason: null };
}

function newTurn(turnId: string): Turn {
  return {
    turnId,
    playerText: null,
    replyText: '',
    state: 'streaming',
    tokenCount: 0,
    tokensMissing: false,
    commitSeq: null,
    provenanceHash: null,
    reason: null,
    model: null,
  };
}

/**
 * Copy-on-write over one batch: each session and each turn touched by the batch is copied once,
 * then updated in place, so a frame of 200 tokens costs one copy, not 200. Inputs are never mutated.
 */
class DialogueDraft {
  private readonly sessions: Record<string, SessionDialogue>;
  private readonly copiedSessions = new Set<string>();
  private readonly copiedTurns = new Set<string>();

  constructor(state: DialogueState) {
    this.sessions = { ...state.sessions };
  }

  session(sessionId: string): SessionDialogue {
    if (!this.copiedSessions.has(sessionId)) {
      const base = this.sessions[sessionId] ?? emptySession();
      this.sessions[sessionId] = { ...base, turnIds: [...base.turnIds], turns: { ...base.turns } };
      this.copiedSessions.add(sessionId);
    }
    return this.sessions[sessionId] as SessionDialogue;
  }

  /** The turn, created at the end of the session's order if new. */
  turn(sessionId: string, turnId: string): Turn {
    const session = this.session(sessionId);
    const turns = session.turns as Record<string, Turn>;
    const key = `${sessionId}\u0000${turnId}`;
    const existing = turns[turnId];
    if (existing === undefined) {
      (session.turnIds as string[]).push(turnId);
      turns[turnId] = newTurn(turnId);
      this.copiedTurns.add(key);
    } else if (!this.copiedTurns.has(key)) {
      turns[turnId] = { ...existing };
      this.copiedTurns.add(key);
    }
    return turns[turnId] as Turn;
  }

  result(): DialogueState {
    return { sessions: this.sessions };
  }
}

export function applyDialogueEvents(state: DialogueState, events: readonly EventEnvelope[]): DialogueState {
  if (events.length === 0) return state;
  const draft = new DialogueDraft(state);
  for (const event of events) {
    const session = draft.session(event.session_id);
    session.lastSeq = Math.max(session.lastSeq, event.seq);
    applyEvent(draft, event);
  }
  return draft.result();
}

function applyEvent(draft: DialogueDraft, event: EventEnvelope): void {
  switch (event.type) {
    case 'session_closed':
      draft.session(event.session_id).closedReason = event.payload.reason;
      return;
    case 'stream_overflow':
      draft.session(event.session_id).telemetryDropped += event.payload.dropped;
      return;
    case 'session_started':
      return;
    default:
      break;
  }
  // Everything below is turn-level; an event without a turn id has nothing to attach to.
  if (event.turn_id === null) return;
  const turn = draft.turn(event.session_id, event.turn_id);
  switch (event.type) {
    case 'turn_accepted':
      turn.playerText = event.payload.text;
      turn.model = modelName(event.payload.model);
      return;
    case 'model_selected':
      turn.model = modelName(event.payload.model);
      return;
    case 'token_delta': {
      if (turn.state !== 'streaming' || event.payload.index < turn.tokenCount) return;
      if (event.payload.index > turn.tokenCount) turn.tokensMissing = true;
      turn.replyText += event.payload.text;
      turn.tokenCount = event.payload.index + 1;
      return;
    }
    case 'turn_final':
      if (turn.state !== 'streaming') return;
      turn.state = 'final-preview';
      turn.replyText = event.payload.text;
      turn.tokenCount = event.payload.token_count;
      turn.tokensMissing = false;
      return;
    case 'commit_succeeded':
    case 'commit_failed':
    case 'turn_cancelled':
    case 'turn_failed':
    case 'turn_rejected':
      // Exactly one terminal event per turn: a second one would be a runtime bug, not a state change.
      if (!isTurnInProgress(turn.state) && !(turn.state === 'rejected' && turn.reason === null)) return;
      applyTerminal(turn, event);
      return;
    default:
      return;
  }
}

function applyTerminal(turn: Turn, event: Extract<EventEnvelope, { type: TerminalTurnEventType }>): void {
  switch (event.type) {
    case 'commit_succeeded':
      turn.state = 'committed';
      // Canonical: whatever was streamed or previewed is replaced by what the ledger holds.
      turn.replyText = event.payload.text;
      turn.commitSeq = event.payload.commit_seq;
      turn.provenanceHash = event.payload.provenance_hash;
      return;
    case 'commit_failed':
      turn.state = 'failed';
      turn.reason = `commit failed: ${event.payload.code}: ${event.payload.message}`;
      return;
    case 'turn_cancelled':
      turn.state = 'cancelled';
      turn.reason = event.payload.reason;
      turn.tokenCount = event.payload.tokens_emitted;
      return;
    case 'turn_failed':
      turn.state = 'failed';
      turn.reason = `${event.payload.code}: ${event.payload.message}`;
      turn.tokenCount = event.payload.tokens_emitted;
      return;
    case 'turn_rejected':
      turn.state = 'rejected';
      turn.reason = `${event.payload.reason}: ${event.payload.message}`;
      return;
  }
}

function modelName(model: { backend: string; model_id: string }): string {
  return `${model.backend}/${model.model_id}`;
}

/**
 * What this client knows from the `turn.start` answer, which may arrive before or after the turn's
 * events: the player's line (a rejected turn's only record of it) and whether it was accepted.
 * Never moves a turn backwards.
 */
export function recordTurnStart(
  state: DialogueState,
  sessionId: string,
  turnId: string,
  playerText: string,
  accepted: boolean,
): DialogueState {
  const draft = new DialogueDraft(state);
  const known = draft.session(sessionId).turns[turnId] !== undefined;
  const turn = draft.turn(sessionId, turnId);
  turn.playerText ??= playerText;
  if (!known && !accepted) turn.state = 'rejected';
  return draft.result();
}
