import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ParleyRuntime } from '../runtime';

/** Path of the AG-UI endpoint (POST, `RunAgentInput` in, an SSE stream of AG-UI events out). */
export const AGUI_PATH = '/v1/agui';

export interface AgUiOptions {
  /** Names the client in audit records. */
  readonly label: string;
  /** Largest request body accepted, bytes. */
  readonly maxBodyBytes: number;
}

/**
 * Serves one AG-UI run: one NPC turn. The server has already checked Host, Origin and the bearer
 * token. PLACEHOLDER until the AG-UI adapter lands.
 */
export function handleAgUiRequest(
  _runtime: ParleyRuntime,
  _req: IncomingMessage,
  res: ServerResponse,
  _options: AgUiOptions,
): void {
  res.writeHead(501, { 'Content-Type': 'text/plain' }).end('not implemented yet\n');
}
