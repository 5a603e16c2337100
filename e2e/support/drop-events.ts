import type { Page } from '@playwright/test';

interface Envelope {
  type: string;
  seq: number;
  payload: unknown;
}

/**
 * Sits in the inspector's WebSocket and drops the events `drop` picks before the page sees them, as
 * a lost frame would: the page then sees a seq gap no `stream_overflow` explains. Single event
 * frames and `event.batch` frames are both filtered; everything else passes untouched.
 */
export async function dropEvents(page: Page, drop: (event: Envelope) => boolean): Promise<void> {
  await page.routeWebSocket(/\/v1\/stream$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      server.send(message);
    });
    server.onMessage((message) => {
      const filtered = filterFrame(message.toString(), drop);
      if (filtered !== null) ws.send(filtered);
    });
  });
}

function filterFrame(text: string, drop: (event: Envelope) => boolean): string | null {
  let frame: { type?: unknown; seq?: unknown; events?: Envelope[] };
  try {
    frame = JSON.parse(text) as typeof frame;
  } catch {
    return text;
  }
  if (frame.type === 'event.batch' && Array.isArray(frame.events)) {
    const events = frame.events.filter((e) => !drop(e));
    return events.length === 0 ? null : JSON.stringify({ ...frame, events });
  }
  if (typeof frame.seq === 'number' && typeof frame.type === 'string') {
    return drop(frame as Envelope) ? null : text;
  }
  return text;
}
