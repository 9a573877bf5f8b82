/**
 * Where a package reports what it would otherwise swallow: a listener that threw, a connection
 * dropped for a slow reader, a failed gap fill, state transitions at `debug`. The library never
 * writes to the console by itself; pass `console` (or a pino/winston logger) to see these.
 * Every method is optional, and `context` holds structured details (ids, the error).
 */
export interface Logger {
  debug?(message: string, context?: Record<string, unknown>): void;
  info?(message: string, context?: Record<string, unknown>): void;
  warn?(message: string, context?: Record<string, unknown>): void;
  error?(message: string, context?: Record<string, unknown>): void;
}

/** A logger that drops everything: the default wherever a `logger` option is left out. */
export const silentLogger: Logger = {};
