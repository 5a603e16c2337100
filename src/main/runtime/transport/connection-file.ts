import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const CONNECTION_FILE_NAME = 'connection.json';

/**
 * How local tools reach a running headless server: written by `npm run serve` next to the ledger,
 * readable by its owner only (0600), removed on exit. The only place the launch token is written.
 */
export const ConnectionInfo = z.object({
  format: z.literal('parley-connection'),
  version: z.literal(1),
  pid: z.number().int(),
  run_id: z.string(),
  /** The inspector page (no credential in it). */
  http_url: z.string(),
  ws_url: z.string(),
  agui_url: z.string(),
  token: z.string(),
  started_at: z.number(),
});
export type ConnectionInfo = z.infer<typeof ConnectionInfo>;

export function connectionFilePath(dataDir: string): string {
  return join(dataDir, CONNECTION_FILE_NAME);
}

/** Writes the connection file of a started server into `dataDir`; returns its path. */
export function publishConnection(
  dataDir: string,
  server: { readonly url: string; readonly wsUrl: string; readonly aguiUrl: string },
  runId: string,
  token: string,
  now: number,
): string {
  const file = connectionFilePath(dataDir);
  writeConnectionFile(file, {
    format: 'parley-connection',
    version: 1,
    pid: process.pid,
    run_id: runId,
    http_url: server.url,
    ws_url: server.wsUrl,
    agui_url: server.aguiUrl,
    token,
    started_at: now,
  });
  return file;
}

/**
 * Writes the file atomically with mode 0600: the temp file is created afresh (`wx`) with that mode,
 * so the token is never in a file anyone else could read, whatever a crashed run left behind.
 */
export function writeConnectionFile(file: string, info: ConnectionInfo): void {
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}

/** Reads and checks a connection file, with a message naming the file on any problem. */
export function readConnectionFile(file: string): ConnectionInfo {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `no connection file at ${file}: is \`npm run serve\` running with this data dir?`
        : `cannot read ${file}: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = ConnectionInfo.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a Parley connection file: ${parsed.error.message}`);
  return parsed.data;
}

/** Removes the file if it still belongs to this process (another server may have replaced it). */
export function removeConnectionFile(file: string, pid = process.pid): void {
  try {
    if (readConnectionFile(file).pid !== pid) return;
  } catch {
    return;
  }
  rmSync(file, { force: true });
}
