import { CloseCode, type ErrorCode } from "@open-ot/core";

/**
 * A connection or request the policy refused, with the answer for every wire: the HTTP status
 * and protocol error of a plain HTTP answer, and the close code of an answer in band (an
 * upgraded WebSocket or an event stream that ends at once, for browsers, which cannot read
 * the status of a refused upgrade or event stream).
 */
export interface Refusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly closeCode: number;
  /** What to change, for the client's error (cut to 123 bytes in a close frame). */
  readonly message: string;
  /** For 429 and 503: when to try again (`Retry-After`). */
  readonly retryAfterMs?: number;
}

/** Every refusal the policy and the bindings answer before a connection is open. */
export const refusals = {
  shuttingDown: (): Refusal => ({
    status: 503,
    code: "unavailable",
    closeCode: CloseCode.GOING_AWAY,
    message: "The server is shutting down: connect again shortly.",
    retryAfterMs: 1000,
  }),
  badTarget: (): Refusal => ({
    status: 400,
    code: "bad_message",
    closeCode: CloseCode.POLICY_VIOLATION,
    message: "The request target is not a path (it must start with a single /).",
  }),
  notServed: (path: string): Refusal => ({
    status: 404,
    code: "not_found",
    closeCode: CloseCode.NOT_FOUND,
    message: `Nothing is served at ${path.length > 64 ? `${path.slice(0, 64)}...` : path}.`,
  }),
  origin: (origin: string | undefined): Refusal => ({
    status: 403,
    code: "forbidden",
    closeCode: CloseCode.POLICY_VIOLATION,
    message: `Origin ${origin === undefined ? "(none)" : origin.slice(0, 80)} is not allowed to connect.`,
  }),
  missingToken: (): Refusal => ({
    status: 401,
    code: "unauthorized",
    closeCode: CloseCode.UNAUTHORIZED,
    message: "Missing token: send it in the token query parameter or an Authorization: Bearer header.",
  }),
  badToken: (): Refusal => ({
    status: 401,
    code: "unauthorized",
    closeCode: CloseCode.UNAUTHORIZED,
    message: "The token was refused: get a new one.",
  }),
  expiredToken: (): Refusal => ({
    status: 401,
    code: "unauthorized",
    closeCode: CloseCode.UNAUTHORIZED,
    message: "The token has expired: get a new one.",
  }),
  tokenCheckFailed: (): Refusal => ({
    status: 500,
    code: "internal",
    closeCode: CloseCode.INTERNAL_ERROR,
    message: "The server could not check the token.",
  }),
  tokenCheckTimedOut: (ms: number): Refusal => ({
    status: 503,
    code: "unavailable",
    closeCode: CloseCode.INTERNAL_ERROR,
    message: `The token check did not finish within ${ms} ms: try again shortly.`,
    retryAfterMs: 1000,
  }),
  tooManyConnections: (max: number): Refusal => ({
    status: 503,
    code: "unavailable",
    closeCode: CloseCode.INTERNAL_ERROR,
    message: `The server holds its maximum of ${max} connections: try again shortly.`,
    retryAfterMs: 5000,
  }),
  tooManyFromAddress: (max: number): Refusal => ({
    status: 429,
    code: "rate_limited",
    closeCode: CloseCode.RATE_LIMITED,
    message: `Your address already holds ${max} connections, the most it may: close some first.`,
    retryAfterMs: 10_000,
  }),
  tooManyPending: (what: string): Refusal => ({
    status: 429,
    code: "rate_limited",
    closeCode: CloseCode.RATE_LIMITED,
    message: `Too many requests from your address are waiting for their token check (${what}): wait for them.`,
    retryAfterMs: 1000,
  }),
} as const;
