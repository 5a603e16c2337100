/**
 * Replays a session bundle and prints the result as one JSON line, with what this process's time
 * zone and locale make of a date and a number, so a test can prove replay ignores both.
 *
 *   node --import tsx src/main/runtime/testing/replay-child.ts <bundle.json>
 */
import { readFileSync } from 'node:fs';
import { BUILTIN_EXTENSIONS } from '../authority/builtin-extensions';
import { ExtensionManager } from '../authority/extensions';
import { parseBundle, replayBundle } from '../authority/replay';
import { systemClock } from '../core/clock';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: replay-child <bundle.json>\n');
  process.exit(2);
}
const bundle = parseBundle(readFileSync(file, 'utf8'), file);
const report = await replayBundle(bundle, {
  extensions: new ExtensionManager(BUILTIN_EXTENSIONS, { clock: systemClock, budgetMs: 10_000 }),
});
process.stdout.write(
  `${JSON.stringify({
    ok: report.ok,
    head_hash: report.head_hash,
    state_hashes: report.state_hashes,
    first_divergence: report.first_divergence,
    probe: {
      time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      locale: Intl.DateTimeFormat().resolvedOptions().locale,
      date: new Date(0).toString(),
      number: (1234567.5).toLocaleString(),
    },
  })}\n`,
);
