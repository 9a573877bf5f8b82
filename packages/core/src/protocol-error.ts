import type { ErrorCode } from "./codes.js";
import type { ErrorMessage } from "./protocol.js";

/** Why untrusted input was refused, as the `error` message the server would send. */
export interface ProtocolError {
  /** The protocol error code (see `ErrorCodes`). */
  code: ErrorCode;
  /** What was wrong and what to change, for the person reading the client's logs. */
  message: string;
  /** The message's `docId`, when it had a valid one (the server needs it for `not_found`). */
  docId?: string;
  /** The op's `seq`, when the refused message was an `op` with a valid one. */
  seq?: number;
  /** With `bad_revision` for a revision ahead of the document: its current revision, `null` when it does not exist. */
  serverRevision?: number | null;
}

/** The outcome of parsing untrusted input: the message, or why it was refused. */
export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: ProtocolError };

/** The wire `error` message for a refusal; `docId` and `seq` only when the error has them. */
export function errorMessage(error: ProtocolError): ErrorMessage {
  const out: ErrorMessage = { type: "error", code: error.code, message: error.message };
  if (error.docId !== undefined) out.docId = error.docId;
  if (error.seq !== undefined) out.seq = error.seq;
  if (error.serverRevision !== undefined) out.serverRevision = error.serverRevision;
  return out;
}
