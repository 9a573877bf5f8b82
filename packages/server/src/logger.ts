/**
 * Where the server reports what it cannot answer to a client: a failed gap fill, a listener
 * that threw, an internal error behind an `internal` reply. The library never writes to the
 * console by itself; pass `console` (or a pino/winston logger) to see these.
 */
export interface Logger {
  debug?(message: string, context?: Record<string, unknown>): void;
  info?(message: string, context?: Record<string, unknown>): void;
  warn?(message: string, context?: Record<string, unknown>): void;
  error?(message: string, context?: Record<string, unknown>): void;
}

/** A logger that drops everything: the default. */
export const silentLogger: Logger = {};
