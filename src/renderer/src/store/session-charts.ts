/**
 * The Charts tab's series for one session, from what the store already holds: each turn's timeline
 * (time to first token, tokens/s, via `turnWaterfall`) and the event log's rows (`stream_overflow`
 * drops, `agent_admission` pressure). Pure, so the figures are tested without drawing anything.
 */
import type { PressureLevel } from '../../../shared/agents';
import type { EventEnvelope } from '../../../shared/protocol';
import type { LogEntry } from './event-log-reducer';
import { turnWaterfall } from './turn-waterfall';

export interface TurnMetric {
  turnId: string;
  /** `#1`, `#2`, … in the session's turn order: short enough for an axis. */
  label: string;
  ttftMs: number | null;
  tokensPerSecond: number | null;
  /** `stream_overflow` events while the turn ran, and the telemetry events they dropped. */
  overflows: number;
  dropped: number;
}

export interface PressurePoint {
  turnId: string;
  label: string;
  /** ms after the session's first admission. */
  atMs: number;
  level: PressureLevel;
}

export const PRESSURE_LEVELS: readonly PressureLevel[] = ['LOW', 'MEDIUM', 'HIGH'];

const NO_EVENTS: readonly EventEnvelope[] = [];

/**
 * One row per turn, in order. An overflow with no turn id is charged to the newest turn accepted
 * before it: the runtime emits it after the range it dropped, while that turn streamed. Drops before
 * any turn, or whose turn the log has evicted, are not charged to any.
 */
export function turnMetrics(
  turnIds: readonly string[],
  timelines: Readonly<Record<string, readonly EventEnvelope[]>>,
  entries: readonly LogEntry[],
): TurnMetric[] {
  const drops = new Map<string, { overflows: number; dropped: number }>();
  let current: string | null = null;
  for (const e of entries) {
    if (e.type === 'turn_accepted') current = e.turnId;
    if (e.type !== 'stream_overflow') continue;
    const turnId = e.turnId ?? current;
    if (turnId === null) continue;
    const held = drops.get(turnId) ?? { overflows: 0, dropped: 0 };
    drops.set(turnId, { overflows: held.overflows + 1, dropped: held.dropped + droppedOf(e.payload) });
  }
  return turnIds.map((turnId, i) => {
    const waterfall = turnWaterfall(timelines[turnId] ?? NO_EVENTS);
    const d = drops.get(turnId);
    return {
      turnId,
      label: `#${i + 1}`,
      ttftMs: waterfall?.firstTokenMs ?? null,
      tokensPerSecond: waterfall?.tokens?.perSecond ?? null,
      overflows: d?.overflows ?? 0,
      dropped: d?.dropped ?? 0,
    };
  });
}

function droppedOf(payload: unknown): number {
  const dropped = (payload as { dropped?: unknown } | null)?.dropped;
  return typeof dropped === 'number' ? dropped : 0;
}

/** The pressure each turn's admission planned under (`agent_admission.pressure`), over time. */
export function pressureSeries(entries: readonly LogEntry[], turnIds: readonly string[]): PressurePoint[] {
  const points: PressurePoint[] = [];
  let t0: number | null = null;
  for (const e of entries) {
    if (e.type !== 'agent_admission' || e.turnId === null) continue;
    const level = (e.payload as { pressure?: unknown } | null)?.pressure;
    if (!PRESSURE_LEVELS.includes(level as PressureLevel)) continue;
    t0 ??= e.timestamp;
    const index = turnIds.indexOf(e.turnId);
    points.push({
      turnId: e.turnId,
      label: index === -1 ? e.turnId : `#${index + 1}`,
      atMs: e.timestamp - t0,
      level: level as PressureLevel,
    });
  }
  return points;
}

export interface ChartPoint {
  label: string;
  value: number | null;
}

/**
 * What a chart says to a screen reader: its title, then each point (`—` for none), then the range,
 * e.g. `Time to first token per turn: #1 64 ms, #2 —. Min 64 ms, max 64 ms.`
 */
export function describeSeries(
  title: string,
  points: readonly ChartPoint[],
  format: (value: number) => string,
): string {
  if (points.length === 0) return `${title}: no turns yet.`;
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const list = points.map((p) => `${p.label} ${p.value === null ? '—' : format(p.value)}`).join(', ');
  if (values.length === 0) return `${title}: ${list}.`;
  return `${title}: ${list}. Min ${format(Math.min(...values))}, max ${format(Math.max(...values))}.`;
}

/** A tidy axis maximum at or above `max`: 1, 2 or 5 times a power of ten (1 for an empty series). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}
