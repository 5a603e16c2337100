import { useMemo } from 'react';
import { useAppState } from '../app/context';
import { selectTurnTimeline } from '../store/selectors';
import { turnWaterfall, type TurnWaterfall as Waterfall, type WaterfallBar } from '../store/turn-waterfall';
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
      </ol>
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

function Bar({ bar, waterfall }: { bar: WaterfallBar; waterfall: Waterfall }) {
  // Scale: the whole turn is the track's width; marks (ACK, first token) are lines.
  const scale = Math.max(waterfall.totalMs, 1);
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
