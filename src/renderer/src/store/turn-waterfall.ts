/**
 * A turn's latency waterfall from its events' timestamps (the runtime's clock, epoch ms): where the
 * time between the ACK and the commit went. Pure; works on all of a turn's events or on the few the
 * timeline reducer keeps (`turn-timeline-reducer.ts`), in arrival order.
 *
 * Phases, each measured from the ACK (`turn_accepted`):
 * - `ack`: the ACK itself, a mark at 0.
 * - `queue`: ACK → `model_selected` (the agent plane's admission runs here).
 * - `select` / `load`: `model_selected` → the first token. `load` when the turn waited for its model
 *   (it started the load, or found it loading or not loaded); the time a prewarm hid is reported.
 * - `first-token`: a mark at the first `token_delta` (time to first token).
 * - `tokens`: first → newest `token_delta`, with the rate.
 * - `commit`: `turn_final` → `commit_succeeded` / `commit_failed`.
 * A phase whose end has not arrived yet is open: it reaches the newest event so far.
 *
 * Beside the phases, on the same scale: one lane per agent stream (`agent_stream_lifecycle`: queued →
 * started → ended, with its terminal reason) and a mark per `arbiter_decision`. A lane whose `queued`
 * event was dropped (telemetry) is placed by a later event's `elapsed_ms` (ms since it was queued).
 */
import type { TerminalReason } from '../../../shared/agents';
import type { LoadTrigger } from '../../../shared/models';
import type { EmittedEventType, EnvelopeOf, EventEnvelope } from '../../../shared/protocol';

export type WaterfallPhase = 'ack' | 'queue' | 'select' | 'load' | 'first-token' | 'tokens' | 'commit';

export interface WaterfallBar {
  phase: WaterfallPhase;
  /** ms after the ACK. */
  startMs: number;
  endMs: number;
  /** The phase has not ended yet (its end event has not arrived). */
  open: boolean;
}

/** One agent stream of the turn, in ms after the ACK. */
export interface WaterfallLane {
  streamId: string;
  agent: string;
  critical: boolean;
  queuedMs: number;
  /** Null while queued (or when it ended without starting, e.g. shed). */
  startedMs: number | null;
  /** Where the lane is drawn to: its end, or the newest event while it runs. */
  endMs: number;
  /** The stream has not ended yet (no `ended` event while the turn runs). */
  open: boolean;
  terminalReason: TerminalReason | null;
}

/** An `arbiter_decision`, a mark at `atMs`. */
export interface WaterfallDecision {
  atMs: number;
  accepted: number;
  rejected: number;
  committed: number;
}

/** How the turn ended, and when (ms after the ACK). */
export type WaterfallEnd = 'committed' | 'commit_failed' | 'cancelled' | 'failed' | 'rejected';

export interface TurnWaterfall {
  /** Epoch ms of the ACK. */
  startedAt: number;
  /** ACK → the terminal event, or → the newest event while the turn runs. */
  totalMs: number;
  bars: WaterfallBar[];
  /** Agent streams in order of their first event. */
  lanes: WaterfallLane[];
  decisions: WaterfallDecision[];
  /** The drawing scale: `totalMs`, or further when a lane outlasts the turn. */
  scaleMs: number;
  end: { kind: WaterfallEnd; atMs: number } | null;
  /** The turn waited for its model to load. */
  loaded: boolean;
  /** Load time a prewarm hid from this turn (`model_selected.prewarm`). */
  prewarm: { trigger: LoadTrigger; hiddenMs: number } | null;
  /** ACK → first token; null before it. */
  firstTokenMs: number | null;
  /** Tokens seen (newest index + 1, or `turn_final`'s count) and their rate over the tokens phase. */
  tokens: { count: number; perSecond: number | null } | null;
}

function first<T extends EmittedEventType>(
  events: readonly EventEnvelope[],
  type: T,
): EnvelopeOf<T> | undefined {
  return events.find((e): e is EnvelopeOf<T> => e.type === type);
}

function last<T extends EmittedEventType>(
  events: readonly EventEnvelope[],
  type: T,
): EnvelopeOf<T> | undefined {
  return events.findLast((e): e is EnvelopeOf<T> => e.type === type);
}

const TERMINAL: Readonly<Partial<Record<EmittedEventType, WaterfallEnd>>> = {
  commit_succeeded: 'committed',
  commit_failed: 'commit_failed',
  turn_cancelled: 'cancelled',
  turn_failed: 'failed',
  turn_rejected: 'rejected',
};

