/**
 * Turns a failed `connect()` of an inner transport into the close event the close policy
 * judges, so that a refused attempt is treated like the close code the server would have sent
 * on an open connection.
 */
import { CloseCode, type TransportCloseEvent } from "@open-ot/core";

/**
 * The close event for an inner transport's failed `connect()`.
 *
 * An HTTP status on the error (the `status` field of `WebSocketTransportError` and
 * `HttpSseTransportError`, for a refused upgrade or event stream) maps to the matching close code:
 * 401 and 403 to 4003 (stop: the token will not get better by itself), 404 to 4001, 413 to
 * 1009, 429 to 4029. Without a status, a close code on the error (`closeCode`: the server
 * refused the attempt in band, as an SSE stream holding only a `close` event) is taken as is.
 * Anything else (unreachable, timeout, reset) is a network failure, 1006.
 */
export function closeEventFromError(error: unknown): TransportCloseEvent {
  const err = error instanceof Error ? error : new Error(String(error));
  const status = numberField(error, "status");
  const code = status === undefined ? (numberField(error, "closeCode") ?? CloseCode.ABNORMAL) : codeForStatus(status);
  return { code, reason: err.message, local: false, error: err };
}

function numberField(error: unknown, name: "status" | "closeCode"): number | undefined {
  if (typeof error !== "object" || error === null || !(name in error)) return undefined;
  const value = (error as Record<string, unknown>)[name];
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

function codeForStatus(status: number | undefined): number {
  switch (status) {
    case 401:
    case 403:
      return CloseCode.UNAUTHORIZED;
    case 404:
      return CloseCode.NOT_FOUND;
    case 413:
      return CloseCode.MESSAGE_TOO_BIG;
    case 429:
      return CloseCode.RATE_LIMITED;
    default:
      return CloseCode.ABNORMAL;
  }
}
