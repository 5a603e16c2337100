import { useMemo } from 'react';
import { useAppState } from '../app/context';
import { selectTurnTimeline } from '../store/selectors';
import {
  turnWaterfall,
  type TurnWaterfall as Waterfall,
  type WaterfallBar,
  type WaterfallDecision,
  type WaterfallLane,
} from '../store/turn-waterfall';
import { TERMINAL_TONE } from './agent-format';
import { END_LABEL, formatDuration, formatRate, PHASE_LABEL, TRIGGER_TEXT } from './models-format';

/**
 * A turn's latency waterfall, folded at first: where the time from the ACK to the commit went, bars
 * to scale from the events' timestamps (the runtime's clock).
 */
export function TurnWaterfall({ sessionId, turnId }: { sessionId: string; turnId: string }) {
  const timeline = useAppState(selectTurnTimeline(sessionId, turnId));
  const waterfall = useMemo(() => turnWaterfall(timeline), [timeline]);
  if (waterfall === null) return null;
  return (
    <details
      className="waterfall"
      data-testid="turn-waterfall"
      data-total-ms={waterfall.totalMs}
      data-end={waterfall.end?.kind ?? ''}
      data-loaded={String(waterfall.loaded)}
    >
      <summary className="waterfall__summary">
        <span className="waterfall__title">Latency</span>
        <span>{formatDuration(waterfall.totalMs)}</span>
        {waterfall.firstTokenMs === null ? null : (
          <span title="ACK to first token">first token {formatDuration(waterfall.firstTokenMs)}</span>
        )}
        {waterfall.tokens?.perSecond == null ? null : <span>{formatRate(waterfall.tokens.perSecond)}</span>}
        {waterfall.loaded ? <span className="tag tag--warn">waited for load</span> : null}
        {waterfall.prewarm === null ? null : <PrewarmNote waterfall={waterfall} />}
        {waterfall.end === null ? <span className="muted">running…</span> : null}
      </summary>
      <ol className="waterfall__bars" aria-label="Latency phases">
        {waterfall.bars.map((bar) => (
          <Bar key={bar.phase} bar={bar} waterfall={waterfall} />
        ))}
        {waterfall.decisions.length === 0 ? null : <Decisions waterfall={waterfall} />}
      </ol>
      {waterfall.lanes.length === 0 ? null : (
        <ol className="waterfall__bars waterfall__lanes" aria-label="Agent streams">
          {waterfall.lanes.map((lane) => (
            <Lane key={lane.streamId} lane={lane} waterfall={waterfall} />
          ))}
        </ol>
      )}
      {waterfall.end === null ? null : (
        <p className="waterfall__end" data-testid="waterfall-end" data-kind={waterfall.end.kind}>
          {END_LABEL[waterfall.end.kind]} at {formatDuration(waterfall.end.atMs)}
        </p>
      )}
    </details>
  );
}

function PrewarmNote({ waterfall }: { waterfall: Waterfall }) {
  const prewarm = waterfall.prewarm;
  if (prewarm === null) return null;
  return (
    <span
      className="tag waterfall__prewarm"
      data-testid="waterfall-prewarm"
      data-trigger={prewarm.trigger}
      data-hidden-ms={prewarm.hiddenMs}
      title={`A prewarm (${TRIGGER_TEXT[prewarm.trigger]}) loaded the model before this turn needed it`}
    >
      prewarm hid {formatDuration(prewarm.hiddenMs)}
    </span>
  );
}

/** Left offset and width (percent of the track) of `[startMs, endMs]` on the waterfall's scale. */
function place(waterfall: Waterfall, startMs: number, endMs: number): { left: number; width: number } {
  const scale = Math.max(waterfall.scaleMs, 1);
  const width = Math.max(((endMs - startMs) / scale) * 100, 0.5);
  const left = (Math.min(startMs, scale) / scale) * 100;
  return { left: Math.min(left, 100 - width), width };
}

function markAt(waterfall: Waterfall, atMs: number): string {
  return `${(Math.min(atMs, Math.max(waterfall.scaleMs, 1)) / Math.max(waterfall.scaleMs, 1)) * 100}%`;
}

