import type { PressureLevel, PressureSignals, PressureStatus } from '../../../shared/agents';

export interface PressureThresholds {
  /** Deepest subscriber queue fill (0..1) for MEDIUM and HIGH. */
  readonly queueFill: readonly [medium: number, high: number];
  /** Event-loop delay p99, ms, for MEDIUM and HIGH. */
  readonly eventLoopDelayMs: readonly [medium: number, high: number];
}

export const DEFAULT_PRESSURE_THRESHOLDS: PressureThresholds = {
  queueFill: [0.5, 0.9],
  eventLoopDelayMs: [75, 250],
};

const RANK: Readonly<Record<PressureLevel, number>> = { LOW: 0, MEDIUM: 1, HIGH: 2 };

/**
 * The pressure level the signals give: the worst of three. Streams: at the concurrency cap is MEDIUM,
 * at the cap with spawns waiting is HIGH. Subscriber queues and event-loop delay by their thresholds.
 */
export function computePressure(
  s: PressureSignals,
  t: PressureThresholds = DEFAULT_PRESSURE_THRESHOLDS,
): { level: PressureLevel; reason: string } {
  const candidates: { level: PressureLevel; reason: string }[] = [];
  const streams = `${s.active_streams}/${s.max_concurrent} streams running, ${s.queued_streams} waiting`;
  if (s.active_streams >= s.max_concurrent)
    candidates.push({ level: s.queued_streams > 0 ? 'HIGH' : 'MEDIUM', reason: streams });
  const fill = `deepest subscriber queue ${(s.queue_fill * 100).toFixed(0)}% full`;
  if (s.queue_fill >= t.queueFill[1]) candidates.push({ level: 'HIGH', reason: fill });
  else if (s.queue_fill >= t.queueFill[0]) candidates.push({ level: 'MEDIUM', reason: fill });
  const eld = `event-loop delay p99 ${s.event_loop_delay_ms.toFixed(1)} ms`;
  if (s.event_loop_delay_ms >= t.eventLoopDelayMs[1]) candidates.push({ level: 'HIGH', reason: eld });
  else if (s.event_loop_delay_ms >= t.eventLoopDelayMs[0]) candidates.push({ level: 'MEDIUM', reason: eld });
  let worst: { level: PressureLevel; reason: string } = {
    level: 'LOW',
    reason: `${streams}; ${fill}; ${eld}`,
  };
  for (const c of candidates) if (RANK[c.level] > RANK[worst.level]) worst = c;
  return worst;
}

/** Pressure from live signals, with an override the UI can set for testing. */
export class PressureMonitor {
  private forcedLevel: PressureLevel | null = null;

  constructor(
    private readonly sample: () => PressureSignals,
    private readonly thresholds: PressureThresholds = DEFAULT_PRESSURE_THRESHOLDS,
  ) {}

  force(level: PressureLevel | null): void {
    this.forcedLevel = level;
  }

  get forced(): PressureLevel | null {
    return this.forcedLevel;
  }

  status(): PressureStatus {
    const signals = this.sample();
    const { level, reason } = computePressure(signals, this.thresholds);
    return {
      level: this.forcedLevel ?? level,
      computed: level,
      forced: this.forcedLevel,
      signals,
      reason:
        this.forcedLevel === null ? reason : `forced to ${this.forcedLevel} (computed ${level}: ${reason})`,
    };
  }
}
