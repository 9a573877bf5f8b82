/**
 * Where the transport and the server binding report what they would otherwise swallow (a
 * listener that threw, a connection dropped for a slow reader, a failed token check). The
 * library never writes to the console by itself; pass `console` to get that behaviour.
 */
export interface Logger {
  debug?(message: string, details?: Record<string, unknown>): void;
  warn?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
}
