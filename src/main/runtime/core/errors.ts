import type { ErrorCode, ProtocolError } from '../../../shared/commands';

/** An error with a protocol error code: transports send it to the client as is. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toProtocol(): ProtocolError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Maps any thrown value to a protocol error; unknown failures become `internal` without leaking internals. */
export function toProtocolError(err: unknown): ProtocolError {
  if (err instanceof RuntimeError) return err.toProtocol();
  return { code: 'internal', message: 'internal error' };
}
