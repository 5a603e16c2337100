import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PressureStatus, type PressureSignals } from '../../../shared/agents';
import { computePressure, DEFAULT_PRESSURE_THRESHOLDS, PressureMonitor } from './pressure';

const calm: PressureSignals = {
  active_streams: 0,
  queued_streams: 0,
  max_concurrent: 4,
  queue_fill: 0,
  event_loop_delay_ms: 0,
};
const signals = (s: Partial<PressureSignals>): PressureSignals => ({ ...calm, ...s });
const level = (s: Partial<PressureSignals>): string => computePressure(signals(s)).level;

describe('computePressure', () => {
  it('is LOW when every signal is calm, naming all three', () => {
    const p = computePressure(
      signals({ active_streams: 3, queued_streams: 2, queue_fill: 0.49, event_loop_delay_ms: 74.9 }),
    );
    expect(p.level).toBe('LOW');
    expect(p.reason).toBe(
      '3/4 streams running, 2 waiting; deepest subscriber queue 49% full; event-loop delay p99 74.9 ms',
    );
  });

  it('streams: at the cap is MEDIUM, at the cap with spawns waiting is HIGH', () => {
    expect(level({ active_streams: 3 })).toBe('LOW');
    expect(level({ active_streams: 4 })).toBe('MEDIUM');
    expect(level({ active_streams: 4, queued_streams: 1 })).toBe('HIGH');
    expect(level({ active_streams: 5, queued_streams: 0 })).toBe('MEDIUM'); // over the cap after a lowered max
    expect(level({ active_streams: 3, queued_streams: 9 })).toBe('LOW'); // waiting below the cap is transient
    expect(computePressure(signals({ active_streams: 4, queued_streams: 1 })).reason).toBe(
      '4/4 streams running, 1 waiting',
    );
  });

  it('subscriber queue fill: MEDIUM from 50%, HIGH from 90%', () => {
    expect(level({ queue_fill: 0.4999 })).toBe('LOW');
    expect(level({ queue_fill: 0.5 })).toBe('MEDIUM');
    expect(level({ queue_fill: 0.8999 })).toBe('MEDIUM');
    expect(level({ queue_fill: 0.9 })).toBe('HIGH');
    expect(level({ queue_fill: 1.5 })).toBe('HIGH');
    expect(computePressure(signals({ queue_fill: 0.9 })).reason).toBe('deepest subscriber queue 90% full');
  });

  it('event-loop delay: MEDIUM from 75 ms, HIGH from 250 ms', () => {
    expect(level({ event_loop_delay_ms: 74.99 })).toBe('LOW');
    expect(level({ event_loop_delay_ms: 75 })).toBe('MEDIUM');
    expect(level({ event_loop_delay_ms: 249.9 })).toBe('MEDIUM');
    expect(level({ event_loop_delay_ms: 250 })).toBe('HIGH');
    expect(computePressure(signals({ event_loop_delay_ms: 250 })).reason).toBe(
      'event-loop delay p99 250.0 ms',
    );
  });

  it('takes custom thresholds', () => {
    const t = { queueFill: [0.1, 0.2] as const, eventLoopDelayMs: [10, 20] as const };
    expect(computePressure(signals({ queue_fill: 0.15 }), t).level).toBe('MEDIUM');
    expect(computePressure(signals({ event_loop_delay_ms: 20 }), t).level).toBe('HIGH');
  });

  it('is the worst of the signals; the first signal at that level gives the reason', () => {
    const p = computePressure(signals({ active_streams: 4, queue_fill: 0.95, event_loop_delay_ms: 100 }));
    expect(p.level).toBe('HIGH');
    expect(p.reason).toContain('subscriber queue');
    const tie = computePressure(signals({ active_streams: 4, queue_fill: 0.6 }));
    expect(tie.level).toBe('MEDIUM');
    expect(tie.reason).toContain('streams running');

    const rank = { LOW: 0, MEDIUM: 1, HIGH: 2 } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 4 }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        (max, active, queued, fill, eld) => {
          const s = {
            max_concurrent: max,
            active_streams: active,
            queued_streams: queued,
            queue_fill: fill,
            event_loop_delay_ms: eld,
          };
          const one = (x: Partial<PressureSignals>): number =>
            rank[computePressure(signals({ ...x, max_concurrent: max })).level];
          const expected = Math.max(
            one({ active_streams: active, queued_streams: queued }),
            one({ queue_fill: fill }),
            one({ event_loop_delay_ms: eld }),
          );
          expect(rank[computePressure(s).level]).toBe(expected);
        },
      ),
    );
  });

  it('defaults to the documented thresholds', () => {
    expect(DEFAULT_PRESSURE_THRESHOLDS).toEqual({ queueFill: [0.5, 0.9], eventLoopDelayMs: [75, 250] });
  });
});

describe('PressureMonitor', () => {
  it('reports the computed level from live samples', () => {
    let current = signals({});
    const monitor = new PressureMonitor(() => current);
    expect(monitor.status()).toMatchObject({ level: 'LOW', computed: 'LOW', forced: null });
    current = signals({ active_streams: 4, queued_streams: 2 });
    const status = monitor.status();
    expect(status).toMatchObject({ level: 'HIGH', computed: 'HIGH', forced: null, signals: current });
    expect(PressureStatus.safeParse(status).success).toBe(true);
  });

  it('force overrides the computed level until released', () => {
    let current = signals({});
    const monitor = new PressureMonitor(() => current);
    monitor.force('HIGH');
    expect(monitor.forced).toBe('HIGH');
    const forced = monitor.status();
    expect(forced).toMatchObject({ level: 'HIGH', computed: 'LOW', forced: 'HIGH' });
    expect(forced.reason).toMatch(/^forced to HIGH \(computed LOW: /);

    // Forcing down hides real pressure too; the computed level stays visible.
    current = signals({ queue_fill: 0.95 });
    monitor.force('LOW');
    expect(monitor.status()).toMatchObject({ level: 'LOW', computed: 'HIGH', forced: 'LOW' });

    monitor.force(null);
    expect(monitor.forced).toBeNull();
    const released = monitor.status();
    expect(released).toMatchObject({ level: 'HIGH', computed: 'HIGH', forced: null });
    expect(released.reason).toBe('deepest subscriber queue 95% full');
  });

  it('samples on every status call', () => {
    let calls = 0;
    const monitor = new PressureMonitor(() => {
      calls++;
      return calm;
    });
    monitor.status();
    monitor.status();
    expect(calls).toBe(2);
  });
});
