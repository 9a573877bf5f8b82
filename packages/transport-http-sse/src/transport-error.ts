/**
 * What went wrong, for code that decides what to do next:
 *
 * - `unreachable`: no answer at the network level (refused TCP connection, DNS, reset).
 * - `refused`: the server answered the event stream with an HTTP error (`status` says which).
 * - `timeout`: no `session` event within `connectTimeout`.
 * - `closed`: the connection ended (or `disconnect()` was called) before the call completed.
 * - `not_open`: `send()` before `connect()` resolved or after the connection ended.
 * - `rejected`: a POST was answered with a non-2xx status (`status`, `code`, `retryAfter`).
 * - `encode`: `send()` got a message with no JSON form (a cycle, a BigInt, undefined).
 * - `decode`: the server sent something this transport cannot read (an event that is not JSON,
 *   a session event without a session id, a stream that is not `text/event-stream`).
 * - `unsupported`: no EventSource implementation could be loaded.
 * - `token`: the `token` function threw, rejected, or returned something other than a
 *   non-empty string or `undefined`; nothing was sent (see the `cause`).
 *
 * The kinds shared with `@open-ot/transport-websocket` mean the same there.
 */
export type HttpSseTransportErrorKind =
  "unreachable" | "refused" | "timeout" | "closed" | "not_open" | "rejected" | "encode" | "decode" | "unsupported" | "token";

/** Details carried by a {@link HttpSseTransportError}. */
export interface HttpSseTransportErrorDetails {
  /** The HTTP status of the answer that caused the error. */
  readonly status?: number;
  /** The protocol error code from the answer's JSON body, when it had one: an `ErrorCode`, or a newer server's. */
  readonly code?: string;
  /** Seconds to wait before trying again, from a 429's `Retry-After`. */
  readonly retryAfter?: number;
  /** The close code, for errors of kind `closed`. */
  readonly closeCode?: number;
  /** The underlying error. */
  readonly cause?: unknown;
}

/** An error of the HTTP + SSE transport; `kind` says what happened, the message what to change. */
export class HttpSseTransportError extends Error {
  override readonly name = "HttpSseTransportError";
  readonly kind: HttpSseTransportErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly retryAfter: number | undefined;
  readonly closeCode: number | undefined;

  constructor(kind: HttpSseTransportErrorKind, message: string, details: HttpSseTransportErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.status = details.status;
    this.code = details.code;
    this.retryAfter = details.retryAfter;
    this.closeCode = details.closeCode;
  }
}
