import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope, EventType } from '../../../shared/protocol';
import { ManualClock, systemClock, type Clock } from '../core/clock';
import type { InteractionSession } from '../interaction/session';
import type { Subscription } from '../interaction/subscription';
import { createRuntime, type ParleyRuntime, type RuntimeConfig } from '../runtime';

/** A session with every event it published recorded, as a subscriber from seq 1 received them. */
export interface RecordedSession {
  readonly session: InteractionSession;
  readonly events: EventEnvelope[];
  readonly subscription: Subscription;
  /** Events of one type, in order. */
  ofType<T extends EventType>(type: T): Extract<EventEnvelope, { type: T }>[];
  /** Calls `fn` synchronously for each event as it is delivered (e.g. to cancel at token k). */
  onEvent(fn: (event: EventEnvelope) => void): void;
}

export interface TestRuntime {
  readonly runtime: ParleyRuntime;
  readonly dataDir: string;
  /** Present when the runtime runs on virtual time (`virtualTime: true`). */
  readonly clock: Clock;
  openSession(npcId?: string): RecordedSession;
  /** Disposes the runtime and deletes its data directory. */
  dispose(): Promise<void>;
}

/**
 * A runtime for scenario tests: a fresh temp data dir with a real SQLite ledger, the scripted backend
 * at token pace 0 (events still interleave with the event loop), fixed run id `test`, agents at
 * token pace 0 and event-loop delay left out of pressure (it is noise on a shared machine).
 */
export function createTestRuntime(
  config: Partial<RuntimeConfig> & { virtualTime?: boolean; dataDirOverride?: string } = {},
): TestRuntime {
  const { virtualTime, dataDirOverride, ...rest } = config;
  const dataDir = dataDirOverride ?? mkdtempSync(join(tmpdir(), 'parley-test-'));
  const clock = rest.clock ?? (virtualTime === true ? new ManualClock(1_700_000_000_000) : systemClock);
  const runtime = createRuntime({
    runId: 'test',
    scripted: { tokenIntervalMs: 0 },
    ...rest,
    agents: { measureEventLoop: false, tokenIntervalMs: 0, ...rest.agents },
    clock,
    dataDir,
  });
  return {
    runtime,
    dataDir,
    clock,
    openSession(npcId) {
      const session = runtime.manager.createSession(undefined, npcId);
      const events: EventEnvelope[] = [];
      const listeners: ((e: EventEnvelope) => void)[] = [];
      const subscription = session.subscribe(
        {
          deliver: (e) => {
            events.push(e);
            for (const l of listeners) l(e);
            return true;
          },
          ended: () => undefined,
        },
        { fromSeq: 1, policy: 'drop_telemetry' },
      );
      return {
        session,
        events,
        subscription,
        ofType: <T extends EventType>(type: T) =>
          events.filter((e): e is Extract<EventEnvelope, { type: T }> => e.type === type),
        onEvent: (fn) => listeners.push(fn),
      };
    },
    async dispose() {
      await runtime.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
