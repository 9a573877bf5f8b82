/**
 * Turns a failed `connect()` of an inner transport into the close event the close policy
 * judges, so that a refused attempt is treated like the close code the server would have sent
 * on an open connection.
 */
import { CloseCode, type TransportCloseEvent } from "@open-ot/core";

/**
 * The close event for an inner transport's failed `connect()`.
 *
 * An HTTP status on the error (the `status` field of the WebSocket and SSE transports'
 * `TransportError`, for a refused upgrade or event stream) maps to the matching close code:
 * 401 and 403 to 4003 (stop: the token will not get better by itself), 404 to 4001, 413 to
 * 1009, 429 to 4029. Anything else (unreachable, timeout, reset) is a network failure, 1006.
 */
export function closeEventFromError(error: unknown): TransportCloseEvent {
  const err = error instanceof Error ? error : new Error(String(error));
  return { code: codeForStatus(statusOf(error)), reason: err.message, local: false, error: err };
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("status" in error)) return undefined;
  const status = (error as { status: unknown }).status;
  return typeof status === "number" ? status : undefined;
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