function Decisions({ waterfall }: { waterfall: Waterfall }) {
  const describe = (d: WaterfallDecision) =>
    `arbiter at ${formatDuration(d.atMs)}: ${d.accepted} accepted, ${d.rejected} rejected, ${d.committed} committed`;
  return (
    <li
      className="waterfall__row waterfall__row--arbiter"
      data-testid="waterfall-decisions"
      aria-label={waterfall.decisions.map(describe).join('; ')}
    >
      <span className="waterfall__label">arbiter</span>
      <span className="waterfall__track" aria-hidden="true">
        {waterfall.decisions.map((d, i) => (
          <span
            key={i}
            className="waterfall__mark"
            data-testid="waterfall-decision"
            data-at-ms={d.atMs}
            title={describe(d)}
            style={{ left: markAt(waterfall, d.atMs) }}
          />
        ))}
      </span>
      <span className="waterfall__value">
        {waterfall.decisions.map((d) => `at ${formatDuration(d.atMs)}`).join(', ')}
      </span>
    </li>
  );
}

function Lane({ lane, waterfall }: { lane: WaterfallLane; waterfall: Waterfall }) {
  const runFrom = lane.startedMs ?? lane.endMs;
  const queued = place(waterfall, lane.queuedMs, runFrom);
  const run = lane.startedMs === null ? null : place(waterfall, lane.startedMs, lane.endMs);
  const tone = lane.terminalReason === null ? 'open' : TERMINAL_TONE[lane.terminalReason];
  const state = lane.open ? 'running' : (lane.terminalReason ?? 'end not seen');
  const label =
    `${lane.agent}${lane.critical ? ' (critical)' : ''}: queued at ${formatDuration(lane.queuedMs)}` +
    (lane.startedMs === null ? ', never started' : `, started at ${formatDuration(lane.startedMs)}`) +
    (lane.open ? ', running' : `, ended at ${formatDuration(lane.endMs)} (${state})`);
  return (
    <li
      className={`waterfall__row waterfall__lane waterfall__lane--${tone}${lane.open ? ' waterfall__row--open' : ''}`}
      data-testid="waterfall-lane"
      data-stream-id={lane.streamId}
      data-agent={lane.agent}
      data-reason={lane.terminalReason ?? ''}
      data-open={String(lane.open)}
      aria-label={label}
      title={label}
    >
      <span className="waterfall__label">{lane.agent}</span>
      <span className="waterfall__track" aria-hidden="true">
        {lane.startedMs === lane.queuedMs ? null : (
          <span
            className="waterfall__bar waterfall__bar--queued"
            style={{ left: `${queued.left}%`, width: `${queued.width}%` }}
          />
        )}
        {run === null ? null : (
          <span className="waterfall__bar" style={{ left: `${run.left}%`, width: `${run.width}%` }} />
        )}
      </span>
      <span className="waterfall__value">
        {formatDuration(lane.endMs - lane.queuedMs)}
        {lane.open ? '…' : ` · ${state}`}
      </span>
    </li>
  );
}

function Bar({ bar, waterfall }: { bar: WaterfallBar; waterfall: Waterfall }) {
  // Scale: the whole turn (and any lane outlasting it) is the track's width; marks (ACK, first token) are lines.
  const scale = Math.max(waterfall.scaleMs, 1);
  const duration = bar.endMs - bar.startMs;
  const mark = bar.phase === 'ack' || bar.phase === 'first-token';
  const left = (Math.min(bar.startMs, scale) / scale) * 100;
  const width = mark ? 0 : Math.max((duration / scale) * 100, 0.5);
  const rate = bar.phase === 'tokens' ? waterfall.tokens : null;
  return (
    <li
      className={`waterfall__row waterfall__row--${bar.phase}${bar.open ? ' waterfall__row--open' : ''}`}
      data-testid="waterfall-bar"
      data-phase={bar.phase}
      data-start-ms={bar.startMs}
      data-duration-ms={duration}
      data-open={String(bar.open)}
    >
      <span className="waterfall__label">{PHASE_LABEL[bar.phase]}</span>
      <span className="waterfall__track" aria-hidden="true">
        <span
          className={mark ? 'waterfall__mark' : 'waterfall__bar'}
          style={{ left: `${Math.min(left, 100 - width)}%`, width: mark ? undefined : `${width}%` }}
        />
      </span>
      <span
        className="waterfall__value"
        title={rate === null ? undefined : `${rate.count} ${rate.count === 1 ? 'token' : 'tokens'}`}
      >
        {mark ? `at ${formatDuration(bar.startMs)}` : formatDuration(duration)}
        {bar.open ? '…' : ''}
        {rate?.perSecond == null ? null : <span className="muted"> · {formatRate(rate.perSecond)}</span>}
      </span>
    </li>
  );
}
