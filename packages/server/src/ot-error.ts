import type { ErrorCode, ErrorMessage } from "@open-ot/core";

/** Where a refusal came from, for the `error` message that reports it. */
export interface OTErrorDetails {
  docId?: string;
  seq?: number;
  /** The underlying error, when this one wraps it (an `internal` failure, a type's InvalidOpError). */
  cause?: unknown;
}

/**
 * A refusal with a stable protocol code (see `ErrorCodes` in @open-ot/core) and a message that
 * says what to change. `Server.submitOperation` rejects with it; the hub turns it into an
 * `error` message with {@link toErrorMessage}.
 */
export class OTError extends Error {
  override readonly name = "OTError";
  readonly code: ErrorCode;
  readonly docId?: string;
  readonly seq?: number;

  constructor(code: ErrorCode, message: string, details: OTErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.docId !== undefined) this.docId = details.docId;
    if (details.seq !== undefined) this.seq = details.seq;
  }

  /** The protocol `error` message for this refusal. */
  toErrorMessage(): ErrorMessage {
    const message: ErrorMessage = { type: "error", code: this.code, message: this.message };
    if (this.docId !== undefined) message.docId = this.docId;
    if (this.seq !== undefined) message.seq = this.seq;
    return message;
  }
}
