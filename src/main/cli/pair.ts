/**
 * `npm run pair [-- --data-dir <dir>]`: prints a fresh one-time link to the inspector of a running
 * `npm run serve`. Reads the owner-only connection file and authenticates with the bearer header, so
 * the token never appears in an argument, an address or the output.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { AuthPairResult, ErrorFrame, PROTOCOL_VERSION } from '../../shared/commands';
import { defaultDataDir } from '../runtime/core/default-data-dir';
import { connectionFilePath, readConnectionFile } from '../runtime/transport/connection-file';

/** Asks the server named by the connection file in `dataDir` for a pairing link. */
export async function requestPairingLink(dataDir: string, timeoutMs = 5_000): Promise<AuthPairResult> {
  const info = readConnectionFile(connectionFilePath(dataDir));
  const ws = new WebSocket(info.ws_url, { headers: { Authorization: `Bearer ${info.token}` } });
  try {
    return await new Promise<AuthPairResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no answer from ${info.ws_url} in ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      ws.on('error', (err) => {
        fail(new Error(`cannot reach ${info.ws_url} (is the server still running?): ${err.message}`));
      });
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION }));
        ws.send(JSON.stringify({ type: 'auth.pair', id: 'p' }));
      });
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString('utf8')) as { id?: unknown; type?: unknown; result?: unknown };
        const error = ErrorFrame.safeParse(frame);
        if (error.success) fail(new Error(`${error.data.error.code}: ${error.data.error.message}`));
        else if (frame.id === 'p') {
          clearTimeout(timer);
          resolve(AuthPairResult.parse(frame.result));
        }
      });
    });
  } finally {
    ws.terminate();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const link = await requestPairingLink(dataDir);
  const minutes = Math.round((link.expires_at - Date.now()) / 60_000);
  process.stdout.write(`Open the inspector: ${link.page_url}\n  (one-time link, valid ${minutes} min)\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  main().catch((err: unknown) => {
    process.stderr.write(`parley pair: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
