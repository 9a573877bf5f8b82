/** Protocol error codes carried by `{type: "error"}` messages (docs/protocol.md, "Errors"). */
export const ErrorCodes = {
  bad_message:
    "Not JSON, not an object, unknown type, a required field missing, a bad docId/clientId/seq (a seq too far ahead of the client's last committed one included), another clientId than the connection's, or an op for a document the connection has not joined.",
  invalid_op:
    "The op's value is wrong: not an array, an unknown component, a bad count, a reach past the end of the document, a split surrogate pair or a lone surrogate in an insert.",
  bad_revision: "The revision is not a non-negative integer, or is ahead of the document.",
  resync_required: "The op is based on a revision older than the history the server keeps: join again.",
  not_found: "No such document, and the server does not create documents on demand.",
  too_large: "The message is larger than the server accepts.",
  rate_limited: "Too many messages: slow down.",
  unauthorized: "Missing or bad credentials.",
  forbidden: "The credentials do not allow this (a clientId bound to another principal included).",
  internal: "The server failed; the request was not applied.",
  unavailable:
    "The server's storage cannot be reached right now (or did not answer in time); the request was not applied or its outcome is unknown, and the same request can be sent again.",
} as const;

/** A protocol error code. */
export type ErrorCode = keyof typeof ErrorCodes;

/**
 * Whether a refused request may succeed later unchanged (`"transient"`: retry it with backoff
 * while the connection is open) or is wrong or not allowed as it stands (`"final"`: never
 * repeat it unchanged).
 */
export type ErrorClass = "transient" | "final";

/** The class of every protocol error code (docs/protocol.md, "Errors"). */
export const ErrorClasses: Readonly<Record<ErrorCode, ErrorClass>> = {
  bad_message: "final",
  invalid_op: "final",
  bad_revision: "final",
  resync_required: "final",
  not_found: "final",
  too_large: "final",
  rate_limited: "transient",
  unauthorized: "final",
  forbidden: "final",
  internal: "transient",
  unavailable: "transient",
};

/** The class of `code`; a code this version does not know is treated as final. */
export function errorClassOf(code: string): ErrorClass {
  return isErrorCode(code) ? ErrorClasses[code] : "final";
}

/** True when `value` is one of the protocol's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(ErrorCodes, value);
}

/**
 * What a reconnecting client does after a close code (docs/protocol.md, "Close codes").
 * `renew-once`: connect once more at once, asking for fresh credentials; stop if that
 * connection ends the same way.
 */
export type ReconnectAdvice = "stop" | "reconnect-now" | "backoff" | "retry-few" | "backoff-long" | "renew-once";

/** Description of a WebSocket close code used by the protocol. */
export interface CloseCodeInfo {
  readonly code: number;
  readonly name: string;
  readonly meaning: string;
  readonly advice: ReconnectAdvice;
}

/** The WebSocket close codes of the protocol, by name. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  NOT_FOUND: 4001,
  UNAUTHORIZED: 4003,
  SUPERSEDED: 4009,
  RATE_LIMITED: 4029,
} as const;

/** The close-code table of docs/protocol.md: meaning and reconnect advice for each code. */
export const CloseCodes: Readonly<Record<number, CloseCodeInfo>> = {
  1000: { code: 1000, name: "normal", meaning: "Normal closure.", advice: "stop" },
  1001: { code: 1001, name: "going_away", meaning: "Server going away (shutdown, deploy).", advice: "reconnect-now" },
  1006: { code: 1006, name: "abnormal", meaning: "Connection lost with no close frame (network failure).", advice: "backoff" },
  1008: { code: 1008, name: "policy_violation", meaning: "Policy violation (origin, abuse).", advice: "stop" },
  1009: { code: 1009, name: "message_too_big", meaning: "Message too big.", advice: "stop" },
  1011: { code: 1011, name: "internal_error", meaning: "Internal server error.", advice: "backoff" },
  4001: { code: 4001, name: "not_found", meaning: "Document or session not found.", advice: "retry-few" },
  4003: { code: 4003, name: "unauthorized", meaning: "Unauthorized or forbidden (token expired or revoked).", advice: "renew-once" },
  4009: {
    code: 4009,
    name: "superseded",
    meaning: "A newer connection of the same client (same clientId) replaced this one.",
    advice: "stop",
  },
  4029: { code: 4029, name: "rate_limited", meaning: "Rate limited.", advice: "backoff-long" },
};

/** The table entry for `code`; unknown codes are network failures (reconnect with backoff). */
export function describeCloseCode(code: number): CloseCodeInfo {
  return CloseCodes[code] ?? { code, name: "unknown", meaning: "Network failure or unknown close code.", advice: "backoff" };
}
