/** Errors the reconnecting transport rejects with; each has a stable `code`. */

/**
 * Stable codes of {@link ReconnectingTransportError}:
 * - `not_connected`: `send()` while closed (before `connect()`, after `disconnect()` or a stop).
 * - `offline`: `send()` while reconnecting with the offline queue turned off.
 * - `queue_full`: the offline queue is at `queue.maxMessages` or `queue.maxBytes`.
 * - `stopped`: the transport gave up for good (close policy or `maxAttempts`); `closeCode` says why.
 * - `disconnected`: `disconnect()` was called while this send was queued or this `connect()` pending.
 * - `connection_replaced`: a handshake `send` for a connection that has been dropped since.
 */
export type ReconnectingErrorCode = "not_connected" | "offline" | "queue_full" | "stopped" | "disconnected" | "connection_replaced";

/** An error of the reconnecting transport, with a stable {@link ReconnectingErrorCode}. */
export class ReconnectingTransportError extends Error {
  override readonly name = "ReconnectingTransportError";
  /** What went wrong, stable across versions. */
  readonly code: ReconnectingErrorCode;
  /** For `stopped`: the close code (see `CloseCode` in @open-ot/core) that ended the last connection or attempt. */
  readonly closeCode: number | undefined;

  constructor(code: ReconnectingErrorCode, message: string, options: { closeCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.closeCode = options.closeCode;
  }
}
