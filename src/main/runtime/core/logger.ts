/** Structured log sink. The runtime logs through this only; hosts decide where lines go. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** One JSON line per entry on stderr. Never pass secrets (the launch token) in fields. */
export const consoleLogger: Logger = {
  info: (message, fields) => {
    process.stderr.write(`${JSON.stringify({ level: 'info', message, ...fields })}\n`);
  },
  warn: (message, fields) => {
    process.stderr.write(`${JSON.stringify({ level: 'warn', message, ...fields })}\n`);
  },
  error: (message, fields) => {
    process.stderr.write(`${JSON.stringify({ level: 'error', message, ...fields })}\n`);
  },
};
