import { useEffect, useMemo } from 'react';
import type { EventEnvelope } from '../../../shared/protocol';
import { useAppState, useInspector } from '../app/context';
import type { LogEntry } from '../store/event-log-reducer';
import { selectAgentStatus, selectSelectedLog, selectSelectedSessionId } from '../store/selectors';
import {
  describeSeries,
  niceMax,
  PRESSURE_LEVELS,
  pressureSeries,
  turnMetrics,
  type ChartPoint,
  type PressurePoint,
} from '../store/session-charts';
import { formatDuration, formatRate } from './models-format';

const NO_ENTRIES: readonly LogEntry[] = [];
const NO_IDS: readonly string[] = [];
const NO_TIMELINES: Readonly<Record<string, readonly EventEnvelope[]>> = {};

// Drawing box, in SVG units; the SVG scales to the panel's width.
const WIDTH = 360;
const HEIGHT = 150;
const PAD = { left: 52, right: 10, top: 10, bottom: 34 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;

const count = (v: number) => String(Math.round(v));

/**
 * Per session, how its turns went: time to first token, tokens/s, overflow drops and the agent
 * plane's pressure, one small chart each. Drawn from what the store already holds (timelines and
 * the event log), so a chart costs no request; the current pressure is read once on open.
 */
export function SessionCharts() {
  const inspector = useInspector();
  const sessionId = useAppState(selectSelectedSessionId);
  const turnIds = useAppState((s) =>
    sessionId === null ? NO_IDS : (s.dialogue.sessions[sessionId]?.turnIds ?? NO_IDS),
  );
  const timelines = useAppState((s) =>
    sessionId === null ? NO_TIMELINES : (s.timelines.sessions[sessionId] ?? NO_TIMELINES),
  );
  const entries = useAppState(selectSelectedLog)?.entries ?? NO_ENTRIES;
  const status = useAppState(selectAgentStatus);

  useEffect(() => {
    void inspector.refreshAgentStatus();
  }, [inspector]);

  const metrics = useMemo(() => turnMetrics(turnIds, timelines, entries), [turnIds, timelines, entries]);
  const pressure = useMemo(() => pressureSeries(entries, turnIds), [entries, turnIds]);

  if (sessionId === null) {
    return (
      <div className="charts" data-testid="charts">
        <p className="empty">Select a session to chart its turns.</p>
      </div>
    );
  }
  const signals = status?.pressure.signals;
  return (
    <div className="charts" data-testid="charts" data-turns={metrics.length}>
      <header className="side__header">
        <h2>Charts</h2>
        <span className="panel__facts">
          {metrics.length} turn{metrics.length === 1 ? '' : 's'}
        </span>
      </header>
      <div className="charts__body">
        <BarChart
          id="ttft"
          title="Time to first token"
          unit="ms"
          points={metrics.map((m) => ({ label: m.label, value: m.ttftMs }))}
          format={(v) => formatDuration(v)}
        />
        <BarChart
          id="rate"
          title="Tokens per second"
          unit="tok/s"
          points={metrics.map((m) => ({ label: m.label, value: m.tokensPerSecond }))}
          format={formatRate}
        />
        <BarChart
          id="drops"
          title="Telemetry dropped (stream_overflow)"
          unit="events"
          points={metrics.map((m) => ({ label: m.label, value: m.dropped }))}
          format={count}
          note={`${metrics.reduce((n, m) => n + m.overflows, 0)} overflow events`}
        />
        <PressureChart points={pressure} />
        {signals === undefined ? null : (
          <p className="charts__now" data-testid="charts-pressure-now">
            Now: {status?.pressure.level}
            {status?.pressure.forced === null ? '' : ' (forced)'} · deepest subscriber queue{' '}
            {Math.round(signals.queue_fill * 100)}% full · {signals.queued_streams} streams queued,{' '}
            {signals.active_streams} running
          </p>
        )}
      </div>
    </div>
  );
}

function BarChart({
  id,
  title,
  unit,
  points,
  format,
  note,
}: {
  id: string;
  title: string;
  unit: string;
  points: readonly ChartPoint[];
  format: (value: number) => string;
  note?: string;
}) {
  const max = niceMax(points.reduce((m, p) => Math.max(m, p.value ?? 0), 0));
  const slot = PLOT_W / Math.max(1, points.length);
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  const y = (v: number) => PAD.top + PLOT_H - (v / max) * PLOT_H;
  const label = describeSeries(title, points, format);
  // Label every turn while they fit; past that, every n-th so labels never overlap.
  const every = Math.max(1, Math.ceil(points.length / 12));
  return (
    <figure className="chart" data-testid={`chart-${id}`}>
      <figcaption className="chart__title">
        {title}
        {note === undefined ? null : <span className="muted"> · {note}</span>}
      </figcaption>
      <svg className="chart__svg" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
        <Axes yTop={format(max)} yLabel={unit} xLabel="turn" />
        {points.map((p, i) => {
          const x = PAD.left + slot * i + (slot - barW) / 2;
          return (
            <g key={p.label}>
              {p.value === null ? null : (
                <rect
                  className="chart__bar"
                  data-testid="chart-bar"
                  data-value={p.value}
                  x={x}
                  y={y(p.value)}
                  width={barW}
                  height={PAD.top + PLOT_H - y(p.value)}
                >
                  <title>{`${p.label}: ${format(p.value)}`}</title>
                </rect>
              )}
              {i % every === 0 ? (
                <text className="chart__tick" x={x + barW / 2} y={PAD.top + PLOT_H + 12} textAnchor="middle">
                  {p.label}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

function PressureChart({ points }: { points: readonly PressurePoint[] }) {
  const span = points.reduce((m, p) => Math.max(m, p.atMs), 0);
  const x = (ms: number) => PAD.left + (span === 0 ? PLOT_W / 2 : (ms / span) * PLOT_W);
  const y = (level: PressurePoint['level']) =>
    PAD.top + PLOT_H - (PRESSURE_LEVELS.indexOf(level) / (PRESSURE_LEVELS.length - 1)) * PLOT_H;
  // A step line: pressure holds until the next admission reads it again.
  const path = points
    .map((p, i) => {
      const prev = points[i - 1];
      return prev === undefined ? `M${x(p.atMs)},${y(p.level)}` : `H${x(p.atMs)} V${y(p.level)}`;
    })
    .join(' ');
  const label =
    points.length === 0
      ? 'Pressure over time: no admissions yet.'
      : `Pressure over time: ${points.map((p) => `${p.label} ${p.level} at ${formatDuration(p.atMs)}`).join(', ')}.`;
  return (
    <figure className="chart" data-testid="chart-pressure">
      <figcaption className="chart__title">Pressure at each turn’s admission</figcaption>
      <svg className="chart__svg" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
        <Axes yLabel="level" xLabel={`time since first turn (${formatDuration(span)})`} />
        {PRESSURE_LEVELS.map((level) => (
          <text key={level} className="chart__tick" x={PAD.left - 4} y={y(level) + 3} textAnchor="end">
            {level}
          </text>
        ))}
        {points.length === 0 ? null : <path className="chart__line" d={path} />}
        {points.map((p) => (
          <circle
            key={p.turnId}
            className={`chart__dot chart__dot--${p.level}`}
            data-testid="chart-point"
            data-level={p.level}
            cx={x(p.atMs)}
            cy={y(p.level)}
            r={3}
          >
            <title>{`${p.label}: ${p.level}`}</title>
          </circle>
        ))}
      </svg>
    </figure>
  );
}

/** The two axes, their titles and (for a value axis) the top and zero ticks. */
function Axes({ yTop, yLabel, xLabel }: { yTop?: string; yLabel: string; xLabel: string }) {
  const bottom = PAD.top + PLOT_H;
  return (
    <g className="chart__axes" aria-hidden="true">
      <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={bottom} />
      <line x1={PAD.left} y1={bottom} x2={WIDTH - PAD.right} y2={bottom} />
      {yTop === undefined ? null : (
        <>
          <text className="chart__tick" x={PAD.left - 4} y={PAD.top + 4} textAnchor="end">
            {yTop}
          </text>
          <text className="chart__tick" x={PAD.left - 4} y={bottom} textAnchor="end">
            0
          </text>
        </>
      )}
      <text
        className="chart__axis-label"
        transform={`translate(10 ${PAD.top + PLOT_H / 2}) rotate(-90)`}
        textAnchor="middle"
      >
        {yLabel}
      </text>
      <text className="chart__axis-label" x={PAD.left + PLOT_W / 2} y={HEIGHT - 4} textAnchor="middle">
        {xLabel}
      </text>
    </g>
  );
}