/** The turn's waterfall; null before its ACK (or when the ACK is not among the events). */
export function turnWaterfall(events: readonly EventEnvelope[]): TurnWaterfall | null {
  const ack = first(events, 'turn_accepted');
  if (ack === undefined) return null;
  const t0 = ack.timestamp;
  const at = (e: EventEnvelope): number => Math.max(0, e.timestamp - t0);

  let terminal: EventEnvelope | undefined;
  let end: WaterfallEnd | undefined;
  for (const e of events) {
    end = TERMINAL[e.type];
    if (end !== undefined) {
      terminal = e;
      break;
    }
  }
  const running = terminal === undefined;
  const endMs = terminal === undefined ? events.reduce((max, e) => Math.max(max, at(e)), 0) : at(terminal);

  const selected = first(events, 'model_selected');
  const firstToken = first(events, 'token_delta');
  const lastToken = last(events, 'token_delta');
  const final = first(events, 'turn_final');
  const commit = events.find((e) => e.type === 'commit_succeeded' || e.type === 'commit_failed');
  // Load events carry this turn's id only when the turn caused the load; a turn that found its model
  // loading (a prewarm in flight) or not loaded waited for it all the same.
  const loaded =
    events.some((e) => e.type === 'model_loading' || e.type === 'model_ready') ||
    (selected !== undefined && selected.payload.state !== 'ready');

  const bars: WaterfallBar[] = [{ phase: 'ack', startMs: 0, endMs: 0, open: false }];
  /** A phase from `start` to its end event; without one, open while the turn runs, else cut at its end. */
  const bar = (phase: WaterfallPhase, start: number, until: EventEnvelope | undefined): void => {
    const stop = until === undefined ? endMs : at(until);
    bars.push({ phase, startMs: start, endMs: Math.max(start, stop), open: until === undefined && running });
  };

  if (selected !== undefined) bar('queue', 0, selected);
  if (selected !== undefined || loaded)
    bar(loaded ? 'load' : 'select', selected === undefined ? 0 : at(selected), firstToken ?? terminal);
  if (firstToken !== undefined) {
    const ttft = at(firstToken);
    bars.push({ phase: 'first-token', startMs: ttft, endMs: ttft, open: false });
    bars.push({
      phase: 'tokens',
      startMs: ttft,
      endMs: Math.max(ttft, at(lastToken ?? firstToken)),
      // More tokens may come until `turn_final` or the end.
      open: running && final === undefined,
    });
  }
  if (final !== undefined) bar('commit', at(final), commit ?? terminal);

  const count = Math.max(
    lastToken === undefined ? 0 : lastToken.payload.index + 1,
    final?.payload.token_count ?? 0,
  );
  const span =
    firstToken === undefined || lastToken === undefined ? 0 : lastToken.timestamp - firstToken.timestamp;
  const streamed =
    firstToken === undefined || lastToken === undefined
      ? 0
      : lastToken.payload.index - firstToken.payload.index;
  const prewarm = selected?.payload.prewarm ?? null;
  const lanes = agentLanes(events, t0, endMs, running);
  const decisions = events
    .filter((e): e is EnvelopeOf<'arbiter_decision'> => e.type === 'arbiter_decision')
    .map((e) => ({
      atMs: at(e),
      accepted: e.payload.accepted,
      rejected: e.payload.rejected,
      committed: e.payload.committed,
    }));

  return {
    startedAt: t0,
    totalMs: endMs,
    bars,
    lanes,
    decisions,
    scaleMs: lanes.reduce((max, lane) => Math.max(max, lane.endMs), endMs),
    end: terminal === undefined || end === undefined ? null : { kind: end, atMs: endMs },
    loaded,
    prewarm: prewarm === null ? null : { trigger: prewarm.trigger, hiddenMs: prewarm.hidden_ms },
    firstTokenMs: firstToken === undefined ? null : at(firstToken),
    tokens:
      firstToken === undefined && final === undefined
        ? null
        : { count, perSecond: span > 0 && streamed > 0 ? (streamed * 1000) / span : null },
  };
}

function agentLanes(
  events: readonly EventEnvelope[],
  t0: number,
  turnEndMs: number,
  running: boolean,
): WaterfallLane[] {
  const lanes = new Map<string, WaterfallLane>();
  for (const e of events) {
    if (e.type !== 'agent_stream_lifecycle') continue;
    const p = e.payload;
    const atMs = Math.max(0, e.timestamp - t0);
    let lane = lanes.get(p.stream_id);
    if (lane === undefined) {
      lane = {
        streamId: p.stream_id,
        agent: p.agent,
        critical: p.critical,
        queuedMs: Math.max(0, e.timestamp - p.elapsed_ms - t0),
        startedMs: null,
        endMs: atMs,
        open: true,
        terminalReason: null,
      };
      lanes.set(p.stream_id, lane);
    }
    if (p.state === 'queued') lane.queuedMs = atMs;
    if (p.state === 'started') lane.startedMs ??= atMs;
    if (p.state === 'ended') {
      lane.open = false;
      lane.terminalReason = p.terminal_reason;
    }
    lane.endMs = Math.max(lane.endMs, atMs);
  }
  for (const lane of lanes.values())
    if (lane.open) {
      // No `ended` yet: it runs to the newest event; after the turn's end it was dropped, not running.
      lane.endMs = Math.max(lane.endMs, turnEndMs);
      lane.open = running;
    }
  return [...lanes.values()];
}
