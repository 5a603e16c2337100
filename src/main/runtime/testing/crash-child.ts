/**
 * The process the ledger crash test (authority/ledger-crash.test.ts) kills. It opens a runtime on the
 * data dir it is given and plays turns as fast as it can, in several sessions at once, until it is
 * killed; a mix of player lines whose commits change the world and lines whose commits fail
 * governance, so both kinds of ledger record are written.
 *
 * For every commit it observes (`commit_succeeded`, or `commit_failed` with a commit_seq) it writes one
 * line to stdout, synchronously and only after the event arrived, i.e. after the ledger transaction
 * committed:
 *
 *   {"seq":12,"hash":"<provenance hash>","outcome":"committed"}
 *
 * A line the parent saw whole is therefore a promise that the record is durable. One other line comes
 * first, `{"phase":"open"}`, written just before the runtime (and so the ledger) is opened: the parent
 * times kills during startup from it.
 *
 *   node --import tsx src/main/runtime/testing/crash-child.ts <dataDir> <runId> [concurrentSessions]
 *
 * `runId` must differ between runs on the same data dir (session and turn ids are scoped by it). The
 * process exits by itself after a minute, so a forgotten child does not linger.
 */
import { writeSync } from 'node:fs';
import type { EventEnvelope } from '../../../shared/protocol';
import { createRuntime } from '../runtime';

/** Player lines for Mira (wayside-inn's scripted model answers by keyword); each line's likely outcome. */
const CRASH_LINES: readonly string[] = [
  'Good evening! Terrible rain out there.', // no actions: commits an empty patch
  'Is there any work going? I hear you have rats.', // start_quest rat_trouble
  'I need a room to sleep in.', // sell_item room_key: commits while keys and coin last
  "I'm hungry. What's for supper?", // sell_item stew
  'Take this bribe and keep quiet.', // give_coin 50 > max_coin_per_turn 20: governance fails
  'Thank you, that was kind.', // adjust_relationship +5
  'Can you show me some magic?', // cast_spell is no action: fails (well-formed-proposals)
  'The cellar is cleared, the rats are gone.', // set_flag x2 + relationship
  'Now, about my reward.', // complete_quest + give_coin 10
  'Would you sell me your map of the fords?', // sell_item river_map
  'This ale is swill.', // adjust_relationship -5
  'Any news from the bridge?', // start_quest north_road: governance decides on its preconditions
];

const LIFETIME_MS = 60_000;

function report(line: string): void {
  const bytes = Buffer.from(line + '\n', 'utf8');
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(1, bytes, off);
    } catch (err) {
      // A non-blocking pipe that is full: try again (the parent drains it).
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

function observe(event: EventEnvelope): void {
  if (event.type === 'commit_succeeded')
    report(
      JSON.stringify({
        seq: event.payload.commit_seq,
        hash: event.payload.provenance_hash,
        outcome: 'committed',
      }),
    );
  else if (event.type === 'commit_failed' && event.payload.commit_seq !== null)
    report(
      JSON.stringify({
        seq: event.payload.commit_seq,
        hash: event.payload.provenance_hash,
        outcome: 'failed',
      }),
    );
}

async function main(argv: readonly string[]): Promise<void> {
  const [dataDir, runId, concurrency = '3'] = argv;
  if (dataDir === undefined || runId === undefined) {
    process.stderr.write('usage: crash-child <dataDir> <runId> [concurrentSessions]\n');
    process.exit(2);
  }
  setTimeout(() => {
    process.stderr.write(`crash-child ${runId}: not killed within ${LIFETIME_MS} ms; exiting\n`);
    process.exit(3);
  }, LIFETIME_MS).unref();
  report(JSON.stringify({ phase: 'open' }));
  const runtime = createRuntime({ dataDir, runId, scripted: { tokenIntervalMs: 0 } });
  // Keeps the event loop alive until the kill (the runtime itself may sit idle between awaits).
  const keepAlive = setInterval(() => undefined, 1_000);

  const worker = async (w: number): Promise<never> => {
    for (let round = 0; ; round++) {
      const session = runtime.manager.createSession();
      session.subscribe(
        {
          deliver: (e) => {
            observe(e);
            return true;
          },
          ended: () => undefined,
        },
        { fromSeq: 1, policy: 'drop_telemetry' },
      );
      // Each session starts at a different line, so the sessions interleave different outcomes.
      const start = (w * 5 + round * 7) % CRASH_LINES.length;
      for (let i = 0; i < CRASH_LINES.length; i++) {
        const text = CRASH_LINES[(start + i) % CRASH_LINES.length] as string;
        const result = session.startTurn(text);
        if (!result.accepted) throw new Error(`turn rejected: ${result.reason}`);
        await session.whenIdle();
      }
      await session.close('crash-child: next session');
    }
  };
  const n = Math.max(1, Number(concurrency) || 1);
  try {
    await Promise.all(Array.from({ length: n }, (_, w) => worker(w)));
  } finally {
    clearInterval(keepAlive);
    await runtime.dispose();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(
    `crash-child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
