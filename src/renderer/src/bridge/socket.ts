/**
 * The few socket operations the WebSocket bridge needs, so tests can drive it with an in-memory
 * fake and the browser's `WebSocket` stays at the edge.
 */
export interface SocketHandlers {
  open(): void;
  /** One text frame. */
  message(data: string): void;
  /** The socket is gone (closed by either side, or never opened). Called at most once. */
  close(info: { code: number; reason: string }): void;
}

export interface MinimalSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a socket to `url`. May throw (e.g. an invalid URL); the bridge treats that as a failed attempt. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => MinimalSocket;

/** Runs `callback` after `ms` milliseconds; returns a function that cancels it. */
export type Delay = (callback: () => void, ms: number) => () => void;

export const browserSocketFactory: SocketFactory = (url, handlers) => {
  const ws = new WebSocket(url);
  ws.onopen = () => {
    handlers.open();
  };
  ws.onmessage = (event) => {
    // The server only sends text frames; binary ones are not part of the contract.
    if (typeof event.data === 'string') handlers.message(event.data);
  };
  // `error` is always followed by `close`, which is where the bridge reacts.
  ws.onclose = (event) => {
    handlers.close({ code: event.code, reason: event.reason });
  };
  return {
    send: (data) => {
      ws.send(data);
    },
    close: (code, reason) => {
      ws.close(code, reason);
    },
  };
};

export const timerDelay: Delay = (callback, ms) => {
  const handle = setTimeout(callback, ms);
  return () => {
    clearTimeout(handle);
  };
};
