/**
 * Where the library reports what it would otherwise swallow (a listener that threw, a stream
 * dropped for a slow reader). The library never writes to the console by itself; pass
 * `console` to get that behaviour.
 */
export interface Logger {
  debug?(message: string, details?: Record<string, unknown>): void;
  warn?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
}
