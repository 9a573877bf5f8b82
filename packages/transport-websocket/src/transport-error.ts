/**
 * Why a {@link WebSocketTransport} call failed.
 *
 * - `unreachable`: no WebSocket connection could be made (connection refused, DNS failure,
 *   the connection dropped during the handshake). In browsers this also covers refused
 *   upgrades, because browsers do not expose the HTTP status.
 * - `refused`: the server answered the upgrade with an HTTP status instead of upgrading
 *   (401 bad token, 403 origin, 400 bad docId...); see {@link WebSocketTransportError.status}.
 * - `timeout`: the connection did not open within `connectTimeoutMs`.
 * - `closed`: the connection is closed (by `disconnect()` or by the server), so the call
 *   cannot complete.
 * - `not_open`: `send()` was called before `connect()` resolved.
 * - `encode`: the message could not be encoded as JSON (a cycle, a BigInt...).
 * - `decode`: the server sent a frame that is not JSON; the transport closes the connection.
 * - `unsupported`: no WebSocket implementation is available for the options given (for
 *   example `headers` in a browser, or `ws` missing in Node).
 * - `token`: the `token` function threw, rejected, or returned something other than a
 *   non-empty string or `undefined`; nothing was sent (see the `cause`).
 */
export type WebSocketTransportErrorKind =
  "unreachable" | "refused" | "timeout" | "closed" | "not_open" | "encode" | "decode" | "unsupported" | "token";

/** Options of {@link WebSocketTransportError}. */
export interface WebSocketTransportErrorOptions {
  /** The HTTP status of a refused upgrade. @default undefined */
  status?: number;
  /** The underlying error. @default undefined */
  cause?: unknown;
}

/** The error every {@link WebSocketTransport} promise rejects with. */
export class WebSocketTransportError extends Error {
  override readonly name = "WebSocketTransportError";
  /** What went wrong, as a stable string to branch on. */
  readonly kind: WebSocketTransportErrorKind;
  /** For `kind: "refused"`: the HTTP status the server answered the upgrade with. */
  readonly status: number | undefined;

  constructor(kind: WebSocketTransportErrorKind, message: string, options: WebSocketTransportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
  }
}
