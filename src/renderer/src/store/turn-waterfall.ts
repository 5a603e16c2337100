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
 */
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

/** How the turn ended, and when (ms after the ACK). */
export type WaterfallEnd = 'committed' | 'commit_failed' | 'cancelled' | 'failed' | 'rejected';

export interface TurnWaterfall {
  /** Epoch ms of the ACK. */
  startedAt: number;
  /** ACK → the terminal event, or → the newest event while the turn runs. */
  totalMs: number;
  bars: WaterfallBar[];
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

  return {
    startedAt: t0,
    totalMs: endMs,
    bars,
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
