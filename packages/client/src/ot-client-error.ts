import type { ErrorCode } from "@open-ot/core";

/**
 * Codes of the errors an {@link OTClient} reports: the protocol's own error codes (what the
 * server answered) plus the client-side failures below.
 *
 * - `send_failed`: the transport refused to hand a message over; the op stays pending and is
 *   resent after the next join.
 * - `connection_failed`: the transport could not connect (its `connect()` rejected).
 * - `connection_lost`: an established connection ended (`closeCode` says how); call `connect()`
 *   again, or use a reconnecting transport.
 * - `disconnected`: `disconnect()` was called while `connect()` was still waiting.
 * - `bad_server_message`: the server sent something that is not a protocol message; it was ignored.
 * - `protocol_violation`: a well-formed server message that breaks the protocol's guarantees
 *   (an `ack` with nothing pending, a remote op that does not apply...); the client resyncs.
 * - `doc_type_mismatch`: the document's `docType` is not the client's type; fix the `type` option.
 * - `edits_dropped`: local edits could not be kept across a resync and were discarded.
 * - `document_lost`: the server no longer has the document as the client knows it (status
 *   `lost`); the client keeps its copy and its edits: restore it, or adopt the server's copy.
 */
export type ClientErrorCode =
  | ErrorCode
  | "send_failed"
  | "connection_failed"
  | "connection_lost"
  | "disconnected"
  | "bad_server_message"
  | "protocol_violation"
  | "doc_type_mismatch"
  | "edits_dropped"
  | "document_lost";

/** What an {@link OTClientError} carries besides its code and message. */
export interface OTClientErrorDetails {
  /** The `seq` of the op the error is about, when it is about one. */
  seq?: number;
  /** The document the error is about. */
  docId?: string;
  /** The close code, when a connection ended. */
  closeCode?: number;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * An error reported by {@link OTClient}: through its `error` event, or as the rejection of
 * `connect()`. `code` is stable and safe to branch on; `message` says what happened and, where
 * the caller can act, what to change.
 */
export class OTClientError extends Error {
  override readonly name = "OTClientError";
  /** Stable code: a protocol error code or one of the client-side codes of {@link ClientErrorCode}. */
  readonly code: ClientErrorCode;
  /** The `seq` of the op the error is about, when it is about one. */
  readonly seq: number | undefined;
  /** The document the error is about. */
  readonly docId: string | undefined;
  /** The close code, when a connection ended. */
  readonly closeCode: number | undefined;

  constructor(code: ClientErrorCode, message: string, details: OTClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.seq = details.seq;
    this.docId = details.docId;
    this.closeCode = details.closeCode;
  }
}
