/** The refusals a submit can meet, each built in one place with its message. */
import { DocumentNotFoundError, DocumentReplacedError, HistoryTrimmedError } from "./backend.js";
import { OTError } from "./ot-error.js";

/** Where a refusal of a submit came from: its document, and its seq when it has one. */
export interface RefusalDetails {
  readonly docId: string;
  readonly seq?: number;
}

/** The details of a refusal of a submit to `docId` (with its `seq`, when it has one). */
export function refusalOf(docId: string, seq: number | undefined): RefusalDetails {
  return { docId, ...(seq === undefined ? {} : { seq }) };
}

/** The refusal of an op whose client is bound to another principal in the document. */
export function forbiddenClient(refusal: RefusalDetails): OTError {
  return new OTError(
    "forbidden",
    `this clientId belongs to another user in document "${refusal.docId}": use a clientId of your own (a fresh random one per session)`,
    refusal,
  );
}

/** The refusal for an op whose base `revision` is older than the kept history (`error` itself when it is another failure). */
export function baseTrimmed(error: unknown, revision: number, refusal: RefusalDetails): unknown {
  if (!(error instanceof HistoryTrimmedError)) return error;
  return new OTError(
    "resync_required",
    `revision ${revision} is older than the history kept for document "${refusal.docId}" (oldest kept: ${error.oldestKept}): join again`,
    refusal,
  );
}

/** True for a {@link DocumentNotFoundError}, also one from another copy of this package. */
export function isDocumentNotFound(error: unknown): boolean {
  return error instanceof DocumentNotFoundError || (error as { name?: unknown } | null)?.name === "DocumentNotFoundError";
}

/** True for an error saying the document is gone or was created anew (also from another copy of this package). */
export function isLostDocument(error: unknown): boolean {
  return (
    isDocumentNotFound(error) ||
    error instanceof DocumentReplacedError ||
    (error as { name?: unknown } | null)?.name === "DocumentReplacedError"
  );
}

/**
 * A commit that found the document gone or replaced (the store lost it, or it was restored
 * since it was cached) asks the client to join again, which tells it what happened. Other
 * errors pass through.
 */
export function lostRefusal(error: unknown, refusal: RefusalDetails): unknown {
  if (!isLostDocument(error)) return error;
  return new OTError(
    "resync_required",
    `document "${refusal.docId}" was lost or created anew in storage while this op was on its way: join again`,
    refusal,
  );
}

/** The refusal of an invalid document id. */
export function badDocId(docId: unknown, seq?: number): OTError {
  return new OTError("bad_message", `docId must be 1 to 256 characters from [A-Za-z0-9._~:-], got ${show(docId)}`, {
    ...(seq === undefined ? {} : { seq }),
  });
}

/** A short, safe rendering of an untrusted value for a message. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  return typeof value;
}
