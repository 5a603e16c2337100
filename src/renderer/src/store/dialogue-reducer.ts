/**
 * Per-session dialogue state built from event envelopes: turns in order, each with its player line,
 * the NPC reply, the actions it proposes and where all of that stands. Plain functions; the store
 * calls them.
 *
 * The reply text goes through three stages, and only the last is canonical:
 * streamed `token_delta`s (spoken part only) → `turn_final` (preview) → `commit_succeeded.payload.text`.
 * Proposed actions are pending from `turn_final` until the commit applies them or refuses them all.
 */
import type { EventEnvelope, EventPayload, ModelRef, TerminalTurnEventType } from '../../../shared/protocol';
import type { Action, ProposalError } from '../../../shared/world';
import { streamingPreview } from '../../../shared/proposals';
import { endedPreview, streamingTail } from './reply-preview';

export type TurnState = 'streaming' | 'final-preview' | 'committed' | 'cancelled' | 'failed' | 'rejected';

/** The authority plane's answer to a turn: its commit event's payload, tagged. */
export type CommitOutcome =
  | ({ readonly outcome: 'committed' } & EventPayload<'commit_succeeded'>)
  | ({ readonly outcome: 'failed' } & EventPayload<'commit_failed'>);

/**
 * Where a turn's proposed actions stand: `pending` until the commit, then `committed` (applied) or
 * `refused` (the commit failed: none applied); `discarded` when the turn ended without a commit
 * attempt (cancelled, or the turn failed).
 */
export type ActionsState = 'pending' | 'committed' | 'refused' | 'discarded';

export interface Turn {
  turnId: string;
  /** The player's line; null when this client never saw it (a rejected turn replayed from the buffer). */
  playerText: string | null;
  /** The model output as streamed so far: the spoken line, then action lines. Never shown as is. */
  streamedText: string;
  /**
   * What the NPC says: the spoken part of the stream (while streaming, only its end past
   * `STREAMING_TEXT_MAX` characters, after `…`), then the preview's, then the committed text.
   */
  replyText: string;
  /** While streaming: action lines have begun (they are not shown; the turn says it is proposing). */
  proposingActions: boolean;
  /** The actions `turn_final` listed; null before it (or when it was dropped as telemetry). */
  proposals: readonly Action[] | null;
  /** Action lines `turn_final` could not read. */
  proposalErrors: readonly ProposalError[];
  /** The commit attempt's outcome; null until `commit_succeeded` or `commit_failed`. */
  commit: CommitOutcome | null;
  state: TurnState;
  /** Tokens the runtime published so far (highest `token_delta` index + 1, then the runtime's own count). */
  tokenCount: number;
  /** A `token_delta` was skipped (telemetry dropped): the streamed text has holes until `turn_final`. */
  tokensMissing: boolean;
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
  /** From `session_started`. */
  scenarioId: string | null;
  npcId: string | null;
  /** The newest world state hash the events announced (session start, then each commit attempt). */
  stateHash: string | null;
}

export interface DialogueState {
  sessions: Readonly<Record<string, SessionDialogue>>;
}

export const EMPTY_DIALOGUE: DialogueState = { sessions: {} };

export function isTurnInProgress(state: TurnState): boolean {
  return state === 'streaming' || state === 'final-preview';
}

export function actionsState(turn: Turn): ActionsState {
  if (turn.commit !== null) return turn.commit.outcome === 'committed' ? 'committed' : 'refused';
  return isTurnInProgress(turn.state) ? 'pending' : 'discarded';
}

/** The session's turn that has not ended yet, if any (at most one runs at a time). */
export function activeTurnId(session: SessionDialogue): string | null {
  for (let i = session.turnIds.length - 1; i >= 0; i--) {
    const turn = session.turns[session.turnIds[i] ?? ''];
    if (turn !== undefined && isTurnInProgress(turn.state)) return turn.turnId;
  }
  return null;
}

/**
 * The line "Retry" sends again as a new turn: that of a turn that ended without committing (cancelled,
 * failed, rejected, or its commit refused), when this window knows it. Null otherwise.
 */
export function retryLine(turn: Turn): string | null {
  if (isTurnInProgress(turn.state) || turn.state === 'committed') return null;
  return turn.playerText;
}

export function emptySession(): SessionDialogue {
  return {
    lastSeq: 0,
    turnIds: [],
    turns: {},
    telemetryDropped: 0,
    closedReason: null,
    scenarioId: null,
    npcId: null,
    stateHash: null,
  };
}

function newTurn(turnId: string): Turn {
  return {
    turnId,
    playerText: null,
    streamedText: '',
    replyText: '',
    proposingActions: false,
    proposals: null,
    proposalErrors: [],
    commit: null,
    state: 'streaming',
    tokenCount: 0,
    tokensMissing: false,
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
  /** Turns whose stream grew in this batch: their preview is recomputed once, at the end. */
  readonly streamed = new Set<Turn>();

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
  for (const turn of draft.streamed) {
    if (turn.state !== 'streaming') continue;
    const preview = streamingPreview(turn.streamedText);
    turn.replyText = streamingTail(preview.spoken);
    turn.proposingActions = preview.proposing;
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
    case 'session_started': {
      const session = draft.session(event.session_id);
      session.scenarioId = event.payload.scenario_id;
      session.npcId = event.payload.npc_id;
      session.stateHash = event.payload.state_hash;
      return;
    }
    case 'commit_succeeded':
    case 'commit_failed':
      draft.session(event.session_id).stateHash = event.payload.state_hash;
      break;
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
      turn.streamedText += event.payload.text;
      turn.tokenCount = event.payload.index + 1;
      draft.streamed.add(turn);
      return;
    }
    case 'turn_final':
      if (turn.state !== 'streaming') return;
      turn.state = 'final-preview';
      // The runtime's reading of the whole output: the spoken line and the parsed proposals.
      turn.replyText = event.payload.text;
      turn.proposingActions = false;
      turn.proposals = event.payload.proposals;
      turn.proposalErrors = event.payload.proposal_errors;
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
  // A stream that ends before `turn_final` keeps its spoken part; no later token can extend it.
  if (turn.state === 'streaming') {
    turn.replyText = endedPreview(turn.streamedText);
    turn.proposingActions = false;
  }
  switch (event.type) {
    case 'commit_succeeded':
      turn.state = 'committed';
      // Canonical: whatever was streamed or previewed is replaced by what the ledger holds.
      turn.replyText = event.payload.text;
      turn.commit = { outcome: 'committed', ...event.payload };
      return;
    case 'commit_failed':
      turn.state = 'failed';
      turn.reason = `commit failed at ${event.payload.stage}: ${event.payload.code}: ${event.payload.message}`;
      turn.commit = { outcome: 'failed', ...event.payload };
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

function modelName(model: ModelRef): string {
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
